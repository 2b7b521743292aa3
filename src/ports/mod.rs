//! Opening the SSH/RDP port for exactly the caller, for exactly the session.
//!
//! Server SDK 4 fleets accept SSH (22) and RDP (3389) only from the ranges in
//! their inbound permissions. `connect --open-port` adds one for the caller
//! (a /32 or /128), waits until GameLift has applied it, runs the session and
//! revokes it again: only what this run added, on every way out. A ledger in
//! the state dir records each permission before it is authorized, so what a
//! killed run left open can be closed later (`ports close-stale`).

mod caller;
mod ledger;

use std::time::{Duration, Instant};

use aws_sdk_gamelift::types::{IpPermission as SdkPermission, IpProtocol, LocationUpdateStatus};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, GameLift};

pub use caller::{DEFAULT_LOOKUP_URL, lookup, parse_cidr};
pub use ledger::{Ledger, LedgerEntry, Release};

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("cannot tell your public IP from {url}: {reason}\n  nothing was opened; pass --cidr <your public IP>/32")]
    Lookup { url: String, reason: String },
    #[error("'{0}' is not an IP address or CIDR (e.g. 198.51.100.7 or 198.51.100.0/24)")]
    BadCidr(String),
    #[error("the ledger of opened ports: {0}")]
    Ledger(#[from] std::io::Error),
    #[error(
        "GameLift has not applied the new port rule on {fleet_id} after {secs}s\n  \
         it was revoked again; retry, or raise --open-port-timeout"
    )]
    Timeout { fleet_id: String, secs: u64 },
}

/// One inbound permission: a port range, a protocol and a source range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub from_port: u16,
    pub to_port: u16,
    pub ip_range: IpNet,
    pub protocol: String,
}

impl Permission {
    pub fn tcp(port: u16, ip_range: IpNet) -> Self {
        Self {
            from_port: port,
            to_port: port,
            ip_range,
            protocol: "TCP".into(),
        }
    }

    /// Whether this permission already lets `caller` reach TCP `port`.
    pub fn covers(&self, port: u16, caller: &IpNet) -> bool {
        self.protocol == "TCP" && (self.from_port..=self.to_port).contains(&port) && self.ip_range.contains(caller)
    }

    fn to_sdk(&self) -> SdkPermission {
        SdkPermission::builder()
            .from_port(i32::from(self.from_port))
            .to_port(i32::from(self.to_port))
            .ip_range(self.ip_range.to_string())
            .protocol(IpProtocol::from(self.protocol.as_str()))
            .build()
    }

    fn from_sdk(p: &SdkPermission) -> Option<Self> {
        Some(Self {
            from_port: u16::try_from(p.from_port()?).ok()?,
            to_port: u16::try_from(p.to_port()?).ok()?,
            ip_range: p.ip_range()?.parse().ok()?,
            protocol: p.protocol()?.as_str().to_owned(),
        })
    }
}

/// A fleet's inbound permissions as seen from one location, and whether an
/// update is still being applied there.
#[derive(Debug)]
pub struct PortSettings {
    pub permissions: Vec<Permission>,
    pub pending: bool,
}

pub async fn settings(gl: &GameLift, fleet_id: &str, location: Option<&str>) -> Result<PortSettings, PortError> {
    let out = gl
        .client()
        .await
        .describe_fleet_port_settings()
        .fleet_id(fleet_id)
        .set_location(location.map(str::to_owned))
        .send()
        .await
        .map_err(|e| gl.classify("DescribeFleetPortSettings", e))?;
    Ok(PortSettings {
        permissions: out
            .inbound_permissions()
            .iter()
            .filter_map(Permission::from_sdk)
            .collect(),
        pending: out.update_status() == Some(&LocationUpdateStatus::PendingUpdate),
    })
}

async fn update(
    gl: &GameLift,
    fleet_id: &str,
    authorize: Option<&Permission>,
    revoke: Option<&Permission>,
) -> Result<(), PortError> {
    gl.client()
        .await
        .update_fleet_port_settings()
        .fleet_id(fleet_id)
        .set_inbound_permission_authorizations(authorize.map(|p| vec![p.to_sdk()]))
        .set_inbound_permission_revocations(revoke.map(|p| vec![p.to_sdk()]))
        .send()
        .await
        .map_err(|e| gl.classify("UpdateFleetPortSettings", e))?;
    Ok(())
}

/// A permission this run authorized; [`Opened::close`] revokes it.
#[derive(Debug)]
pub struct Opened {
    entry: LedgerEntry,
    ledger: Ledger,
}

/// The port settings once no update is pending. While GameLift applies an
/// update it still reports the old permissions, so a rule about to be
/// revoked would look as if it covered us: never decide on those.
pub async fn settled(
    gl: &GameLift,
    fleet_id: &str,
    location: &str,
    timeout: Duration,
) -> Result<PortSettings, PortError> {
    poll_until(gl, fleet_id, location, timeout, |s| !s.pending).await
}

