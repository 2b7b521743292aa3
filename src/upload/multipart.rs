//! upload, step three: S3 multipart upload with credentials refreshed
//! underneath.
//!
//! The S3 client reads its credentials from a [`CredentialCell`] on every
//! request (no identity cache), so when S3 answers `ExpiredToken` (or the
//! `AccessDenied` an expired session can also give), the part that failed
//! calls RequestUploadCredentials once for all parts in flight (a
//! generation counter makes the refresh single-flight), and only that part
//! is sent again. Parts S3 already accepted are never re-sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, future};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use secrecy::ExposeSecret;

use super::api::{self, StorageLocation, UploadCredentials};
use super::zipstream::Part;
use crate::aws::{AwsError, AwsOptions, GameLift, Service, Site};

/// How often one part may meet expired credentials before giving up.
const MAX_REFRESHES_PER_PART: u32 = 3;

/// The slowest upload an UploadPart attempt is allowed, in bytes a second:
/// its timeout is `--cli-read-timeout` plus the time to send the part at
/// this rate. (The SDK's own timeout starts with the request, not when the
/// body is sent, unlike the AWS CLI's socket read timeout.)
const MIN_UPLOAD_RATE: u64 = 64 * 1024;

/// How long one UploadPart attempt of `len` bytes may take.
fn part_timeout(read_timeout: Duration, len: usize) -> Duration {
    read_timeout + Duration::from_secs((len as u64).div_ceil(MIN_UPLOAD_RATE))
}

/// Why the S3 side failed.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("S3 {op} on s3://{bucket}/{key} failed ({code}): {message}")]
    Refused {
        op: &'static str,
        bucket: String,
        key: String,
        code: String,
        message: String,
    },
    /// Not an answer from S3 (unreachable, timed out, unreadable): the
    /// classified error names S3 and the endpoint really called.
    #[error(transparent)]
    Unreachable(AwsError),
    #[error("refreshing the upload credentials failed: {0}")]
    Refresh(#[from] AwsError),
}

/// The current upload credentials, swapped on refresh.
#[derive(Debug)]
pub struct CredentialCell {
    inner: Mutex<(u64, UploadCredentials)>,
    refresh: tokio::sync::Mutex<()>,
}

impl CredentialCell {
    pub fn new(creds: UploadCredentials) -> Arc<CredentialCell> {
        Arc::new(CredentialCell {
            inner: Mutex::new((0, creds)),
            refresh: tokio::sync::Mutex::new(()),
        })
    }

    fn generation(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn current(&self) -> UploadCredentials {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// Calls RequestUploadCredentials unless another part already did
    /// since `seen` was read.
    async fn refresh(&self, seen: u64, gl: &GameLift, build_id: &str) -> Result<(), AwsError> {
        let _single = self.refresh.lock().await;
        if self.generation() != seen {
            return Ok(());
        }
        tracing::info!(build = build_id, "upload credentials expired; requesting new ones");
        let (creds, _) = api::request_upload_credentials(gl, build_id).await?;
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner = (inner.0 + 1, creds);
        Ok(())
    }
}

/// The SDK's view of the cell.
#[derive(Debug, Clone)]
struct CellProvider(Arc<CredentialCell>);

impl ProvideCredentials for CellProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let c = self.0.current();
        future::ProvideCredentials::ready(Ok(Credentials::new(
            c.access_key_id,
            c.secret_access_key.expose_secret(),
            Some(c.session_token.expose_secret().to_owned()),
            None,
            "gamelift-upload-credentials",
        )))
    }
}

/// Where the parts go, and how to sign for them: shared by the upload and
/// every part uploader, each call through [`Bucket::send`].
#[derive(Clone)]
struct Bucket {
    client: aws_sdk_s3::Client,
    site: Site,
    /// `--cli-read-timeout` and `--cli-connect-timeout`.
    read_timeout: Duration,
    connect_timeout: Duration,
    location: StorageLocation,
    cell: Arc<CredentialCell>,
    gl: GameLift,
    build_id: String,
}

/// One multipart upload to a build's object.
pub struct Multipart {
    bucket: Bucket,
    upload_id: Option<String>,
}

fn expired<E: ProvideErrorMetadata>(err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(_))
        && matches!(
            err.code(),
            Some("ExpiredToken" | "ExpiredTokenException" | "AccessDenied" | "InvalidToken" | "TokenRefreshRequired")
        )
}

impl Bucket {
    /// The client's timeouts, with `extra` on top of the read timeout for
    /// each attempt of one call that legitimately takes longer.
    fn timeouts(&self, extra: Duration) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_attempt_timeout(self.read_timeout + extra)
            .build()
    }

    /// Sends one S3 call; when S3 says the credentials expired, refreshes
    /// them (single-flight, see [`CredentialCell`]) and sends it again, up
    /// to [`MAX_REFRESHES_PER_PART`] times. Any other failure is `op`'s.
    async fn send<T, E, F, Fut>(&self, op: &'static str, mut call: F) -> Result<T, S3Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut refreshes = 0;
        loop {
            let seen = self.cell.generation();
            match call().await {
                Ok(out) => return Ok(out),
                Err(e) if expired(&e) && refreshes < MAX_REFRESHES_PER_PART => {
                    refreshes += 1;
                    self.cell.refresh(seen, &self.gl, &self.build_id).await?;
                }
                Err(e) => return Err(self.refused(op, e)),
            }
        }
    }

    fn refused<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
        &self,
        op: &'static str,
        err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> S3Error {
        match &err {
            SdkError::ServiceError(_) => S3Error::Refused {
                op,
                bucket: self.location.bucket.clone(),
                key: self.location.key.clone(),
                code: err.code().unwrap_or("Unknown").to_owned(),
                message: err.message().unwrap_or("no message").to_owned(),
            },
            _ => S3Error::Unreachable(self.site.classify(op, err)),
        }
    }
}

