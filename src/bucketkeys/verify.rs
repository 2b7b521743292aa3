//! `rotate` checks a new key against S3 before switching to it:
//! ListObjectsV2 on the bucket, signed with the new key, at the regular S3
//! endpoint of the bucket's region (`AWS_ENDPOINT_URL_S3` and the profile's
//! `services` S3 endpoint are honoured; `--endpoint-url` is Lightsail's).
//! New keys take a few seconds to propagate, so it retries until the
//! window ends.

use std::time::{Duration, Instant};

use aws_sdk_s3::config::{Credentials, Region};
use secrecy::{ExposeSecret, SecretString};

use super::lightsail::BucketInfo;
use super::{BucketKeyError, Verify};
use crate::aws::{self, AwsOptions};

pub struct S3Verify {
    sdk_config: aws_config::SdkConfig,
    window: Duration,
}

impl S3Verify {
    pub async fn new(opts: &AwsOptions, window_secs: u64) -> Result<Self, BucketKeyError> {
        let (sdk_config, _) = aws::load_sdk_config(opts, None).await?;
        Ok(Self {
            sdk_config,
            window: Duration::from_secs(window_secs),
        })
    }
}

impl Verify for S3Verify {
    async fn verify(&self, bucket: &BucketInfo, key_id: &str, secret: &SecretString) -> Result<(), String> {
        // Signed with the new key, not a profile's: no profile to name.
        let site = aws::Site::new(aws::Service::S3, &self.sdk_config, &bucket.region, None, None);
        let creds = Credentials::new(key_id, secret.expose_secret(), None, None, "gamelift-access-bucket-key");
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config)
            .credentials_provider(creds)
            .region(Region::new(bucket.region.clone()))
            .interceptor(site.interceptor())
            .build();
        let client = aws_sdk_s3::Client::from_conf(config);
        let deadline = Instant::now() + self.window;
        let mut pause = Duration::from_millis(250);
        loop {
            match client.list_objects_v2().bucket(&bucket.name).max_keys(1).send().await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    // The first line only: VerifyFailed adds its own advice.
                    let detail = site.classify("ListObjectsV2", e).to_string();
                    let detail = detail.lines().next().unwrap_or_default().to_owned();
                    if Instant::now() + pause >= deadline {
                        return Err(detail);
                    }
                    tracing::debug!(%detail, "the new key does not work with S3 yet; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(4));
                }
            }
        }
    }

    fn window_secs(&self) -> u64 {
        self.window.as_secs()
    }
}
