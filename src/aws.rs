//! AWS set-up and error classification, as the AWS CLI does it.
//!
//! Configuration comes from aws-config's default chain, so `--profile`,
//! `AWS_PROFILE`, SSO profiles, `credential_process`, `AWS_REGION` and the
//! `AWS_ENDPOINT_URL[_GAMELIFT]` variables all behave as users expect from
//! `aws`. The aws-sdk types stay in this module, `resolve` and `obtain`.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_gamelift::config::http::HttpResponse;
use aws_sdk_gamelift::error::{ProvideErrorMetadata, SdkError};

/// An AWS service this tool calls: how messages name it, and the prefix of
/// its IAM actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    GameLift,
    Lightsail,
    Ssm,
    S3,
}

impl Service {
    /// The name messages use, which is also the SDK's service ID (the
    /// `<SERVICE>` of `AWS_ENDPOINT_URL_<SERVICE>` and a profile's
    /// `services` section).
    pub fn name(self) -> &'static str {
        match self {
            Service::GameLift => "GameLift",
            Service::Lightsail => "Lightsail",
            Service::Ssm => "SSM",
            Service::S3 => "S3",
        }
    }

    /// The IAM action prefix (`gamelift:GetInstanceAccess`).
    pub fn iam(self) -> &'static str {
        match self {
            Service::GameLift => "gamelift",
            Service::Lightsail => "lightsail",
            Service::Ssm => "ssm",
            Service::S3 => "s3",
        }
    }

    /// AWS's own endpoint in a region.
    pub fn default_endpoint(self, region: &str) -> String {
        format!("https://{}.{region}.amazonaws.com", self.iam())
    }

    /// The variable that sets this service's endpoint alone.
    fn endpoint_var(self) -> &'static str {
        match self {
            Service::GameLift => "AWS_ENDPOINT_URL_GAMELIFT",
            Service::Lightsail => "AWS_ENDPOINT_URL_LIGHTSAIL",
            Service::Ssm => "AWS_ENDPOINT_URL_SSM",
            Service::S3 => "AWS_ENDPOINT_URL_S3",
        }
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed AWS call, classified by what the user should do about it.
///
/// Every message has one shape: `<service> <operation>[ at <endpoint>]:
/// <why, in words>`, then at most two indented lines saying what to do.
/// The SDK's Debug output never appears in it: [`classify`] keeps only the
/// readable parts of the error's `source()` chain.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("{service} {op}: not found in {region}: {message}\n  {}", not_found_hint(*.service))]
    NotFound {
        service: Service,
        op: &'static str,
        region: String,
        message: String,
    },

    #[error(
        "{service} {op}: your credentials lack {iam}:{op}: {message}\n  \
         ask your AWS administrator for {iam}:{op} on this resource, or use a profile that has it (--profile)",
        iam = service.iam()
    )]
    Unauthorized {
        service: Service,
        op: &'static str,
        message: String,
    },

    /// AWS answered, and refused the credentials (expired, unknown, bad signature).
    #[error("{service} {op} at {endpoint}: {why}\n  {advice}")]
    BadCredentials {
        service: Service,
        op: &'static str,
        endpoint: String,
        why: String,
        advice: String,
    },

    /// No source had credentials: nothing was sent.
    #[error(
        "{service} {op} (to {endpoint}): no AWS credentials found; looked in {tried}\n  \
         run `aws configure`, or `aws sso login --profile <profile>` for an SSO profile,\n  \
         or pass --profile (or set AWS_PROFILE) to a profile that has credentials"
    )]
    NoCredentials {
        service: Service,
        op: &'static str,
        endpoint: String,
        tried: String,
    },

    /// An SSO profile whose login expired or never happened: nothing was sent.
    #[error("{service} {op} (to {endpoint}): {why}\n  run `{login}`, then try again")]
    SsoLogin {
        service: Service,
        op: &'static str,
        endpoint: String,
        why: String,
        login: String,
    },

    /// A credential source is set up but failed (a broken profile, a
    /// failing `credential_process`): nothing was sent.
    #[error("{service} {op} (to {endpoint}): could not load AWS credentials: {why}\n  {advice}")]
    Credentials {
        service: Service,
        op: &'static str,
        endpoint: String,
        why: String,
        advice: String,
    },

    #[error("{service} {op}: {service} refused the request: {message}")]
    InvalidRequest {
        service: Service,
        op: &'static str,
        message: String,
    },

    #[error(
        "{service} {op}: still throttled by {service} after retrying\n  \
         wait a few seconds and run the command again (AWS_MAX_ATTEMPTS raises the retry count)"
    )]
    Throttled { service: Service, op: &'static str },

    /// Nothing answered: no connection, no DNS name, no answer in time.
    #[error(
        "{service} {op}: could not reach {endpoint}: {detail}\n  \
         check your network or VPN, and the endpoint ({})",
        endpoint_sources(*.service)
    )]
    Unreachable {
        service: Service,
        op: &'static str,
        endpoint: String,
        detail: String,
    },

    /// The service answered with a server error.
    #[error(
        "{service} {op}: {service} is unavailable at {endpoint}: {detail}\n  \
         try again; if it persists, check https://health.aws.amazon.com/"
    )]
    Unavailable {
        service: Service,
        op: &'static str,
        endpoint: String,
        detail: String,
    },

    #[error(
        "{service} {op}: could not read {service}'s response from {endpoint}: {detail}\n  \
         check the endpoint ({})",
        endpoint_sources(*.service)
    )]
    BadResponse {
        service: Service,
        op: &'static str,
        endpoint: String,
        detail: String,
    },

    #[error("{0}")]
    Config(String),
}

