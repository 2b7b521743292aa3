//! The one place where every module's error becomes the message a user reads
//! and the exit code a script branches on. The codes are documented in
//! README.md ("Exit codes"); keep the two in step.
//!
//! Our own failures use the sysexits(3) range (64–78) so that they rarely
//! collide with a remote command's exit code, which `connect` passes through.

use crate::bucketkeys::BucketKeyError;
use crate::ports::PortError;
use crate::resolve::{RefError, ResolveError};
use crate::upload::UploadError;
use crate::{aws::AwsError, deliver::DeliverError, launch::LaunchError, obtain::ObtainError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Obtain(#[from] ObtainError),
    #[error(transparent)]
    Deliver(#[from] DeliverError),
    #[error(transparent)]
    Launch(#[from] LaunchError),
    #[error(transparent)]
    Ports(#[from] PortError),
    #[error(transparent)]
    SshFlag(#[from] crate::launch::ssh::SshFlagError),
    #[error(transparent)]
    Forward(#[from] crate::launch::forward::ForwardError),
    #[error(transparent)]
    Agent(#[from] crate::agent::AgentError),
    /// Boxed: its variants carry whole messages and would bloat every Result.
    #[error(transparent)]
    BucketKeys(Box<BucketKeyError>),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Sessions(#[from] crate::sessions::SessionsError),
    /// A signal ended the run before or during the session; everything was
    /// cleaned up. Exits 128 + the signal number, as a shell would report it.
    #[error("interrupted by {name}; cleaned up")]
    Interrupted { signal: i32, name: &'static str },
    /// Options that cannot go together for this instance.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
    /// A message already made from another error, with that error's exit code.
    #[error("{message}")]
    Exit { code: u8, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, as documented in README.md.
pub mod code {
    /// A fleet or instance reference (or another argument) is malformed or
    /// ambiguous.
    pub const USAGE: u8 = 64;
    /// `build upload`: DIR is missing, not a directory, empty, or holds an
    /// unreadable file or a symlink out of it.
    pub const NO_INPUT: u8 = 66;
    /// GameLift returned something unusable (a secret that is not a key, a
    /// response that does not parse).
    pub const BAD_DATA: u8 = 65;
    /// The fleet, alias, instance or game session does not exist (in that region).
    pub const NOT_FOUND: u8 = 68;
    /// GameLift or the network failed (5xx, timeout, unreachable endpoint).
    pub const UNAVAILABLE: u8 = 69;
    /// Something else went wrong inside gamelift-access.
    pub const SOFTWARE: u8 = 70;
    /// A program we need (ssh) is not installed.
    pub const TOOL_MISSING: u8 = 72;
    /// A local file or directory could not be made safely.
    pub const IO: u8 = 74;
    /// Still throttled after the SDK's retries: wait and try again.
    pub const THROTTLED: u8 = 75;
    /// GameLift refused the request, or the fleet cannot be connected to
    /// (not ACTIVE, an Anywhere fleet, a TERMINAL alias).
    pub const INVALID_REQUEST: u8 = 76;
    /// The credentials lack a permission, or were rejected.
    pub const UNAUTHORIZED: u8 = 77;
    /// AWS configuration is missing or wrong (region, profile, credentials).
    pub const CONFIG: u8 = 78;
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Resolve(e) => e.exit_code(),
            Error::Aws(e) | Error::Obtain(ObtainError::Aws(e)) => e.exit_code(),
            Error::Obtain(ObtainError::NoSuchContainer { .. }) => code::USAGE,
            Error::Obtain(_) => code::BAD_DATA,
            Error::Deliver(_) => code::IO,
            Error::Launch(LaunchError::ToolMissing { .. }) => code::TOOL_MISSING,
            Error::Launch(_) => code::IO,
            Error::Ports(PortError::Aws(e)) => e.exit_code(),
            Error::Ports(PortError::BadCidr(_)) => code::USAGE,
            Error::Ports(PortError::Ledger(_)) => code::IO,
            Error::Ports(PortError::Lookup { .. } | PortError::Timeout { .. }) => code::UNAVAILABLE,
            Error::SshFlag(_) | Error::Forward(_) => code::USAGE,
            Error::Agent(e) => e.exit_code(),
            Error::BucketKeys(e) => e.exit_code(),
            Error::Upload(e) => e.exit_code(),
            Error::Sessions(crate::sessions::SessionsError::Resolve(e)) => e.exit_code(),
            Error::Sessions(crate::sessions::SessionsError::Aws(e)) => e.exit_code(),
            Error::Sessions(e) => e.exit_code().unwrap_or(code::SOFTWARE),
            Error::Interrupted { signal, .. } => 128u8.saturating_add(*signal as u8),
            Error::Usage(_) => code::USAGE,
            Error::Other(_) => code::SOFTWARE,
            Error::Exit { code, .. } => *code,
        }
    }
}

impl From<crate::signals::Received> for Error {
    fn from(sig: crate::signals::Received) -> Self {
        Error::Interrupted {
            signal: sig.number,
            name: sig.name,
        }
    }
}

impl From<BucketKeyError> for Error {
    fn from(e: BucketKeyError) -> Self {
        Error::BucketKeys(Box::new(e))
    }
}

impl From<RefError> for Error {
    fn from(e: RefError) -> Self {
        Error::Resolve(e.into())
    }
}

impl ResolveError {
    fn exit_code(&self) -> u8 {
        match self {
            ResolveError::Aws(e) => e.exit_code(),
            ResolveError::Ref(_)
            | ResolveError::Ambiguous { .. }
            | ResolveError::Choose { .. }
            | ResolveError::Mismatch(_) => code::USAGE,
            ResolveError::NoSuchName { .. } | ResolveError::NoMatch(_) => code::NOT_FOUND,
            ResolveError::TerminalAlias { .. } | ResolveError::NotActive { .. } | ResolveError::Anywhere { .. } => {
                code::INVALID_REQUEST
            }
            ResolveError::Cancelled => 130,
        }
    }
}

impl crate::agent::AgentError {
    fn exit_code(&self) -> u8 {
        use crate::agent::AgentError as A;
        match self {
            A::NotRunning { .. } | A::Protocol { .. } | A::Start(_) | A::NotOurs { .. } => code::UNAVAILABLE,
            A::AlreadyRunning { .. } => code::USAGE,
            A::Bind { .. } | A::Io(_) => code::IO,
        }
    }
}

impl BucketKeyError {
    fn exit_code(&self) -> u8 {
        match self {
            BucketKeyError::BadBucketName { .. } | BucketKeyError::BadKeyId { .. } | BucketKeyError::Confirm(_) => {
                code::USAGE
            }
            BucketKeyError::NoSuchBucket { .. }
            | BucketKeyError::NoSuchKey { .. }
            | BucketKeyError::NotStored { .. } => code::NOT_FOUND,
            BucketKeyError::LimitReached { .. }
            | BucketKeyError::Refused { .. }
            | BucketKeyError::NoRotation { .. }
            | BucketKeyError::RotationUnderWay { .. }
            | BucketKeyError::OldKeyStillUsed { .. } => code::INVALID_REQUEST,
            BucketKeyError::BadResponse { .. } => code::BAD_DATA,
            BucketKeyError::Aws(e) => e.exit_code(),
            BucketKeyError::Store(_)
            | BucketKeyError::StoreFailedKeyDeleted { .. }
            | BucketKeyError::StoreFailedDeleteFailed { .. }
            | BucketKeyError::PrintFailed { .. }
            | BucketKeyError::Profile { .. } => code::IO,
            BucketKeyError::VerifyFailed { .. } => code::UNAVAILABLE,
            BucketKeyError::Declined => 1,
        }
    }
}

impl UploadError {
    fn exit_code(&self) -> u8 {
        match self {
            UploadError::Walk(_) => code::NO_INPUT,
            UploadError::Aws(e) => e.exit_code(),
            UploadError::NotInitialized { .. } => code::INVALID_REQUEST,
            UploadError::Failed { .. } => code::UNAVAILABLE,
            UploadError::Interrupted { signal, .. } => 128u8.saturating_add(signal.number as u8),
            UploadError::BuildFailed { .. } => code::BAD_DATA,
        }
    }
}

impl AwsError {
    fn exit_code(&self) -> u8 {
        match self {
            AwsError::NotFound { .. } => code::NOT_FOUND,
            AwsError::Unauthorized { .. } | AwsError::BadCredentials { .. } => code::UNAUTHORIZED,
            AwsError::NoCredentials { .. } | AwsError::SsoLogin { .. } | AwsError::Credentials { .. } => code::CONFIG,
            AwsError::InvalidRequest { .. } => code::INVALID_REQUEST,
            AwsError::Throttled { .. } => code::THROTTLED,
            AwsError::Unavailable { .. } | AwsError::Unreachable { .. } => code::UNAVAILABLE,
            AwsError::BadResponse { .. } => code::BAD_DATA,
            AwsError::Config(_) => code::CONFIG,
        }
    }
}
