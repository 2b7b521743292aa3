//! Instance lookups: by ID, compute name, IP, DNS name or game session, or
//! a picker over the fleet's ACTIVE instances in every location.

use std::net::IpAddr;

use serde::Serialize;

use super::{ComputeType, FleetInfo, InstanceRef, ResolveError, Sdk};
use crate::aws::GameLift;
use crate::output;

/// One instance (EC2 fleets) or compute (container fleets), for listing and
/// picking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceSummary {
    /// The instance ID, or the compute name on container fleets: what
    /// `connect` takes.
    pub id: String,
    pub location: String,
    pub ip_address: Option<String>,
    pub dns_name: Option<String>,
    pub operating_system: Option<String>,
    pub instance_type: Option<String>,
    pub status: String,
    /// Seconds since the Unix epoch.
    pub creation_time: Option<i64>,
}

impl InstanceSummary {
    /// ID, location, IP, OS, type, status, age.
    pub fn row(&self, now: i64) -> Vec<String> {
        let dash = || "-".to_owned();
        vec![
            self.id.clone(),
            self.location.clone(),
            self.ip_address.clone().unwrap_or_else(dash),
            self.operating_system.clone().unwrap_or_else(dash),
            self.instance_type.clone().unwrap_or_else(dash),
            self.status.clone(),
            self.creation_time.map(|t| output::age(now - t)).unwrap_or_else(dash),
        ]
    }

    pub const HEADER: [&'static str; 7] = ["ID", "LOCATION", "IP", "OS", "TYPE", "STATUS", "AGE"];
}

/// An [`InstanceSummary`] from the SDK's `Compute` or `Instance`: two
/// types with the same accessors, but for the ID's and the status's.
macro_rules! summary {
    ($item:expr, $location:expr, $id:ident, $status:ident) => {
        InstanceSummary {
            id: $item.$id().unwrap_or_default().to_owned(),
            location: $item.location().unwrap_or($location).to_owned(),
            ip_address: $item.ip_address().map(str::to_owned),
            dns_name: $item.dns_name().map(str::to_owned),
            operating_system: $item.operating_system().map(|o| o.as_str().to_owned()),
            instance_type: $item.r#type().map(|t| t.as_str().to_owned()),
            status: $item.$status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            creation_time: $item.creation_time().map(|t| t.secs()),
        }
    };
}

/// Every instance or compute of the fleet, in each of its locations.
pub async fn list(gl: &GameLift, fleet: &FleetInfo) -> Result<Vec<InstanceSummary>, ResolveError> {
    let mut all = vec![];
    // `describe` always lists the home region first, so this covers it too.
    for location in &fleet.locations {
        if fleet.compute == ComputeType::Container {
            let computes = gl
                .client()
                .await
                .list_compute()
                .fleet_id(&fleet.fleet_id)
                .location(location)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| gl.classify("ListCompute", e))?;
            all.extend(
                computes
                    .iter()
                    .map(|c| summary!(c, location, compute_name, compute_status)),
            );
        } else {
            let instances = gl
                .client()
                .await
                .describe_instances()
                .fleet_id(&fleet.fleet_id)
                .location(location)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| gl.classify("DescribeInstances", e))?;
            all.extend(instances.iter().map(|i| summary!(i, location, instance_id, status)));
        }
    }
    Ok(all)
}

/// The ID the access API takes, and the instance's location.
pub async fn find(
    gl: &GameLift,
    fleet: &FleetInfo,
    sdk: Sdk,
    wanted: Option<&InstanceRef>,
    interactive: bool,
) -> Result<(String, String), ResolveError> {
    match wanted {
        Some(InstanceRef::Id(id)) => Ok((id.clone(), location_of(gl, fleet, sdk, id).await?)),
        Some(InstanceRef::ComputeName(name)) => {
            if fleet.compute == ComputeType::Ec2 {
                return Err(ResolveError::Mismatch(format!(
                    "'{name}' looks like a compute name, but {} is an EC2 fleet: name an instance ID (i-…), \
                     an IP or a game session\n  list them with: gamelift-access instances {}",
                    fleet.fleet_id, fleet.fleet_id
                )));
            }
            Ok((name.clone(), location_of(gl, fleet, sdk, name).await?))
        }
        Some(InstanceRef::Ip(ip)) => by_address(gl, fleet, &ip.to_string(), |s| ip_matches(s, ip)).await,
        Some(InstanceRef::Dns(name)) => {
            by_address(gl, fleet, name, |s| {
                s.dns_name.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(name))
            })
            .await
        }
        Some(InstanceRef::GameSession(session)) => by_game_session(gl, fleet, session).await,
        Some(InstanceRef::PlayerSession(id)) => {
            let session = super::players::game_session_of_player_session(gl, fleet, id).await?;
            by_game_session(gl, fleet, &session).await
        }
        Some(InstanceRef::Player(player)) => {
            let session = super::players::game_session_of_player(gl, fleet, player, interactive).await?;
            by_game_session(gl, fleet, &session).await
        }
        None => pick(gl, fleet, interactive).await,
    }
}

