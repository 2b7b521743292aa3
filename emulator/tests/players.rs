//! DescribePlayerSessions and GetGameSessionLogUrl, driven by the real
//! aws-sdk-gamelift (RPC v2 CBOR) and the Python `aws` CLI (awsJson1_1),
//! and the pre-signed log URLs the emulator serves.

mod common;

use aws_sdk_gamelift::types::PlayerSessionStatus;
use common::{aws_cli, aws_cli_json, client, emulator, raw_request};
use gamelift_emulator::Protocol;
use gamelift_emulator::fixture::sample;

#[tokio::test]
async fn player_sessions_by_id_player_and_game_session_with_paging() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let one = gl
        .describe_player_sessions()
        .player_session_id(sample::PLAYER_SESSION)
        .send()
        .await
        .expect("by id");
    let [ps] = one.player_sessions() else { panic!("{one:?}") };
    assert_eq!(ps.player_id(), Some(sample::PLAYER));
    assert_eq!(ps.game_session_id(), Some(sample::LINUX_SDK4_GAME_SESSION));
    assert_eq!(ps.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
    assert_eq!(ps.status(), Some(&PlayerSessionStatus::Active));
    assert_eq!(ps.ip_address(), Some("127.0.0.1"));
    assert_eq!(ps.port(), Some(7777));
    assert_eq!(ps.termination_time(), None);

    // Every page, one at a time.
    let busy: Vec<_> = gl
        .describe_player_sessions()
        .player_id(sample::BUSY_PLAYER)
        .limit(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("pages");
    let ids: Vec<_> = busy.iter().filter_map(|p| p.player_session_id()).collect();
    assert_eq!(ids, sample::BUSY_PLAYER_SESSIONS);
    let pages = emu.calls_to("DescribePlayerSessions").len();
    assert!(pages >= 3, "one call per page: {pages}");

    let reserved = gl
        .describe_player_sessions()
        .player_id(sample::BUSY_PLAYER)
        .player_session_status_filter("RESERVED")
        .send()
        .await
        .expect("filter");
    assert_eq!(reserved.player_sessions().len(), 1);

    let in_game = gl
        .describe_player_sessions()
        .game_session_id(sample::LINUX_SDK4_GAME_SESSION)
        .send()
        .await
        .expect("by game session");
    assert_eq!(in_game.player_sessions().len(), 3);
    let left = in_game
        .player_sessions()
        .iter()
        .find(|p| p.player_session_id() == Some(sample::LEFT_PLAYER_SESSION))
        .expect("the player who left");
    assert!(left.termination_time().is_some());

    // Regional: the us-east-1 endpoint knows nothing of us-west-2's players.
    let east = client(&emu, "us-east-1").await;
    let none = east
        .describe_player_sessions()
        .player_id(sample::PLAYER)
        .send()
        .await
        .expect("other region");
    assert!(none.player_sessions().is_empty());
    let err = east
        .describe_player_sessions()
        .player_session_id(sample::PLAYER_SESSION)
        .send()
        .await
        .expect_err("other region")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn player_session_requests_are_validated() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let none = gl
        .describe_player_sessions()
        .send()
        .await
        .expect_err("no key")
        .into_service_error();
    assert!(none.is_invalid_request_exception(), "{none:?}");
    let two = gl
        .describe_player_sessions()
        .player_id("a")
        .game_session_id(sample::LINUX_SDK4_GAME_SESSION)
        .send()
        .await
        .expect_err("two keys")
        .into_service_error();
    assert!(two.is_invalid_request_exception(), "{two:?}");
    let pattern = gl
        .describe_player_sessions()
        .player_session_id("session-1")
        .send()
        .await
        .expect_err("pattern")
        .into_service_error();
    let message = pattern.meta().message().unwrap_or_default().to_owned();
    assert!(
        message.contains("playerSessionId") && message.contains("psess-"),
        "{message}"
    );
    let status = gl
        .describe_player_sessions()
        .player_id("a")
        .player_session_status_filter("LEFT")
        .send()
        .await
        .expect_err("status")
        .into_service_error();
    assert!(status.is_invalid_request_exception(), "{status:?}");
    let log = gl
        .get_game_session_log_url()
        .send()
        .await
        .expect_err("required")
        .into_service_error();
    assert!(
        log.meta().message().unwrap_or_default().contains("'gameSessionId'"),
        "{log:?}"
    );
}

/// `GET <url>` by hand, with optional extra header lines.
fn get(emu: &gamelift_emulator::Emulator, url: &str, extra: &str) -> (u16, Vec<u8>) {
    let path = url
        .split_once("127.0.0.1")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap();
    let (status, _, body) = raw_request(emu, &format!("GET {path} HTTP/1.1\r\n{extra}"), b"");
    (status, body)
}

#[tokio::test]
async fn log_urls_serve_the_archive_until_they_expire() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let url = gl
        .get_game_session_log_url()
        .game_session_id(sample::ENDED_GAME_SESSION)
        .send()
        .await
        .expect("GetGameSessionLogUrl")
        .pre_signed_url
        .expect("a URL");
    assert!(url.starts_with(&emu.endpoint()), "{url}");
    let (status, body) = get(&emu, &url, "");
    assert_eq!(status, 200);
    assert_eq!(&body[..2], b"PK", "a zip archive");

    // Credentials on a pre-signed request are refused, as S3 refuses them.
    let (status, body) = get(&emu, &url, "Authorization: AWS4-HMAC-SHA256 Credential=x\r\n");
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let downloads = emu.log_downloads();
    assert_eq!(downloads.len(), 2);
    assert!(!downloads[0].had_credentials && downloads[1].had_credentials);

    emu.set_log_url_lifetime(std::time::Duration::ZERO);
    let url = gl
        .get_game_session_log_url()
        .game_session_id(sample::ENDED_GAME_SESSION)
        .send()
        .await
        .expect("again")
        .pre_signed_url
        .expect("a URL");
    let (status, body) = get(&emu, &url, "");
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("Request has expired"));

    for (session, why) in [
        (sample::LINUX_SDK4_GAME_SESSION, "it is ACTIVE"),
        (sample::OLD_GAME_SESSION, "No logs found"),
    ] {
        let err = gl
            .get_game_session_log_url()
            .game_session_id(session)
            .send()
            .await
            .expect_err(why)
            .into_service_error();
        assert!(err.is_not_found_exception(), "{err:?}");
        assert!(err.meta().message().unwrap_or_default().contains(why), "{err:?}");
    }
}

