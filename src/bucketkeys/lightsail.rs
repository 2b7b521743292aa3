//! The Lightsail calls bucket keys need, and nothing else: aws-sdk-lightsail
//! types stay in this file. Everything leaves it as plain values, and the
//! one secret Lightsail ever returns (CreateBucketAccessKey's
//! `secretAccessKey`) leaves it inside a [`SecretString`], taken out of the
//! SDK's `AccessKey` by value so that no copy is left behind in a type whose
//! `Debug` prints it.

use aws_sdk_lightsail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lightsail::primitives::{DateTime, DateTimeFormat};
use secrecy::SecretString;

use super::BucketKeyError;
use crate::aws::{self, AwsOptions};

/// A Lightsail bucket, as much of it as this tool needs.
#[derive(Debug, Clone)]
pub struct BucketInfo {
    pub name: String,
    pub region: String,
}

/// An access key as GetBucketAccessKeys shows it (never with a secret).
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Epoch seconds.
    pub created: Option<i64>,
    pub last_used: Option<LastUsed>,
}

/// GetBucketAccessKeys' `lastUsed`.
#[derive(Debug, Clone)]
pub struct LastUsed {
    /// Epoch seconds.
    pub date: Option<i64>,
    /// Epoch milliseconds, for comparing with a rotation's start.
    pub date_ms: Option<i64>,
    pub service: Option<String>,
    pub region: Option<String>,
}

/// A key just created, with its one-time secret.
#[derive(Debug)]
pub struct NewKey {
    pub id: String,
    pub secret: SecretString,
    /// Epoch seconds.
    pub created: i64,
    /// Epoch milliseconds.
    pub created_ms: i64,
}

/// A Lightsail client for one region.
pub struct Lightsail {
    client: aws_sdk_lightsail::Client,
    pub region: String,
    site: aws::Site,
}

