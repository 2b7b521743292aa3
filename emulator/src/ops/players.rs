//! Player sessions and game session logs: DescribePlayerSessions and
//! GetGameSessionLogUrl. The archive behind a log URL is served by
//! `server::game_session_logs`.

use super::{Ctx, Input, find_fleet, paginate, pattern_error};
use crate::error::ApiError;
use crate::fixture::{Fixture, Fleet, GameSession, PlayerSession};
use crate::state::{self, LogUrl};
use crate::wire::{Obj, Out};

const GAME_SESSION_ID_PATTERN: &str = r"[a-zA-Z0-9:/-]+";
const PLAYER_SESSION_ID_PATTERN: &str = r"^psess-\S+";
const PLAYER_SESSION_STATUSES: [&str; 4] = ["RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT"];

/// GameLift keeps a game session's logs this long after it ends.
pub(crate) const LOG_RETENTION_SECS: u64 = 14 * 86_400;

/// The path prefix the pre-signed log URLs use on the emulator's own port.
pub(crate) const LOG_PATH_PREFIX: &str = "/game-session-logs/";

pub(super) fn describe_player_sessions(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let game_session_id = input.opt_str("GameSessionId")?;
    let player_id = input.opt_str("PlayerId")?;
    let player_session_id = input.opt_str("PlayerSessionId")?;
    let status = input.opt_str("PlayerSessionStatusFilter")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(id) = game_session_id {
        check_game_session_id("GameSessionId", id)?;
    }
    if let Some(p) = player_id
        && (p.is_empty() || p.chars().count() > 1024)
    {
        // Never echo a player ID: the model marks it sensitive.
        return Err(ApiError::invalid(
            "1 validation error detected: Value at 'playerId' failed to satisfy constraint: \
             Member must have length between 1 and 1024",
        ));
    }
    if let Some(id) = player_session_id
        && !is_player_session_id(id)
    {
        return Err(pattern_error(id, "PlayerSessionId", PLAYER_SESSION_ID_PATTERN));
    }
    if let Some(s) = status
        && !PLAYER_SESSION_STATUSES.contains(&s)
    {
        return Err(ApiError::invalid(format!(
            "Invalid PlayerSessionStatusFilter '{s}': must be one of RESERVED, ACTIVE, COMPLETED, TIMEDOUT."
        )));
    }
    let given = [game_session_id, player_id, player_session_id]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given != 1 {
        return Err(ApiError::invalid(
            "Exactly one of GameSessionId, PlayerId or PlayerSessionId must be specified.",
        ));
    }

    // Player sessions are regional: only those of the caller's region's fleets.
    let in_region = |ps: &&PlayerSession| {
        fx.game_session(&ps.game_session_id)
            .and_then(|g| fx.fleet(&g.fleet_id))
            .is_some_and(|f| f.region == region)
    };
    let matching: Vec<&PlayerSession> = if let Some(id) = player_session_id {
        // Limit and NextToken are ignored for a single player session.
        let found = fx
            .player_sessions
            .iter()
            .filter(in_region)
            .find(|ps| ps.player_session_id == id)
            .ok_or_else(|| ApiError::not_found(format!("Player session {id} not found.")))?;
        if status.is_some_and(|s| s != found.status) {
            Vec::new()
        } else {
            vec![found]
        }
    } else {
        if let Some(id) = game_session_id {
            let known = fx
                .game_session(id)
                .and_then(|g| fx.fleet(&g.fleet_id))
                .is_some_and(|f| f.region == region);
            if !known {
                return Err(ApiError::not_found(format!("Game session {id} not found.")));
            }
        }
        fx.player_sessions
            .iter()
            .filter(in_region)
            .filter(|ps| game_session_id.is_none_or(|id| ps.game_session_id == id))
            .filter(|ps| player_id.is_none_or(|p| ps.player_id == p))
            .filter(|ps| status.is_none_or(|s| ps.status == s))
            .collect()
    };
    let (page, next) = if player_session_id.is_some() {
        (&matching[..], None)
    } else {
        paginate(&matching, limit, next_token)?
    };
    let sessions = page
        .iter()
        .filter_map(|ps| player_session_out(fx, ps).map(Out::Map))
        .collect::<Vec<_>>();
    Ok(Out::Map(
        Obj::new().put("PlayerSessions", sessions).put_opt("NextToken", next),
    ))
}

fn player_session_out(fx: &Fixture, ps: &PlayerSession) -> Option<Obj> {
    let game = fx.game_session(&ps.game_session_id)?;
    let fleet = fx.fleet(&game.fleet_id)?;
    let (ip, dns) = super::compute::game_session_host(fx, fleet, game).unzip();
    let ended = matches!(ps.status.as_str(), "COMPLETED" | "TIMEDOUT");
    let termination = ended.then(|| termination_time(game).unwrap_or(ps.creation_time + 600.0));
    Some(
        Obj::new()
            .put("PlayerSessionId", &ps.player_session_id)
            .put("PlayerId", &ps.player_id)
            .put("GameSessionId", &game.game_session_id)
            .put("FleetId", &fleet.fleet_id)
            .put("FleetArn", fleet.arn())
            .put("CreationTime", Out::Time(ps.creation_time))
            .put_opt("TerminationTime", termination.map(Out::Time))
            .put("Status", &ps.status)
            .put_opt("IpAddress", ip)
            .put_opt("DnsName", dns)
            .put("Port", game.port),
    )
}

