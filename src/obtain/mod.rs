//! obtain: one GameLift call turns a [`Target`] into an [`Access`].
//!
//! This is where secrets enter the process. They are moved straight out of
//! the SDK's response into `secrecy` types (the SDK's copy is zeroized), and
//! checked before anything touches the disk: a secret that is not what we
//! expect is refused here, not discovered by a client later. What leaves
//! this module is plain data: the launchers never see an aws-sdk type.

mod compute;
mod instance;
pub mod preview;
pub mod ssm;

use std::collections::BTreeMap;

use secrecy::SecretString;

use crate::aws::AwsError;

pub use compute::compute_access;
pub use instance::{InstanceKey, instance_access};

#[derive(Debug, thiserror::Error)]
pub enum ObtainError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "GetInstanceAccess returned a secret that is not an RSA private key ({reason})\n  \
         nothing was written to disk; try again, and report it if it persists"
    )]
    BadKey { reason: String },
    #[error("{op} returned no {field}\n  try again; if it persists, the instance may still be starting")]
    Incomplete { op: &'static str, field: &'static str },
    #[error("no container named '{wanted}' on {compute}; it runs: {available}")]
    NoSuchContainer {
        wanted: String,
        compute: String,
        available: String,
    },
}

/// What the launch step needs, with no AWS types left in it.
#[derive(Debug)]
pub enum Access {
    Ssh(SshAccess),
    Rdp(RdpAccess),
    Ssm(SsmAccess),
}

/// A Windows instance: the secret is the password for RDP.
#[derive(Debug)]
pub struct RdpAccess {
    pub host: String,
    pub user: String,
    pub password: SecretString,
    pub operating_system: String,
}

#[derive(Debug)]
pub struct SshAccess {
    pub host: String,
    pub user: String,
    pub key: InstanceKey,
}

/// GetComputeAccess's answer: temporary credentials scoped to one SSM target.
#[derive(Debug)]
pub struct SsmAccess {
    /// The SSM target (the instance ID on EC2 fleets).
    pub target: String,
    /// The region to start the session in: the compute's location.
    pub region: String,
    pub credentials: TempCredentials,
    pub containers: Vec<Container>,
}

/// Temporary AWS credentials. `Debug` shows the access key ID only, which
/// is an identifier (it appears in CloudTrail), not a secret.
#[derive(Debug)]
pub struct TempCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub runtime_id: String,
}

/// An SSM StartSession request, as the AWS CLI builds it from
/// `aws ssm start-session` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    pub target: String,
    pub document_name: Option<String>,
    pub parameters: BTreeMap<String, Vec<String>>,
}

impl SessionParams {
    /// A plain interactive session on the target.
    pub fn shell(target: &str) -> Self {
        Self {
            target: target.to_owned(),
            document_name: None,
            parameters: BTreeMap::new(),
        }
    }

    /// A shell inside one container: `sudo docker exec -it <runtime id> sh`
    /// through the AWS-StartInteractiveCommand document.
    pub fn container_shell(target: &str, container: &Container) -> Self {
        Self {
            target: target.to_owned(),
            document_name: Some("AWS-StartInteractiveCommand".to_owned()),
            parameters: BTreeMap::from([(
                "command".to_owned(),
                vec![format!("sudo docker exec -it {} sh", container.runtime_id)],
            )]),
        }
    }

    /// One command, not a shell: AWS-StartNonInteractiveCommand with the
    /// words joined by spaces, as ssh joins a remote command (and as `run`
    /// sends it). In a container: `sudo docker exec <runtime id> sh -c …`.
    pub fn command(target: &str, command: &[String], container: Option<&Container>) -> Self {
        let line = command.join(" ");
        let line = match container {
            Some(c) => format!(
                "sudo docker exec {} sh -c {}",
                c.runtime_id,
                shlex::try_quote(&line)
                    .map_or_else(|_| format!("'{}'", line.replace('\'', "'\\''")), |q| q.into_owned())
            ),
            None => line,
        };
        Self {
            target: target.to_owned(),
            document_name: Some("AWS-StartNonInteractiveCommand".to_owned()),
            parameters: BTreeMap::from([("command".to_owned(), vec![line])]),
        }
    }

    /// The request as JSON, the form session-manager-plugin takes on argv.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::json!({ "Target": self.target });
        if let Some(doc) = &self.document_name {
            json["DocumentName"] = doc.clone().into();
        }
        if !self.parameters.is_empty() {
            json["Parameters"] = serde_json::to_value(&self.parameters).expect("strings serialize");
        }
        json
    }
}

/// The container named `name` among a compute's `containers`.
pub fn find_container<'a>(
    compute: &str,
    containers: &'a [Container],
    name: &str,
) -> Result<&'a Container, ObtainError> {
    containers
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| ObtainError::NoSuchContainer {
            wanted: name.to_owned(),
            compute: compute.to_owned(),
            available: if containers.is_empty() {
                "no containers".to_owned()
            } else {
                containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
}

/// Moves a secret out of the SDK's struct, zeroizing the SDK's copy.
pub(crate) fn take_secret(field: &mut Option<String>) -> Option<SecretString> {
    use zeroize::Zeroize;
    let mut raw = field.take()?;
    let secret = SecretString::from(raw.as_str());
    raw.zeroize();
    Some(secret)
}
