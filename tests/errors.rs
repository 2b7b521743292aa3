//! Errors a tired engineer can act on: the failures met most (no
//! credentials, an SSO login that expired or never happened, an endpoint
//! that does not answer) each give one line saying what failed and why, the
//! endpoint really called, at most two lines of what to do, and the exit
//! code README promises; never the SDK's Debug output. Also: `--print` is a
//! dry run that asks for no secret, and a fleet's status is never served
//! from the cache.

mod common;

use std::process::{Command, Output};

use common::*;
use gamelift_emulator::Fault;
use gamelift_emulator::fixture::sample;

/// A loopback URL on which nothing listens: the port was free a moment ago.
fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// `w.cmd()` without any credentials in the environment.
fn without_credentials(w: &World) -> Command {
    let mut cmd = w.cmd();
    cmd.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY");
    cmd
}

/// What the user reads on stderr, checked for the one shape every error
/// has: `gamelift-access: <what failed>: <why>`, then at most two indented
/// lines of what to do, and no SDK Debug output anywhere.
fn readable_error(out: &Output) -> String {
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    for (name, s) in [("stderr", &stderr), ("stdout", &stdout)] {
        for bad in [
            "DispatchFailure",
            "ConnectorError",
            "ServiceError {",
            "raw: Response",
            "CredentialsNotLoaded",
            "ProviderError(",
            "Some(",
            " { source:",
            "ErrorMetadata",
        ] {
            assert!(!s.contains(bad), "{name} holds SDK Debug output ({bad}):\n{s}");
        }
    }
    let lines: Vec<&str> = stderr.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("gamelift-access: "))
        .unwrap_or_else(|| panic!("no `gamelift-access: ` line:\n{stderr}"));
    let rest = &lines[first + 1..];
    assert!(rest.len() <= 2, "more than two lines of advice:\n{stderr}");
    assert!(
        rest.iter().all(|l| l.starts_with("  ")),
        "advice not indented:\n{stderr}"
    );
    stderr
}

