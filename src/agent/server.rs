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
//! - an answer the client does not read within [`WRITE_TIMEOUT`] closes the
//!   connection, so a client that never reads does not hold a slot for ever;
//! - the bytes of each request are zeroized once it is decoded;
//! - requests are never logged with their contents;
//! - a connection ssh binds to a session (`session-bind@openssh.com`, sent
//!   by OpenSSH 8.9 and later on every agent connection it makes) gets none
//!   of our extensions; one it binds as *forwarded* (a process on the remote
//!   host, through `ssh -A`) may only list keys and sign, as with OpenSSH's
//!   own agent. The UID check cannot tell those apart: the peer of a
//!   forwarded connection is our own local `ssh`.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ssh_agent_lib::agent::Session;
use ssh_agent_lib::error::AgentError as ProtoAgentError;
use ssh_agent_lib::proto::extension::{QueryResponse, SessionBind};
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
/// A connection whose answer is not taken within this long is closed.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the agent on `socket` until `agent stop`, SIGTERM, SIGINT or SIGHUP.
/// `ready` is called once the socket answers.
pub async fn run(socket: &Path, lifetimes: Lifetimes, ready: impl FnOnce()) -> Result<(), AgentError> {
    let mut signals = crate::signals::Signals::install()?;
    let memory_locked = super::harden::harden();
    let mut listener = Listener::bind(socket)?;
    let store = Arc::new(Mutex::new(Keystore::new(lifetimes.key, lifetimes.compute)));
    let stop = Arc::new(Notify::new());
    let session = AgentSession::new(Arc::clone(&store), Arc::clone(&stop), lifetimes.key, memory_locked);
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tracing::info!(
        socket = %socket.display(),
        key_ttl_secs = lifetimes.key.as_secs(),
        compute_ttl_secs = lifetimes.compute.as_secs(),
        memory_locked,
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
        if !session.allows(&request) {
            tracing::debug!(message = kind, binding = ?session.binding, "refused on a connection ssh bound to a session");
            wipe(request);
            if send(framed.get_mut(), Response::Failure).await.is_err() {
                return;
            }
            continue;
        }
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
    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&frame)).await {
        Ok(written) => Ok(written?),
        Err(_) => {
            tracing::debug!("closing a connection that does not read its answers");
            Err(io::Error::new(io::ErrorKind::TimedOut, "the client does not read").into())
        }
    }
}

/// A refused request, dropped with its secrets wiped: an add request's key
/// zeroizes itself (ssh-key), an extension's body is wiped here.
fn wipe(request: Request) {
    if let Request::Extension(extension) = request {
        drop(Zeroizing::new(extension.details.into_bytes()));
    }
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

/// What ssh has said about a connection with `session-bind@openssh.com`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Binding {
    /// Nothing: our own commands (`connect`, `proxy`, `agent status`), or
    /// `ssh-add`, or an ssh older than 8.9.
    #[default]
    Unbound,
    /// ssh's own connection, to authenticate to a host.
    Auth,
    /// A connection ssh opened for a forwarded agent: whatever runs on the
    /// remote host speaks on it.
    Forwarded,
}

#[derive(Clone)]
struct AgentSession {
    store: Arc<Mutex<Keystore>>,
    stop: Arc<Notify>,
    default_ttl: Duration,
    memory_locked: bool,
    /// Per connection: each connection is served by its own clone of a
    /// session that is `Unbound`.
    binding: Binding,
}

impl AgentSession {
    fn new(store: Arc<Mutex<Keystore>>, stop: Arc<Notify>, default_ttl: Duration, memory_locked: bool) -> Self {
        Self {
            store,
            stop,
            default_ttl,
            memory_locked,
            binding: Binding::Unbound,
        }
    }

    /// Whether this connection may make `request`. A forwarded connection
    /// may list keys, sign, and bind further (a hop beyond the remote host,
    /// as OpenSSH's agent allows); nothing else: no extension of ours (stop,
    /// status, compute credentials), no adding or removing keys, no lock.
    /// Any bound connection is ssh's, and ssh sends no extension of ours.
    fn allows(&self, request: &Request) -> bool {
        let is_bind = |r: &Request| matches!(r, Request::Extension(e) if e.name == proto::SESSION_BIND);
        match self.binding {
            Binding::Unbound => true,
            Binding::Auth => !matches!(request, Request::Extension(e) if proto::OURS.contains(&e.name.as_str())),
            Binding::Forwarded => {
                matches!(request, Request::RequestIdentities | Request::SignRequest(_)) || is_bind(request)
            }
        }
    }

