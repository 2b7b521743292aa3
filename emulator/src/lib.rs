//! A loopback emulator of the Amazon GameLift API.
//!
//! It exists so that tests, benchmarks and the `gamelift-access demo` can
//! drive the *real* `aws-sdk-gamelift` (and the Python `aws` CLI) end to end
//! — signing, endpoint resolution, retries, error mapping, deserialisation —
//! without an AWS account. It speaks both wire protocols GameLift supports
//! (Smithy RPC v2 CBOR for the Rust SDK, awsJson1_1 for botocore) on one port,
//! checks SigV4 structurally, answers from an editable [`Fixture`], can inject
//! [`Fault`]s, and records every request as a [`Call`].
//!
//! The same port also serves the two AWS Systems Manager operations an SSM
//! connection needs (`AmazonSSM.StartSession` / `TerminateSession`,
//! awsJson1_1, signed for `ssm`), accepting only credentials that
//! GetComputeAccess issued, and an unsigned `GET /checkip` public-IP lookup.
//!
//! GameLift operations: GetInstanceAccess, DescribeInstances,
//! DescribeFleetAttributes, DescribeBuild, ListFleets, ListAliases,
//! ResolveAlias, DescribeFleetLocationAttributes, ListCompute,
//! DescribeCompute, DescribeGameSessions, GetComputeAccess,
//! DescribeFleetPortSettings, UpdateFleetPortSettings.
//!
//! ```no_run
//! use gamelift_emulator::{Emulator, Fault, Fixture};
//!
//! let emu = Emulator::start(Fixture::sample())?;
//! emu.inject("GetInstanceAccess", Fault::Throttle, 1);
//! // point aws-sdk-gamelift at emu.endpoint() ...
//! assert!(emu.calls_to("GetInstanceAccess").len() <= 2);
//! # Ok::<(), std::io::Error>(())
//! ```

mod error;
mod fault;
pub mod fixture;
mod ops;
mod server;
mod sigv4;
/// The local OpenSSH sshd that plays an instance; Unix only (sshd runs there).
#[cfg(unix)]
pub mod sshd;
mod state;
mod wire;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub use fault::Fault;
pub use fixture::{
    Alias, Build, Compute, ComputeType, ContainerAttribute, Fixture, FixtureError, Fleet, GameSession, Instance,
    IpPermission, RoutingStrategy,
};
pub use state::{IssuedCredentials, SsmSession};
pub use wire::Protocol;

use server::{Shared, lock};

/// One request as the emulator saw it, for tests to assert on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// Signing name of the service addressed: `gamelift` or `ssm`.
    #[serde(default)]
    pub service: String,
    /// Operation name (`GetInstanceAccess`, `StartSession`); empty if none
    /// could be found.
    pub operation: String,
    /// The wire protocol used.
    pub protocol: Protocol,
    /// Region from the SigV4 credential scope; empty if unsigned.
    pub region: String,
    /// Access key id from the SigV4 credential scope; empty if unsigned.
    pub access_key_id: String,
    /// The decoded request body (CBOR shown as JSON); `null` if the request
    /// was rejected before the body was decoded.
    pub body: serde_json::Value,
    /// HTTP status of the response.
    pub status: u16,
}