fn not_found_hint(service: Service) -> &'static str {
    match service {
        Service::GameLift => {
            "check the ID, and the region: a fleet lives in one region (pass --region, or the fleet's ARN)"
        }
        _ => "check the name or ID, and the region (--region)",
    }
}

/// Where an endpoint can come from, for the one service.
fn endpoint_sources(service: Service) -> String {
    // --endpoint-url is for the service a command is about, never S3's.
    let flag = if service == Service::S3 { "" } else { "--endpoint-url, " };
    format!(
        "{flag}{}, AWS_ENDPOINT_URL, or the profile's endpoint_url / services section",
        service.endpoint_var()
    )
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

/// Where and as whom GameLift calls go. The SDK client is built on the
/// first call that needs one ([`GameLift::client`]): building it reads the
/// AWS config and loads the root certificates, which costs more than a
/// warm `connect` through the agent, which makes no call, spends in all.
#[derive(Clone)]
pub struct GameLift {
    pub region: String,
    lazy: std::sync::Arc<LazyGameLift>,
}

struct LazyGameLift {
    opts: AwsOptions,
    /// Set when the region could only be known by loading the whole
    /// configuration: then the client is built at once from it.
    ready: tokio::sync::OnceCell<(aws_sdk_gamelift::Client, Site)>,
}

/// Where one service client's calls go, and the profile they go as: what
/// [`Site::classify`] needs to turn an SDK error into an [`AwsError`] that
/// names the service, the endpoint really called, and the fix.
#[derive(Debug, Clone)]
pub struct Site {
    pub service: Service,
    pub region: String,
    endpoint: CalledEndpoint,
    /// `--profile`, for the login and configure commands we print.
    profile: Option<String>,
}

impl Site {
    /// The site for `service` with `sdk_config`: `explicit` (`--endpoint-url`,
    /// or an endpoint a caller sets itself) wins over
    /// `AWS_ENDPOINT_URL_<SERVICE>`, a profile's `services` section,
    /// `AWS_ENDPOINT_URL` and a profile's `endpoint_url`, as in the SDK.
    /// Register [`Site::interceptor`] on the client so that errors name the
    /// endpoint each request really went to.
    pub fn new(
        service: Service,
        sdk_config: &aws_config::SdkConfig,
        region: &str,
        explicit: Option<&str>,
        profile: Option<&str>,
    ) -> Site {
        let configured = explicit
            .map(str::to_owned)
            .or_else(|| configured_endpoint(service, sdk_config));
        Site {
            service,
            region: region.to_owned(),
            endpoint: CalledEndpoint {
                seen: Default::default(),
                fallback: configured.unwrap_or_else(|| service.default_endpoint(region)),
            },
            profile: profile.map(str::to_owned),
        }
    }

    /// Records each request's endpoint for messages; add it to the client's config.
    pub fn interceptor(&self) -> CalledEndpoint {
        self.endpoint.clone()
    }

    /// The endpoint calls went to (or, before any was sent, will go to).
    pub fn endpoint(&self) -> String {
        self.endpoint.get()
    }

    /// Turns an SDK error from this service into what the user should do
    /// about it. `op` is the API operation, which is also the IAM action's name.
    pub fn classify<E>(&self, op: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        classify(self, op, err)
    }
}

/// The endpoint the SDK takes from the environment or the profile for
/// `service`, if any: `AWS_ENDPOINT_URL_<SERVICE>`, the profile's
/// `services` section, then `AWS_ENDPOINT_URL` or the profile's `endpoint_url`.
fn configured_endpoint(service: Service, sdk_config: &aws_config::SdkConfig) -> Option<String> {
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id(service.name())
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk_config
        .service_config()
        .and_then(|conf| conf.load_config(key))
        .or_else(|| sdk_config.endpoint_url().map(str::to_owned))
}

/// The endpoint requests really went to, as the SDK resolved it, recorded
/// from each request just before it is sent, so an error names the endpoint
/// that failed however it was configured, rather than our guess at it.
/// One interceptor serves every service client: they share the trait.
#[derive(Debug, Clone)]
pub struct CalledEndpoint {
    seen: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// What to say before any request was sent: the configured endpoint.
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
    /// Where GameLift calls go, from the AWS CLI-style options. `region` (a
    /// fleet ARN's region) wins over `--region`, which wins over
    /// `AWS_REGION`/`AWS_DEFAULT_REGION` and the profile. With the region
    /// known from those, nothing is loaded until the first call.
    pub async fn connect(opts: &AwsOptions, region: Option<&str>) -> Result<Self, AwsError> {
        let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let known = region
            .map(str::to_owned)
            .or_else(|| opts.region.clone())
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"));
        let lazy = LazyGameLift {
            opts: opts.clone(),
            ready: tokio::sync::OnceCell::new(),
        };
        let region = match known {
            Some(region) => region,
            None => {
                // The profile (or IMDS) decides: load it all now.
                let (sdk_config, region) = load_sdk_config(opts, None).await?;
                let built = lazy.build(&sdk_config, &region);
                lazy.ready.set(built).ok();
                region
            }
        };
        Ok(Self {
            region,
            lazy: std::sync::Arc::new(lazy),
        })
    }

    /// The SDK client, built on first use.
    pub async fn client(&self) -> &aws_sdk_gamelift::Client {
        &self.ready().await.0
    }

    async fn ready(&self) -> &(aws_sdk_gamelift::Client, Site) {
        self.lazy
            .ready
            .get_or_init(|| async {
                // The region is known, so loading cannot fail for the want of one.
                let sdk_config = match load_sdk_config(&self.lazy.opts, Some(&self.region)).await {
                    Ok((sdk_config, _)) => sdk_config,
                    Err(e) => unreachable!("the region is set, yet: {e}"),
                };
                self.lazy.build(&sdk_config, &self.region)
            })
            .await
    }

    /// The endpoint GameLift calls went to (or will go to), for messages.
    pub fn endpoint(&self) -> String {
        match self.lazy.ready.get() {
            Some((_, site)) => site.endpoint(),
            None => self
                .lazy
                .opts
                .endpoint_url
                .clone()
                .unwrap_or_else(|| Service::GameLift.default_endpoint(&self.region)),
        }
    }

    /// Turns an SDK error from a GameLift call into what the user should do
    /// about it. `op` is the API operation, which is also the IAM action's name.
    pub fn classify<E>(&self, op: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match self.lazy.ready.get() {
            Some((_, site)) => site.classify(op, err),
            // Every call goes through client(), so this is not reached.
            None => Site {
                service: Service::GameLift,
                region: self.region.clone(),
                endpoint: CalledEndpoint {
                    seen: Default::default(),
                    fallback: self.endpoint(),
                },
                profile: self.lazy.opts.profile.clone(),
            }
            .classify(op, err),
        }
    }
}

impl LazyGameLift {
    fn build(&self, sdk_config: &aws_config::SdkConfig, region: &str) -> (aws_sdk_gamelift::Client, Site) {
        let opts = &self.opts;
        let mut config = aws_sdk_gamelift::config::Builder::from(sdk_config);
        if let Some(url) = &opts.endpoint_url {
            config = config.endpoint_url(url);
        }
        let site = Site::new(
            Service::GameLift,
            sdk_config,
            region,
            opts.endpoint_url.as_deref(),
            opts.profile.as_deref(),
        );
        config = config.interceptor(site.interceptor());
        tracing::debug!(%region, profile = ?opts.profile, "GameLift client ready");
        (aws_sdk_gamelift::Client::from_conf(config.build()), site)
    }
}

/// Turns an SDK error (from any AWS service client) into what the user
/// should do about it. `service:op` is the IAM action the call needed.
pub fn classify<E>(site: &Site, op: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let service = site.service;
    let endpoint = site.endpoint();
    let message = err.message().unwrap_or("no message").to_owned();
    match &err {
        // A 2xx that lands here is a success body the SDK could not decode.
        SdkError::ServiceError(se) if se.raw().status().is_success() => AwsError::BadResponse {
            service,
            op,
            endpoint,
            detail: format!("HTTP {} with a body that does not decode", se.raw().status().as_u16()),
        },
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = err.code().unwrap_or("Unknown").to_owned();
            match code.as_str() {
                "NotFoundException" | "NoSuchBucket" | "NoSuchKey" | "NoSuchUpload" => AwsError::NotFound {
                    service,
                    op,
                    region: site.region.clone(),
                    message,
                },
                "UnauthorizedException" | "AccessDeniedException" | "AccessDenied" => {
                    AwsError::Unauthorized { service, op, message }
                }
                "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" | "TokenRefreshRequired" => {
                    AwsError::BadCredentials {
                        service,
                        op,
                        endpoint,
                        why: format!("your AWS credentials have expired ({code})"),
                        advice: refresh_advice(site.profile.as_deref()),
                    }
                }
                "UnrecognizedClientException"
                | "UnauthenticatedException"
                | "InvalidSignatureException"
                | "IncompleteSignatureException"
                | "MissingAuthenticationTokenException"
                | "InvalidClientTokenId"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch" => AwsError::BadCredentials {
                    service,
                    op,
                    endpoint,
                    why: format!("AWS rejected your credentials ({code}): {message}"),
                    advice: refresh_advice(site.profile.as_deref()),
                },
                "InvalidRequestException"
                | "InvalidInputException"
                | "InvalidFleetStatusException"
                | "InvalidGameSessionStatusException"
                | "ValidationException"
                | "InvalidDocument"
                | "TargetNotConnected" => AwsError::InvalidRequest { service, op, message },
                "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "SlowDown" => {
                    AwsError::Throttled { service, op }
                }
                _ if status < 500 => AwsError::InvalidRequest {
                    service,
                    op,
                    message: format!("{code} (HTTP {status}): {message}"),
                },
                _ => AwsError::Unavailable {
                    service,
                    op,
                    endpoint,
                    detail: format!("{code} (HTTP {status}): {message}"),
                },
            }
        }
        SdkError::TimeoutError(_) => AwsError::Unreachable {
            service,
            op,
            endpoint,
            detail: "no answer in time (raise --cli-read-timeout or --cli-connect-timeout if the network is slow)"
                .into(),
        },
        SdkError::ResponseError(_) => AwsError::BadResponse {
            service,
            op,
            endpoint,
            detail: reasons(&err),
        },
        // Dispatch and construction failures: credentials that could not be
        // loaded surface here, before anything was sent.
        _ => match credentials_failure(&err) {
            Some(failure) => credentials_error(site, op, endpoint, failure),
            None => match &err {
                SdkError::DispatchFailure(d) if d.is_timeout() => AwsError::Unreachable {
                    service,
                    op,
                    endpoint,
                    detail: "no answer in time (raise --cli-connect-timeout if the network is slow)".into(),
                },
                SdkError::DispatchFailure(d) if d.is_io() => AwsError::Unreachable {
                    service,
                    op,
                    endpoint,
                    detail: reasons(&err),
                },
                SdkError::DispatchFailure(_) => AwsError::Unreachable {
                    service,
                    op,
                    endpoint,
                    detail: reasons(&err),
                },
                _ => AwsError::Config(format!(
                    "{service} {op} (to {endpoint}): could not prepare the request: {}\n  \
                     check your AWS configuration: --profile, AWS_PROFILE, --region",
                    reasons(&err)
                )),
            },
        },
    }
}

