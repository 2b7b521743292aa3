//! The two AWS Systems Manager operations a GameLift SSM connection needs:
//! StartSession (with credentials from GetComputeAccess) and TerminateSession.

use serde_json::Value;

use super::{Ctx, Input};
use crate::error::{ApiError, ErrorCode};
use crate::fixture::ACCOUNT_ID;
use crate::state::{self, SsmSession};
use crate::wire::{Obj, Out};

/// SSM's default session document when DocumentName is absent.
const DEFAULT_DOCUMENT: &str = "SSM-SessionManagerRunShell";

fn unrecognized() -> ApiError {
    ApiError::new(
        ErrorCode::UnrecognizedClient,
        "The security token included in the request is invalid.",
    )
}

fn required(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Validation,
        format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
             Member must not be null",
            super::member_path(name)
        ),
    )
}

pub(super) fn start_session(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    // Only credentials GetComputeAccess issued are valid, and only together
    // with their session token, as STS session credentials are.
    let issued = ctx
        .state
        .issued
        .iter()
        .find(|c| c.access_key_id == ctx.access_key_id)
        .ok_or_else(unrecognized)?;
    if ctx.session_token != Some(issued.session_token.as_str()) {
        return Err(unrecognized());
    }
    let target = input.opt_str("Target")?.ok_or_else(|| required("Target"))?;
    let document = input.opt_str("DocumentName")?.unwrap_or(DEFAULT_DOCUMENT);
    if let Some(reason) = input.opt_str("Reason")?
        && reason.chars().count() > 256
    {
        return Err(ApiError::new(
            ErrorCode::Validation,
            "1 validation error detected: Value at 'reason' failed to satisfy constraint: \
             Member must have length less than or equal to 256",
        ));
    }
    let parameters = match input.get("Parameters") {
        None => Value::Null,
        Some(v @ Value::Object(_)) => v.clone(),
        Some(other) => return Err(super::wrong_type("Parameters", "map", other)),
    };
    if target != issued.target {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/GameLiftComputeAccess/{} is not \
                 authorized to perform: ssm:StartSession on resource: \
                 arn:aws:ec2:{}:{ACCOUNT_ID}:instance/{target} because no identity-based \
                 policy allows the ssm:StartSession action",
                issued.compute_name, ctx.region
            ),
        ));
    }
    let session_id = state::new_session_id();
    let stream_url = format!(
        "wss://ssmmessages.{}.amazonaws.com/v1/data-channel/{session_id}\
         ?role=publish_subscribe&cell-number={}",
        ctx.region,
        state::new_cell_number()
    );
    let access_key_id = issued.access_key_id.clone();
    ctx.state.ssm_sessions.push(SsmSession {
        session_id: session_id.clone(),
        target: target.to_owned(),
        document_name: document.to_owned(),
        parameters,
        access_key_id,
        terminated: false,
    });
    Ok(Out::Map(
        Obj::new()
            .put("SessionId", session_id)
            .put("TokenValue", state::new_token_value())
            .put("StreamUrl", stream_url),
    ))
}

pub(super) fn terminate_session(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let session_id = input.opt_str("SessionId")?.ok_or_else(|| required("SessionId"))?;
    let session = ctx
        .state
        .ssm_sessions
        .iter_mut()
        .find(|s| s.session_id == session_id)
        .ok_or_else(|| ApiError::new(ErrorCode::DoesNotExist, format!("Session {session_id} does not exist.")))?;
    session.terminated = true;
    Ok(Out::Map(Obj::new().put("SessionId", session_id)))
}
