//! sessions: what runs where. A fleet's game sessions in every location,
//! with the instance hosting each; a player's sessions; and (`logs`) the
//! logs GameLift stored for an ended game session.

mod api;
pub mod logs;

use std::collections::HashMap;

use serde::Serialize;

use crate::aws::{AwsError, GameLift};
use crate::error::code;
use crate::output;
use crate::resolve::{FleetInfo, PlayerSessionSummary, ResolveError, Resolver, address, short_game_session};

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// An argument that does not fit this fleet (a location, a status, DIR).
    #[error("{0}")]
    Usage(String),
    /// No stored logs: too old, none written, or no session to take them from.
    #[error("{0}")]
    NoLogs(String),
    /// The game session has not ended, so GameLift has stored no logs yet.
    #[error("{0}")]
    NotEnded(String),
    /// The pre-signed URL did not give the archive.
    #[error("{0}")]
    Download(String),
    /// The archive is not one we unpack: an entry that would land outside
    /// DIR, a link, or not a zip at all.
    #[error("{0}")]
    BadArchive(String),
    /// A local file or directory could not be written.
    #[error("{0}")]
    Io(String),
}

impl SessionsError {
    /// Exit codes for the variants of our own; README.md ("Exit codes").
    pub fn exit_code(&self) -> Option<u8> {
        Some(match self {
            SessionsError::Resolve(_) | SessionsError::Aws(_) => return None,
            SessionsError::Usage(_) => code::USAGE,
            SessionsError::NoLogs(_) => code::NOT_FOUND,
            SessionsError::NotEnded(_) => code::INVALID_REQUEST,
            SessionsError::Download(_) => code::UNAVAILABLE,
            SessionsError::BadArchive(_) => code::BAD_DATA,
            SessionsError::Io(_) => code::IO,
        })
    }
}

/// One game session, for listing (`sessions`, JSON with these field names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GameSessionRow {
    pub game_session_id: String,
    pub name: Option<String>,
    pub status: String,
    pub location: String,
    /// The instance ID (EC2 fleets) or compute name hosting the session.
    pub instance_id: Option<String>,
    pub ip_address: Option<String>,
    pub port: Option<i32>,
    pub current_players: Option<i32>,
    pub maximum_players: Option<i32>,
    /// Seconds since the Unix epoch.
    pub creation_time: Option<i64>,
    pub termination_time: Option<i64>,
}

impl GameSessionRow {
    pub const HEADER: [&'static str; 7] = [
        "GAME SESSION",
        "STATUS",
        "LOCATION",
        "INSTANCE",
        "IP:PORT",
        "PLAYERS",
        "AGE",
    ];

    pub fn row(&self, now: i64) -> Vec<String> {
        let dash = || "-".to_owned();
        vec![
            self.game_session_id.clone(),
            self.status.clone(),
            self.location.clone(),
            self.instance_id.clone().unwrap_or_else(dash),
            address(self.ip_address.as_deref(), self.port),
            match (self.current_players, self.maximum_players) {
                (Some(c), Some(m)) => format!("{c}/{m}"),
                (Some(c), None) => c.to_string(),
                _ => dash(),
            },
            self.creation_time.map_or_else(dash, |t| output::age(now - t)),
        ]
    }
}

/// One of a player's sessions on the fleet, with the instance hosting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayerSessionRow {
    pub player_session_id: String,
    pub status: String,
    pub game_session_id: String,
    pub location: String,
    pub instance_id: Option<String>,
    pub ip_address: Option<String>,
    pub port: Option<i32>,
    /// Seconds since the Unix epoch.
    pub creation_time: Option<i64>,
    pub termination_time: Option<i64>,
}

impl PlayerSessionRow {
    pub const HEADER: [&'static str; 7] = [
        "PLAYER SESSION",
        "STATUS",
        "GAME SESSION",
        "LOCATION",
        "INSTANCE",
        "IP:PORT",
        "AGE",
    ];

    pub fn row(&self, now: i64) -> Vec<String> {
        let dash = || "-".to_owned();
        vec![
            self.player_session_id.clone(),
            self.status.clone(),
            short_game_session(&self.game_session_id).to_owned(),
            self.location.clone(),
            self.instance_id.clone().unwrap_or_else(dash),
            address(self.ip_address.as_deref(), self.port),
            self.creation_time.map_or_else(dash, |t| output::age(now - t)),
        ]
    }
}