/// Reads the settings at `location` until `done` holds for them, backing off
/// from 250 ms to 5 s between reads, for at most `timeout`. Updates are
/// applied asynchronously, so this is how every wait on them is done.
async fn poll_until(
    gl: &GameLift,
    fleet_id: &str,
    location: &str,
    timeout: Duration,
    done: impl Fn(&PortSettings) -> bool,
) -> Result<PortSettings, PortError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        let now = settings(gl, fleet_id, Some(location)).await?;
        if done(&now) {
            tracing::debug!(elapsed = ?start.elapsed(), fleet_id, "port settings as awaited");
            return Ok(now);
        }
        if start.elapsed() >= timeout {
            return Err(PortError::Timeout {
                fleet_id: fleet_id.to_owned(),
                secs: timeout.as_secs(),
            });
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(start.elapsed()))).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// Makes TCP `port` reachable from `caller`, given the fleet's `current`
/// (settled) port settings. Returns `None` when an existing permission
/// already covers it: then nothing is added, and nothing will be revoked.
pub async fn open(
    gl: &GameLift,
    fleet_id: &str,
    location: &str,
    port: u16,
    caller: IpNet,
    current: &PortSettings,
) -> Result<Option<Opened>, PortError> {
    if caller.prefix_len() == 0 {
        tracing::warn!("opening port {port} of {fleet_id} to the whole internet ({caller}), as you asked");
        eprintln!(
            "warning: opening port {port} to {caller}: anyone on the internet can reach it while you are connected"
        );
    }
    let entry = |permission: &Permission| LedgerEntry {
        id: format!("{}-{}", std::process::id(), crate::output::now_nanos()),
        fleet_id: fleet_id.to_owned(),
        region: gl.region.clone(),
        location: location.to_owned(),
        permission: permission.clone(),
        opened_at: crate::output::now(),
        pid: std::process::id(),
        borrowed: false,
    };
    if let Some(existing) = current.permissions.iter().find(|p| p.covers(port, &caller)) {
        // If another live run of ours opened it, lean on it visibly, so that
        // run hands it over at its end instead of revoking it under us.
        let ledger = Ledger::open()?;
        let borrowed = entry(existing);
        if ledger.borrow(&borrowed)? {
            tracing::info!("port {port} of {fleet_id} is open to {caller} by another session of ours; sharing it");
            return Ok(Some(Opened {
                entry: LedgerEntry {
                    borrowed: true,
                    ..borrowed
                },
                ledger,
            }));
        }
        tracing::info!(
            "port {port} of {fleet_id} is already open to {caller} through {}; nothing to add",
            existing.ip_range
        );
        return Ok(None);
    }
    let permission = Permission::tcp(port, caller);
    let entry = entry(&permission);
    let ledger = Ledger::open()?;
    ledger.add(&entry)?;
    if let Err(e) = update(gl, fleet_id, Some(&permission), None).await {
        // Nothing was opened: the record would only mislead close-stale.
        ledger.remove(&entry.id)?;
        return Err(e);
    }
    tracing::info!(fleet_id, port, %caller, "opened the port for this session");
    Ok(Some(Opened { entry, ledger }))
}

impl Opened {
    /// Waits until GameLift reports the rule in effect at the instance's
    /// location. Updates are applied asynchronously (UpdateStatus
    /// PENDING_UPDATE), and a session started before then would be refused.
    pub async fn wait_applied(&self, gl: &GameLift, timeout: Duration) -> Result<(), PortError> {
        let entry = &self.entry;
        let spinner = crate::output::spinner(format!(
            "waiting for GameLift to open port {} to {}",
            entry.permission.from_port, entry.permission.ip_range
        ));
        let applied = poll_until(gl, &entry.fleet_id, &entry.location, timeout, |s| {
            !s.pending && s.permissions.contains(&entry.permission)
        })
        .await;
        if let Some(spinner) = spinner {
            spinner.finish_and_clear();
        }
        applied.map(drop)
    }

    /// Gives the permission up: revokes what [`open`] authorized, unless a
    /// live session of ours still relies on it (then it is handed over), and
    /// drops the ledger entry. If the revocation fails the entry stays, for
    /// `ports close-stale`.
    pub async fn close(self, gl: &GameLift) -> Result<(), PortError> {
        release(gl, &self.ledger, &self.entry).await.map(drop)
    }
}

/// Releases a ledger entry: see [`Opened::close`]. Also what `close-stale`
/// does for the entries of runs that are gone.
pub async fn release(gl: &GameLift, ledger: &Ledger, entry: &LedgerEntry) -> Result<Release, PortError> {
    let release = ledger.release(&entry.id)?;
    match release {
        Release::Revoke => {
            revoke(gl, entry).await?;
            ledger.remove(&entry.id)?;
            tracing::info!(fleet_id = entry.fleet_id, "closed the port again");
        }
        Release::HandedOver { pid } => {
            tracing::info!(
                fleet_id = entry.fleet_id,
                pid,
                "left the port open for another session of ours"
            );
        }
        Release::Left | Release::Gone => {}
    }
    Ok(release)
}

/// Revokes a ledger entry's permission. One that is already gone (revoked
/// by hand, or the fleet deleted) counts as revoked.
async fn revoke(gl: &GameLift, entry: &LedgerEntry) -> Result<(), PortError> {
    match update(gl, &entry.fleet_id, None, Some(&entry.permission)).await {
        Ok(()) => Ok(()),
        Err(PortError::Aws(AwsError::NotFound { .. })) => Ok(()),
        // GameLift refuses to revoke what is not there: check before calling it a failure.
        Err(e @ PortError::Aws(AwsError::InvalidRequest { .. })) => {
            let still_there = settings(gl, &entry.fleet_id, None)
                .await?
                .permissions
                .contains(&entry.permission);
            if still_there { Err(e) } else { Ok(()) }
        }
        Err(e) => Err(e),
    }
}
