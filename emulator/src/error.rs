//! Errors the emulator answers with, in the shape GameLift (and the AWS
//! front end in front of it) uses.

use std::fmt;

/// Every error code the emulator can return.
///
/// The split between "modeled" GameLift exceptions and "coral" front-end
/// errors matters on the CBOR wire, where the `__type` carries a namespace;
/// clients strip it, so only the short name is significant to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// A parameter is missing, malformed or not allowed for this resource.
    InvalidRequest,
    /// The fleet, instance or build does not exist in the signing region.
    NotFound,
    /// IAM denies the operation.
    Unauthorized,
    /// A server-side failure, with the HTTP status to send.
    InternalService(u16),
    /// Rate limiting. GameLift sends this with status 400.
    Throttling,
    /// The body could not be decoded or a field had the wrong type.
    Serialization,
    /// The operation is not one GameLift has (or the emulator implements).
    UnknownOperation,
    /// No `Authorization` header at all.
    MissingAuthenticationToken,
    /// `Authorization` present but missing parts.
    IncompleteSignature,
    /// `Authorization` complete but scoped or formed wrongly.
    InvalidSignature,
    /// An alias with TERMINAL routing was resolved.
    TerminalRoutingStrategy,
    /// SSM: the access key / session token is not one the emulator issued.
    UnrecognizedClient,
    /// SSM: the credentials do not allow this target.
    AccessDenied,
    /// SSM: no such session.
    DoesNotExist,
    /// SSM: a required parameter is missing or malformed.
    Validation,
    /// Lightsail: a parameter is missing, malformed or not allowed (the
    /// two-key limit included).
    InvalidInput,
    /// Lightsail: the bucket or access key does not exist in the region.
    LightsailNotFound,
}

impl ErrorCode {
    /// The short `__type` name clients match on.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "InvalidRequestException",
            ErrorCode::NotFound => "NotFoundException",
            ErrorCode::Unauthorized => "UnauthorizedException",
            ErrorCode::InternalService(_) => "InternalServiceException",
            ErrorCode::Throttling => "ThrottlingException",
            ErrorCode::Serialization => "SerializationException",
            ErrorCode::UnknownOperation => "UnknownOperationException",
            ErrorCode::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignature => "IncompleteSignatureException",
            ErrorCode::InvalidSignature => "InvalidSignatureException",
            ErrorCode::TerminalRoutingStrategy => "TerminalRoutingStrategyException",
            ErrorCode::UnrecognizedClient => "UnrecognizedClientException",
            ErrorCode::AccessDenied => "AccessDeniedException",
            ErrorCode::DoesNotExist => "DoesNotExistException",
            ErrorCode::Validation => "ValidationException",
            ErrorCode::InvalidInput => "InvalidInputException",
            ErrorCode::LightsailNotFound => "NotFoundException",
        }
    }

    /// The namespace the CBOR `__type` is qualified with.
    pub(crate) fn namespace(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest
            | ErrorCode::NotFound
            | ErrorCode::Unauthorized
            | ErrorCode::InternalService(_)
            | ErrorCode::TerminalRoutingStrategy => "com.amazonaws.gamelift",
            ErrorCode::AccessDenied | ErrorCode::DoesNotExist => "com.amazonaws.ssm",
            ErrorCode::InvalidInput | ErrorCode::LightsailNotFound => "com.amazonaws.lightsail",
            _ => "com.amazon.coral.service",
        }
    }

    /// HTTP status. GameLift reports all client errors, throttling included,
    /// as 400; only the authentication layer uses 403.
    pub(crate) fn status(self) -> u16 {
        match self {
            ErrorCode::InternalService(status) => status,
            ErrorCode::MissingAuthenticationToken | ErrorCode::IncompleteSignature | ErrorCode::InvalidSignature => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error response: code plus human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub(crate) struct ApiError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    pub(crate) fn serialization(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Serialization, message)
    }
}