/// Game session statuses, and the default filter.
pub const GAME_SESSION_STATUSES: [&str; 5] = ["ACTIVE", "ACTIVATING", "TERMINATING", "TERMINATED", "ERROR"];
pub const DEFAULT_STATUSES: [&str; 2] = ["ACTIVE", "ACTIVATING"];
pub const PLAYER_SESSION_STATUSES: [&str; 4] = ["RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT"];

/// Upper-cases and checks `--status` values against `allowed`.
pub fn statuses(given: &[String], allowed: &[&str]) -> Result<Vec<String>, SessionsError> {
    given
        .iter()
        .map(|s| {
            let s = s.to_ascii_uppercase();
            if allowed.contains(&s.as_str()) {
                Ok(s)
            } else {
                Err(SessionsError::Usage(format!(
                    "'{s}' is not a status here; use one of {}",
                    allowed.join(", ")
                )))
            }
        })
        .collect()
}

/// Checks `--location` values against the fleet's; empty means all of them.
pub fn locations(fleet: &FleetInfo, given: &[String]) -> Result<Vec<String>, SessionsError> {
    for l in given {
        if !fleet.locations.contains(l) {
            return Err(SessionsError::Usage(format!(
                "fleet {} has no location {l}; its locations: {}",
                fleet.fleet_id,
                fleet.locations.join(", ")
            )));
        }
    }
    Ok(if given.is_empty() {
        fleet.locations.clone()
    } else {
        given.to_vec()
    })
}

/// Every game session of the fleet in `locations` (all statuses), with the
/// instance hosting each: the compute name GameLift gives, or else the
/// instance with the session's IP in its location.
pub async fn game_sessions(
    gl: &GameLift,
    resolver: &Resolver<'_>,
    fleet: &FleetInfo,
    locations: &[String],
) -> Result<Vec<GameSessionRow>, SessionsError> {
    let mut rows = vec![];
    for location in locations {
        rows.extend(api::in_location(gl, &fleet.fleet_id, location).await?);
    }
    if rows.iter().any(|r| r.instance_id.is_none() && r.ip_address.is_some()) {
        let listed = resolver
            .instances(&FleetInfo {
                locations: locations.to_vec(),
                ..fleet.clone()
            })
            .await?;
        let by_address: HashMap<(&str, &str), &str> = listed
            .iter()
            .filter_map(|i| Some(((i.location.as_str(), i.ip_address.as_deref()?), i.id.as_str())))
            .collect();
        for r in rows.iter_mut().filter(|r| r.instance_id.is_none()) {
            if let Some(ip) = r.ip_address.as_deref() {
                r.instance_id = by_address.get(&(r.location.as_str(), ip)).map(|id| (*id).to_owned());
            }
        }
    }
    Ok(rows)
}

/// A player's sessions on the fleet, each with the instance hosting it.
pub async fn player_sessions(
    gl: &GameLift,
    resolver: &Resolver<'_>,
    fleet: &FleetInfo,
    player_id: &str,
) -> Result<Vec<PlayerSessionRow>, SessionsError> {
    let mine: Vec<PlayerSessionSummary> = resolver
        .player_sessions(player_id)
        .await?
        .into_iter()
        .filter(|p| p.fleet_id == fleet.fleet_id)
        .collect();
    if mine.is_empty() {
        return Ok(vec![]);
    }
    let hosts = game_sessions(gl, resolver, fleet, &fleet.locations).await?;
    Ok(mine
        .into_iter()
        .map(|p| {
            let host = hosts.iter().find(|g| g.game_session_id == p.game_session_id);
            PlayerSessionRow {
                location: host
                    .map(|g| g.location.clone())
                    .or(p.location)
                    .unwrap_or_else(|| fleet.region.clone()),
                instance_id: host.and_then(|g| g.instance_id.clone()),
                player_session_id: p.player_session_id,
                status: p.status,
                game_session_id: p.game_session_id,
                ip_address: p.ip_address,
                port: p.port,
                creation_time: p.creation_time,
                termination_time: p.termination_time,
            }
        })
        .collect())
}
