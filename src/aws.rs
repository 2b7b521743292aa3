//! AWS set-up and error classification, as the AWS CLI does it.
//!
//! Configuration comes from aws-config's default chain, so `--profile`,
//! `AWS_PROFILE`, SSO profiles, `credential_process`, `AWS_REGION` and the
//! `AWS_ENDPOINT_URL[_GAMELIFT]` variables all behave as users expect from
//! `aws`. The aws-sdk types stay in this module, `resolve` and `obtain`.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_gamelift::config::http::HttpResponse;
use aws_sdk_gamelift::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// A failed AWS call, classified by what the user should do about it.
/// Every message ends in the next step to take.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error(
        "{op}: not found in {region}: {message}\n  \
         check the ID, and the region: a fleet lives in one region (pass --region, or the fleet's ARN)"
    )]
    NotFound {
        op: &'static str,
        region: String,
        message: String,
    },

    #[error(
        "{op}: your credentials lack {service}:{op}: {message}\n  \
         ask your AWS administrator for {service}:{op} on this resource, or use a profile that has it (--profile)"
    )]
    Unauthorized {
        service: &'static str,
        op: &'static str,
        message: String,
    },

    #[error(
        "{op}: AWS rejected your credentials ({code}): {message}\n  \
         refresh them (for SSO profiles: aws sso login --profile <name>) or check AWS_PROFILE / AWS_ACCESS_KEY_ID"
    )]
    BadCredentials {
        op: &'static str,
        code: String,
        message: String,
    },

    #[error("{op}: GameLift refused the request: {message}")]
    InvalidRequest { op: &'static str, message: String },

    #[error(
        "{op}: still throttled by GameLift after retrying\n  \
         wait a few seconds and run the command again (AWS_MAX_ATTEMPTS raises the retry count)"
    )]
    Throttled { op: &'static str },

    #[error(
        "{op}: GameLift is unavailable at {endpoint}: {detail}\n  try again; if it persists, check https://health.aws.amazon.com/"
    )]
    Unavailable {
        op: &'static str,
        endpoint: String,
        detail: String,
    },

    #[error(
        "{op}: could not read GameLift's response from {endpoint}: {detail}\n  check --endpoint-url / AWS_ENDPOINT_URL if you set one"
    )]
    BadResponse {
        op: &'static str,
        endpoint: String,
        detail: String,
    },

    #[error("{0}")]
    Config(String),
}

/// How to reach AWS: the AWS CLI-style options as plain values, so this
/// layer never depends on the command line's types.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// A named profile (`--profile`).
    pub profile: Option<String>,
    /// The region (`--region`); a fleet ARN's own region wins over it.
    pub region: Option<String>,
    /// `--endpoint-url`, which wins over `AWS_ENDPOINT_URL[_<SERVICE>]`.
    pub endpoint_url: Option<String>,
    /// Seconds one attempt may wait for an answer (`--cli-read-timeout`).
    pub read_timeout: u64,
    /// Seconds to wait for a connection (`--cli-connect-timeout`).
    pub connect_timeout: u64,
}

/// `--cli-connect-timeout` and `--cli-read-timeout` as the SDK takes them.
/// Every AWS client (GameLift, SSM, S3, Lightsail) is built with these, so a
/// stalled endpoint fails each attempt in bounded time.
pub fn timeout_config(opts: &AwsOptions) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(opts.connect_timeout))
        .operation_attempt_timeout(Duration::from_secs(opts.read_timeout))
        .build()
}

/// The shared SDK configuration for any service client, built the way
/// [`GameLift::connect`] builds its own: profile, `region` (which wins over
/// `--region`, which wins over the profile/environment) and timeouts.
/// Returns it with the region it settled on.
pub async fn load_sdk_config(
    opts: &AwsOptions,
    region: Option<&str>,
) -> Result<(aws_config::SdkConfig, String), AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeout_config(opts));
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region.or(opts.region.as_deref()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let sdk_config = loader.load().await;
    let region = sdk_config
        .region()
        .map(|r| r.to_string())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            AwsError::Config(
                "no AWS region is set\n  pass --region, set AWS_REGION, or set a region in your profile (a fleet ARN carries its own)".into(),
            )
        })?;
    Ok((sdk_config, region))
}

/// Where and as whom GameLift calls go.
#[derive(Clone)]
pub struct GameLift {
    pub client: aws_sdk_gamelift::Client,
    pub region: String,
    endpoint: CalledEndpoint,
}

/// The endpoint GameLift requests really went to, as the SDK resolved it:
/// `--endpoint-url`, `AWS_ENDPOINT_URL_GAMELIFT`, `AWS_ENDPOINT_URL`, a
/// profile's `endpoint_url` or `services` section, or AWS's own. Recorded
/// from each request just before it is sent, so an error names the endpoint
/// that failed however it was configured, rather than our guess at it.
#[derive(Debug, Clone)]
struct CalledEndpoint {
    seen: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// What to say before any request was sent.
    fallback: String,
}

impl CalledEndpoint {
    fn get(&self) -> String {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| self.fallback.clone())
    }
}

