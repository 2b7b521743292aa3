//! The agent's client side, for `connect`, `proxy` and `agent stop|status`.
//!
//! Messages are ssh-agent-lib's types; the request is framed into a buffer
//! that is zeroized after it is sent, since an add request holds the key.
//! Every call is bounded in time: a wedged agent must not hang `connect`.
//! The client speaks over any byte stream: the transport's (a Unix socket,
//! or a named pipe whose server is checked to be ours on Windows) by
//! default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh_agent_lib::proto::{
    AddIdentity, AddIdentityConstrained, KeyConstraint, PrivateCredential, RemoveIdentity, Request, Response,
};
use ssh_agent_lib::ssh_encoding::{Decode, Encode};
use ssh_key::private::KeypairData;
use ssh_key::public::KeyData;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

use super::proto::new_message;
use super::proto::{ComputeCredentials, GetComputeRequest, PromoteRequest, StatusRequest, StatusResponse, StopRequest};
use super::server::MAX_MESSAGE;
use super::{AgentError, KeyMeta, NotOurs, transport};
use crate::obtain::{Container, InstanceKey, SsmAccess, TempCredentials};

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub struct AgentClient<S = transport::ClientStream> {
    stream: S,
    path: PathBuf,
}

/// What the agent holds for an instance, and its count of key listings.
#[derive(Debug, Clone)]
pub struct Watch {
    pub held: Option<HeldKey>,
    pub listings: u32,
}

impl Watch {
    /// Whether `since` saw a client ask for the keys (as ssh does once it
    /// starts to authenticate) and yet the key made no signature: the
    /// server refused the key.
    pub fn refused_since(&self, since: &Watch) -> bool {
        match (&since.held, &self.held) {
            (Some(before), Some(after)) => {
                before.public == after.public
                    && self.listings != since.listings
                    && after.signatures == before.signatures
            }
            _ => false,
        }
    }
}

/// A key the agent holds for an instance.
#[derive(Debug, Clone)]
pub struct HeldKey {
    pub meta: KeyMeta,
    pub public: KeyData,
    pub signatures: u32,
}

