//! The listener: one accept loop, one table of handlers.
//!
//! ssh-agent-lib's `Session` trait is the table of handlers and its message
//! types are the protocol; the loop around them is ours rather than the
//! crate's `listen()`/`bind()`, because those accept every connection
//! without asking who is calling, spawn without bound, buffer a message of
//! any announced size, and `log::debug!` each request with its `Debug`
//! form, which for an add request is the private key. Here:
//!
//! - the peer must be our own user, even if the socket's mode (the pipe's
//!   DACL on Windows) were loosened: the transport checks it (`socket.rs`:
//!   SO_PEERCRED / getpeereid; `pipe.rs`: the client process's token);
//! - at most [`MAX_CONNECTIONS`] connections are served at once; more are
//!   closed at once, and a connection idle for [`IDLE_TIMEOUT`] is closed;
//! - a message announcing more than [`MAX_MESSAGE`] bytes (OpenSSH's own
//!   limit), or one that does not parse, closes that connection only;
//! - the bytes of each request are zeroized once it is decoded;
//! - requests are never logged with their contents.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ssh_agent_lib::agent::Session;
use ssh_agent_lib::error::AgentError as ProtoAgentError;
use ssh_agent_lib::proto::extension::QueryResponse;
use ssh_agent_lib::proto::{
    AddIdentity, AddIdentityConstrained, Extension, Identity, KeyConstraint, PrivateCredential, ProtoError,
    RemoveIdentity, Request, Response, SignRequest,
};
use ssh_agent_lib::ssh_encoding::{Decode, Encode};
use ssh_key::Signature;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Notify, Semaphore};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::{Decoder, FramedRead};
use zeroize::{Zeroize, Zeroizing};

use super::keystore::{Keystore, secs_left};
use super::proto::{self, ComputeCredentials, GetComputeRequest, KeyEntry, StatusResponse};
use super::transport::Listener;
use super::{AgentError, Lifetimes};

/// The largest request we read: OpenSSH's ssh-agent uses the same bound.
pub const MAX_MESSAGE: usize = 256 * 1024;
/// Connections served at once. Only our own UID gets this far, so the
/// bound guards against a runaway script, not an attacker.
pub const MAX_CONNECTIONS: usize = 64;
/// A connection with no request for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the agent on `socket` until `agent stop`, SIGTERM, SIGINT or SIGHUP.
/// `ready` is called once the socket answers.
pub async fn run(socket: &Path, lifetimes: Lifetimes, ready: impl FnOnce()) -> Result<(), AgentError> {
    let mut signals = crate::signals::Signals::install()?;
    super::harden::harden();
    let mut listener = Listener::bind(socket)?;
    let store = Arc::new(Mutex::new(Keystore::new(lifetimes.key, lifetimes.compute)));
    let stop = Arc::new(Notify::new());
    let session = AgentSession {
        store: Arc::clone(&store),
        stop: Arc::clone(&stop),
        default_ttl: lifetimes.key,
    };
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tracing::info!(
        socket = %socket.display(),
        key_ttl_secs = lifetimes.key.as_secs(),
        compute_ttl_secs = lifetimes.compute.as_secs(),
        "agent listening"
    );
    ready();

    let mut reaper = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok(Some(stream)) => stream,
                    // Another user's (refused and logged by the transport), or gone.
                    Ok(None) => continue,
                    Err(e) => {
                        // EMFILE and friends: keep serving the connections we have.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    tracing::warn!("{MAX_CONNECTIONS} connections already open; refused one more");
                    continue;
                };
                let session = session.clone();
                tokio::spawn(async move {
                    serve_connection(stream, session).await;
                    drop(permit);
                });
            }
            _ = reaper.tick() => lock(&store).purge(Instant::now()),
            () = stop.notified() => {
                tracing::info!("stopping: asked to");
                break;
            }
            sig = signals.recv() => {
                tracing::info!(signal = sig.name, "stopping");
                break;
            }
        }
    }
    listener.close();
    lock(&store).remove_all();
    Ok(())
}