impl aws_sdk_gamelift::config::Intercept for CalledEndpoint {
    fn name(&self) -> &'static str {
        "CalledEndpoint"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_gamelift::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_gamelift::config::RuntimeComponents,
        _cfg: &mut aws_sdk_gamelift::config::ConfigBag,
    ) -> Result<(), aws_sdk_gamelift::error::BoxError> {
        let endpoint = origin(context.request().uri());
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(endpoint);
        Ok(())
    }
}

/// `scheme://host[:port]` of a URI: the endpoint, without the operation's path.
fn origin(uri: &str) -> String {
    let start = uri.find("://").map_or(0, |i| i + 3);
    match uri[start..].find(['/', '?']) {
        Some(end) => uri[..start + end].to_owned(),
        None => uri.to_owned(),
    }
}

impl GameLift {
    /// Builds a client from the AWS CLI-style options. `region` (a fleet ARN's
    /// region) wins over `--region`, which wins over the profile/environment.
    pub async fn connect(opts: &AwsOptions, region: Option<&str>) -> Result<Self, AwsError> {
        let (sdk_config, region) = load_sdk_config(opts, region).await?;
        let mut config = aws_sdk_gamelift::config::Builder::from(&sdk_config);
        if let Some(url) = &opts.endpoint_url {
            config = config.endpoint_url(url);
        }
        let endpoint = CalledEndpoint {
            seen: Default::default(),
            fallback: opts
                .endpoint_url
                .clone()
                .or_else(|| sdk_config.endpoint_url().map(str::to_owned))
                .unwrap_or_else(|| format!("gamelift.{region}.amazonaws.com")),
        };
        config = config.interceptor(endpoint.clone());
        tracing::debug!(%region, profile = ?opts.profile, "GameLift client ready");
        Ok(Self {
            client: aws_sdk_gamelift::Client::from_conf(config.build()),
            region,
            endpoint,
        })
    }

    /// The endpoint GameLift calls went to (or will go to), for messages.
    pub fn endpoint(&self) -> String {
        self.endpoint.get()
    }

    /// Turns an SDK error from a GameLift call into what the user should do
    /// about it. `op` is the API operation, which is also the IAM action's name.
    pub fn classify<E>(&self, op: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        classify("gamelift", op, &self.region, &self.endpoint.get(), err)
    }
}

/// Turns an SDK error (from any AWS service client) into what the user
/// should do about it. `service:op` is the IAM action the call needed.
pub fn classify<E>(
    service: &'static str,
    op: &'static str,
    region: &str,
    endpoint: &str,
    err: SdkError<E, HttpResponse>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let endpoint = endpoint.to_owned();
    let message = err.message().unwrap_or("no message").to_owned();
    match &err {
        // A 2xx that lands here is a success body the SDK could not decode.
        SdkError::ServiceError(se) if se.raw().status().is_success() => AwsError::BadResponse {
            op,
            endpoint,
            detail: format!("HTTP {} with a body that does not decode", se.raw().status().as_u16()),
        },
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("Unknown").to_owned();
            match code.as_str() {
                "NotFoundException" => AwsError::NotFound {
                    op,
                    region: region.to_owned(),
                    message,
                },
                "UnauthorizedException" | "AccessDeniedException" => AwsError::Unauthorized { service, op, message },
                "UnrecognizedClientException"
                | "UnauthenticatedException"
                | "InvalidSignatureException"
                | "IncompleteSignatureException"
                | "MissingAuthenticationTokenException"
                | "InvalidClientTokenId"
                | "SignatureDoesNotMatch"
                | "ExpiredTokenException"
                | "ExpiredToken" => AwsError::BadCredentials { op, code, message },
                "InvalidRequestException"
                | "InvalidFleetStatusException"
                | "InvalidGameSessionStatusException"
                | "ValidationException"
                | "InvalidDocument"
                | "TargetNotConnected" => AwsError::InvalidRequest { op, message },
                "ThrottlingException" | "Throttling" | "TooManyRequestsException" => AwsError::Throttled { op },
                _ => AwsError::Unavailable {
                    op,
                    endpoint,
                    detail: format!("{code}: {message}"),
                },
            }
        }
        SdkError::TimeoutError(_) => AwsError::Unavailable {
            op,
            endpoint,
            detail: "no answer in time (raise --cli-read-timeout or --cli-connect-timeout if the network is slow)"
                .into(),
        },
        SdkError::DispatchFailure(_) => AwsError::Unavailable {
            op,
            endpoint,
            detail: DisplayErrorContext(&err).to_string(),
        },
        SdkError::ResponseError(_) => AwsError::BadResponse {
            op,
            endpoint,
            detail: DisplayErrorContext(&err).to_string(),
        },
        // Construction fails before anything is sent: most often because no
        // credentials could be found or a profile is broken.
        _ => AwsError::Config(format!(
            "{op}: could not prepare the request: {}\n  \
             check your AWS credentials: --profile, AWS_PROFILE, or `aws sso login`",
            DisplayErrorContext(&err)
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(
            super::origin("http://127.0.0.1:8448/service/GameLift/operation/ListFleets"),
            "http://127.0.0.1:8448"
        );
        assert_eq!(
            super::origin("https://gamelift.us-west-2.amazonaws.com/"),
            "https://gamelift.us-west-2.amazonaws.com"
        );
        assert_eq!(super::origin("https://h.example"), "https://h.example");
    }
}
