//! Player references: a player session ID (`psess-…`) or a player
//! (`player:<PlayerId>`) becomes the game session to follow to an instance.
//! DescribePlayerSessions is regional: it goes to the fleet's home region,
//! like every other call for the fleet.

use serde::Serialize;

use super::{FleetInfo, ResolveError};
use crate::aws::GameLift;
use crate::output;

/// One player session, as plain values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayerSessionSummary {
    pub player_session_id: String,
    /// RESERVED, ACTIVE, COMPLETED or TIMEDOUT.
    pub status: String,
    /// The game session's full ID (an ARN).
    pub game_session_id: String,
    pub fleet_id: String,
    /// From the game session ID: remote locations are part of it.
    pub location: Option<String>,
    pub ip_address: Option<String>,
    pub port: Option<i32>,
    /// Seconds since the Unix epoch.
    pub creation_time: Option<i64>,
    pub termination_time: Option<i64>,
}

impl PlayerSessionSummary {
    /// The player is connected, or about to be.
    pub fn is_live(&self) -> bool {
        self.status == "ACTIVE" || self.status == "RESERVED"
    }

    /// The player has left (or never came).
    pub fn has_ended(&self) -> bool {
        self.status == "COMPLETED" || self.status == "TIMEDOUT"
    }

    /// PLAYER SESSION, GAME SESSION, LOCATION, IP:PORT, STATUS, AGE.
    pub fn row(&self, home_region: &str, now: i64) -> Vec<String> {
        vec![
            self.player_session_id.clone(),
            short_game_session(&self.game_session_id).to_owned(),
            self.location.clone().unwrap_or_else(|| home_region.to_owned()),
            address(self.ip_address.as_deref(), self.port),
            self.status.clone(),
            self.creation_time
                .map_or_else(|| "-".to_owned(), |t| output::age(now - t)),
        ]
    }