impl Multipart {
    /// An S3 client for the build's bucket region, with the upload
    /// credentials. `AWS_ENDPOINT_URL_S3` (or a profile's `services`
    /// section) picks another S3 endpoint; `--endpoint-url` is GameLift's only.
    pub async fn new(
        opts: &AwsOptions,
        gl: &GameLift,
        build_id: &str,
        creds: UploadCredentials,
        location: StorageLocation,
    ) -> Multipart {
        let cell = CredentialCell::new(creds);
        let timeouts = crate::aws::timeout_config(opts);
        let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(gl.region.clone()))
            .credentials_provider(CellProvider(Arc::clone(&cell)))
            .timeout_config(timeouts)
            .load()
            .await;
        // The upload credentials sign these calls, not a profile's.
        let site = Site::new(Service::S3, &sdk_config, &gl.region, None, None);
        let config = aws_sdk_s3::config::Builder::from(&sdk_config)
            .identity_cache(aws_sdk_s3::config::IdentityCache::no_cache())
            .interceptor(site.interceptor())
            .build();
        Multipart {
            bucket: Bucket {
                client: aws_sdk_s3::Client::from_conf(config),
                site,
                read_timeout: Duration::from_secs(opts.read_timeout),
                connect_timeout: Duration::from_secs(opts.connect_timeout),
                location,
                cell,
                gl: gl.clone(),
                build_id: build_id.to_owned(),
            },
            upload_id: None,
        }
    }

    /// CreateMultipartUpload.
    pub async fn start(&mut self) -> Result<(), S3Error> {
        let b = &self.bucket;
        let out = b
            .send("CreateMultipartUpload", || {
                b.client
                    .create_multipart_upload()
                    .bucket(&b.location.bucket)
                    .key(&b.location.key)
                    .send()
            })
            .await?;
        self.upload_id = out.upload_id().map(str::to_owned);
        tracing::debug!(upload_id = ?self.upload_id, "multipart upload started");
        Ok(())
    }

    /// A cheap handle for uploading parts concurrently.
    pub fn part_uploader(&self) -> PartUploader {
        PartUploader {
            bucket: self.bucket.clone(),
            upload_id: self.upload_id.clone().unwrap_or_default(),
        }
    }

    /// CompleteMultipartUpload with the parts in order.
    pub async fn complete(&mut self, mut parts: Vec<CompletedPart>) -> Result<(), S3Error> {
        parts.sort_by_key(|p| p.part_number());
        // S3 may take minutes to assemble many parts (keeping the connection
        // alive meanwhile): a second per part on top of the read timeout.
        let timeouts = self.bucket.timeouts(Duration::from_secs(parts.len() as u64));
        let upload = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
        let upload_id = self.upload_id.clone().unwrap_or_default();
        let b = &self.bucket;
        b.send("CompleteMultipartUpload", || {
            b.client
                .complete_multipart_upload()
                .bucket(&b.location.bucket)
                .key(&b.location.key)
                .upload_id(&upload_id)
                .multipart_upload(upload.clone())
                .customize()
                .config_override(aws_sdk_s3::config::Builder::default().timeout_config(timeouts.clone()))
                .send()
        })
        .await?;
        self.upload_id = None;
        Ok(())
    }

    /// AbortMultipartUpload, so no orphaned parts stay billed. Best effort
    /// (one refresh at most, no error but a warning); returns whether S3
    /// confirmed it.
    pub async fn abort(&mut self) -> bool {
        let Some(upload_id) = self.upload_id.take() else {
            return true;
        };
        let b = &self.bucket;
        for _ in 0..2 {
            let seen = b.cell.generation();
            let res = b
                .client
                .abort_multipart_upload()
                .bucket(&b.location.bucket)
                .key(&b.location.key)
                .upload_id(&upload_id)
                .send()
                .await;
            match res {
                Ok(_) => return true,
                Err(e) if expired(&e) => {
                    if b.cell.refresh(seen, &b.gl, &b.build_id).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!("{}", b.site.classify("AbortMultipartUpload", e));
                    break;
                }
            }
        }
        false
    }
}

/// Uploads parts of one multipart upload; clone one per task.
#[derive(Clone)]
pub struct PartUploader {
    bucket: Bucket,
    upload_id: String,
}

impl PartUploader {
    /// UploadPart, refreshing expired credentials and re-sending only this part.
    pub async fn upload(self, part: Part) -> Result<(CompletedPart, usize), S3Error> {
        let len = part.data.len();
        let b = &self.bucket;
        let timeouts = b.timeouts(part_timeout(Duration::ZERO, len));
        let out = b
            .send("UploadPart", || {
                b.client
                    .upload_part()
                    .bucket(&b.location.bucket)
                    .key(&b.location.key)
                    .upload_id(&self.upload_id)
                    .part_number(part.number)
                    .body(ByteStream::from(part.data.clone()))
                    .customize()
                    .config_override(aws_sdk_s3::config::Builder::default().timeout_config(timeouts.clone()))
                    .send()
            })
            .await?;
        let done = CompletedPart::builder()
            .part_number(part.number)
            .set_e_tag(out.e_tag().map(str::to_owned))
            .build();
        Ok((done, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_may_take_the_read_timeout_plus_its_upload_at_the_slowest_rate() {
        let read = Duration::from_secs(30);
        assert_eq!(part_timeout(read, 0), read);
        assert_eq!(part_timeout(read, 1), read + Duration::from_secs(1));
        assert_eq!(part_timeout(read, 8 << 20), read + Duration::from_secs(128));
    }
}
