//! The keystore: private keys, and GetComputeAccess credentials, with
//! lifetimes, in memory only.
//!
//! Every key expires: after the lifetime its client asked for (`ssh-add -t`),
//! else the agent's default. Expired keys are purged before every request is
//! answered (so an expired key is never listed or used) and by the server's
//! reaper (so it does not linger in memory). Removing or expiring a key
//! drops it, and ssh-key zeroizes an RSA key's private parts (d, p, q, iqmp)
//! when it is dropped; compute credentials are `secrecy` strings, which
//! zeroize themselves when dropped.

use std::time::{Duration, Instant};

use ssh_agent_lib::proto::{Identity, signature};
use ssh_key::private::{KeypairData, RsaKeypair};
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, HashAlg, Signature};

use super::KeyMeta;
use super::proto::{ComputeCredentials, ComputeEntry};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("no such key in the agent")]
    NotFound,
    #[error("SHA-1 (ssh-rsa) signatures are refused: ask for rsa-sha2-256 or rsa-sha2-512")]
    Sha1Refused,
    #[error("this key type cannot sign here")]
    Unsupported,
    #[error("signing failed")]
    Crypto,
}

struct Entry {
    public: KeyData,
    private: KeypairData,
    comment: String,
    meta: Option<KeyMeta>,
    expires: Instant,
    /// Signatures made with this key: `connect` compares the count before
    /// and after a failed ssh run to tell a refused key from a used one.
    signatures: u32,
}

/// A key as `agent status` shows it: never the private part.
#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub identity: Identity,
    pub expires_in: Duration,
    pub signatures: u32,
}

pub struct Keystore {
    entries: Vec<Entry>,
    default_ttl: Duration,
    computes: Vec<Compute>,
    compute_ttl: Duration,
    listings: u32,
}

struct Compute {
    credentials: ComputeCredentials,
    expires: Instant,
}

impl Keystore {
    pub fn new(default_ttl: Duration, compute_ttl: Duration) -> Self {
        Self {
            entries: Vec::new(),
            default_ttl,
            computes: Vec::new(),
            compute_ttl,
            listings: 0,
        }
    }

    /// Drops every key and compute credential whose lifetime is over.
    pub fn purge(&mut self, now: Instant) {
        let before = (self.entries.len(), self.computes.len());
        self.entries.retain(|e| e.expires > now);
        self.computes.retain(|c| c.expires > now);
        if self.entries.len() != before.0 {
            tracing::debug!(expired = before.0 - self.entries.len(), "keys expired");
        }
        if self.computes.len() != before.1 {
            tracing::debug!(expired = before.1 - self.computes.len(), "compute credentials expired");
        }
    }

    /// Keeps GetComputeAccess's answer for its compute, for the lifetime it
    /// asks for (0: the default, and never longer than the default: these
    /// are short-lived credentials whose real expiry the API does not give).
    /// It replaces what was held for that compute.
    pub fn put_compute(&mut self, mut credentials: ComputeCredentials, now: Instant) {
        let asked = Duration::from_secs(u64::from(credentials.lifetime_secs));
        let lifetime = if asked.is_zero() {
            self.compute_ttl
        } else {
            asked.min(self.compute_ttl)
        };
        credentials.lifetime_secs = 0;
        self.computes.retain(|c| {
            !(c.credentials.fleet_id == credentials.fleet_id && c.credentials.compute_name == credentials.compute_name)
        });
        tracing::debug!(
            fleet = credentials.fleet_id,
            compute = credentials.compute_name,
            lifetime_secs = lifetime.as_secs(),
            "compute credentials added"
        );
        self.computes.push(Compute {
            credentials,
            expires: now + lifetime,
        });
    }

