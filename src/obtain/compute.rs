//! GetComputeAccess (server SDK 5.x and container fleets): temporary AWS
//! credentials and an SSM target.

use super::{Access, Container, ObtainError, SsmAccess, TempCredentials, take_secret};
use crate::aws::GameLift;
use crate::resolve::Target;

pub async fn compute_access(gamelift: &GameLift, target: &Target) -> Result<Access, ObtainError> {
    const OP: &str = "GetComputeAccess";
    tracing::debug!(%target, "calling {OP}");
    let mut output = gamelift
        .client()
        .await
        .get_compute_access()
        .fleet_id(&target.fleet.fleet_id)
        .compute_name(&target.instance_id)
        .send()
        .await
        .map_err(|e| gamelift.classify(OP, e))?;
    let incomplete = |field| ObtainError::Incomplete { op: OP, field };
    let mut creds = output.credentials.take().ok_or(incomplete("Credentials"))?;
    let credentials = TempCredentials {
        access_key_id: creds
            .access_key_id
            .take()
            .ok_or(incomplete("Credentials.AccessKeyId"))?,
        secret_access_key: take_secret(&mut creds.secret_access_key)
            .ok_or(incomplete("Credentials.SecretAccessKey"))?,
        session_token: take_secret(&mut creds.session_token).ok_or(incomplete("Credentials.SessionToken"))?,
    };
    let ssm_target = output.target.take().ok_or(incomplete("Target"))?;
    let containers = output
        .container_identifiers
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| {
            Some(Container {
                name: c.container_name?,
                runtime_id: c.container_runtime_id?,
            })
        })
        .collect();
    tracing::debug!(
        ssm_target,
        access_key_id = credentials.access_key_id,
        "compute access granted"
    );
    Ok(Access::Ssm(SsmAccess {
        target: ssm_target,
        region: target.location.clone(),
        credentials,
        containers,
    }))
}
