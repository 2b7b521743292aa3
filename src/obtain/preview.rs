//! What `connect --print` shows, from the describe calls alone: a dry run
//! asks GameLift for no secret (no GetInstanceAccess, no GetComputeAccess),
//! so it leaves no trace of an access grant in CloudTrail and needs no
//! permission beyond the read-only ones.

use super::{Container, ObtainError};
use crate::aws::GameLift;
use crate::resolve::Target;

/// The login GetInstanceAccess returns on every fleet, Linux and Windows.
pub const GAMELIFT_USER: &str = "gl-user-remote";

/// An instance's address and login, as GetInstanceAccess would give them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstancePreview {
    pub host: String,
    pub user: String,
}

/// Where an SSM session would go, as GetComputeAccess would say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputePreview {
    /// The SSM target: the instance the compute runs on.
    pub target: String,
    pub region: String,
    pub containers: Vec<Container>,
}

/// DescribeInstances for the one instance: its IP address.
pub async fn instance(gl: &GameLift, target: &Target) -> Result<InstancePreview, ObtainError> {
    const OP: &str = "DescribeInstances";
    let out = gl
        .client()
        .await
        .describe_instances()
        .fleet_id(&target.fleet.fleet_id)
        .instance_id(&target.instance_id)
        .location(&target.location)
        .send()
        .await
        .map_err(|e| gl.classify(OP, e))?;
    let instance = out
        .instances()
        .iter()
        .find(|i| i.instance_id() == Some(target.instance_id.as_str()))
        .ok_or_else(|| crate::aws::AwsError::NotFound {
            service: crate::aws::Service::GameLift,
            op: OP,
            region: target.location.clone(),
            message: format!("no instance {} in fleet {}", target.instance_id, target.fleet.fleet_id),
        })?;
    let host = instance.ip_address().ok_or(ObtainError::Incomplete {
        op: OP,
        field: "IpAddress",
    })?;
    Ok(InstancePreview {
        host: host.to_owned(),
        user: GAMELIFT_USER.to_owned(),
    })
}

/// DescribeCompute: the instance the compute runs on (the SSM target),
/// its location and its containers.
pub async fn compute(gl: &GameLift, target: &Target) -> Result<ComputePreview, ObtainError> {
    const OP: &str = "DescribeCompute";
    let out = gl
        .client()
        .await
        .describe_compute()
        .fleet_id(&target.fleet.fleet_id)
        .compute_name(&target.instance_id)
        .send()
        .await
        .map_err(|e| gl.classify(OP, e))?;
    let compute = out.compute().ok_or(ObtainError::Incomplete {
        op: OP,
        field: "Compute",
    })?;
    let containers = compute
        .container_attributes()
        .iter()
        .filter_map(|c| {
            Some(Container {
                name: c.container_name()?.to_owned(),
                runtime_id: c.container_runtime_id()?.to_owned(),
            })
        })
        .collect();
    Ok(ComputePreview {
        target: compute
            .instance_id()
            .or(compute.compute_name())
            .unwrap_or(&target.instance_id)
            .to_owned(),
        region: compute.location().unwrap_or(&target.location).to_owned(),
        containers,
    })
}