/// What to do about credentials AWS refused.
fn refresh_advice(profile: Option<&str>) -> String {
    let profile = effective_profile(profile);
    match sso_login_command(&profile) {
        Some(login) => format!("run `{login}`, then try again"),
        None => format!(
            "get fresh credentials for profile `{profile}` (`aws configure`, or new AWS_ACCESS_KEY_ID / \
             AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN), or pass --profile"
        ),
    }
}

/// The profile in effect: `--profile`, else `AWS_PROFILE`, else `default`.
fn effective_profile(profile: Option<&str>) -> String {
    profile
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()))
        .unwrap_or_else(|| "default".to_owned())
}

/// The credentials error somewhere in the chain, if loading credentials
/// (or an SSO token) is what failed.
enum CredentialsFailure<'a> {
    /// No source had any.
    NotFound,
    /// A source is set up but failed; the error that says why.
    Failed(&'a (dyn std::error::Error + 'static)),
}

fn credentials_failure<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<CredentialsFailure<'a>> {
    use aws_credential_types::provider::error::{CredentialsError, TokenError};
    let mut next: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(match c {
                CredentialsError::CredentialsNotLoaded(_) => CredentialsFailure::NotFound,
                _ => CredentialsFailure::Failed(e),
            });
        }
        if e.downcast_ref::<TokenError>().is_some() {
            return Some(CredentialsFailure::Failed(e));
        }
        next = e.source();
    }
    None
}

