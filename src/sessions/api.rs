//! The GameLift calls `sessions` and `logs` make; aws-sdk types stay here.

use secrecy::SecretString;

use super::{GameSessionRow, SessionsError};
use crate::aws::{AwsError, GameLift};

fn row(gs: &aws_sdk_gamelift::types::GameSession, location: &str) -> GameSessionRow {
    GameSessionRow {
        game_session_id: gs.game_session_id().unwrap_or_default().to_owned(),
        name: gs.name().map(str::to_owned),
        status: gs.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        location: gs.location().unwrap_or(location).to_owned(),
        instance_id: gs.compute_name().map(str::to_owned),
        ip_address: gs.ip_address().map(str::to_owned),
        port: gs.port(),
        current_players: gs.current_player_session_count(),
        maximum_players: gs.maximum_player_session_count(),
        creation_time: gs.creation_time().map(|t| t.secs()),
        termination_time: gs.termination_time().map(|t| t.secs()),
    }
}

/// DescribeGameSessions(FleetId, Location), every page.
pub async fn in_location(gl: &GameLift, fleet_id: &str, location: &str) -> Result<Vec<GameSessionRow>, AwsError> {
    let sessions = gl
        .client()
        .await
        .describe_game_sessions()
        .fleet_id(fleet_id)
        .location(location)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| gl.classify("DescribeGameSessions", e))?;
    Ok(sessions.iter().map(|gs| row(gs, location)).collect())
}

/// DescribeGameSessions(GameSessionId).
pub async fn one(gl: &GameLift, game_session_id: &str, home: &str) -> Result<Option<GameSessionRow>, AwsError> {
    let out = gl
        .client()
        .await
        .describe_game_sessions()
        .game_session_id(game_session_id)
        .send()
        .await
        .map_err(|e| gl.classify("DescribeGameSessions", e))?;
    Ok(out.game_sessions().first().map(|gs| row(gs, home)))
}

/// GetGameSessionLogUrl. The URL is a bearer credential for the archive:
/// it goes straight into a secret.
pub async fn log_url(gl: &GameLift, game_session_id: &str) -> Result<SecretString, SessionsError> {
    let out = gl
        .client()
        .await
        .get_game_session_log_url()
        .game_session_id(game_session_id)
        .send()
        .await
        .map_err(|e| match gl.classify("GetGameSessionLogUrl", e) {
            AwsError::NotFound { message, .. } => SessionsError::NoLogs(format!(
                "GameLift has no stored logs for game session {game_session_id}: {message}\n  \
                 logs are stored when a game session ends, if its server process named log paths \
                 (ProcessReady's logParameters), and kept 14 days"
            )),
            other => SessionsError::Aws(other),
        })?;
    out.pre_signed_url.map(SecretString::from).ok_or_else(|| {
        SessionsError::NoLogs(format!(
            "GameLift returned no log URL for game session {game_session_id}"
        ))
    })
}