    /// The credentials held for this compute, with the seconds they have
    /// left in `lifetime_secs`.
    pub fn get_compute(&self, fleet_id: &str, compute_name: &str, now: Instant) -> Option<ComputeCredentials> {
        let c = self.computes.iter().find(|c| {
            c.credentials.fleet_id == fleet_id && c.credentials.compute_name == compute_name && c.expires > now
        })?;
        let held = &c.credentials;
        Some(ComputeCredentials {
            fleet_id: held.fleet_id.clone(),
            compute_name: held.compute_name.clone(),
            region: held.region.clone(),
            target: held.target.clone(),
            access_key_id: held.access_key_id.clone(),
            secret_access_key: held.secret_access_key.clone(),
            session_token: held.session_token.clone(),
            containers: held.containers.clone(),
            lifetime_secs: secs_left(c.expires, now),
        })
    }

    /// The compute credentials held, as `agent status` shows them: never a secret.
    pub fn compute_status(&self, now: Instant) -> Vec<ComputeEntry> {
        self.computes
            .iter()
            .map(|c| ComputeEntry {
                fleet_id: c.credentials.fleet_id.clone(),
                compute_name: c.credentials.compute_name.clone(),
                region: c.credentials.region.clone(),
                target: c.credentials.target.clone(),
                access_key_id: c.credentials.access_key_id.clone(),
                expires_in_secs: secs_left(c.expires, now),
            })
            .collect()
    }

    pub fn compute_ttl(&self) -> Duration {
        self.compute_ttl
    }

    /// Adds a key for `lifetime` (the default if `None`). The same key added
    /// again replaces the old entry, and so does a new key for the same
    /// fleet and instance: the fresh key GameLift just handed out supersedes
    /// the one sshd refused.
    pub fn add(
        &mut self,
        private: KeypairData,
        comment: String,
        lifetime: Option<Duration>,
        now: Instant,
    ) -> Result<(), KeyError> {
        let public = KeyData::try_from(&private).map_err(|_| KeyError::Unsupported)?;
        let meta = KeyMeta::parse(&comment);
        self.entries.retain(|e| {
            e.public != public
                && !matches!((&e.meta, &meta), (Some(a), Some(b)) if a.fleet_id == b.fleet_id && a.instance_id == b.instance_id)
        });
        let lifetime = lifetime.unwrap_or(self.default_ttl);
        tracing::debug!(comment, lifetime_secs = lifetime.as_secs(), "key added");
        // Newest first: see `promote`.
        self.entries.insert(
            0,
            Entry {
                public,
                private,
                comment,
                meta,
                expires: now + lifetime,
                signatures: 0,
            },
        );
        Ok(())
    }

    /// Moves a key to the front of the list. ssh reaching an instance
    /// through `proxy` cannot be told which key to offer (it reads its
    /// identity files before the proxy has one), so it offers the agent's
    /// keys in the agent's order: the proxy puts the instance's key first.
    pub fn promote(&mut self, public: &KeyData) -> Result<(), KeyError> {
        let index = self
            .entries
            .iter()
            .position(|e| &e.public == public)
            .ok_or(KeyError::NotFound)?;
        let entry = self.entries.remove(index);
        self.entries.insert(0, entry);
        Ok(())
    }

    pub fn remove(&mut self, public: &KeyData) -> Result<(), KeyError> {
        let before = self.entries.len();
        self.entries.retain(|e| &e.public != public);
        if self.entries.len() == before {
            return Err(KeyError::NotFound);
        }
        Ok(())
    }

    /// Drops every key and every compute credential (`ssh-add -D` and the
    /// agent's exit).
    pub fn remove_all(&mut self) {
        self.entries.clear();
        self.computes.clear();
    }

    /// The keys, newest (or promoted) first, for a client that asked for
    /// them; counted, see [`Keystore::listings`].
    pub fn list_for_client(&mut self) -> Vec<Identity> {
        self.listings = self.listings.wrapping_add(1);
        self.identities()
    }

    /// How many times a client has asked for the keys.
    pub fn listings(&self) -> u32 {
        self.listings
    }

    pub fn identities(&self) -> Vec<Identity> {
        self.entries
            .iter()
            .map(|e| Identity {
                credential: e.public.clone().into(),
                comment: e.comment.clone(),
            })
            .collect()
    }