/// The location is only looked up when it matters: for an SSM session on a
/// fleet with more than one location. ssh goes straight to the IP that
/// GetInstanceAccess returns, whatever the location.
async fn location_of(gl: &GameLift, fleet: &FleetInfo, sdk: Sdk, id: &str) -> Result<String, ResolveError> {
    if sdk == Sdk::V4 || fleet.locations.len() <= 1 {
        return Ok(fleet.region.clone());
    }
    let out = gl
        .client()
        .await
        .describe_compute()
        .fleet_id(&fleet.fleet_id)
        .compute_name(id)
        .send()
        .await
        .map_err(|e| gl.classify("DescribeCompute", e))?;
    Ok(out
        .compute()
        .and_then(|c| c.location())
        .unwrap_or(&fleet.region)
        .to_owned())
}

fn ip_matches(s: &InstanceSummary, ip: &IpAddr) -> bool {
    s.ip_address
        .as_deref()
        .and_then(|a| a.parse::<IpAddr>().ok())
        .is_some_and(|a| a == *ip)
}

async fn by_address(
    gl: &GameLift,
    fleet: &FleetInfo,
    wanted: &str,
    matches: impl Fn(&InstanceSummary) -> bool,
) -> Result<(String, String), ResolveError> {
    let all = list(gl, fleet).await?;
    all.iter().find(|s| matches(s)).map(|s| (s.id.clone(), s.location.clone())).ok_or_else(|| {
        ResolveError::NoMatch(format!(
            "no instance of fleet {} has the address {wanted} (in {})\n  list them with: gamelift-access instances {}",
            fleet.fleet_id,
            fleet.locations.join(", "),
            fleet.fleet_id
        ))
    })
}

/// DescribeGameSessions, then the instance or compute hosting the session:
/// the reference an on-call engineer usually has in hand.
pub(super) async fn by_game_session(
    gl: &GameLift,
    fleet: &FleetInfo,
    session: &str,
) -> Result<(String, String), ResolveError> {
    let arn = if session.starts_with("arn:") {
        session.to_owned()
    } else {
        format!(
            "arn:aws:gamelift:{}::gamesession/{}/{session}",
            fleet.region, fleet.fleet_id
        )
    };
    let out = gl
        .client()
        .await
        .describe_game_sessions()
        .game_session_id(&arn)
        .send()
        .await
        .map_err(|e| gl.classify("DescribeGameSessions", e))?;
    let gs = out
        .game_sessions()
        .first()
        .ok_or_else(|| ResolveError::NoMatch(format!("no game session {arn} in {}", fleet.region)))?;
    if gs.fleet_id().is_some_and(|f| f != fleet.fleet_id) {
        return Err(ResolveError::Mismatch(format!(
            "game session {arn} runs on fleet {}, not {}",
            gs.fleet_id().unwrap_or("?"),
            fleet.fleet_id
        )));
    }
    let location = gs.location().unwrap_or(&fleet.region).to_owned();
    if let Some(compute) = gs.compute_name() {
        return Ok((compute.to_owned(), location));
    }
    let ip: IpAddr = gs.ip_address().and_then(|ip| ip.parse().ok()).ok_or_else(|| {
        ResolveError::NoMatch(format!("game session {arn} has no IP address (is it still starting?)"))
    })?;
    let hosts = FleetInfo {
        locations: vec![location.clone()],
        ..fleet.clone()
    };
    by_address(gl, &hosts, &ip.to_string(), |s| ip_matches(s, &ip)).await
}

/// No instance named: on a terminal, ask; otherwise list the candidates.
async fn pick(gl: &GameLift, fleet: &FleetInfo, interactive: bool) -> Result<(String, String), ResolveError> {
    let active: Vec<InstanceSummary> = list(gl, fleet)
        .await?
        .into_iter()
        .filter(|s| s.status == "ACTIVE")
        .collect();
    if active.is_empty() {
        return Err(ResolveError::NoMatch(format!(
            "fleet {} has no ACTIVE instances in {}",
            fleet.fleet_id,
            fleet.locations.join(", ")
        )));
    }
    let now = output::now();
    let rows: Vec<Vec<String>> = active.iter().map(|s| s.row(now)).collect();
    let lines = output::align(&rows);
    if !interactive {
        let header = output::align(&[InstanceSummary::HEADER.iter().map(|h| h.to_string()).collect()]);
        let candidates = std::iter::once(&header[0])
            .chain(&lines)
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(ResolveError::Choose {
            fleet_id: fleet.fleet_id.clone(),
            candidates,
        });
    }
    let prompt = format!(
        "Instance of {} ({})",
        fleet.fleet_id,
        if fleet.name.is_empty() { "-" } else { &fleet.name }
    );
    let index = select(prompt, lines).await?;
    Ok((active[index].id.clone(), active[index].location.clone()))
}

/// A picker on the terminal over `lines`; the index chosen.
pub(super) async fn select(prompt: String, lines: Vec<String>) -> Result<usize, ResolveError> {
    let chosen = tokio::task::spawn_blocking(move || {
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(&lines)
            .default(0)
            .interact_opt()
    })
    .await
    .map_err(|e| ResolveError::Mismatch(format!("the picker failed: {e}")))?;
    // Esc or q gives None; Ctrl-C (a key, in the picker's raw mode) gives Interrupted.
    let chosen = match chosen {
        Ok(choice) => choice,
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => None,
        Err(e) => return Err(ResolveError::Mismatch(format!("the picker failed: {e}"))),
    };
    chosen.ok_or(ResolveError::Cancelled)
}