#[test]
fn no_credentials_exit_78_with_the_sources_tried_and_the_fixes() {
    let w = World::without_sshd();
    let endpoint = w.emulator.endpoint();
    let mut cmd = without_credentials(&w);
    cmd.args(["fleets"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 78, "{err}");
    assert!(err.contains("no AWS credentials found"), "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "sources tried: {err}");
    assert!(err.contains("aws configure"), "{err}");
    assert!(err.contains("aws sso login --profile"), "{err}");
    assert!(err.contains("--profile"), "{err}");
    // Nothing was sent, yet the endpoint it would have gone to is named.
    assert!(err.contains(&endpoint), "{err}");
    assert!(!err.contains("health.aws.amazon.com"), "{err}");
    assert!(w.emulator.calls().is_empty());
}

#[test]
fn an_sso_profile_without_a_login_exits_78_with_the_exact_login_command() {
    let w = World::without_sshd();
    std::fs::write(
        w.dir.path().join("aws-config"),
        "[profile ops]\n\
         sso_start_url = https://example.awsapps.com/start\n\
         sso_region = us-west-2\n\
         sso_account_id = 123456789012\n\
         sso_role_name = Ops\n\
         region = us-west-2\n\
         \n\
         [profile oncall]\n\
         sso_session = corp\n\
         sso_account_id = 123456789012\n\
         sso_role_name = Ops\n\
         \n\
         [sso-session corp]\n\
         sso_start_url = https://example.awsapps.com/start\n\
         sso_region = us-west-2\n",
    )
    .unwrap();
    for profile in ["ops", "oncall"] {
        let mut cmd = without_credentials(&w);
        cmd.args(["--profile", profile, "fleets"]);
        let out = run(cmd);
        let err = readable_error(&out);
        assert_eq!(code(out.status), 78, "{profile}: {err}");
        assert!(err.contains(&format!("`aws sso login --profile {profile}`")), "{err}");
        assert!(err.contains("SSO"), "{err}");
    }
    // The same through AWS_PROFILE.
    let mut cmd = without_credentials(&w);
    cmd.env("AWS_PROFILE", "ops").args(["fleets"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 78, "{err}");
    assert!(err.contains("`aws sso login --profile ops`"), "{err}");
    assert!(w.emulator.calls().is_empty());
}

#[test]
fn an_unreachable_gamelift_endpoint_is_named_however_it_was_set() {
    let w = World::without_sshd();
    let dead = dead_endpoint();
    // AWS_ENDPOINT_URL_GAMELIFT over AWS_ENDPOINT_URL.
    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_GAMELIFT", &dead).args(["fleets"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(
        err.contains(&format!("GameLift ListFleets: could not reach {dead}")),
        "{err}"
    );
    assert!(err.contains("VPN"), "{err}");

    // --endpoint-url.
    let mut cmd = w.cmd();
    cmd.args(["--endpoint-url", &dead, "fleets"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(err.contains(&dead), "{err}");

    // A profile's `services` section.
    std::fs::write(
        w.dir.path().join("aws-config"),
        format!("[profile local]\nservices = here\n\n[services here]\ngamelift =\n  endpoint_url = {dead}\n"),
    )
    .unwrap();
    std::fs::write(
        w.dir.path().join("aws-credentials"),
        "[local]\naws_access_key_id = AKIDEXAMPLETESTONLY1\naws_secret_access_key = test\n",
    )
    .unwrap();
    let mut cmd = without_credentials(&w);
    cmd.env_remove("AWS_ENDPOINT_URL")
        .args(["--profile", "local", "fleets"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(err.contains(&dead), "{err}");
    assert!(w.emulator.calls().is_empty());
}

#[test]
fn an_unreachable_lightsail_endpoint_names_lightsail() {
    let w = World::without_sshd();
    let dead = dead_endpoint();
    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_LIGHTSAIL", &dead)
        .args(["bucket-key", "list", sample::BUILDS_BUCKET]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(
        err.contains(&format!("Lightsail GetBuckets: could not reach {dead}")),
        "{err}"
    );
    assert!(err.contains("AWS_ENDPOINT_URL_LIGHTSAIL"), "{err}");
    assert!(!err.contains("GameLift"), "{err}");
    assert!(!err.contains("a fleet lives in one region"), "{err}");
}

#[test]
fn an_unreachable_s3_endpoint_names_s3_and_the_reupload_command_keeps_the_flags() {
    let w = World::without_sshd();
    let dead = dead_endpoint();
    let dir = w.dir.path().join("build");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("server.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::write(
        w.dir.path().join("aws-credentials"),
        "[ops]\naws_access_key_id = AKIDEXAMPLETESTONLY1\naws_secret_access_key = test-secret-access-key\n",
    )
    .unwrap();
    let endpoint = w.emulator.endpoint();
    let mut cmd = without_credentials(&w);
    cmd.env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_S3", &dead)
        .args(["--profile", "ops", "--endpoint-url", &endpoint, "--region", REGION])
        .args(["build", "upload"])
        .arg(&dir)
        .args([
            "--name",
            "b",
            "--build-version",
            "1",
            "--operating-system",
            "AMAZON_LINUX_2023",
        ]);
    let out = run(cmd);
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(
        err.contains(&format!("S3 CreateMultipartUpload: could not reach {dead}")),
        "{err}"
    );
    assert!(!err.contains("GameLift is unavailable"), "{err}");
    let reupload = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("re-upload with: "))
        .unwrap_or_else(|| panic!("no re-upload command: {err}"));
    let words = shlex::split(reupload).unwrap();
    let after = |flag: &str| words.iter().position(|w| w == flag).map(|i| words[i + 1].as_str());
    assert_eq!(after("--endpoint-url"), Some(endpoint.as_str()), "{reupload}");
    assert_eq!(after("--profile"), Some("ops"), "{reupload}");
    assert_eq!(after("--region"), Some(REGION), "{reupload}");
    for bad in ["DispatchFailure", "ConnectorError", "Some("] {
        assert!(!err.contains(bad), "{err}");
    }
}

#[test]
fn print_is_a_dry_run_that_asks_for_no_secret() {
    let w = World::without_sshd();
    // SDK 4: the address from DescribeInstances, GameLift's login.
    let out = run(w.connect(&["--print"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let argv = shlex::split(&text(&out.stdout)).unwrap();
    let ip = w
        .emulator
        .with_fixture(|f| f.instance(INSTANCE).unwrap().ip_address.clone());
    assert!(argv.contains(&format!("gl-user-remote@{ip}")), "{argv:?}");
    assert!(
        text(&out.stderr).contains("on a real run the key is fetched"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        w.emulator.calls_to("GetInstanceAccess").is_empty(),
        "{:?}",
        w.emulator.calls()
    );
    assert!(!w.emulator.calls_to("DescribeInstances").is_empty());
    assert!(w.key_files().is_empty());

    // SDK 5: DescribeCompute, no GetComputeAccess.
    let fake = FakePlugin::install(w.dir.path());
    let mut cmd = w.cmd();
    cmd.env("PATH", path_with(&fake.bin_dir, &["aws"])).args([
        "connect",
        sample::LINUX_SDK5_FLEET,
        sample::LINUX_SDK5_INSTANCE,
        "--print",
    ]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(sample::LINUX_SDK5_INSTANCE),
        "{}",
        text(&out.stdout)
    );
    assert!(
        w.emulator.calls_to("GetComputeAccess").is_empty(),
        "{:?}",
        w.emulator.calls()
    );
    assert!(fake.runs().is_empty(), "--print ran the plugin");
}

#[test]
fn a_fleet_that_turns_active_between_two_runs_connects_on_the_second() {
    let w = World::with_sshd();
    let set_status = |status: &str| {
        w.emulator
            .with_fixture(|f| f.fleet_mut(FLEET).unwrap().status = status.to_owned())
    };
    // Still being created: refused, and the refusal says to wait and retry.
    set_status("ACTIVATING");
    let out = run(w.connect(&["--", "true"]));
    assert!(text(&out.stderr).contains("ACTIVATING"), "{}", text(&out.stderr));
    set_status("BUILDING");
    let out = run(w.connect(&["--", "true"]));
    let err = readable_error(&out);
    assert_eq!(code(out.status), 76, "{err}");
    assert!(err.contains("wait and retry"), "{err}");

    // Now ACTIVE: the retry connects, with no word of the old status.
    set_status("ACTIVE");
    let out = run(w.connect(&["--", "echo", "in"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "in\n");
    assert!(!text(&out.stderr).contains("BUILDING"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("ACTIVATING"), "{}", text(&out.stderr));

    // And `fleets` shows the status now, not the cached one.
    set_status("ERROR");
    let mut cmd = w.cmd();
    cmd.args(["fleets", "--output", "json"]);
    let out = run(cmd);
    let fleets: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fleet = fleets
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fleet_id"] == FLEET)
        .unwrap();
    assert_eq!(fleet["status"], "ERROR", "{fleet}");
}

#[test]
fn no_failure_shows_sdk_debug_output() {
    let w = World::without_sshd();
    let dead = dead_endpoint();
    let mut runs: Vec<(&str, Command)> = vec![];

    let mut cmd = without_credentials(&w);
    cmd.args(["connect", FLEET, INSTANCE]);
    runs.push(("no credentials", cmd));

    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_GAMELIFT", &dead).args(["instances", FLEET]);
    runs.push(("unreachable", cmd));

    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL", "http://this-host-does-not-exist.invalid:1")
        .args(["fleets"]);
    runs.push(("no such host", cmd));

    let mut cmd = w.cmd();
    cmd.args([
        "connect",
        "fleet-00000000-0000-4000-8000-000000000000",
        INSTANCE,
        "--print",
    ]);
    runs.push(("not found", cmd));

    let mut cmd = w.cmd();
    cmd.env("AWS_SECRET_ACCESS_KEY", "wrong").args(["fleets"]);
    runs.push(("bad signature", cmd));

    let mut cmd = w.cmd();
    cmd.env("AWS_MAX_ATTEMPTS", "1").args(["fleets"]);
    runs.push(("server error", cmd));

    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_LIGHTSAIL", &dead)
        .args(["bucket-key", "list", sample::BUILDS_BUCKET]);
    runs.push(("lightsail unreachable", cmd));

    for (what, cmd) in runs {
        if what == "server error" {
            w.emulator.inject("ListFleets", Fault::ServerError(503), 1);
        }
        let out = run(cmd);
        assert_ne!(code(out.status), 0, "{what}");
        let err = readable_error(&out);
        assert_ne!(code(out.status), 70, "{what}: {err}");
        eprintln!("{what}: {err}");
    }
}

#[test]
fn close_stale_failures_exit_with_the_aws_codes_and_keep_the_entry() {
    let w = World::without_sshd();
    // A permission a run that no longer exists left open.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let dir = w.dir.path().join("state/gamelift-access");
    std::fs::create_dir_all(&dir).unwrap();
    let ledger = dir.join("open-ports.json");
    let entry = serde_json::json!({"opened": [{
        "id": "stale-1", "fleet_id": FLEET, "region": REGION, "location": REGION,
        "permission": {"from_port": 22, "to_port": 22, "ip_range": "198.51.100.10/32", "protocol": "TCP"},
        "opened_at": 1, "pid": pid, "borrowed": false,
    }]});
    std::fs::write(&ledger, entry.to_string()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(&ledger, std::fs::Permissions::from_mode(0o600)).unwrap();

    // No credentials: 78 with the advice (was 70, "internal error").
    let mut cmd = without_credentials(&w);
    cmd.args(["ports", "close-stale"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 78, "{err}");
    assert!(
        err.contains("198.51.100.10/32") && err.contains("kept in the ledger"),
        "{err}"
    );
    assert!(err.contains("aws configure"), "{err}");

    // GameLift unreachable: 69, naming the endpoint.
    let dead = dead_endpoint();
    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_GAMELIFT", &dead)
        .args(["ports", "close-stale"]);
    let out = run(cmd);
    let err = readable_error(&out);
    assert_eq!(code(out.status), 69, "{err}");
    assert!(err.contains(&dead), "{err}");
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&ledger).unwrap()).unwrap();
    assert_eq!(
        kept["opened"].as_array().unwrap().len(),
        1,
        "the entry stays for the next try"
    );
}