    pub fn status(&self, now: Instant) -> Vec<KeyStatus> {
        self.entries
            .iter()
            .map(|e| KeyStatus {
                identity: Identity {
                    credential: e.public.clone().into(),
                    comment: e.comment.clone(),
                },
                expires_in: e.expires.saturating_duration_since(now),
                signatures: e.signatures,
            })
            .collect()
    }

    /// Signs `data` with the key whose public half is `public`. RSA keys
    /// sign with SHA-512 or SHA-256 as the flags ask, and never with SHA-1:
    /// a request without either flag is refused rather than answered with
    /// the `ssh-rsa` signature every current sshd rejects anyway.
    pub fn sign(&mut self, public: &KeyData, data: &[u8], flags: u32) -> Result<Signature, KeyError> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| &e.public == public)
            .ok_or(KeyError::NotFound)?;
        let signature = match &entry.private {
            KeypairData::Rsa(key) => sign_rsa(key, data, flags)?,
            other => {
                use rsa::signature::Signer as _;
                other.try_sign(data).map_err(|_| KeyError::Unsupported)?
            }
        };
        entry.signatures = entry.signatures.saturating_add(1);
        Ok(signature)
    }
}

/// Whole seconds left, rounded up: 0.4 s left is not "0 s left".
pub fn secs_left(expires: Instant, now: Instant) -> u32 {
    expires
        .saturating_duration_since(now)
        .as_millis()
        .div_ceil(1000)
        .min(u128::from(u32::MAX)) as u32
}

