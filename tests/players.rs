//! From a player's report to their server: `psess-…` and `player:ID`
//! references, `sessions` and `logs`, end to end against the emulator, the
//! real aws-sdk-gamelift and (SDK 4) the real ssh and sshd.

mod common;

use common::*;
use gamelift_emulator::fixture::sample;
use gamelift_emulator::{GameSession, LogFile};

const SDK5_FLEET: &str = sample::LINUX_SDK5_FLEET;

/// `connect FLEET REF --port <sshd> -- echo landed-on-$HOSTNAME-ish`.
fn connect_and_echo(w: &World, reference: &str) -> std::process::Output {
    let mut cmd = w.cmd();
    cmd.args([
        "connect",
        FLEET,
        reference,
        "--port",
        &w.port().to_string(),
        "--",
        "echo",
        "landed",
    ]);
    run(cmd)
}

#[test]
fn a_player_session_and_a_player_land_on_the_hosting_instance_over_ssh() {
    let w = World::with_sshd();
    for reference in [sample::PLAYER_SESSION.to_owned(), format!("player:{}", sample::PLAYER)] {
        let out = connect_and_echo(&w, &reference);
        assert_eq!(code(out.status), 0, "{reference}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "landed\n");
    }
    let access = w.emulator.calls_to("GetInstanceAccess");
    assert_eq!(access.len(), 2);
    assert!(access.iter().all(|c| c.body["InstanceId"] == INSTANCE));
    let lookups = w.emulator.calls_to("DescribePlayerSessions");
    assert_eq!(lookups.len(), 2);
    assert_eq!(lookups[0].body["PlayerSessionId"], sample::PLAYER_SESSION);
    assert_eq!(lookups[1].body["PlayerId"], sample::PLAYER);
    assert!(lookups.iter().all(|c| c.region == REGION));
    assert!(w.key_files().is_empty());
}

#[test]
fn a_player_who_left_still_resolves_with_a_warning() {
    let w = World::with_sshd();
    let out = connect_and_echo(&w, sample::LEFT_PLAYER_SESSION);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "landed\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("COMPLETED") && err.contains("the player has left"),
        "{err}"
    );
}

#[test]
fn on_sdk5_the_player_session_starts_the_ssm_session_of_its_compute() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    for reference in [
        sample::SDK5_PLAYER_SESSION.to_owned(),
        format!("player:{}", sample::SDK5_PLAYER),
    ] {
        let mut cmd = w.cmd();
        cmd.env("PATH", path_with(&plugin.bin_dir, &["aws"]))
            .args(["connect", SDK5_FLEET, &reference]);
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{reference}: {}", text(&out.stderr));
    }
    let runs = plugin.runs();
    assert_eq!(runs.len(), 2);
    for r in &runs {
        // The game session runs in us-east-1: the session is started there.
        assert_eq!(r.argv[1], "us-east-1");
        let request: serde_json::Value = serde_json::from_str(&r.argv[4]).unwrap();
        assert_eq!(
            request,
            serde_json::json!({"Target": sample::LINUX_SDK5_REMOTE_INSTANCE})
        );
    }
    let access = w.emulator.calls_to("GetComputeAccess");
    assert!(
        access
            .iter()
            .all(|c| c.body["ComputeName"] == sample::LINUX_SDK5_REMOTE_INSTANCE)
    );
}

#[test]
fn connect_runs_a_command_on_sdk5_through_the_non_interactive_document() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let mut cmd = w.cmd();
    cmd.env("PATH", path_with(&plugin.bin_dir, &["aws"])).args([
        "connect",
        SDK5_FLEET,
        sample::LINUX_SDK5_INSTANCE,
        "--",
        "tail",
        "-n",
        "5",
        "/local/game/logs/server.log",
    ]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let runs = plugin.runs();
    assert_eq!(runs.len(), 1);
    let request: serde_json::Value = serde_json::from_str(&runs[0].argv[4]).unwrap();
    assert_eq!(
        request,
        serde_json::json!({
            "Target": sample::LINUX_SDK5_INSTANCE,
            "DocumentName": "AWS-StartNonInteractiveCommand",
            "Parameters": {"command": ["tail -n 5 /local/game/logs/server.log"]},
        })
    );
    let sessions = w.emulator.ssm_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].document_name, "AWS-StartNonInteractiveCommand");
    assert!(sessions[0].terminated);
}