/// A running emulator. It serves on a dedicated thread with its own tokio
/// runtime, so it works the same from plain `#[test]`s and from inside
/// another runtime (where nesting `block_on` would panic). Dropping it stops
/// the server and joins the thread.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Serves `fixture` on an ephemeral loopback port.
    pub fn start(fixture: Fixture) -> std::io::Result<Emulator> {
        Emulator::start_on(fixture, 0)
    }

    /// Serves `fixture` on `127.0.0.1:port` (`0` picks a free port).
    ///
    /// The socket is bound before this returns, so the endpoint accepts
    /// connections as soon as the caller has it.
    pub fn start_on(fixture: Fixture, port: u16) -> std::io::Result<Emulator> {
        let listener = std::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;

        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };

        let shared = Arc::new(Shared::new(fixture));
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server_state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("gamelift-emulator-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(server::serve(listener, server_state, async {
                    // A dropped sender also means "stop".
                    let _ = shutdown_rx.await;
                }));
                // Dropping the runtime here cancels in-flight connections.
            })?;

        Ok(Emulator {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// The URL to give the SDK as `endpoint_url`: `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes the next `times` calls of `operation` fail (or stall) with
    /// `fault`. Injections queue up per operation and are consumed one per
    /// call, in order; afterwards the operation behaves normally again.
    pub fn inject(&self, operation: &str, fault: Fault, times: usize) {
        lock(&self.shared.faults).inject(operation, fault, times);
    }

    /// How many injected faults are still waiting for `operation`.
    pub fn pending_faults(&self, operation: &str) -> usize {
        lock(&self.shared.faults).pending(operation)
    }

    /// Every request so far, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.shared.calls).clone()
    }

    /// The requests for one operation, oldest first.
    pub fn calls_to(&self, operation: &str) -> Vec<Call> {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.operation == operation)
            .cloned()
            .collect()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_calls(&self) {
        lock(&self.shared.calls).clear();
    }

    /// Runs `f` on the live fixture; later requests see its changes.
    pub fn with_fixture<R>(&self, f: impl FnOnce(&mut Fixture) -> R) -> R {
        f(&mut lock(&self.shared.fixture))
    }

    /// A copy of the live fixture.
    pub fn fixture(&self) -> Fixture {
        lock(&self.shared.fixture).clone()
    }

    /// How many DescribeFleetPortSettings calls after an
    /// UpdateFleetPortSettings still report `UpdateStatus: PENDING_UPDATE`
    /// (with the old permissions) before the update takes effect. Default 1;
    /// 0 applies updates immediately. Affects later updates only.
    pub fn set_port_update_delay(&self, polls: usize) {
        lock(&self.shared.state).port_update_delay = polls;
    }

    /// The fleet's inbound permissions in effect now (a pending update is
    /// not included until a DescribeFleetPortSettings call applies it);
    /// empty for an unknown fleet.
    pub fn inbound_permissions(&self, fleet_id: &str) -> Vec<IpPermission> {
        lock(&self.shared.fixture)
            .fleet(fleet_id)
            .map(|f| f.inbound_permissions.clone())
            .unwrap_or_default()
    }

    /// The permissions a not-yet-applied UpdateFleetPortSettings will set,
    /// if one is pending for the fleet.
    pub fn pending_inbound_permissions(&self, fleet_id: &str) -> Option<Vec<IpPermission>> {
        lock(&self.shared.state)
            .pending_ports
            .get(fleet_id)
            .map(|p| p.permissions.clone())
    }

    /// What `GET /checkip` answers: `Some(ip)` → 200 with `ip` and a newline
    /// as `text/plain`; `None` (the default) → 503. The endpoint is unsigned
    /// and not recorded as a [`Call`].
    pub fn set_public_ip(&self, ip: Option<String>) {
        lock(&self.shared.state).public_ip = ip;
    }

    /// The URL of the public-IP lookup endpoint: `http://127.0.0.1:PORT/checkip`.
    pub fn checkip_url(&self) -> String {
        format!("{}{}", self.endpoint(), server::CHECKIP_PATH)
    }

    /// How many `GET /checkip` requests were served.
    pub fn public_ip_lookups(&self) -> usize {
        lock(&self.shared.state).public_ip_lookups
    }

    /// Every credential set GetComputeAccess issued, oldest first. They stay
    /// valid for SSM StartSession for the emulator's lifetime.
    pub fn issued_compute_credentials(&self) -> Vec<IssuedCredentials> {
        lock(&self.shared.state).issued.clone()
    }

    /// SSM sessions started (and possibly terminated), oldest first.
    pub fn ssm_sessions(&self) -> Vec<SsmSession> {
        lock(&self.shared.state).ssm_sessions.clone()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("gamelift emulator thread panicked");
        }
    }
}