fn lock(store: &Mutex<Keystore>) -> MutexGuard<'_, Keystore> {
    // A panic while holding the lock leaves the keystore consistent (every
    // operation is a single Vec edit), so a poisoned lock is still usable.
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves one connection, whatever carries it (Unix socket, named pipe).
async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(stream: S, mut session: AgentSession) {
    let mut framed = FramedRead::new(stream, CappedCodec);
    loop {
        let request = match tokio::time::timeout(IDLE_TIMEOUT, framed.next()).await {
            Err(_) => {
                tracing::debug!("closing an idle connection");
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                tracing::debug!("closing a connection: {e}");
                return;
            }
            Ok(Some(Ok(Incoming::Unknown(kind)))) => {
                // As OpenSSH's agent does (ssh-add -D still sends the SSH1 form).
                tracing::debug!(message = kind, "unknown message type");
                if send(framed.get_mut(), Response::Failure).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(Some(Ok(Incoming::Request(request)))) => *request,
        };
        let kind = request.message_id();
        let response = match session.handle(request).await {
            Ok(response) => response,
            Err(ProtoAgentError::ExtensionFailure) => Response::ExtensionFailure,
            Err(e) => {
                tracing::debug!(message = kind, "request failed: {e}");
                Response::Failure
            }
        };
        if send(framed.get_mut(), response).await.is_err() {
            return;
        }
    }
}

/// Writes one answer straight to the stream, from a buffer sized once and
/// zeroized afterwards: a `get-compute` answer holds credentials, and no
/// copy of them is left behind in a framing buffer.
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, response: Response) -> Result<(), ProtoAgentError> {
    let len = response.encoded_len().map_err(ProtoError::from)?;
    let mut frame = Zeroizing::new(Vec::with_capacity(4 + len));
    (len as u32).encode(&mut *frame).map_err(ProtoError::from)?;
    response.encode(&mut *frame).map_err(ProtoError::from)?;
    if let Response::ExtensionResponse(extension) = response {
        drop(Zeroizing::new(extension.details.into_bytes()));
    }
    stream.write_all(&frame).await?;
    Ok(())
}

/// A message that parsed, or one of a type we do not know (answered with
/// FAILURE, not by closing the connection).
enum Incoming {
    Request(Box<Request>),
    Unknown(u8),
}

/// ssh-agent-lib's framing of requests, with a size cap, and the request's
/// bytes wiped once decoded. (Answers go out through [`send`].)
struct CappedCodec;

impl Decoder for CappedCodec {
    type Item = Incoming;
    type Error = ProtoAgentError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Incoming>, ProtoAgentError> {
        let Some(header) = src.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes(header.try_into().expect("4 bytes")) as usize;
        if len == 0 || len > MAX_MESSAGE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a message of {len} bytes (the limit is {MAX_MESSAGE})"),
            )
            .into());
        }
        if src.len() < 4 + len {
            // Room for the whole message at once, so it is not copied (and
            // left behind in a freed buffer) while it arrives.
            src.reserve(4 + len - src.len());
            return Ok(None);
        }
        let mut frame = src.split_to(4 + len);
        let mut body = &frame[4..];
        let request = Request::decode(&mut body);
        frame.as_mut().zeroize();
        match request {
            Ok(request) => Ok(Some(Incoming::Request(Box::new(request)))),
            Err(ProtoError::UnsupportedCommand { command }) => Ok(Some(Incoming::Unknown(command))),
            Err(e) => Err(e.into()),
        }
    }
}

#[derive(Clone)]
struct AgentSession {
    store: Arc<Mutex<Keystore>>,
    stop: Arc<Notify>,
    default_ttl: Duration,
}

impl AgentSession {
    /// The keystore, with expired keys already gone.
    fn store(&self) -> MutexGuard<'_, Keystore> {
        let mut store = lock(&self.store);
        store.purge(Instant::now());
        store
    }

    fn add(&self, identity: AddIdentity, lifetime: Option<Duration>) -> Result<(), ProtoAgentError> {
        match identity.credential {
            PrivateCredential::Key { privkey, comment } => self
                .store()
                .add(privkey, comment, lifetime, Instant::now())
                .map_err(|e| failure("add", e)),
            PrivateCredential::Cert { .. } => Err(failure("add", "certificates are not supported")),
        }
    }
}

fn failure(what: &str, why: impl std::fmt::Display) -> ProtoAgentError {
    tracing::debug!("{what} refused: {why}");
    ProtoAgentError::Failure
}

#[ssh_agent_lib::async_trait]
impl Session for AgentSession {
    async fn request_identities(&mut self) -> Result<Vec<Identity>, ProtoAgentError> {
        Ok(self.store().list_for_client())
    }

