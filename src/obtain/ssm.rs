//! SSM StartSession / TerminateSession, signed with the compute's temporary
//! credentials: used when session-manager-plugin is installed but the AWS
//! CLI (which would otherwise make these calls) is not.

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use secrecy::{ExposeSecret, SecretString};

use super::{ObtainError, SessionParams, TempCredentials};
use crate::aws::AwsOptions;
use crate::aws::{Service, Site};
use aws_config::SdkConfig;

/// A started session. `response` is the `{SessionId, TokenValue,
/// StreamUrl}` JSON the plugin reads from its environment; the token in it
/// is a secret.
pub struct StartedSession {
    pub session_id: String,
    pub response: SecretString,
    client: aws_sdk_ssm::Client,
    site: Site,
}

/// The SSM endpoint for `region`, as the AWS CLI would report it.
pub fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://ssm.{region}.{suffix}")
}

/// StartSession, each attempt bounded by `opts`' timeouts
/// (`--cli-read-timeout`, `--cli-connect-timeout`).
pub async fn start_session(
    creds: &TempCredentials,
    region: &str,
    endpoint: &str,
    params: &SessionParams,
    opts: &AwsOptions,
) -> Result<StartedSession, ObtainError> {
    const OP: &str = "StartSession";
    // The compute's own credentials, never a profile's: no profile to name.
    let site = Site::new(
        Service::Ssm,
        &SdkConfig::builder().build(),
        region,
        Some(endpoint),
        None,
    );
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .timeout_config(crate::aws::timeout_config(opts))
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            &creds.access_key_id,
            creds.secret_access_key.expose_secret(),
            Some(creds.session_token.expose_secret().to_owned()),
            None,
            "GetComputeAccess",
        ))
        .interceptor(site.interceptor())
        .build();
    let client = aws_sdk_ssm::Client::from_conf(config);
    let out = client
        .start_session()
        .target(&params.target)
        .set_document_name(params.document_name.clone())
        .set_parameters((!params.parameters.is_empty()).then(|| params.parameters.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| ObtainError::Aws(site.classify(OP, e)))?;
    let session_id = out
        .session_id()
        .ok_or(ObtainError::Incomplete {
            op: OP,
            field: "SessionId",
        })?
        .to_owned();
    let response = serde_json::json!({
        "SessionId": session_id,
        "TokenValue": out.token_value().ok_or(ObtainError::Incomplete { op: OP, field: "TokenValue" })?,
        "StreamUrl": out.stream_url().ok_or(ObtainError::Incomplete { op: OP, field: "StreamUrl" })?,
    });
    tracing::debug!(session_id, "SSM session started");
    Ok(StartedSession {
        session_id,
        response: SecretString::from(response.to_string()),
        client,
        site,
    })
}

impl StartedSession {
    /// Ends the session on the service side, as the AWS CLI does once the
    /// plugin exits, so no session lingers until its idle timeout.
    pub async fn terminate(self) {
        match self
            .client
            .terminate_session()
            .session_id(&self.session_id)
            .send()
            .await
        {
            Ok(_) => tracing::debug!(session_id = self.session_id, "SSM session terminated"),
            Err(e) => tracing::warn!(
                session_id = self.session_id,
                "could not terminate the SSM session (it ends by itself when idle): {}",
                self.site.classify("TerminateSession", e)
            ),
        }
    }
}