fn credentials_error(site: &Site, op: &'static str, endpoint: String, failure: CredentialsFailure<'_>) -> AwsError {
    let service = site.service;
    let profile = effective_profile(site.profile.as_deref());
    if let Some(login) = sso_login_command(&profile) {
        let why = match &failure {
            CredentialsFailure::Failed(e) if reasons(*e).contains("expired") => {
                format!("the SSO session of profile `{profile}` has expired")
            }
            _ => format!("profile `{profile}` uses SSO, and there is no valid SSO login for it"),
        };
        return AwsError::SsoLogin {
            service,
            op,
            endpoint,
            why,
            login,
        };
    }
    match failure {
        CredentialsFailure::NotFound => AwsError::NoCredentials {
            service,
            op,
            endpoint,
            tried: format!(
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile `{profile}` in {} and {}, web identity, \
                 and the ECS and EC2 metadata services",
                config_file("AWS_CONFIG_FILE", "config"),
                config_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            ),
        },
        CredentialsFailure::Failed(e) => AwsError::Credentials {
            service,
            op,
            endpoint,
            why: reasons(e),
            advice: format!(
                "fix profile `{profile}` (or its credential_process), or run `aws configure`, \
                 or pass --profile to another profile"
            ),
        },
    }
}

/// `AWS_CONFIG_FILE` or `~/.aws/<name>`, as a user would look for it.
fn config_file(var: &str, name: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("~/.aws/{name}"))
}

