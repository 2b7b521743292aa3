//! A loopback emulator of the Amazon GameLift API.
//!
//! It exists so that tests, benchmarks and the `gamelift-access demo` can
//! drive the *real* `aws-sdk-gamelift` (and the Python `aws` CLI) end to end
//! — signing, endpoint resolution, retries, error mapping, deserialisation —
//! without an AWS account. It speaks both wire protocols GameLift supports
//! (Smithy RPC v2 CBOR for the Rust SDK, awsJson1_1 for botocore) on one port,
//! checks SigV4 (structure, then a real HMAC against the secret of a known
//! test identity or of credentials it issued), answers from an editable [`Fixture`], can inject
//! [`Fault`]s, and records every request as a [`Call`].
//!
//! The same port also serves the two AWS Systems Manager operations an SSM
//! connection needs (`AmazonSSM.StartSession` / `TerminateSession`,
//! awsJson1_1, signed for `ssm`), accepting only credentials that
//! GetComputeAccess issued, and an unsigned `GET /checkip` public-IP lookup.
//!
//! It also serves Lightsail's bucket access-key operations (GetBuckets,
//! CreateBucketAccessKey, GetBucketAccessKeys, DeleteBucketAccessKey;
//! awsJson1_1 `Lightsail_20161128.*`, signed for `lightsail`), with the
//! two-keys-per-bucket limit and the secret returned by Create only.
//!
//! GameLift operations: GetInstanceAccess, DescribeInstances,
//! DescribeFleetAttributes, DescribeBuild, ListFleets, ListAliases,
//! ResolveAlias, DescribeFleetLocationAttributes, ListCompute,
//! DescribeCompute, DescribeGameSessions, GetComputeAccess,
//! DescribeFleetPortSettings, UpdateFleetPortSettings, CreateBuild,
//! RequestUploadCredentials, ListBuilds, DescribePlayerSessions,
//! GetGameSessionLogUrl, ListContainerFleets.
//!
//! GetGameSessionLogUrl's pre-signed URLs point at this same port
//! (`GET /game-session-logs/…`, unsigned, refused with credentials on it),
//! serve the session's stored logs as a zip archive, and expire (see
//! [`Emulator::set_log_url_lifetime`]).
//!
//! [`Emulator::start_with_s3`] adds an S3 front backed by a real
//! `moto_server` (see [`s3`]): builds are uploaded there with the
//! credentials CreateBuild issues, and turn READY (or FAILED) when their
//! object is written.
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
pub mod moto;
mod ops;
mod ratelimit;
pub mod s3;
mod server;
pub mod sigv4;
/// The local OpenSSH sshd that plays an instance; Unix only (sshd runs there).
#[cfg(unix)]
pub mod sshd;
mod state;
mod wire;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use fault::Fault;
pub use fixture::{
    Alias, Bucket, Build, Compute, ComputeType, ContainerAttribute, Fixture, FixtureError, Fleet, GameSession,
    Instance, IpPermission, LogFile, PlayerSession, RoutingStrategy,
};
pub use s3::{S3Access, S3AccessHook, S3Credential, S3Scope};
pub use state::{BucketAccessKey, IssuedCredentials, KeyLastUsed, LogDownload, SsmSession, TEST_IDENTITIES};
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
    /// The S3 front, when started with [`Emulator::start_with_s3`].
    s3_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    shutdown: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
    /// Dropped (killed and reaped) after the server thread has stopped.
    moto: Option<moto::MotoServer>,
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
        Emulator::start_inner(fixture, port, None)
    }

    /// Serves `fixture` like [`Emulator::start`], plus an S3 front on a
    /// second loopback port backed by a `moto_server` child that this
    /// emulator starts now and kills and reaps when dropped (see [`s3`] for
    /// what the front checks). Fails if `moto_server` is not installed.
    pub fn start_with_s3(fixture: Fixture) -> std::io::Result<Emulator> {
        Emulator::start_with_s3_on(fixture, 0, 0)
    }

    /// As [`Emulator::start_with_s3`], on fixed ports (`0` picks a free one).
    pub fn start_with_s3_on(fixture: Fixture, port: u16, s3_port: u16) -> std::io::Result<Emulator> {
        let moto = moto::MotoServer::start()?;
        let mut regions: Vec<String> = fixture
            .fleets
            .iter()
            .map(|f| f.region.clone())
            .chain(fixture.builds.iter().map(|b| b.region.clone()))
            .chain(std::iter::once(fixture::DEFAULT_REGION.to_owned()))
            .collect();
        regions.sort();
        regions.dedup();
        for region in &regions {
            s3::create_bucket_blocking(moto.addr(), &ops::build_bucket(region), region)?;
        }
        Emulator::start_inner(fixture, port, Some((s3_port, moto)))
    }

    fn start_inner(fixture: Fixture, port: u16, s3: Option<(u16, moto::MotoServer)>) -> std::io::Result<Emulator> {
        let bind = |port| -> std::io::Result<std::net::TcpListener> {
            let listener = std::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
            listener.set_nonblocking(true)?;
            Ok(listener)
        };
        let listener = bind(port)?;
        let addr = listener.local_addr()?;
        let (s3_listener, moto) = match s3 {
            Some((s3_port, moto)) => (Some(bind(s3_port)?), Some(moto)),
            None => (None, None),
        };
        let s3_addr = s3_listener.as_ref().map(|l| l.local_addr()).transpose()?;

        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (listener, s3_listener) = {
            let _entered = runtime.enter();
            (
                tokio::net::TcpListener::from_std(listener)?,
                s3_listener.map(tokio::net::TcpListener::from_std).transpose()?,
            )
        };

        let shared = Arc::new(Shared::new(fixture));
        lock(&shared.state).self_url = Some(format!("http://{addr}"));
        lock(&shared.s3).moto = moto.as_ref().map(moto::MotoServer::addr);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let server_state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("gamelift-emulator-{}", addr.port()))
            .spawn(move || {
                // A dropped sender also means "stop".
                let stopped = |mut rx: watch::Receiver<bool>| async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                };
                let api = server::serve(listener, Arc::clone(&server_state), stopped(shutdown_rx.clone()));
                runtime.block_on(async {
                    match s3_listener {
                        Some(s3_listener) => {
                            tokio::join!(api, s3::serve(s3_listener, server_state, stopped(shutdown_rx)));
                        }
                        None => api.await,
                    }
                });
                // Dropping the runtime here cancels in-flight connections.
            })?;

        Ok(Emulator {
            addr,
            s3_addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
            moto,
        })
    }

    /// The S3 front's URL (`http://127.0.0.1:PORT`), if started with
    /// [`Emulator::start_with_s3`]: give it to S3 clients as their endpoint
    /// (`AWS_ENDPOINT_URL_S3`).
    pub fn s3_endpoint(&self) -> Option<String> {
        self.s3_addr.map(|a| format!("http://{a}"))
    }

    /// The `moto_server` behind the S3 front, for tests that need to look
    /// at S3 state without going through the checks.
    pub fn moto_endpoint(&self) -> Option<String> {
        self.moto.as_ref().map(|m| format!("http://{}", m.addr()))
    }

    /// Makes the S3 front accept `credential` (replacing any credential
    /// with the same access key id). See [`s3`] for the checks.
    pub fn register_s3_credential(&self, credential: S3Credential) {
        lock(&self.shared.s3)
            .credentials
            .insert(credential.access_key_id.clone(), credential);
    }

    /// Makes the S3 front refuse `access_key_id` (`InvalidAccessKeyId`)
    /// from now on; returns whether it was registered.
    pub fn revoke_s3_credential(&self, access_key_id: &str) -> bool {
        lock(&self.shared.s3).credentials.remove(access_key_id).is_some()
    }

    /// The credentials the S3 front accepts besides the test identities.
    pub fn s3_credentials(&self) -> Vec<S3Credential> {
        lock(&self.shared.s3).credentials.values().cloned().collect()
    }

    /// Calls `hook` after every S3 request the front accepted (signature,
    /// token, expiry and scope good), outside every emulator lock, e.g. to
    /// record when an access key was last used.
    pub fn on_s3_access(&self, hook: impl Fn(&S3Access) + Send + Sync + 'static) {
        lock(&self.shared.s3).hooks.push(Arc::new(hook));
    }

    /// Sets the lifetime of upload credentials issued from now on (the
    /// fixture's `upload_credentials_lifetime_secs`).
    pub fn set_upload_credentials_lifetime(&self, lifetime: std::time::Duration) {
        lock(&self.shared.fixture).upload_credentials_lifetime_secs = Some(lifetime.as_secs());
    }

    /// The next upload credentials issued (only those) expire (S3 answers
    /// `ExpiredToken`) after `requests` accepted S3 requests; `None` cancels
    /// a pending limit. A deterministic way to expire them mid-upload while
    /// the refreshed ones keep working.
    pub fn expire_upload_credentials_after(&self, requests: Option<u32>) {
        lock(&self.shared.state).upload_credentials_max_requests = requests;
    }

    /// Every upload credential CreateBuild and RequestUploadCredentials
    /// issued, oldest first.
    pub fn issued_upload_credentials(&self) -> Vec<S3Credential> {
        lock(&self.shared.state).upload_credentials.clone()
    }

    /// Every request the S3 front answered, oldest first.
    pub fn s3_requests(&self) -> Vec<S3Access> {
        lock(&self.shared.s3).log.clone()
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

    /// Throttles `operation` above `per_second` calls a second (with bursts
    /// of up to `burst`), with `ThrottlingException` as GameLift does. A
    /// rate of 0 lifts the limit.
    pub fn set_rate_limit(&self, operation: &str, per_second: f64, burst: u32) {
        lock(&self.shared.rate_limits).set(operation, per_second, burst);
    }

    /// How many calls of `operation` its rate limit throttled.
    pub fn rate_limited_calls(&self, operation: &str) -> usize {
        lock(&self.shared.rate_limits).throttled(operation)
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

    /// Accepts `access_key_id` signed with `secret_access_key` from now on,
    /// besides [`TEST_IDENTITIES`], on the GameLift and SSM API (and on the
    /// S3 front, with access to every bucket).
    pub fn add_identity(&self, access_key_id: &str, secret_access_key: &str) {
        lock(&self.shared.state)
            .identities
            .insert(access_key_id.to_owned(), secret_access_key.to_owned());
    }

    /// Every credential set GetComputeAccess issued, oldest first. They stay
    /// valid for SSM StartSession for the emulator's lifetime.
    pub fn issued_compute_credentials(&self) -> Vec<IssuedCredentials> {
        lock(&self.shared.state).issued.clone()
    }

    /// The Lightsail access keys of `bucket` (in any region), oldest first,
    /// secrets included, for tests to check what a client stored.
    pub fn bucket_access_keys(&self, bucket: &str) -> Vec<BucketAccessKey> {
        lock(&self.shared.state)
            .bucket_keys
            .iter()
            .filter(|k| k.bucket == bucket)
            .cloned()
            .collect()
    }

    /// The Lightsail bucket access key with this id, if it exists. The S3
    /// front accepts it for that key's bucket only, while it is `Active`.
    pub fn bucket_key(&self, access_key_id: &str) -> Option<BucketAccessKey> {
        lock(&self.shared.state)
            .bucket_keys
            .iter()
            .find(|k| k.access_key_id == access_key_id)
            .cloned()
    }

    /// Records that `service` (`s3`) accepted the key just now, as
    /// GetBucketAccessKeys' `lastUsed` then shows (the S3 front does this
    /// itself for every request it accepts). False for an unknown key.
    pub fn record_bucket_key_use(&self, access_key_id: &str, service: &str) -> bool {
        state::record_bucket_key_use(&mut lock(&self.shared.state), access_key_id, service)
    }

    /// How long the pre-signed log URLs GetGameSessionLogUrl returns from
    /// now on stay valid (default 15 minutes); after that the URL answers
    /// 403 `Request has expired`, as S3 does.
    pub fn set_log_url_lifetime(&self, lifetime: std::time::Duration) {
        lock(&self.shared.state).log_url_lifetime = lifetime;
    }

    /// Every request for a pre-signed log URL, oldest first.
    pub fn log_downloads(&self) -> Vec<LogDownload> {
        lock(&self.shared.state).log_downloads.clone()
    }

    /// Sets Lightsail's clock `skew_secs` ahead of this machine's (negative:
    /// behind) for keys created and used from now on: their `createdAt` and
    /// `lastUsed` dates, as a client whose clock is off sees them.
    pub fn set_lightsail_clock_skew(&self, skew_secs: f64) {
        lock(&self.shared.state).lightsail_clock_skew = skew_secs;
    }

    /// SSM sessions started (and possibly terminated), oldest first.
    pub fn ssm_sessions(&self) -> Vec<SsmSession> {
        lock(&self.shared.state).ssm_sessions.clone()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("gamelift emulator thread panicked");
        }
    }
}
