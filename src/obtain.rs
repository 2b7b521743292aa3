//! obtain: one GameLift call turns a [`Target`] into an [`Access`].
//!
//! This is where secrets enter the process. They are moved straight out of
//! the SDK's response into `secrecy` types (the SDK's copy is zeroized), and
//! checked before anything touches the disk: a secret that is not what we
//! expect is refused here, not discovered by ssh later.

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

use crate::aws::{AwsError, GameLift};
use crate::resolve::Target;

#[derive(Debug, thiserror::Error)]
pub enum ObtainError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "GetInstanceAccess returned a secret that is not an RSA private key ({reason})\n  \
         nothing was written to disk; try again, and report it if it persists"
    )]
    BadKey { reason: String },
    #[error(
        "GetInstanceAccess returned no {0}\n  try again; if it persists, the instance may still be starting"
    )]
    Incomplete(&'static str),
    #[error(
        "{instance} runs {os}: Windows instances are reached over RDP, which this version does not support yet\n  \
         for now: aws gamelift get-instance-access, then your RDP client"
    )]
    Windows { instance: String, os: String },
}

/// What the launch step needs, with no AWS types left in it.
#[derive(Debug)]
pub enum Access {
    Ssh(SshAccess),
}

#[derive(Debug)]
pub struct SshAccess {
    pub host: String,
    pub user: String,
    pub key: InstanceKey,
}

/// An instance's RSA private key, validated. `Debug` shows only the
/// fingerprint, so the key can't leak through a log line or a panic.
pub struct InstanceKey {
    pem: SecretString,
    fingerprint: String,
}

impl std::fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl InstanceKey {
    /// Parses the PEM GameLift returns: PKCS#1 (`BEGIN RSA PRIVATE KEY`),
    /// or PKCS#8 should it ever change. OpenSSH reads the PEM as is, so the
    /// parse is a check, and the source of the public fingerprint we log.
    pub fn parse(pem: SecretString) -> Result<Self, ObtainError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;

        let text = pem.expose_secret().trim();
        let key = if text.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            rsa::RsaPrivateKey::from_pkcs1_pem(text).map_err(|e| bad_key(&e))?
        } else if text.starts_with("-----BEGIN PRIVATE KEY-----") {
            rsa::RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| bad_key(&e))?
        } else {
            return Err(ObtainError::BadKey {
                reason: "no PEM private key header".into(),
            });
        };
        key.validate().map_err(|e| bad_key(&e))?;
        let keypair = ssh_key::private::RsaKeypair::try_from(&key).map_err(|e| bad_key(&e))?;
        let fingerprint = ssh_key::PrivateKey::from(keypair)
            .public_key()
            .fingerprint(ssh_key::HashAlg::Sha256)
            .to_string();
        Ok(Self { pem, fingerprint })
    }

    /// The key as OpenSSH reads it: the PEM with a final newline.
    pub fn pem(&self) -> &SecretString {
        &self.pem
    }

    /// `SHA256:…`, as `ssh-keygen -l` and `ssh-add -l` show it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The parsers' messages describe the structure that failed, never key bytes.
fn bad_key(e: &dyn std::fmt::Display) -> ObtainError {
    ObtainError::BadKey {
        reason: e.to_string(),
    }
}

/// Calls GetInstanceAccess for the target.
pub async fn instance_access(gamelift: &GameLift, target: &Target) -> Result<Access, ObtainError> {
    const OP: &str = "GetInstanceAccess";
    tracing::debug!(%target, "calling {OP}");
    let mut output = gamelift
        .client
        .get_instance_access()
        .fleet_id(&target.fleet_id)
        .instance_id(&target.instance_id)
        .send()
        .await
        .map_err(|e| gamelift.classify(OP, e))?;
    let access = output
        .instance_access
        .take()
        .ok_or(ObtainError::Incomplete("InstanceAccess"))?;
    let mut credentials = access
        .credentials
        .ok_or(ObtainError::Incomplete("Credentials"))?;
    let mut raw_secret = credentials
        .secret
        .take()
        .ok_or(ObtainError::Incomplete("Credentials.Secret"))?;
    let secret = SecretString::from(raw_secret.as_str());
    raw_secret.zeroize();

    let host = access
        .ip_address
        .ok_or(ObtainError::Incomplete("IpAddress"))?;
    let user = credentials
        .user_name
        .take()
        .ok_or(ObtainError::Incomplete("Credentials.UserName"))?;
    match access.operating_system {
        Some(os) if os.as_str().starts_with("WINDOWS") => Err(ObtainError::Windows {
            instance: target.instance_id.clone(),
            os: os.as_str().to_owned(),
        }),
        os => {
            let key = InstanceKey::parse(secret)?;
            tracing::debug!(%host, %user, os = ?os.as_ref().map(|o| o.as_str()), fingerprint = key.fingerprint(), "instance access granted");
            Ok(Access::Ssh(SshAccess { host, user, key }))
        }
    }
}