    /// `session-bind@openssh.com`. The binding is recorded before anything
    /// is checked, and never loosened: a bind that says "forwarded" makes
    /// the connection forwarded even if its signature does not verify, and
    /// one that does not parse is taken as forwarded too. A bind can only
    /// take rights away, so a forged one gains nothing.
    fn bind(&mut self, extension: &Extension) -> Result<(), ProtoAgentError> {
        let before = self.binding;
        let bind = match extension.parse_message::<SessionBind>() {
            Ok(Some(bind)) => bind,
            _ => {
                self.binding = Binding::Forwarded;
                return Err(failure("session-bind", "a bind that does not parse"));
            }
        };
        if bind.is_forwarding {
            self.binding = Binding::Forwarded;
        } else if before == Binding::Unbound {
            self.binding = Binding::Auth;
        }
        tracing::debug!(forwarding = bind.is_forwarding, binding = ?self.binding, "session bound");
        if before == Binding::Auth {
            // As OpenSSH's agent: a connection bound to authenticate is not rebound.
            return Err(failure(
                "session-bind",
                "the connection is already bound for authentication",
            ));
        }
        bind.verify_signature().map_err(|e| failure("session-bind", e))
    }

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
            proto::SESSION_BIND => {
                self.bind(&extension)?;
                Ok(None)
            }
            "query" => Ok(Some(proto::new_message(QueryResponse {
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
                let mut status = StatusResponse {
                    pid: std::process::id(),
                    default_ttl_secs: self.default_ttl.as_secs().min(u64::from(u32::MAX)) as u32,
                    keys,
                    compute_ttl_secs: store.compute_ttl().as_secs().min(u64::from(u32::MAX)) as u32,
                    computes: store.compute_status(now),
                    listings: store.listings(),
                    memory_locked: Some(self.memory_locked),
                    omitted_keys: 0,
                    omitted_computes: 0,
                };
                drop(store);
                fit_status(&mut status)?;
                Ok(Some(proto::new_message(status)?))
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
                    Some(credentials) => Ok(Some(proto::new_message(credentials)?)),
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
            other => Err(failure("extension", format_args!("{other} is not supported"))),
        }
    }
}

/// What a status answer may take: the client's limit on an answer, less the
/// framing (length, message type, the extension's name).
const STATUS_BUDGET: usize = MAX_MESSAGE - 64;

/// Drops entries from the end of a status answer until it fits the
/// client's limit, and counts them, so `agent status` can say how many it
/// does not show. Keys come first, in the order clients see them, so the
/// ones `connect` and `proxy` look for (the promoted, the newest) are kept.
fn fit_status(status: &mut StatusResponse) -> Result<(), ProtoAgentError> {
    while status.encoded_len().map_err(ProtoError::from)? > STATUS_BUDGET {
        if status.computes.pop().is_some() {
            status.omitted_computes += 1;
        } else if status.keys.pop().is_some() {
            status.omitted_keys += 1;
        } else {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use ssh_agent_lib::proto::RemoveIdentity;
    use ssh_key::public::{Ed25519PublicKey, KeyData};

    use crate::agent::proto::ComputeEntry;
    use ssh_key::{Algorithm, Signature};
    use tokio::io::{AsyncReadExt, DuplexStream};

    fn session() -> (AgentSession, Arc<Mutex<Keystore>>) {
        let store = Arc::new(Mutex::new(Keystore::new(
            Duration::from_secs(60),
            Duration::from_secs(60),
        )));
        let session = AgentSession::new(
            Arc::clone(&store),
            Arc::new(Notify::new()),
            Duration::from_secs(60),
            false,
        );
        (session, store)
    }

    /// A connection served by its own clone of `session`, as `run` serves one.
    fn connection(session: &AgentSession) -> DuplexStream {
        let (client, server) = tokio::io::duplex(MAX_MESSAGE * 2);
        tokio::spawn(serve_connection(server, session.clone()));
        client
    }

    async fn call(stream: &mut DuplexStream, request: Request) -> Response {
        let mut frame = vec![];
        (request.encoded_len().unwrap() as u32).encode(&mut frame).unwrap();
        request.encode(&mut frame).unwrap();
        stream.write_all(&frame).await.unwrap();
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await.unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        stream.read_exact(&mut body).await.unwrap();
        Response::decode(&mut &body[..]).unwrap()
    }

    /// What ssh sends first on each agent connection; the signature is not
    /// a real one (a forged bind only ever takes rights away).
    fn bind(forwarding: bool) -> Request {
        let bind = SessionBind {
            host_key: KeyData::Ed25519(Ed25519PublicKey([7; 32])),
            session_id: vec![1; 32],
            signature: Signature::new(Algorithm::Ed25519, vec![0; 64]).unwrap(),
            is_forwarding: forwarding,
        };
        Request::Extension(Extension::new_message(bind).unwrap())
    }

    fn compute() -> ComputeCredentials {
        ComputeCredentials {
            fleet_id: "fleet-1".into(),
            compute_name: "compute-1".into(),
            region: "us-west-2".into(),
            target: "mi-1".into(),
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: SecretString::from("secret"),
            session_token: SecretString::from("token"),
            containers: vec![],
            lifetime_secs: 0,
        }
    }

    fn ours() -> Vec<Request> {
        let ext = |e: Result<Extension, ProtoError>| Request::Extension(e.unwrap());
        vec![
            ext(proto::new_message(proto::StatusRequest)),
            ext(proto::new_message(proto::StopRequest)),
            ext(proto::new_message(proto::PromoteRequest {
                key: KeyData::Ed25519(Ed25519PublicKey([7; 32])),
            })),
            ext(proto::new_message(GetComputeRequest {
                fleet_id: "fleet-1".into(),
                compute_name: "compute-1".into(),
            })),
            ext(proto::new_message(compute())),
        ]
    }

    #[tokio::test]
    async fn a_forwarded_connection_may_only_list_and_sign() {
        let (session, store) = session();
        // Our own client, unbound: everything.
        let mut local = connection(&session);
        assert!(matches!(
            call(&mut local, Request::Extension(proto::new_message(compute()).unwrap())).await,
            Response::Success
        ));

        let mut forwarded = connection(&session);
        // The bind's signature does not verify, and the connection is forwarded all the same.
        assert!(matches!(call(&mut forwarded, bind(true)).await, Response::Failure));
        for request in ours() {
            let name = match &request {
                Request::Extension(e) => e.name.clone(),
                _ => unreachable!(),
            };
            assert!(
                matches!(call(&mut forwarded, request).await, Response::Failure),
                "{name} was served on a forwarded connection"
            );
        }
        for request in [
            Request::RemoveAllIdentities,
            Request::RemoveIdentity(RemoveIdentity {
                credential: KeyData::Ed25519(Ed25519PublicKey([7; 32])).into(),
            }),
            Request::Lock("x".into()),
        ] {
            assert!(matches!(call(&mut forwarded, request).await, Response::Failure));
        }
        // A later bind that says "not forwarded" (from a hop beyond) changes nothing.
        call(&mut forwarded, bind(false)).await;
        assert!(matches!(
            call(&mut forwarded, ours().remove(0)).await,
            Response::Failure
        ));
        assert!(matches!(
            call(&mut forwarded, Request::RequestIdentities).await,
            Response::IdentitiesAnswer(_)
        ));
        // Nothing was stopped or taken: the local client still gets the credentials.
        assert!(
            lock(&store)
                .get_compute("fleet-1", "compute-1", Instant::now())
                .is_some()
        );
        assert!(matches!(
            call(&mut local, ours().remove(3)).await,
            Response::ExtensionResponse(_)
        ));

        // ssh's own connection, bound to authenticate: the standard protocol, none of ours.
        let mut auth = connection(&session);
        call(&mut auth, bind(false)).await;
        for request in ours() {
            assert!(matches!(call(&mut auth, request).await, Response::Failure));
        }
        assert!(matches!(
            call(&mut auth, Request::RequestIdentities).await,
            Response::IdentitiesAnswer(_)
        ));
        // A bind that does not parse counts as forwarded.
        let mut garbled = connection(&session);
        let junk = Request::Extension(Extension {
            name: proto::SESSION_BIND.into(),
            details: vec![0, 0, 0, 1].into(),
        });
        assert!(matches!(call(&mut garbled, junk).await, Response::Failure));
        assert!(matches!(call(&mut garbled, ours().remove(0)).await, Response::Failure));
        assert!(matches!(
            call(&mut garbled, Request::RemoveAllIdentities).await,
            Response::Failure
        ));
        // The credentials survived every attempt.
        assert!(
            lock(&store)
                .get_compute("fleet-1", "compute-1", Instant::now())
                .is_some()
        );
    }

    #[test]
    fn a_status_answer_fits_the_clients_limit() {
        let entry = |i: usize| ComputeEntry {
            fleet_id: format!("fleet-{i:0>40}"),
            compute_name: format!("compute-{i:0>100}"),
            region: "us-west-2".into(),
            target: format!("mi-{i:0>60}"),
            access_key_id: "ASIAEXAMPLEEXAMPLE".into(),
            expires_in_secs: 60,
        };
        let mut status = StatusResponse {
            pid: 1,
            default_ttl_secs: 60,
            keys: vec![],
            compute_ttl_secs: 60,
            computes: (0..2000).map(entry).collect(),
            listings: 0,
            memory_locked: Some(true),
            omitted_keys: 0,
            omitted_computes: 0,
        };
        assert!(status.encoded_len().unwrap() > MAX_MESSAGE);
        fit_status(&mut status).unwrap();
        assert!(status.omitted_computes > 0 && !status.computes.is_empty());
        assert_eq!(status.computes.len() + status.omitted_computes as usize, 2000);
        let omitted = status.omitted_computes;
        let response = Response::ExtensionResponse(proto::new_message(status).unwrap());
        let mut frame = vec![];
        response.encode(&mut frame).unwrap();
        assert!(4 + frame.len() <= MAX_MESSAGE, "{}", frame.len());
        // What the client makes of it.
        let Response::ExtensionResponse(message) = Response::decode(&mut &frame[..]).unwrap() else {
            panic!("not an extension response")
        };
        let back = message.parse_message::<StatusResponse>().unwrap().unwrap();
        assert_eq!(
            (back.memory_locked, back.omitted_keys, back.omitted_computes),
            (Some(true), 0, omitted)
        );
    }
}