#[test]
fn several_sessions_off_a_terminal_are_listed_with_the_reference_that_picks_each() {
    let w = World::with_sshd();
    let player = format!("player:{}", sample::BUSY_PLAYER);
    let out = connect_and_echo(&w, &player);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for psess in sample::BUSY_PLAYER_SESSIONS {
        let line = err
            .lines()
            .find(|l| l.trim_start().starts_with(psess))
            .unwrap_or_else(|| panic!("no line for {psess}: {err}"));
        assert!(line.contains("us-west-2") && line.contains("127.0.0.1:77"), "{line}");
    }
    assert!(err.contains("ACTIVE") && err.contains("RESERVED"), "{err}");
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());

    // The listed reference picks that session.
    let out = connect_and_echo(&w, sample::BUSY_PLAYER_SESSIONS[1]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "landed\n");
}

#[test]
fn a_player_with_no_session_in_the_fleet_is_told_where_they_are() {
    let w = World::without_sshd();
    let attempt = |player: &str| {
        let mut cmd = w.cmd();
        cmd.args(["connect", FLEET, &format!("player:{player}"), "--", "true"]);
        let out = run(cmd);
        (code(out.status), text(&out.stderr))
    };
    let (c, err) = attempt(sample::SDK5_PLAYER);
    assert_eq!(c, 68, "{err}");
    assert!(err.contains("another fleet") && err.contains(SDK5_FLEET), "{err}");
    assert!(err.contains(sample::SDK5_PLAYER_SESSION), "{err}");

    let (c, err) = attempt(sample::LEFT_PLAYER);
    assert_eq!(c, 68, "{err}");
    assert!(
        err.contains("only have ended ones") && err.contains(sample::LEFT_PLAYER_SESSION),
        "{err}"
    );

    let (c, err) = attempt("nobody-at-all");
    assert_eq!(c, 68, "{err}");
    assert!(err.contains("nor any player session in us-west-2"), "{err}");
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());
}

#[test]
fn player_references_are_never_read_as_compute_names() {
    let w = World::without_sshd();
    let mut cmd = w.cmd();
    cmd.args(["connect", sample::CONTAINER_FLEET, "psess-0000-nope"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 68, "{}", text(&out.stderr));
    assert_eq!(w.emulator.calls_to("DescribePlayerSessions").len(), 1);
    assert!(w.emulator.calls_to("DescribeCompute").is_empty());
    assert!(w.emulator.calls_to("GetComputeAccess").is_empty());

    // A player session on another fleet is refused before any access call.
    let mut cmd = w.cmd();
    cmd.args(["connect", FLEET, sample::SDK5_PLAYER_SESSION]);
    let out = run(cmd);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(SDK5_FLEET));
}

/// A second SDK 5 game session, in the home region, so the fleet has
/// sessions in two locations.
fn with_home_sdk5_session(w: &World) -> String {
    let id = format!("arn:aws:gamelift:us-west-2::gamesession/{SDK5_FLEET}/gsess-99999999-8888-4777-8666-555555555555");
    let session = GameSession {
        game_session_id: id.clone(),
        fleet_id: SDK5_FLEET.to_owned(),
        name: None,
        instance_id: Some(sample::LINUX_SDK5_INSTANCE.to_owned()),
        compute_name: Some(sample::LINUX_SDK5_INSTANCE.to_owned()),
        location: None,
        status: "ACTIVATING".to_owned(),
        port: 7790,
        creation_time: 1_700_000_000.0,
        ended_secs_ago: None,
        log_files: vec![],
    };
    w.emulator.with_fixture(|f| f.game_sessions.push(session));
    id
}