#[tokio::test]
async fn aws_cli_agrees_on_player_sessions_and_log_urls() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let cli = aws_cli_json(
        &emu,
        &[
            "gamelift",
            "describe-player-sessions",
            "--player-id",
            sample::BUSY_PLAYER,
        ],
    );
    let sdk = gl
        .describe_player_sessions()
        .player_id(sample::BUSY_PLAYER)
        .send()
        .await
        .expect("SDK");
    let ids: Vec<&str> = cli["PlayerSessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PlayerSessionId"].as_str().unwrap())
        .collect();
    let sdk_ids: Vec<&str> = sdk
        .player_sessions()
        .iter()
        .filter_map(|p| p.player_session_id())
        .collect();
    assert_eq!(ids, sdk_ids);
    assert_eq!(cli["PlayerSessions"][1]["Status"], "RESERVED");

    let cli = aws_cli_json(
        &emu,
        &[
            "gamelift",
            "get-game-session-log-url",
            "--game-session-id",
            sample::ENDED_GAME_SESSION,
        ],
    );
    let url = cli["PreSignedUrl"].as_str().expect("PreSignedUrl");
    assert_eq!(get(&emu, url, "").0, 200);

    let (code, _, stderr) = aws_cli(
        &emu,
        &[
            "gamelift",
            "get-game-session-log-url",
            "--game-session-id",
            sample::OLD_GAME_SESSION,
        ],
    )
    .expect("aws is installed");
    assert_ne!(code, 0);
    assert!(stderr.contains("NotFoundException"), "{stderr}");
    let protocols: Vec<_> = emu
        .calls_to("GetGameSessionLogUrl")
        .iter()
        .map(|c| c.protocol)
        .collect();
    assert_eq!(protocols, [Protocol::Json, Protocol::Json]);
}
