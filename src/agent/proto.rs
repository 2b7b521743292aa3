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

use ssh_agent_lib::proto::extension::MessageExtension;
use ssh_agent_lib::proto::{Identity, ProtoError};
use ssh_agent_lib::ssh_encoding::{CheckedSum, Decode, Encode, Reader, Writer};

pub const STATUS: &str = "status@gamelift-access";
pub const STOP: &str = "stop@gamelift-access";
pub const PROMOTE: &str = "promote@gamelift-access";

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
        Ok(Self {
            pid,
            default_ttl_secs,
            keys,
        })
    }
}
