//! `connect --open-port`: the caller's port is authorized for exactly the
//! session and revoked on every way out; `ports close-stale` cleans up after
//! a killed run. Against the emulator's port settings, with a real sshd.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::IpPermission;
use serde_json::json;

fn update_calls(w: &World) -> Vec<serde_json::Value> {
    w.emulator
        .calls_to("UpdateFleetPortSettings")
        .into_iter()
        .map(|c| c.body)
        .collect()
}

fn rule(port: u16, range: &str) -> serde_json::Value {
    json!([{"FromPort": port, "ToPort": port, "IpRange": range, "Protocol": "TCP"}])
}

/// The permissions the fleet will have once any pending update lands.
fn permissions(w: &World) -> Vec<IpPermission> {
    w.emulator
        .pending_inbound_permissions(FLEET)
        .unwrap_or_else(|| w.emulator.inbound_permissions(FLEET))
}

fn ledger(w: &World) -> serde_json::Value {
    let path = w.dir.path().join("state/gamelift-access/open-ports.json");
    std::fs::read(&path)
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or(json!({"opened": []}))
}

#[test]
fn opens_for_the_session_then_revokes_exactly_what_it_added() {
    let w = World::with_sshd();
    let before = permissions(&w);
    assert!(
        !before.is_empty(),
        "the sample fleet has a rule of its own, which must survive"
    );
    let out = run(w.connect(&["--open-port", "--cidr", "198.51.100.7", "--", "echo", "in"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "in\n");

    let port = w.port();
    let calls = update_calls(&w);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        calls[0]["InboundPermissionAuthorizations"],
        rule(port, "198.51.100.7/32")
    );
    assert!(calls[0].get("InboundPermissionRevocations").is_none(), "{calls:?}");
    assert_eq!(calls[1]["InboundPermissionRevocations"], rule(port, "198.51.100.7/32"));
    assert!(calls[1].get("InboundPermissionAuthorizations").is_none(), "{calls:?}");
    assert_eq!(permissions(&w), before);
    assert_eq!(ledger(&w)["opened"], json!([]));

    // The session waited for the rule to be in effect: a PENDING answer, then the rule.
    let describes = w.emulator.calls_to("DescribeFleetPortSettings");
    assert!(
        describes.len() >= 3,
        "checked, waited, and saw it applied: {describes:?}"
    );
}

#[test]
fn the_caller_ip_is_looked_up_v4_as_32_and_v6_as_128() {
    let w = World::with_sshd();
    for (ip, range) in [("198.51.100.8", "198.51.100.8/32"), ("2001:db8::8", "2001:db8::8/128")] {
        w.emulator.set_public_ip(Some(ip.into()));
        w.emulator.clear_calls();
        let mut cmd = w.connect(&["--open-port", "--", "true"]);
        cmd.env("GAMELIFT_ACCESS_IP_LOOKUP_URL", w.emulator.checkip_url());
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        let calls = update_calls(&w);
        assert_eq!(calls[0]["InboundPermissionAuthorizations"], rule(w.port(), range));
        assert_eq!(calls[1]["InboundPermissionRevocations"], rule(w.port(), range));
    }
    assert_eq!(w.emulator.public_ip_lookups(), 2);
}

#[test]
fn an_existing_covering_rule_means_no_change() {
    let w = World::with_sshd();
    let port = w.port();
    w.emulator.with_fixture(|f| {
        f.fleet_mut(FLEET).unwrap().inbound_permissions.push(IpPermission::new(
            i64::from(port) - 1,
            i64::from(port) + 1,
            "198.51.100.0/24",
            "TCP",
        ))
    });
    let before = permissions(&w);
    let out = run(w.connect(&["--open-port", "--cidr", "198.51.100.7", "--", "echo", "in"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(update_calls(&w).is_empty(), "{:?}", update_calls(&w));
    assert_eq!(permissions(&w), before, "the rule we did not add is still there");
}

#[test]
fn a_failed_lookup_opens_nothing() {
    let w = World::with_sshd();
    w.emulator.set_public_ip(None);
    let mut cmd = w.connect(&["--open-port", "--", "true"]);
    cmd.env("GAMELIFT_ACCESS_IP_LOOKUP_URL", w.emulator.checkip_url());
    let out = run(cmd);
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(
        err.contains("cannot tell your public IP") && err.contains("--cidr"),
        "{err}"
    );
    assert_eq!(w.emulator.public_ip_lookups(), 1);
    assert!(update_calls(&w).is_empty());
    assert!(
        w.emulator.calls_to("GetInstanceAccess").is_empty(),
        "no secret without a way in"
    );
    assert_eq!(ledger(&w)["opened"], json!([]));
}

#[test]
fn the_whole_internet_only_when_asked_and_with_a_warning() {
    let w = World::with_sshd();
    let out = run(w.connect(&["--open-port", "--cidr", "0.0.0.0/0", "--", "true"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("anyone on the internet can reach it"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        update_calls(&w)[0]["InboundPermissionAuthorizations"],
        rule(w.port(), "0.0.0.0/0")
    );
}

#[test]
fn sigterm_mid_session_still_revokes() {
    let w = World::with_sshd();
    let before = permissions(&w);
    let mut cmd = w.connect(&["--open-port", "--cidr", "198.51.100.9", "--", "echo ready; read line"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdin = child.stdin.take();
    read_until_line(&mut child, "ready");
    assert_eq!(update_calls(&w).len(), 1, "authorized while the session runs");
    assert_eq!(ledger(&w)["opened"].as_array().unwrap().len(), 1);

    // While it runs, `ports list` marks our rule, and only ours.
    let mut list = w.cmd();
    list.args(["ports", "list", FLEET, "--output", "json"]);
    let listed = run(list);
    assert_eq!(code(listed.status), 0, "{}", text(&listed.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let row = |range: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["ip_range"] == range)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("198.51.100.9/32")["opened_by_gamelift_access"]["pid"], child.id());
    assert!(row("203.0.113.0/24")["opened_by_gamelift_access"].is_null());

    // SAFETY: kill(2) on our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(code(out.status), 143, "{}", text(&out.stderr));
    let calls = update_calls(&w);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        calls[1]["InboundPermissionRevocations"],
        rule(w.port(), "198.51.100.9/32")
    );
    assert_eq!(permissions(&w), before);
    assert_eq!(ledger(&w)["opened"], json!([]));
}

#[test]
fn close_stale_revokes_what_a_killed_run_left_open() {
    let w = World::with_sshd();
    let before = permissions(&w);
    // GameLift never finishes applying, so the run sits waiting: kill it there.
    w.emulator.set_port_update_delay(1_000_000);
    let mut cmd = w.connect(&["--open-port", "--cidr", "198.51.100.10", "--", "true"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while update_calls(&w).is_empty() {
        assert!(Instant::now() < deadline, "the run never authorized");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
    child.wait().unwrap();
    assert_eq!(update_calls(&w).len(), 1, "a SIGKILLed run revokes nothing");
    let left = ledger(&w)["opened"].clone();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["permission"]["ip_range"], "198.51.100.10/32");

    // `ports list` marks it as ours and gone.
    let mut cmd = w.cmd();
    cmd.args(["ports", "list", FLEET, "--output", "json"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["ip_range"] == "203.0.113.0/24" && r["opened_by_gamelift_access"].is_null())
    );

    let mut cmd = w.cmd();
    cmd.args(["ports", "close-stale"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("revoked TCP") && text(&out.stdout).contains("198.51.100.10/32"));
    let calls = update_calls(&w);
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1]["InboundPermissionRevocations"],
        rule(w.port(), "198.51.100.10/32")
    );
    assert_eq!(permissions(&w), before);
    assert_eq!(ledger(&w)["opened"], json!([]));

    let mut cmd = w.cmd();
    cmd.args(["ports", "close-stale"]);
    assert_eq!(text(&run(cmd).stdout), "nothing to close\n");
}

/// A session started with `--open-port` whose remote side waits on stdin:
/// dropping the returned stdin ends it.
fn live_session(w: &World, cidr: &str, tag: &str) -> (std::process::Child, std::process::ChildStdin) {
    let script = format!("echo {tag}; read line; exit 0");
    let mut cmd = w.connect(&["--open-port", "--cidr", cidr, "--", &script]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdin = child.stdin.take().unwrap();
    read_until_line(&mut child, tag);
    (child, stdin)
}

#[test]
fn two_sessions_share_a_port_and_the_last_one_out_revokes_it() {
    let w = World::with_sshd();
    let before = permissions(&w);
    let range = "198.51.100.30/32";
    for first_out in ["a", "b"] {
        w.emulator.clear_calls();
        let (a, a_in) = live_session(&w, "198.51.100.30", "ready-a");
        let (b, b_in) = live_session(&w, "198.51.100.30", "ready-b");
        assert_eq!(
            update_calls(&w).len(),
            1,
            "the second session adds nothing: {:?}",
            update_calls(&w)
        );
        let entries = ledger(&w)["opened"].as_array().unwrap().clone();
        assert_eq!(entries.len(), 2, "{entries:#?}");
        assert_eq!(entries.iter().filter(|e| e["borrowed"] == true).count(), 1);

        let ((first, first_in), (last, last_in)) = if first_out == "a" {
            ((a, a_in), (b, b_in))
        } else {
            ((b, b_in), (a, a_in))
        };
        drop(first_in);
        let out = first.wait_with_output().unwrap();
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        assert_eq!(
            update_calls(&w).len(),
            1,
            "{first_out} left first: nothing revoked under the other session"
        );
        assert!(
            permissions(&w).iter().any(|p| p.ip_range == range),
            "the rule is still there"
        );
        let left = ledger(&w)["opened"].as_array().unwrap().clone();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["borrowed"], false, "the remaining session owns it now");

        drop(last_in);
        let out = last.wait_with_output().unwrap();
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        let calls = update_calls(&w);
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[1]["InboundPermissionRevocations"], rule(w.port(), range));
        assert_eq!(permissions(&w), before);
        assert_eq!(ledger(&w)["opened"], json!([]));
    }
}

/// While an update is pending GameLift still shows the old rules: a rule
/// that is being revoked must not count as covering us.
#[test]
fn a_rule_being_revoked_does_not_count_as_open() {
    let w = World::with_sshd();
    let port = w.port();
    w.emulator.with_fixture(|f| {
        f.fleet_mut(FLEET).unwrap().inbound_permissions.push(IpPermission::new(
            i64::from(port),
            i64::from(port),
            "198.51.100.0/24",
            "TCP",
        ))
    });
    // Someone revokes it (the real aws CLI); the change is still pending.
    let revoke = std::process::Command::new("aws")
        .args([
            "gamelift",
            "update-fleet-port-settings",
            "--fleet-id",
            FLEET,
            "--region",
            REGION,
        ])
        .arg("--inbound-permission-revocations")
        .arg(format!(
            "FromPort={port},ToPort={port},IpRange=198.51.100.0/24,Protocol=TCP"
        ))
        .args(["--endpoint-url", &w.emulator.endpoint()])
        .env("AWS_ACCESS_KEY_ID", "AKIDOTHERADMIN000000")
        .env("AWS_SECRET_ACCESS_KEY", "other")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the aws CLI is installed (.ci/run installs it)");
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    assert!(
        w.emulator.pending_inbound_permissions(FLEET).is_some(),
        "the revocation is pending"
    );

    let out = run(w.connect(&["--open-port", "--cidr", "198.51.100.7", "--", "echo", "in"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let ours: Vec<serde_json::Value> = update_calls(&w).into_iter().filter(|c| c["FleetId"] == FLEET).collect();
    assert_eq!(
        ours[1]["InboundPermissionAuthorizations"],
        rule(port, "198.51.100.7/32"),
        "{ours:?}"
    );
    assert_eq!(
        ours[2]["InboundPermissionRevocations"],
        rule(port, "198.51.100.7/32"),
        "{ours:?}"
    );
}