    pub const HEADER: [&'static str; 6] = ["PLAYER SESSION", "GAME SESSION", "LOCATION", "IP:PORT", "STATUS", "AGE"];
}

/// `ip:port`, `ip`, or `-`.
pub fn address(ip: Option<&str>, port: Option<i32>) -> String {
    match (ip, port) {
        (Some(ip), Some(port)) if ip.contains(':') => format!("[{ip}]:{port}"),
        (Some(ip), Some(port)) => format!("{ip}:{port}"),
        (Some(ip), None) => ip.to_owned(),
        (None, _) => "-".to_owned(),
    }
}

/// The last part of a game session ARN, `gsess-…` (or the ID as given).
pub fn short_game_session(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// The location a game session ARN names: remote locations add one part,
/// `…:gamesession/<fleet>/<location>/<id>`. `None` for the home region.
pub fn location_in_arn(id: &str) -> Option<String> {
    let (_, rest) = id.split_once(":gamesession/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    (parts.len() == 3).then(|| parts[1].to_owned())
}

fn summary(ps: &aws_sdk_gamelift::types::PlayerSession) -> PlayerSessionSummary {
    let game_session_id = ps.game_session_id().unwrap_or_default().to_owned();
    PlayerSessionSummary {
        player_session_id: ps.player_session_id().unwrap_or_default().to_owned(),
        status: ps.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        location: location_in_arn(&game_session_id),
        game_session_id,
        fleet_id: ps.fleet_id().unwrap_or_default().to_owned(),
        ip_address: ps.ip_address().map(str::to_owned),
        port: ps.port(),
        creation_time: ps.creation_time().map(|t| t.secs()),
        termination_time: ps.termination_time().map(|t| t.secs()),
    }
}

/// DescribePlayerSessions(PlayerSessionId).
pub async fn by_id(gl: &GameLift, player_session_id: &str) -> Result<PlayerSessionSummary, ResolveError> {
    let out = gl
        .client()
        .await
        .describe_player_sessions()
        .player_session_id(player_session_id)
        .send()
        .await
        .map_err(|e| gl.classify("DescribePlayerSessions", e))?;
    out.player_sessions()
        .first()
        .map(summary)
        .ok_or_else(|| ResolveError::NoMatch(format!("no player session {player_session_id} in {}", gl.region)))
}

/// DescribePlayerSessions(PlayerId), every page, in every fleet of the region.
pub async fn by_player(gl: &GameLift, player_id: &str) -> Result<Vec<PlayerSessionSummary>, ResolveError> {
    let sessions = gl
        .client()
        .await
        .describe_player_sessions()
        .player_id(player_id)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| gl.classify("DescribePlayerSessions", e))?;
    Ok(sessions.iter().map(summary).collect())
}

/// A player session's game session, if it is on `fleet`. A session the
/// player has left still resolves (the game may go on), with a warning.
pub async fn game_session_of_player_session(
    gl: &GameLift,
    fleet: &FleetInfo,
    player_session_id: &str,
) -> Result<String, ResolveError> {
    let ps = by_id(gl, player_session_id).await?;
    if ps.fleet_id != fleet.fleet_id {
        return Err(ResolveError::Mismatch(format!(
            "player session {player_session_id} is on fleet {}, not {}\n  try: gamelift-access connect {} {player_session_id}",
            ps.fleet_id, fleet.fleet_id, ps.fleet_id
        )));
    }
    if ps.has_ended() {
        eprintln!(
            "gamelift-access: warning: player session {player_session_id} is {}: the player has left; \
             its game session {} may still be running",
            ps.status,
            short_game_session(&ps.game_session_id)
        );
    }
    Ok(ps.game_session_id)
}

/// The game session a player is in on `fleet` (ACTIVE or RESERVED player
/// sessions): one is used; several are offered in a picker on a terminal,
/// listed otherwise; none says where the player does have sessions.
pub async fn game_session_of_player(
    gl: &GameLift,
    fleet: &FleetInfo,
    player_id: &str,
    interactive: bool,
) -> Result<String, ResolveError> {
    let all = by_player(gl, player_id).await?;
    let here: Vec<&PlayerSessionSummary> = all
        .iter()
        .filter(|p| p.fleet_id == fleet.fleet_id && p.is_live())
        .collect();
    match here.as_slice() {
        [] => Err(ResolveError::NoMatch(nowhere_message(fleet, player_id, &all))),
        [one] => Ok(one.game_session_id.clone()),
        several => {
            let now = output::now();
            let rows: Vec<Vec<String>> = several.iter().map(|p| p.row(&fleet.region, now)).collect();
            if !interactive {
                let mut all_rows = vec![PlayerSessionSummary::HEADER.iter().map(|h| h.to_string()).collect()];
                all_rows.extend(rows);
                let listing = output::align(&all_rows)
                    .iter()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(ResolveError::Mismatch(format!(
                    "player {player_id} is in {} game sessions of fleet {}:\n{listing}\n  \
                     pass the player session ID (first column) instead of player:{player_id}",
                    several.len(),
                    fleet.fleet_id
                )));
            }
            let lines = output::align(&rows);
            let index = super::instance::select(format!("Game session of player {player_id}"), lines).await?;
            Ok(several[index].game_session_id.clone())
        }
    }
}

/// Where the player does have sessions, when none is live on `fleet`.
/// One indented line per player session, for the messages below.
fn listing<'a>(sessions: impl IntoIterator<Item = &'a PlayerSessionSummary>) -> String {
    sessions
        .into_iter()
        .map(|p| {
            format!(
                "  {} {} on fleet {} (game session {})",
                p.player_session_id,
                p.status,
                p.fleet_id,
                short_game_session(&p.game_session_id)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn nowhere_message(fleet: &FleetInfo, player_id: &str, all: &[PlayerSessionSummary]) -> String {
    let elsewhere: Vec<&PlayerSessionSummary> = all
        .iter()
        .filter(|p| p.fleet_id != fleet.fleet_id && p.is_live())
        .collect();
    let head = format!(
        "player {player_id} has no ACTIVE or RESERVED player session on fleet {}",
        fleet.fleet_id
    );
    if !elsewhere.is_empty() {
        let list = listing(elsewhere.iter().copied());
        return format!(
            "{head}; they are in another fleet:\n{list}\n  try: gamelift-access connect {} player:{player_id}",
            elsewhere[0].fleet_id
        );
    }
    if !all.is_empty() {
        let list = listing(all);
        return format!(
            "{head}; they only have ended ones:\n{list}\n  \
             read an ended session's logs with: gamelift-access logs {} <game session>",
            fleet.fleet_id
        );
    }
    format!(
        "{head}, nor any player session in {}\n  player sessions are regional: check --region (or pass the fleet's ARN)",
        fleet.region
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_come_from_the_game_session_arn() {
        assert_eq!(
            location_in_arn("arn:aws:gamelift:us-west-2::gamesession/fleet-1/us-east-1/gsess-1"),
            Some("us-east-1".to_owned())
        );
        assert_eq!(
            location_in_arn("arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-1"),
            None
        );
        assert_eq!(
            short_game_session("arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-1"),
            "gsess-1"
        );
        assert_eq!(address(Some("10.0.0.1"), Some(7777)), "10.0.0.1:7777");
        assert_eq!(address(Some("2001:db8::1"), Some(7777)), "[2001:db8::1]:7777");
        assert_eq!(address(None, Some(1)), "-");
    }
}