impl AgentClient {
    /// Connects to the agent on `path`, or `None` if no agent answers there
    /// (no socket, or one a dead agent left). A socket (pipe) served by
    /// another user is an error, [`AgentError::NotOurs`]: nothing is sent to it.
    pub async fn connect(path: &Path) -> Result<Option<AgentClient>, AgentError> {
        match tokio::time::timeout(CALL_TIMEOUT, transport::connect(path)).await {
            Ok(Ok(stream)) => Ok(Some(AgentClient::over(stream, path))),
            Ok(Err(e)) => match e.get_ref().and_then(|inner| inner.downcast_ref::<NotOurs>()) {
                Some(not_ours) => Err(AgentError::NotOurs {
                    path: path.to_owned(),
                    owner: not_ours.owner.clone(),
                }),
                None => {
                    tracing::debug!(socket = %path.display(), "no agent: {e}");
                    Ok(None)
                }
            },
            Err(_) => Ok(None),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AgentClient<S> {
    /// A client over an established connection; `path` names it in errors.
    pub fn over(stream: S, path: &Path) -> Self {
        AgentClient {
            stream,
            path: path.to_owned(),
        }
    }

    fn protocol(&self, reason: impl Into<String>) -> AgentError {
        AgentError::Protocol {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    async fn call(&mut self, request: Request) -> Result<Response, AgentError> {
        let mut frame = Zeroizing::new(Vec::new());
        let encoded = (|| {
            let len = request.encoded_len()?;
            // Sized once, so no reallocation leaves an unwiped copy behind.
            frame.reserve_exact(4 + len);
            (len as u32).encode(&mut *frame)?;
            request.encode(&mut *frame)
        })();
        // An extension's encoded body (put-compute holds credentials) is
        // wiped; an add request's key zeroizes itself when dropped (ssh-key).
        if let Request::Extension(extension) = request {
            drop(Zeroizing::new(extension.details.into_bytes()));
        }
        encoded.map_err(|e| self.protocol(format!("cannot encode the request: {e}")))?;
        let exchange = async {
            self.stream.write_all(&frame).await?;
            let mut len = [0u8; 4];
            self.stream.read_exact(&mut len).await?;
            let len = u32::from_be_bytes(len) as usize;
            if len > MAX_MESSAGE {
                return Err(std::io::Error::other(format!("an answer of {len} bytes")));
            }
            // Zeroized on drop: a get-compute answer holds credentials.
            let mut body = Zeroizing::new(vec![0u8; len]);
            self.stream.read_exact(&mut body).await?;
            Ok(body)
        };
        let body = match tokio::time::timeout(CALL_TIMEOUT, exchange).await {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => return Err(self.protocol(e.to_string())),
            Err(_) => return Err(self.protocol(format!("no answer within {}s", CALL_TIMEOUT.as_secs()))),
        };
        Response::decode(&mut &body[..]).map_err(|e| self.protocol(format!("an answer that does not parse: {e}")))
    }

    /// Keeps GetComputeAccess's answer for `fleet_id`/`compute_name` in the
    /// agent, for the agent's compute lifetime.
    pub async fn put_compute(
        &mut self,
        fleet_id: &str,
        compute_name: &str,
        access: &SsmAccess,
    ) -> Result<(), AgentError> {
        let credentials = ComputeCredentials {
            fleet_id: fleet_id.to_owned(),
            compute_name: compute_name.to_owned(),
            region: access.region.clone(),
            target: access.target.clone(),
            access_key_id: access.credentials.access_key_id.clone(),
            secret_access_key: access.credentials.secret_access_key.clone(),
            session_token: access.credentials.session_token.clone(),
            containers: access
                .containers
                .iter()
                .map(|c| (c.name.clone(), c.runtime_id.clone()))
                .collect(),
            lifetime_secs: 0,
        };
        let request = new_message(credentials).map_err(|e| self.protocol(e.to_string()))?;
        self.expect_success(Request::Extension(request), "keep the compute credentials")
            .await
    }

    /// The credentials the agent holds for this compute, and how long they
    /// have left; `None` if it holds none (or they expired).
    pub async fn get_compute(
        &mut self,
        fleet_id: &str,
        compute_name: &str,
    ) -> Result<Option<(SsmAccess, Duration)>, AgentError> {
        let request = new_message(GetComputeRequest {
            fleet_id: fleet_id.to_owned(),
            compute_name: compute_name.to_owned(),
        })
        .map_err(|e| self.protocol(e.to_string()))?;
        let ext = match self.call(Request::Extension(request)).await? {
            Response::ExtensionResponse(ext) => ext,
            Response::Failure => return Ok(None),
            _ => return Err(self.protocol("it does not know the get-compute request (is it an older agent?)")),
        };
        let parsed = ext.parse_message::<ComputeCredentials>();
        drop(Zeroizing::new(ext.details.into_bytes()));
        let held = parsed
            .map_err(|e| self.protocol(e.to_string()))?
            .ok_or_else(|| self.protocol("a get-compute answer of the wrong kind"))?;
        let left = Duration::from_secs(u64::from(held.lifetime_secs));
        Ok(Some((
            SsmAccess {
                target: held.target,
                region: held.region,
                credentials: TempCredentials {
                    access_key_id: held.access_key_id,
                    secret_access_key: held.secret_access_key,
                    session_token: held.session_token,
                },
                containers: held
                    .containers
                    .into_iter()
                    .map(|(name, runtime_id)| Container { name, runtime_id })
                    .collect(),
            },
            left,
        )))
    }

    async fn expect_success(&mut self, request: Request, what: &str) -> Result<(), AgentError> {
        match self.call(request).await? {
            Response::Success => Ok(()),
            _ => Err(self.protocol(format!("it refused to {what}"))),
        }
    }

    pub async fn status(&mut self) -> Result<StatusResponse, AgentError> {
        let request = new_message(StatusRequest).map_err(|e| self.protocol(e.to_string()))?;
        match self.call(Request::Extension(request)).await? {
            Response::ExtensionResponse(ext) => ext
                .parse_message::<StatusResponse>()
                .map_err(|e| self.protocol(e.to_string()))?
                .ok_or_else(|| self.protocol("a status answer of the wrong kind")),
            _ => Err(self.protocol("it does not know the status request (is it another ssh-agent?)")),
        }
    }

    /// The key held for this fleet and instance, if any.
    pub async fn held_key(&mut self, fleet_id: &str, instance_id: &str) -> Result<Option<HeldKey>, AgentError> {
        Ok(self.watch(fleet_id, instance_id).await?.held)
    }

    /// The key held for this fleet and instance, if any, and how many times
    /// clients have listed the agent's keys so far.
    pub async fn watch(&mut self, fleet_id: &str, instance_id: &str) -> Result<Watch, AgentError> {
        let status = self.status().await?;
        let held = status.keys.into_iter().find_map(|k| {
            let meta = KeyMeta::parse(&k.identity.comment)?;
            (meta.fleet_id == fleet_id && meta.instance_id == instance_id).then(|| HeldKey {
                meta,
                public: k.identity.credential.key_data().clone(),
                signatures: k.signatures,
            })
        });
        Ok(Watch {
            held,
            listings: status.listings,
        })
    }

    /// Adds an instance's key, named by `meta`, for `lifetime` (the agent's
    /// default if `None`).
    pub async fn add_instance_key(
        &mut self,
        key: &InstanceKey,
        meta: &KeyMeta,
        lifetime: Option<Duration>,
    ) -> Result<(), AgentError> {
        let keypair = key.keypair().map_err(|e| self.protocol(e.to_string()))?;
        let identity = AddIdentity {
            credential: PrivateCredential::Key {
                privkey: KeypairData::Rsa(keypair),
                comment: meta.comment(),
            },
        };
        let request = match lifetime {
            Some(lifetime) => Request::AddIdConstrained(AddIdentityConstrained {
                identity,
                constraints: vec![KeyConstraint::Lifetime(
                    lifetime.as_secs().min(u64::from(u32::MAX)) as u32
                )],
            }),
            None => Request::AddIdentity(identity),
        };
        self.expect_success(request, "add the key").await
    }

    pub async fn remove(&mut self, public: &KeyData) -> Result<(), AgentError> {
        let request = Request::RemoveIdentity(RemoveIdentity {
            credential: public.clone().into(),
        });
        self.expect_success(request, "remove the key").await
    }

    /// Asks the agent to list this key first.
    pub async fn promote(&mut self, public: &KeyData) -> Result<(), AgentError> {
        let request = new_message(PromoteRequest { key: public.clone() }).map_err(|e| self.protocol(e.to_string()))?;
        self.expect_success(Request::Extension(request), "list the key first")
            .await
    }

    /// Asks the agent to drop its keys and exit.
    pub async fn stop(&mut self) -> Result<(), AgentError> {
        let request = new_message(StopRequest).map_err(|e| self.protocol(e.to_string()))?;
        self.expect_success(Request::Extension(request), "stop").await
    }
}