/// `aws sso login --profile P` if `profile` is an SSO profile in the AWS
/// config file (`sso_start_url` or `sso_session`), else `None`.
fn sso_login_command(profile: &str) -> Option<String> {
    let path = match std::env::var_os("AWS_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(path) => std::path::PathBuf::from(path),
        None => directories::BaseDirs::new()?.home_dir().join(".aws").join("config"),
    };
    let text = std::fs::read_to_string(path).ok()?;
    sso_login_in(&text, profile)
}

/// [`sso_login_command`] on the config file's text.
fn sso_login_in(config: &str, profile: &str) -> Option<String> {
    let wanted = |header: &str| {
        let header = header.trim();
        header == format!("profile {profile}") || (profile == "default" && header == "default")
    };
    let mut in_profile = false;
    let mut sso = false;
    for line in config.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = wanted(header);
            continue;
        }
        if !in_profile {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if key == "sso_start_url" || key == "sso_session" {
                sso = true;
            }
        }
    }
    sso.then(|| format!("aws sso login --profile {profile}"))
}

/// The readable parts of an error's `source()` chain, joined with `: `.
/// The SDK's wrappers ("dispatch failure", "io error", "other") say nothing
/// to a user and are left out; so is anything that looks like Debug output.
pub fn reasons(err: &(dyn std::error::Error + 'static)) -> String {
    const WRAPPERS: &[&str] = &[
        "dispatch failure",
        "io error",
        "other",
        "timeout",
        "user error",
        "service error",
        "response error",
        "failed to construct request",
        "unhandled error",
        "unexpected credentials error",
        "an error occurred while loading credentials",
        "the credentials provider was not properly configured",
        "the credential provider was not enabled",
        "an error occurred while loading an access token",
        "the access token provider was not properly configured",
        "the access token provider was not enabled",
        "client error (Connect)",
        "client error (SendRequest)",
        "error trying to connect",
    ];
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        let text = text.trim();
        let debug_like = text.contains(" { ") || text.contains("(Some(") || text.contains("Error {");
        if !text.is_empty()
            && !debug_like
            && !WRAPPERS.contains(&text)
            && !parts.last().is_some_and(|last| last.contains(text))
        {
            parts.push(text.to_owned());
        }
        next = e.source();
    }
    if parts.is_empty() {
        "no further detail (run with --debug for the SDK's own)".to_owned()
    } else {
        parts.join(": ")
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

    #[test]
    fn sso_profiles_are_found_by_their_keys() {
        let config = "[default]\nregion = us-west-2\n\n[profile ops]\nsso_session = corp\nsso_account_id = 1\n\n\
                      [profile old]\nsso_start_url = https://x.awsapps.com/start\n[profile keys]\nregion = eu-west-1\n";
        assert_eq!(
            super::sso_login_in(config, "ops").as_deref(),
            Some("aws sso login --profile ops")
        );
        assert_eq!(
            super::sso_login_in(config, "old").as_deref(),
            Some("aws sso login --profile old")
        );
        assert_eq!(super::sso_login_in(config, "keys"), None);
        assert_eq!(super::sso_login_in(config, "default"), None);
        assert_eq!(super::sso_login_in(config, "missing"), None);
    }
}
