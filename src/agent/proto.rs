//! Our two vendor extensions to the ssh-agent protocol (draft-miller-ssh-agent
//! § 3.8), carried in ssh-agent-lib's `Extension` message. The standard
//! protocol has no way to ask how long a key has left, or to ask an agent to
//! exit, and `agent status`/`agent stop` need both. Everything else
//! (identities, sign, add, remove) is the standard protocol, so `ssh-add`
//! and `ssh` work unchanged.
//!
//! - `status@gamelift-access`: empty request; the answer is the agent's pid,
//!   its default key lifetime, and for each key its public key and comment,
//!   seconds left and signatures made. Never a private key.
//! - `stop@gamelift-access`: empty request; answered with SUCCESS, then the
//!   agent drops every key and exits.
//! - `promote@gamelift-access`: a public key blob; the agent lists that key
//!   first from now on (see `Keystore::promote`). SUCCESS, or FAILURE if it
//!   holds no such key.
//! - `put-compute@gamelift-access`: a [`ComputeCredentials`] GetComputeAccess
//!   just returned; the agent keeps it for its lifetime (or its default).
//!   SUCCESS.
//! - `get-compute@gamelift-access`: a fleet ID and compute name; the answer
//!   is the [`ComputeCredentials`] held for that compute, or FAILURE if none
//!   is (or it expired). Unlike a private key, these credentials must leave
//!   the agent to be used: the SSM session runs in another process. Only a
//!   peer with our UID gets this far (see `server.rs`).

use secrecy::{ExposeSecret, SecretString};
use ssh_agent_lib::proto::extension::MessageExtension;
use ssh_agent_lib::proto::{Extension, Identity, ProtoError};
use ssh_agent_lib::ssh_encoding::{CheckedSum, Decode, Encode, Reader, Writer};
use zeroize::Zeroize;

pub const STATUS: &str = "status@gamelift-access";
pub const STOP: &str = "stop@gamelift-access";
pub const PROMOTE: &str = "promote@gamelift-access";
pub const PUT_COMPUTE: &str = "put-compute@gamelift-access";
pub const GET_COMPUTE: &str = "get-compute@gamelift-access";

/// Every extension of ours: none is served on a connection ssh has bound to
/// a session (`server.rs`), since ssh never sends one.
pub const OURS: [&str; 5] = [STATUS, STOP, PROMOTE, PUT_COMPUTE, GET_COMPUTE];

/// OpenSSH's `session-bind@openssh.com` (PROTOCOL.agent § 1), which ssh sends
/// on every agent connection it makes, saying whether it is for its own
/// authentication or for a forwarded agent.
pub const SESSION_BIND: &str = "session-bind@openssh.com";

/// `Extension::new_message`, but encoded into a buffer sized once: the
/// crate's grows a `Vec` as it writes, and each reallocation leaves an
/// unwiped copy of what was written so far (credentials, for
/// `put-compute` and `get-compute`'s answer) in freed memory.
pub fn new_message<T: MessageExtension + Encode>(message: T) -> Result<Extension, ProtoError> {
    let len = message.encoded_len()?;
    let mut details = Vec::with_capacity(len);
    message.encode(&mut details)?;
    debug_assert_eq!(details.len(), len, "encoded_len is exact, so nothing was reallocated");
    Ok(Extension {
        name: T::NAME.into(),
        details: details.into(),
    })
}

macro_rules! empty_request {
    ($name:ident, $ext:expr) => {
        pub struct $name;
        impl MessageExtension for $name {
            const NAME: &'static str = $ext;
        }
        impl Encode for $name {
            fn encoded_len(&self) -> ssh_agent_lib::ssh_encoding::Result<usize> {
                Ok(0)
            }
            fn encode(&self, _writer: &mut impl Writer) -> ssh_agent_lib::ssh_encoding::Result<()> {
                Ok(())
            }
        }
        impl Decode for $name {
            type Error = ProtoError;
            fn decode(_reader: &mut impl Reader) -> Result<Self, ProtoError> {
                Ok(Self)
            }
        }
    };
}

empty_request!(StatusRequest, STATUS);
empty_request!(StopRequest, STOP);

/// The key to list first.
pub struct PromoteRequest {
    pub key: ssh_key::public::KeyData,
}

impl MessageExtension for PromoteRequest {
    const NAME: &'static str = PROMOTE;
}

impl Encode for PromoteRequest {
    fn encoded_len(&self) -> ssh_agent_lib::ssh_encoding::Result<usize> {
        self.key.encoded_len_prefixed()
    }

    fn encode(&self, writer: &mut impl Writer) -> ssh_agent_lib::ssh_encoding::Result<()> {
        self.key.encode_prefixed(writer)
    }
}