    async fn sign(&mut self, request: SignRequest) -> Result<Signature, ProtoAgentError> {
        self.store()
            .sign(request.credential.key_data(), &request.data, request.flags)
            .map_err(|e| failure("sign", e))
    }

    async fn add_identity(&mut self, identity: AddIdentity) -> Result<(), ProtoAgentError> {
        self.add(identity, None)
    }

    /// A lifetime is honoured as given. Confirmation and destination
    /// restrictions cannot be honoured here, so a key carrying one is
    /// refused, as OpenSSH's agent refuses constraints it does not know.
    async fn add_identity_constrained(&mut self, identity: AddIdentityConstrained) -> Result<(), ProtoAgentError> {
        let mut lifetime = None;
        for constraint in &identity.constraints {
            match constraint {
                KeyConstraint::Lifetime(secs) => lifetime = Some(Duration::from_secs(u64::from(*secs))),
                KeyConstraint::Confirm => return Err(failure("add", "confirmation (ssh-add -c) is not supported")),
                KeyConstraint::Extension(ext) => {
                    return Err(failure(
                        "add",
                        format_args!("key constraint {} is not supported", ext.name),
                    ));
                }
            }
        }
        self.add(identity.identity, lifetime)
    }

    async fn remove_identity(&mut self, identity: RemoveIdentity) -> Result<(), ProtoAgentError> {
        self.store()
            .remove(identity.credential.key_data())
            .map_err(|e| failure("remove", e))
    }

    async fn remove_all_identities(&mut self) -> Result<(), ProtoAgentError> {
        self.store().remove_all();
        Ok(())
    }

    async fn extension(&mut self, extension: Extension) -> Result<Option<Extension>, ProtoAgentError> {
        match extension.name.as_str() {
            "query" => Ok(Some(Extension::new_message(QueryResponse {
                extensions: [
                    proto::STATUS,
                    proto::STOP,
                    proto::PROMOTE,
                    proto::PUT_COMPUTE,
                    proto::GET_COMPUTE,
                ]
                .map(String::from)
                .to_vec(),
            })?)),
            proto::STATUS => {
                let now = Instant::now();
                let store = self.store();
                let keys = store
                    .status(now)
                    .into_iter()
                    .map(|k| KeyEntry {
                        identity: k.identity,
                        expires_in_secs: secs_left(now + k.expires_in, now),
                        signatures: k.signatures,
                    })
                    .collect();
                let status = StatusResponse {
                    pid: std::process::id(),
                    default_ttl_secs: self.default_ttl.as_secs().min(u64::from(u32::MAX)) as u32,
                    keys,
                    compute_ttl_secs: store.compute_ttl().as_secs().min(u64::from(u32::MAX)) as u32,
                    computes: store.compute_status(now),
                    listings: store.listings(),
                };
                drop(store);
                Ok(Some(Extension::new_message(status)?))
            }
            proto::PUT_COMPUTE => {
                let parsed = extension.parse_message::<ComputeCredentials>();
                // The decoder's copy of the request's bytes, wiped.
                drop(Zeroizing::new(extension.details.into_bytes()));
                let credentials = parsed?.ok_or(ProtoAgentError::Failure)?;
                self.store().put_compute(credentials, Instant::now());
                Ok(None)
            }
            proto::GET_COMPUTE => {
                let request = extension
                    .parse_message::<GetComputeRequest>()?
                    .ok_or(ProtoAgentError::Failure)?;
                let held = self
                    .store()
                    .get_compute(&request.fleet_id, &request.compute_name, Instant::now());
                match held {
                    Some(credentials) => Ok(Some(Extension::new_message(credentials)?)),
                    None => Err(failure("get-compute", "no credentials held for that compute")),
                }
            }
            proto::PROMOTE => {
                let request = extension
                    .parse_message::<proto::PromoteRequest>()?
                    .ok_or(ProtoAgentError::Failure)?;
                self.store().promote(&request.key).map_err(|e| failure("promote", e))?;
                Ok(None)
            }
            proto::STOP => {
                self.stop.notify_one();
                Ok(None)
            }
            // session-bind@openssh.com and the like: ssh carries on without them.
            other => Err(failure("extension", format_args!("{other} is not supported"))),
        }
    }
}
