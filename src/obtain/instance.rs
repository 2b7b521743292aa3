//! GetInstanceAccess (server SDK 4.x): an IP, a user and a secret, which is
//! an RSA private key on Linux and a password on Windows (told apart by the
//! OperatingSystem it returns).

use secrecy::{ExposeSecret, SecretString};

use super::{Access, ObtainError, RdpAccess, SshAccess, take_secret};
use crate::aws::GameLift;
use crate::resolve::Target;

/// An instance's RSA private key, validated. `Debug` shows only the
/// fingerprint, so the key can't leak through a log line or a panic.
pub struct InstanceKey {
    pem: SecretString,
    fingerprint: String,
    public: ssh_key::PublicKey,
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
        let keypair = keypair_of(&pem)?;
        let public = ssh_key::PrivateKey::from(keypair).public_key().clone();
        let fingerprint = public.fingerprint(ssh_key::HashAlg::Sha256).to_string();
        Ok(Self {
            pem,
            fingerprint,
            public,
        })
    }

    /// The key in ssh-key's form, for the agent. Its private parts are
    /// zeroized when it is dropped.
    pub fn keypair(&self) -> Result<ssh_key::private::RsaKeypair, ObtainError> {
        keypair_of(&self.pem)
    }

    /// The public half, which is no secret.
    pub fn public_key(&self) -> &ssh_key::PublicKey {
        &self.public
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

/// Parses and validates the PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`), or
/// PKCS#8 should it ever change.
fn keypair_of(pem: &SecretString) -> Result<ssh_key::private::RsaKeypair, ObtainError> {
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
    ssh_key::private::RsaKeypair::try_from(&key).map_err(|e| bad_key(&e))
}

/// The parsers' messages describe the structure that failed, never key bytes.
fn bad_key(e: &dyn std::fmt::Display) -> ObtainError {
    ObtainError::BadKey { reason: e.to_string() }
}

/// Calls GetInstanceAccess for the target.
pub async fn instance_access(gamelift: &GameLift, target: &Target) -> Result<Access, ObtainError> {
    const OP: &str = "GetInstanceAccess";
    tracing::debug!(%target, "calling {OP}");
    let mut output = gamelift
        .client()
        .await
        .get_instance_access()
        .fleet_id(&target.fleet.fleet_id)
        .instance_id(&target.instance_id)
        .send()
        .await
        .map_err(|e| gamelift.classify(OP, e))?;
    let incomplete = |field| ObtainError::Incomplete { op: OP, field };
    let access = output.instance_access.take().ok_or(incomplete("InstanceAccess"))?;
    let mut credentials = access.credentials.ok_or(incomplete("Credentials"))?;
    let secret = take_secret(&mut credentials.secret).ok_or(incomplete("Credentials.Secret"))?;

    let host = access.ip_address.ok_or(incomplete("IpAddress"))?;
    let user = credentials.user_name.take().ok_or(incomplete("Credentials.UserName"))?;
    match access.operating_system {
        Some(os) if os.as_str().starts_with("WINDOWS") => {
            tracing::debug!(%host, %user, os = os.as_str(), "instance access granted (password)");
            Ok(Access::Rdp(RdpAccess {
                host,
                user,
                password: secret,
                operating_system: os.as_str().to_owned(),
            }))
        }
        os => {
            let key = InstanceKey::parse(secret)?;
            tracing::debug!(%host, %user, os = ?os.as_ref().map(|o| o.as_str()), fingerprint = key.fingerprint(), "instance access granted");
            Ok(Access::Ssh(SshAccess { host, user, key }))
        }
    }
}