impl Decode for PromoteRequest {
    type Error = ProtoError;

    fn decode(reader: &mut impl Reader) -> Result<Self, ProtoError> {
        let key = reader.read_prefixed(ssh_key::public::KeyData::decode)?;
        Ok(Self { key })
    }
}

#[derive(Debug, Clone)]
pub struct StatusResponse {
    pub pid: u32,
    pub default_ttl_secs: u32,
    pub keys: Vec<KeyEntry>,
    /// How long compute credentials stay when their client sets no lifetime.
    pub compute_ttl_secs: u32,
    /// The compute credentials held: what they are for, never the secret.
    pub computes: Vec<ComputeEntry>,
    /// How many times a client has asked for the list of keys, as ssh does
    /// once it starts to authenticate: `proxy` compares it before and after
    /// a session to tell a refused key from a session that never got that far.
    pub listings: u32,
    /// Whether the agent's memory is locked (mlockall), so keys are never
    /// swapped out; `None` from an agent too old to say.
    pub memory_locked: Option<bool>,
    /// Keys and compute credentials held but left out of `keys` and
    /// `computes`, to keep the answer under [`crate::agent::server::MAX_MESSAGE`].
    pub omitted_keys: u32,
    pub omitted_computes: u32,
}

/// A cached GetComputeAccess answer, as `agent status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeEntry {
    pub fleet_id: String,
    pub compute_name: String,
    pub region: String,
    pub target: String,
    pub access_key_id: String,
    pub expires_in_secs: u32,
}

#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub identity: Identity,
    pub expires_in_secs: u32,
    pub signatures: u32,
}

impl MessageExtension for StatusResponse {
    const NAME: &'static str = STATUS;
}

impl Encode for StatusResponse {
    fn encoded_len(&self) -> ssh_agent_lib::ssh_encoding::Result<usize> {
        let mut lengths = vec![12];
        for key in &self.keys {
            lengths.push(key.identity.encoded_len()?);
            lengths.push(8);
        }
        lengths.push(12);
        for c in &self.computes {
            lengths.push(
                [
                    c.fleet_id.encoded_len()?,
                    c.compute_name.encoded_len()?,
                    c.region.encoded_len()?,
                    c.target.encoded_len()?,
                    c.access_key_id.encoded_len()?,
                    4,
                ]
                .checked_sum()?,
            );
        }
        // The trailer: memory_locked, omitted_keys, omitted_computes.
        lengths.push(1 + 4 + 4);
        lengths.checked_sum()
    }

    fn encode(&self, writer: &mut impl Writer) -> ssh_agent_lib::ssh_encoding::Result<()> {
        self.pid.encode(writer)?;
        self.default_ttl_secs.encode(writer)?;
        (self.keys.len() as u32).encode(writer)?;
        for key in &self.keys {
            key.identity.encode(writer)?;
            key.expires_in_secs.encode(writer)?;
            key.signatures.encode(writer)?;
        }
        self.compute_ttl_secs.encode(writer)?;
        (self.computes.len() as u32).encode(writer)?;
        for c in &self.computes {
            c.fleet_id.encode(writer)?;
            c.compute_name.encode(writer)?;
            c.region.encode(writer)?;
            c.target.encode(writer)?;
            c.access_key_id.encode(writer)?;
            c.expires_in_secs.encode(writer)?;
        }
        self.listings.encode(writer)?;
        u8::from(self.memory_locked == Some(true)).encode(writer)?;
        self.omitted_keys.encode(writer)?;
        self.omitted_computes.encode(writer)?;
        Ok(())
    }
}

impl Decode for StatusResponse {
    type Error = ProtoError;

    fn decode(reader: &mut impl Reader) -> Result<Self, ProtoError> {
        let pid = u32::decode(reader)?;
        let default_ttl_secs = u32::decode(reader)?;
        let count = u32::decode(reader)?;
        let mut keys = Vec::new();
        for _ in 0..count {
            keys.push(KeyEntry {
                identity: Identity::decode(reader)?,
                expires_in_secs: u32::decode(reader)?,
                signatures: u32::decode(reader)?,
            });
        }
        let compute_ttl_secs = u32::decode(reader)?;
        let count = u32::decode(reader)?;
        let mut computes = Vec::new();
        for _ in 0..count {
            computes.push(ComputeEntry {
                fleet_id: String::decode(reader)?,
                compute_name: String::decode(reader)?,
                region: String::decode(reader)?,
                target: String::decode(reader)?,
                access_key_id: String::decode(reader)?,
                expires_in_secs: u32::decode(reader)?,
            });
        }
        let listings = u32::decode(reader)?;
        // The trailer, which an older agent does not send.
        let (memory_locked, omitted_keys, omitted_computes) = if reader.remaining_len() == 0 {
            (None, 0, 0)
        } else {
            (
                Some(u8::decode(reader)? != 0),
                u32::decode(reader)?,
                u32::decode(reader)?,
            )
        };
        Ok(Self {
            pid,
            default_ttl_secs,
            keys,
            compute_ttl_secs,
            computes,
            listings,
            memory_locked,
            omitted_keys,
            omitted_computes,
        })
    }
}