fn sign_rsa(key: &RsaKeypair, data: &[u8], flags: u32) -> Result<Signature, KeyError> {
    use rsa::pkcs1v15::SigningKey;
    use rsa::sha2::{Sha256, Sha512};
    use rsa::signature::{SignatureEncoding, Signer};

    let hash = if flags & signature::RSA_SHA2_512 != 0 {
        HashAlg::Sha512
    } else if flags & signature::RSA_SHA2_256 != 0 {
        HashAlg::Sha256
    } else {
        return Err(KeyError::Sha1Refused);
    };
    let big = |m: &ssh_key::Mpint| rsa::BigUint::try_from(m).map_err(|_| KeyError::Crypto);
    // Built here rather than through ssh-key's conversion, which (0.6.7)
    // passes p twice instead of p and q. rsa's key zeroizes itself on drop.
    let private = rsa::RsaPrivateKey::from_components(
        big(&key.public.n)?,
        big(&key.public.e)?,
        big(&key.private.d)?,
        vec![big(&key.private.p)?, big(&key.private.q)?],
    )
    .map_err(|_| KeyError::Crypto)?;
    let bytes = match hash {
        HashAlg::Sha512 => SigningKey::<Sha512>::new(private).try_sign(data).map(|s| s.to_vec()),
        _ => SigningKey::<Sha256>::new(private).try_sign(data).map(|s| s.to_vec()),
    }
    .map_err(|_| KeyError::Crypto)?;
    Signature::new(Algorithm::Rsa { hash: Some(hash) }, bytes).map_err(|_| KeyError::Crypto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier as _;
    use ssh_key::public::RsaPublicKey;

    fn rsa_key() -> KeypairData {
        let mut rng = rsa::rand_core::OsRng;
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        KeypairData::Rsa(RsaKeypair::try_from(&key).unwrap())
    }

    #[test]
    fn signs_with_the_hash_the_flags_ask_for_and_never_sha1() {
        let mut store = Keystore::new(Duration::from_secs(60), Duration::from_secs(600));
        let private = rsa_key();
        let public = KeyData::try_from(&private).unwrap();
        let rsa_public: RsaPublicKey = public.rsa().unwrap().clone();
        store.add(private, "k".into(), None, Instant::now()).unwrap();

        let sig = store.sign(&public, b"data", signature::RSA_SHA2_256).unwrap();
        assert_eq!(sig.algorithm().as_str(), "rsa-sha2-256");
        rsa_public.verify(b"data", &sig).unwrap();

        let sig = store
            .sign(&public, b"data", signature::RSA_SHA2_512 | signature::RSA_SHA2_256)
            .unwrap();
        assert_eq!(sig.algorithm().as_str(), "rsa-sha2-512");
        rsa_public.verify(b"data", &sig).unwrap();
        assert!(rsa_public.verify(b"other", &sig).is_err());

        assert_eq!(store.sign(&public, b"data", 0), Err(KeyError::Sha1Refused));
        assert_eq!(store.status(Instant::now())[0].signatures, 2);
    }

    #[test]
    fn keys_expire_and_a_new_key_for_the_same_instance_replaces_the_old() {
        let now = Instant::now();
        let mut store = Keystore::new(Duration::from_secs(60), Duration::from_secs(600));
        let comment = "gamelift-access fleet=f-1 instance=i-1 user=u host=h".to_owned();
        store
            .add(rsa_key(), comment.clone(), Some(Duration::from_secs(2)), now)
            .unwrap();
        store.add(rsa_key(), "other".into(), None, now).unwrap();
        assert_eq!(store.identities().len(), 2);
        store.purge(now + Duration::from_secs(3));
        assert_eq!(store.identities().len(), 1);
        assert_eq!(store.status(now)[0].expires_in, Duration::from_secs(60));

        store.add(rsa_key(), comment.clone(), None, now).unwrap();
        let fresh = rsa_key();
        let fresh_public = KeyData::try_from(&fresh).unwrap();
        store.add(fresh, comment, None, now).unwrap();
        let ids = store.identities();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].credential.key_data(), &fresh_public, "newest first");
        let other = ids[1].credential.key_data().clone();
        store.promote(&other).unwrap();
        assert_eq!(store.identities()[0].credential.key_data(), &other);

        store.remove(&fresh_public).unwrap();
        assert_eq!(store.remove(&fresh_public), Err(KeyError::NotFound));
        store.remove_all();
        assert!(store.identities().is_empty());
    }

    fn credentials(fleet: &str, compute: &str, lifetime_secs: u32) -> ComputeCredentials {
        ComputeCredentials {
            fleet_id: fleet.into(),
            compute_name: compute.into(),
            region: "us-west-2".into(),
            target: "i-0123456789abcdef0".into(),
            access_key_id: format!("ASIA{compute}"),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            containers: vec![("game-server".into(), "runtime-1".into())],
            lifetime_secs,
        }
    }

    #[test]
    fn compute_credentials_are_kept_per_compute_never_past_the_default_and_expire() {
        use secrecy::ExposeSecret;
        let now = Instant::now();
        let mut store = Keystore::new(Duration::from_secs(60), Duration::from_secs(600));
        store.put_compute(credentials("f-1", "c-1", 0), now);
        store.put_compute(credentials("f-1", "c-2", 3600), now);
        store.put_compute(credentials("f-1", "c-3", 5), now);

        let held = store.get_compute("f-1", "c-1", now).unwrap();
        assert_eq!(held.access_key_id, "ASIAc-1");
        assert_eq!(held.secret_access_key.expose_secret(), "secret");
        assert_eq!(held.containers, [("game-server".to_owned(), "runtime-1".to_owned())]);
        assert_eq!(held.lifetime_secs, 600, "the default");
        assert_eq!(
            store.get_compute("f-1", "c-2", now).unwrap().lifetime_secs,
            600,
            "capped"
        );
        assert_eq!(store.get_compute("f-1", "c-3", now).unwrap().lifetime_secs, 5);
        assert!(store.get_compute("f-2", "c-1", now).is_none());

        let later = now + Duration::from_secs(6);
        assert!(
            store.get_compute("f-1", "c-3", later).is_none(),
            "expired is never handed out"
        );
        store.purge(later);
        let shown: Vec<_> = store
            .compute_status(later)
            .into_iter()
            .map(|c| c.compute_name)
            .collect();
        assert_eq!(shown, ["c-1", "c-2"]);

        store.put_compute(credentials("f-1", "c-1", 0), later);
        assert_eq!(store.compute_status(later).len(), 2, "replaced, not added");
        store.remove_all();
        assert!(store.compute_status(later).is_empty());
    }
}