/// Epoch seconds as RFC 3339 (`2026-01-02T03:04:05Z`).
pub fn rfc3339(secs: i64) -> String {
    DateTime::from_secs(secs)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

/// Now, in epoch seconds.
pub fn now() -> i64 {
    DateTime::from(std::time::SystemTime::now()).secs()
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    DateTime::from(std::time::SystemTime::now()).to_millis().unwrap_or(0)
}

impl Lightsail {
    /// A client for `--region` (else the profile's or environment's region).
    /// `--endpoint-url` wins over `AWS_ENDPOINT_URL[_LIGHTSAIL]`.
    pub async fn connect(opts: &AwsOptions) -> Result<Self, BucketKeyError> {
        let (sdk_config, region) = aws::load_sdk_config(opts, None).await?;
        let mut config = aws_sdk_lightsail::config::Builder::from(&sdk_config);
        if let Some(url) = &opts.endpoint_url {
            config = config.endpoint_url(url);
        }
        let site = aws::Site::new(
            aws::Service::Lightsail,
            &sdk_config,
            &region,
            opts.endpoint_url.as_deref(),
            opts.profile.as_deref(),
        );
        config = config.interceptor(site.interceptor());
        tracing::debug!(%region, endpoint = site.endpoint(), "Lightsail client ready");
        Ok(Self {
            client: aws_sdk_lightsail::Client::from_conf(config.build()),
            region,
            site,
        })
    }

    fn classify<E>(
        &self,
        op: &'static str,
        err: SdkError<E, aws_sdk_lightsail::config::http::HttpResponse>,
    ) -> BucketKeyError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let SdkError::ServiceError(se) = &err
            && !se.raw().status().is_success()
            && err.code() == Some("InvalidInputException")
        {
            return BucketKeyError::Refused {
                op,
                message: err.message().unwrap_or("invalid input").to_owned(),
            };
        }
        BucketKeyError::Aws(self.site.classify(op, err))
    }

    fn is_not_found<E: ProvideErrorMetadata>(err: &SdkError<E, aws_sdk_lightsail::config::http::HttpResponse>) -> bool {
        matches!(err, SdkError::ServiceError(_)) && err.code() == Some("NotFoundException")
    }

    /// GetBuckets for one bucket: its region, or `NoSuchBucket`.
    pub async fn bucket(&self, name: &str) -> Result<BucketInfo, BucketKeyError> {
        let out = match self.client.get_buckets().bucket_name(name).send().await {
            Ok(out) => out,
            Err(e) if Self::is_not_found(&e) => return Err(self.no_such_bucket(name)),
            Err(e) => return Err(self.classify("GetBuckets", e)),
        };
        let bucket = out
            .buckets()
            .iter()
            .find(|b| b.name() == Some(name))
            .ok_or_else(|| self.no_such_bucket(name))?;
        let region = bucket
            .location()
            .and_then(|l| l.region_name())
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| self.region.clone());
        Ok(BucketInfo {
            name: name.to_owned(),
            region,
        })
    }

    fn no_such_bucket(&self, name: &str) -> BucketKeyError {
        BucketKeyError::NoSuchBucket {
            bucket: name.to_owned(),
            region: self.region.clone(),
        }
    }

    /// GetBucketAccessKeys.
    pub async fn keys(&self, bucket: &str) -> Result<Vec<KeyInfo>, BucketKeyError> {
        let out = match self.client.get_bucket_access_keys().bucket_name(bucket).send().await {
            Ok(out) => out,
            Err(e) if Self::is_not_found(&e) => return Err(self.no_such_bucket(bucket)),
            Err(e) => return Err(self.classify("GetBucketAccessKeys", e)),
        };
        Ok(out
            .access_keys()
            .iter()
            .map(|k| KeyInfo {
                id: k.access_key_id().unwrap_or_default().to_owned(),
                status: k.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                created: k.created_at().map(DateTime::secs),
                last_used: k.last_used().map(|u| LastUsed {
                    date: u.last_used_date().map(DateTime::secs),
                    date_ms: u.last_used_date().and_then(|d| d.to_millis().ok()),
                    service: u.service_name().map(str::to_owned),
                    region: u.region().map(str::to_owned),
                }),
            })
            .collect())
    }

    /// CreateBucketAccessKey. The secret goes straight into a
    /// `SecretString`; the SDK's `AccessKey` (whose `Debug` prints it) is
    /// dropped here and never formatted.
    pub async fn create_key(&self, bucket: &str) -> Result<NewKey, BucketKeyError> {
        let out = match self.client.create_bucket_access_key().bucket_name(bucket).send().await {
            Ok(out) => out,
            Err(e) if Self::is_not_found(&e) => return Err(self.no_such_bucket(bucket)),
            Err(e) => return Err(self.classify("CreateBucketAccessKey", e)),
        };
        let mut key = out.access_key.ok_or(BucketKeyError::BadResponse {
            op: "CreateBucketAccessKey",
            what: "no accessKey in the response",
        })?;
        let secret = key.secret_access_key.take().map(SecretString::from);
        let id = key.access_key_id.take();
        let created = key.created_at.map(|t| t.secs()).unwrap_or_else(now);
        let created_ms = key.created_at.and_then(|t| t.to_millis().ok()).unwrap_or_else(now_ms);
        drop(key);
        match (id, secret) {
            (Some(id), Some(secret)) if !id.is_empty() => Ok(NewKey {
                id,
                secret,
                created,
                created_ms,
            }),
            // A key may exist whose secret we did not get: say so, with its id.
            (id, _) => Err(BucketKeyError::BadResponse {
                op: "CreateBucketAccessKey",
                what: if id.is_some() {
                    "the new key came without its secret access key"
                } else {
                    "the new key came without an access key ID"
                },
            }),
        }
    }

    /// DeleteBucketAccessKey. `Ok(false)` if Lightsail has no such key.
    pub async fn delete_key(&self, bucket: &str, key_id: &str) -> Result<bool, BucketKeyError> {
        match self
            .client
            .delete_bucket_access_key()
            .bucket_name(bucket)
            .access_key_id(key_id)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if Self::is_not_found(&e) => Ok(false),
            Err(e) => Err(self.classify("DeleteBucketAccessKey", e)),
        }
    }
}