/// Which compute's credentials to hand back.
pub struct GetComputeRequest {
    pub fleet_id: String,
    pub compute_name: String,
}

impl MessageExtension for GetComputeRequest {
    const NAME: &'static str = GET_COMPUTE;
}

impl Encode for GetComputeRequest {
    fn encoded_len(&self) -> ssh_agent_lib::ssh_encoding::Result<usize> {
        [self.fleet_id.encoded_len()?, self.compute_name.encoded_len()?].checked_sum()
    }

    fn encode(&self, writer: &mut impl Writer) -> ssh_agent_lib::ssh_encoding::Result<()> {
        self.fleet_id.encode(writer)?;
        self.compute_name.encode(writer)
    }
}

impl Decode for GetComputeRequest {
    type Error = ProtoError;

    fn decode(reader: &mut impl Reader) -> Result<Self, ProtoError> {
        Ok(Self {
            fleet_id: String::decode(reader)?,
            compute_name: String::decode(reader)?,
        })
    }
}

/// GetComputeAccess's answer for one compute: the body of both
/// `put-compute` (with the lifetime the client asks for, 0 for the agent's
/// default) and `get-compute`'s answer (with the seconds it has left).
pub struct ComputeCredentials {
    pub fleet_id: String,
    pub compute_name: String,
    pub region: String,
    pub target: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    /// (container name, runtime ID) pairs, for `--container`.
    pub containers: Vec<(String, String)>,
    pub lifetime_secs: u32,
}

impl MessageExtension for ComputeCredentials {
    const NAME: &'static str = PUT_COMPUTE;
}

impl Encode for ComputeCredentials {
    fn encoded_len(&self) -> ssh_agent_lib::ssh_encoding::Result<usize> {
        let mut lengths = vec![
            self.fleet_id.encoded_len()?,
            self.compute_name.encoded_len()?,
            self.region.encoded_len()?,
            self.target.encoded_len()?,
            self.access_key_id.encoded_len()?,
            self.secret_access_key.expose_secret().encoded_len()?,
            self.session_token.expose_secret().encoded_len()?,
            4,
            4,
        ];
        for (name, id) in &self.containers {
            lengths.push(name.encoded_len()?);
            lengths.push(id.encoded_len()?);
        }
        lengths.checked_sum()
    }

    fn encode(&self, writer: &mut impl Writer) -> ssh_agent_lib::ssh_encoding::Result<()> {
        self.fleet_id.encode(writer)?;
        self.compute_name.encode(writer)?;
        self.region.encode(writer)?;
        self.target.encode(writer)?;
        self.access_key_id.encode(writer)?;
        self.secret_access_key.expose_secret().encode(writer)?;
        self.session_token.expose_secret().encode(writer)?;
        (self.containers.len() as u32).encode(writer)?;
        for (name, id) in &self.containers {
            name.encode(writer)?;
            id.encode(writer)?;
        }
        self.lifetime_secs.encode(writer)
    }
}

/// A secret read off the wire, with the decoder's copy wiped.
fn decode_secret(reader: &mut impl Reader) -> Result<SecretString, ProtoError> {
    let mut raw = String::decode(reader)?;
    let secret = SecretString::from(raw.as_str());
    raw.zeroize();
    Ok(secret)
}

impl Decode for ComputeCredentials {
    type Error = ProtoError;

    fn decode(reader: &mut impl Reader) -> Result<Self, ProtoError> {
        let fleet_id = String::decode(reader)?;
        let compute_name = String::decode(reader)?;
        let region = String::decode(reader)?;
        let target = String::decode(reader)?;
        let access_key_id = String::decode(reader)?;
        let secret_access_key = decode_secret(reader)?;
        let session_token = decode_secret(reader)?;
        let count = u32::decode(reader)?;
        let mut containers = Vec::new();
        for _ in 0..count {
            containers.push((String::decode(reader)?, String::decode(reader)?));
        }
        Ok(Self {
            fleet_id,
            compute_name,
            region,
            target,
            access_key_id,
            secret_access_key,
            session_token,
            containers,
            lifetime_secs: u32::decode(reader)?,
        })
    }
}