/// When a TERMINATED game session ended, in epoch seconds.
pub(crate) fn termination_time(game: &GameSession) -> Option<f64> {
    game.ended_secs_ago.map(|ago| state::clock_base() - ago as f64)
}

pub(super) fn get_game_session_log_url(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let id = input.req_str("GameSessionId")?;
    check_game_session_id("GameSessionId", id)?;
    let fx: &Fixture = ctx.fx;
    let not_found = || ApiError::not_found(format!("Game session {id} not found."));
    let game = fx.game_session(id).ok_or_else(not_found)?;
    let fleet: &Fleet = find_fleet(fx, ctx.region, &game.fleet_id).map_err(|_| not_found())?;
    if game.status != "TERMINATED" {
        return Err(ApiError::not_found(format!(
            "No logs found for game session {id}: it is {}; logs are stored when a game session ends.",
            game.status
        )));
    }
    let expired = game.ended_secs_ago.is_some_and(|ago| ago > LOG_RETENTION_SECS);
    if expired || game.log_files.is_empty() {
        return Err(ApiError::not_found(format!(
            "No logs found for game session {id} in fleet {}.",
            fleet.fleet_id
        )));
    }
    let Some(base) = ctx.state.self_url.clone() else {
        return Err(ApiError::new(
            crate::error::ErrorCode::InternalService(500),
            "the emulator does not know its own address",
        ));
    };
    let token = state::random_hex(40);
    let lifetime = ctx.state.log_url_lifetime;
    ctx.state.log_urls.insert(
        token.clone(),
        LogUrl {
            game_session_id: game.game_session_id.clone(),
            expires_at: std::time::Instant::now() + lifetime,
        },
    );
    let name = game.game_session_id.rsplit('/').next().unwrap_or("logs");
    let url = format!(
        "{base}{LOG_PATH_PREFIX}{token}/{name}.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires={}&X-Amz-Signature={token}",
        lifetime.as_secs()
    );
    Ok(Out::Map(Obj::new().put("PreSignedUrl", url)))
}

fn check_game_session_id(name: &str, id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= 512
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(pattern_error(id, name, GAME_SESSION_ID_PATTERN))
    }
}

fn is_player_session_id(s: &str) -> bool {
    s.strip_prefix("psess-")
        .is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

/// The zip archive of a game session's stored logs, entries named as the
/// fixture gives them.
pub(crate) fn log_archive(game: &GameSession) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for file in &game.log_files {
        zip.start_file(file.path.as_str(), options).map_err(|e| e.to_string())?;
        zip.write_all(file.contents.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::sample;
    use crate::ops::{Operation, execute};
    use crate::state::RuntimeState;
    use serde_json::json;

    fn run(body: serde_json::Value) -> Result<Out, ApiError> {
        let mut fx = Fixture::sample();
        let mut state = RuntimeState {
            self_url: Some("http://127.0.0.1:1".to_owned()),
            ..RuntimeState::default()
        };
        let mut ctx = Ctx {
            fx: &mut fx,
            state: &mut state,
            region: "us-west-2",
            access_key_id: "AKIDEXAMPLE",
            session_token: None,
        };
        execute(Operation::DescribePlayerSessions, &mut ctx, &body)
    }

    fn count(out: &Out) -> usize {
        match out {
            Out::Map(obj) => match obj.get("PlayerSessions") {
                Some(Out::List(l)) => l.len(),
                _ => usize::MAX,
            },
            _ => usize::MAX,
        }
    }

    #[test]
    fn exactly_one_lookup_key() {
        assert!(run(json!({})).is_err());
        assert!(run(json!({"PlayerId": "a", "PlayerSessionId": sample::PLAYER_SESSION})).is_err());
        assert!(run(json!({"PlayerSessionId": "nope"})).is_err());
        assert!(run(json!({"PlayerId": sample::BUSY_PLAYER, "PlayerSessionStatusFilter": "GONE"})).is_err());
    }

    #[test]
    fn by_player_with_status_and_paging() {
        let all = run(json!({"PlayerId": sample::BUSY_PLAYER})).unwrap();
        assert_eq!(count(&all), 2);
        let active = run(json!({"PlayerId": sample::BUSY_PLAYER, "PlayerSessionStatusFilter": "ACTIVE"})).unwrap();
        assert_eq!(count(&active), 1);
        let page = run(json!({"PlayerId": sample::BUSY_PLAYER, "Limit": 1})).unwrap();
        assert_eq!(count(&page), 1);
        let Out::Map(obj) = &page else { panic!() };
        assert!(obj.get("NextToken").is_some());
        let by_game = run(json!({"GameSessionId": sample::LINUX_SDK4_GAME_SESSION})).unwrap();
        assert_eq!(count(&by_game), 3);
        let err = run(json!({"PlayerSessionId": "psess-missing"})).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::NotFound);
    }

    #[test]
    fn archives_hold_the_fixture_files() {
        let fx = Fixture::sample();
        let game = fx.game_session(sample::ENDED_GAME_SESSION).unwrap();
        let bytes = log_archive(game).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), 2);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("server.log").unwrap(), &mut text).unwrap();
        assert_eq!(text, sample::ENDED_GAME_SESSION_LOGS[0].1);
    }
}