#[test]
fn sessions_lists_every_location_in_table_and_json() {
    let w = World::without_sshd();
    let home = with_home_sdk5_session(&w);
    let mut cmd = w.cmd();
    cmd.args(["sessions", SDK5_FLEET, "--output", "json"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows,
        serde_json::json!([
            {
                "game_session_id": home,
                "name": null,
                "status": "ACTIVATING",
                "location": "us-west-2",
                "instance_id": sample::LINUX_SDK5_INSTANCE,
                "ip_address": "127.0.0.1",
                "port": 7790,
                "current_players": 0,
                "maximum_players": 10,
                "creation_time": 1_700_000_000,
                "termination_time": null,
            },
            {
                "game_session_id": sample::LINUX_SDK5_REMOTE_GAME_SESSION,
                "name": "sdk5-remote-match",
                "status": "ACTIVE",
                "location": "us-east-1",
                "instance_id": sample::LINUX_SDK5_REMOTE_INSTANCE,
                "ip_address": "127.0.0.1",
                "port": 7778,
                "current_players": 1,
                "maximum_players": 10,
                "creation_time": 1_700_000_960,
                "termination_time": null,
            },
        ])
    );
    // One DescribeGameSessions per location.
    let calls = w.emulator.calls_to("DescribeGameSessions");
    let mut locations: Vec<&str> = calls.iter().filter_map(|c| c.body["Location"].as_str()).collect();
    locations.sort();
    assert_eq!(locations, ["us-east-1", "us-west-2"]);

    let mut cmd = w.cmd();
    cmd.args(["sessions", SDK5_FLEET, "--location", "us-east-1"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[0].starts_with("GAME SESSION") && lines[0].contains("INSTANCE"),
        "{table}"
    );
    assert!(lines[1].contains(sample::LINUX_SDK5_REMOTE_INSTANCE) && lines[1].contains("127.0.0.1:7778"));
    assert!(lines[1].contains("1/10"), "{table}");
}

#[test]
fn sessions_finds_sdk4_hosts_by_address_and_filters() {
    let w = World::without_sshd();
    let list = |extra: &[&str]| {
        let mut cmd = w.cmd();
        cmd.args(["sessions", FLEET, "--output", "json"]).args(extra);
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{extra:?}: {}", text(&out.stderr));
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
    };
    let live = list(&[]);
    assert_eq!(live.len(), 2);
    assert!(
        live.iter()
            .all(|r| r["instance_id"] == INSTANCE && r["status"] == "ACTIVE")
    );
    let ended = list(&["--status", "terminated"]);
    assert_eq!(ended.len(), 2);
    assert!(ended.iter().all(|r| r["termination_time"].is_i64()));
    assert_eq!(list(&["--instance", INSTANCE]).len(), 2);
    assert_eq!(list(&["--instance", "i-0000000000000000f"]).len(), 0);

    let players = list(&["--player", sample::BUSY_PLAYER]);
    assert_eq!(players.len(), 2);
    assert_eq!(players[0]["player_session_id"], sample::BUSY_PLAYER_SESSIONS[0]);
    assert_eq!(players[1]["status"], "RESERVED");
    assert!(players.iter().all(|p| p["instance_id"] == INSTANCE));

    let mut cmd = w.cmd();
    cmd.args(["sessions", FLEET, "--status", "BOGUS"]);
    assert_eq!(code(run(cmd).status), 64);
}

fn logs(w: &World, reference: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = w.cmd();
    cmd.current_dir(w.dir.path())
        .args(["logs", FLEET, reference])
        .args(extra);
    run(cmd)
}

#[test]
fn logs_unpacks_the_stored_archive_byte_for_byte() {
    let w = World::without_sshd();
    let out_dir = w.dir.path().join("ended");
    let out = logs(
        &w,
        sample::ENDED_GAME_SESSION,
        &["--out", out_dir.to_str().unwrap(), "--debug"],
    );
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    // The pre-signed URL is a credential: not even --debug shows it.
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(all.contains("GetGameSessionLogUrl"), "--debug shows the calls");
    assert!(
        !all.contains("X-Amz-Signature") && !all.contains("/game-session-logs/"),
        "{all}"
    );
    for (path, contents) in sample::ENDED_GAME_SESSION_LOGS {
        assert_eq!(
            std::fs::read(out_dir.join(path)).unwrap(),
            contents.as_bytes(),
            "{path}"
        );
        assert!(text(&out.stdout).contains(path), "{}", text(&out.stdout));
    }
    // Nothing else: no temporary archive left beside it.
    let left: Vec<_> = std::fs::read_dir(w.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let downloads = w.emulator.log_downloads();
    assert_eq!(downloads.len(), 1);
    assert_eq!(downloads[0].status, 200);
    assert!(
        !downloads[0].had_credentials,
        "the pre-signed URL must go out without AWS credentials"
    );

    // By player session, into the default directory; and refusing to overwrite it.
    let out = logs(&w, sample::PLAYER_ENDED_SESSION, &[]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let default = w.dir.path().join("gsess-33333333-4444-4555-8666-777777777777-logs");
    assert_eq!(
        std::fs::read(default.join("server.log")).unwrap(),
        sample::ENDED_GAME_SESSION_LOGS[0].1.as_bytes()
    );
    let out = logs(&w, sample::PLAYER_ENDED_SESSION, &[]);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
}

#[test]
fn logs_refuses_an_archive_with_an_entry_outside_the_directory() {
    let w = World::without_sshd();
    w.emulator.with_fixture(|f| {
        let session = f
            .game_sessions
            .iter_mut()
            .find(|g| g.game_session_id == sample::ENDED_GAME_SESSION)
            .unwrap();
        session.log_files.push(LogFile::new("../escaped.log", "owned\n"));
    });
    let out_dir = w.dir.path().join("nested").join("hostile");
    std::fs::create_dir(w.dir.path().join("nested")).unwrap();
    let out = logs(&w, sample::ENDED_GAME_SESSION, &["--out", out_dir.to_str().unwrap()]);
    assert_eq!(code(out.status), 65, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("../escaped.log"), "{}", text(&out.stderr));
    assert!(!out_dir.exists(), "the directory must be removed");
    assert!(!w.dir.path().join("nested").join("escaped.log").exists());
    let left = std::fs::read_dir(w.dir.path().join("nested")).unwrap().count();
    assert_eq!(left, 0, "no temporary archive left behind");
}

#[test]
fn logs_explains_an_active_session_an_old_one_and_an_expired_url() {
    let w = World::without_sshd();
    // The player's most recent session is still running.
    let out = logs(&w, &format!("player:{}", sample::PLAYER), &[]);
    assert_eq!(code(out.status), 76, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("is ACTIVE"), "{err}");
    assert!(
        err.contains(&format!(
            "gamelift-access connect {FLEET} {} -- tail -F",
            sample::LINUX_SDK4_GAME_SESSION
        )),
        "{err}"
    );
    assert!(w.emulator.calls_to("GetGameSessionLogUrl").is_empty());

    // SDK 5: the live log is read with `run --instance`.
    let mut cmd = w.cmd();
    cmd.current_dir(w.dir.path())
        .args(["logs", SDK5_FLEET, sample::LINUX_SDK5_REMOTE_GAME_SESSION]);
    let out = run(cmd);
    assert_eq!(code(out.status), 76, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(&format!("gamelift-access run {SDK5_FLEET} --instance")));

    let out = logs(&w, sample::OLD_GAME_SESSION, &[]);
    assert_eq!(code(out.status), 68, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("14 days"), "{}", text(&out.stderr));

    w.emulator.set_log_url_lifetime(std::time::Duration::ZERO);
    let out = logs(&w, sample::ENDED_GAME_SESSION, &[]);
    assert_eq!(code(out.status), 69, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("403") && err.contains("expired"), "{err}");
    assert!(!err.contains("X-Amz-Signature"), "the URL is a credential: {err}");
}

#[test]
fn run_and_cp_take_a_player_session_too() {
    let w = World::with_sshd();
    let port = w.port().to_string();
    let mut cmd = w.cmd();
    cmd.args([
        "run",
        FLEET,
        "--instance",
        sample::PLAYER_SESSION,
        "--port",
        &port,
        "--",
        "echo",
        "ran-there",
    ]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ran-there"), "{}", text(&out.stdout));

    // The "instance" is this machine: copy a file from it by player session.
    let source = w.dir.path().join("on-the-instance.txt");
    std::fs::write(&source, "from the player's server\n").unwrap();
    let copy = w.dir.path().join("copied.txt");
    let mut cmd = w.cmd();
    cmd.args(["cp", "--port", &port])
        .arg(format!(
            "{}.{FLEET}.gamelift:{}",
            sample::PLAYER_SESSION,
            source.display()
        ))
        .arg(&copy);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "from the player's server\n");

    let access = w.emulator.calls_to("GetInstanceAccess");
    assert_eq!(access.len(), 2);
    assert!(access.iter().all(|c| c.body["InstanceId"] == INSTANCE));
}
