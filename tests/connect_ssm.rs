//! Server SDK 5 and container fleets: GetComputeAccess, then an SSM session,
//! through the real Python `aws` CLI or through session-manager-plugin
//! directly. A recording fake plugin stands in for the real one, which
//! cannot be installed here.

mod common;

use common::*;
use gamelift_emulator::fixture::sample;

const SDK5_FLEET: &str = sample::LINUX_SDK5_FLEET;
const SDK5_INSTANCE: &str = sample::LINUX_SDK5_INSTANCE;

/// Inherited identity that must never reach the session.
const INHERITED: [(&str, &str); 4] = [
    ("AWS_PROFILE", "inherited-profile"),
    ("AWS_DEFAULT_PROFILE", "inherited-default-profile"),
    ("AWS_SESSION_TOKEN", "inherited-session-token"),
    ("AWS_SECURITY_TOKEN", "inherited-security-token"),
];

fn session(
    w: &World,
    plugin: &FakePlugin,
    drop_tools: &[&str],
    fleet: &str,
    instance: &str,
    extra: &[&str],
) -> (i32, String) {
    let mut cmd = w.cmd();
    cmd.env("PATH", path_with(&plugin.bin_dir, drop_tools))
        .envs(INHERITED)
        // The emulator's profile-less config: the inherited profile must not be looked up by us either.
        .env_remove("AWS_PROFILE")
        .args(["connect", fleet, instance])
        .args(extra);
    let out = run(cmd);
    (code(out.status), text(&out.stderr))
}

/// What every path must hand the plugin: the AWS CLI's argv contract, the
/// session response in the environment only, the compute's credentials and
/// nothing inherited.
fn assert_contract(w: &World, run: &PluginRun, region: &str, expected_request: serde_json::Value) {
    let endpoint = w.emulator.endpoint();
    assert_eq!(run.argv.len(), 6, "argv: {:?}", run.argv);
    assert_eq!(
        run.argv[..4],
        ["AWS_SSM_START_SESSION_RESPONSE", region, "StartSession", ""]
    );
    let request: serde_json::Value = serde_json::from_str(&run.argv[4]).unwrap();
    assert_eq!(request, expected_request);
    assert_eq!(run.argv[5], endpoint);

    let response: serde_json::Value = serde_json::from_str(&run.env["AWS_SSM_START_SESSION_RESPONSE"]).unwrap();
    let sessions = w.emulator.ssm_sessions();
    let started = sessions
        .iter()
        .find(|s| response["SessionId"] == s.session_id.as_str())
        .expect("a started session");
    assert!(response["TokenValue"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(response["StreamUrl"].as_str().unwrap().starts_with("wss://"));
    let token = response["TokenValue"].as_str().unwrap();
    assert!(
        !run.argv.iter().any(|a| a.contains(token)),
        "the session token is on argv"
    );

    let issued = w.emulator.issued_compute_credentials();
    let creds = issued
        .iter()
        .find(|c| c.access_key_id == started.access_key_id)
        .expect("signed with issued credentials");
    assert_eq!(run.env["AWS_ACCESS_KEY_ID"], creds.access_key_id);
    assert_eq!(run.env["AWS_SECRET_ACCESS_KEY"], creds.secret_access_key);
    assert_eq!(run.env["AWS_SESSION_TOKEN"], creds.session_token);
    for (name, _) in INHERITED.iter().filter(|(n, _)| *n != "AWS_SESSION_TOKEN") {
        assert!(!run.env.contains_key(*name), "{name} was inherited");
    }
}

#[test]
fn the_aws_cli_hands_the_plugin_the_documented_contract() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let (c, err) = session(&w, &plugin, &[], SDK5_FLEET, SDK5_INSTANCE, &[]);
    assert_eq!(c, 0, "{err}");
    let runs = plugin.runs();
    assert_eq!(runs.len(), 1);
    assert_contract(&w, &runs[0], REGION, serde_json::json!({"Target": SDK5_INSTANCE}));
    // Our own GameLift calls used our credentials, the session the compute's.
    assert_eq!(
        w.emulator.calls_to("GetComputeAccess")[0].access_key_id,
        "AKIDEXAMPLETESTONLY1"
    );
}

#[test]
fn the_direct_plugin_path_produces_the_same_contract_and_terminates_the_session() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let mut cmd_env_exit = w.cmd();
    cmd_env_exit
        .env("PATH", path_with(&plugin.bin_dir, &["aws"]))
        .envs(INHERITED)
        .env_remove("AWS_PROFILE")
        .env("FAKE_PLUGIN_EXIT", "3")
        .args(["connect", SDK5_FLEET, SDK5_INSTANCE]);
    let out = run(cmd_env_exit);
    assert_eq!(
        code(out.status),
        3,
        "the plugin's exit code is passed through: {}",
        text(&out.stderr)
    );
    let runs = plugin.runs();
    assert_eq!(runs.len(), 1);
    assert_contract(&w, &runs[0], REGION, serde_json::json!({"Target": SDK5_INSTANCE}));
    let sessions = w.emulator.ssm_sessions();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].terminated, "TerminateSession after the plugin exits");
}

#[test]
fn a_remote_location_is_the_session_region() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    for instance in [
        sample::LINUX_SDK5_REMOTE_INSTANCE,
        sample::LINUX_SDK5_REMOTE_GAME_SESSION,
    ] {
        let (c, err) = session(&w, &plugin, &["aws"], SDK5_FLEET, instance, &["--refresh"]);
        assert_eq!(c, 0, "{instance}: {err}");
    }
    let runs = plugin.runs();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_contract(
            &w,
            run,
            "us-east-1",
            serde_json::json!({"Target": sample::LINUX_SDK5_REMOTE_INSTANCE}),
        );
    }
    // GameLift itself is always asked in the fleet's home region.
    assert!(
        w.emulator
            .calls()
            .iter()
            .filter(|c| c.service == "gamelift")
            .all(|c| c.region == REGION)
    );
}

#[test]
fn container_builds_the_documented_docker_exec() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let fleet = sample::CONTAINER_FLEET;
    let compute = sample::CONTAINER_COMPUTE;
    let exec = format!("sudo docker exec -it {} sh", sample::GAME_SERVER_CONTAINER_RUNTIME_ID);

    // Through the AWS CLI and directly: the same request either way.
    for drop in [&[][..], &["aws"]] {
        let (c, err) = session(&w, &plugin, drop, fleet, compute, &["--container", "game-server"]);
        assert_eq!(c, 0, "{err}");
    }
    let target = w.emulator.issued_compute_credentials()[0].target.clone();
    let expected = serde_json::json!({
        "Target": target,
        "DocumentName": "AWS-StartInteractiveCommand",
        "Parameters": {"command": [exec]},
    });
    let runs = plugin.runs();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_contract(&w, run, REGION, expected.clone());
    }
    for s in w.emulator.ssm_sessions() {
        assert_eq!(s.document_name, "AWS-StartInteractiveCommand");
        assert_eq!(s.parameters, serde_json::json!({"command": [exec]}));
    }

    // Without --container: a plain session on the instance, and the containers are named.
    let (c, err) = session(&w, &plugin, &["aws"], fleet, compute, &[]);
    assert_eq!(c, 0, "{err}");
    assert!(
        err.contains("game-server") && err.contains("sidecar") && err.contains("--container"),
        "{err}"
    );

    let (c, err) = session(&w, &plugin, &["aws"], fleet, compute, &["--container", "nope"]);
    assert_eq!(c, 64, "{err}");
    assert!(err.contains("game-server, sidecar"), "{err}");
}

#[test]
fn without_aws_cli_or_plugin_we_say_what_to_install() {
    let w = World::without_sshd();
    let empty = w.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = w.cmd();
    cmd.env("PATH", path_with(&empty, &["aws", "session-manager-plugin"]))
        .args(["connect", SDK5_FLEET, SDK5_INSTANCE]);
    let out = run(cmd);
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 72, "{err}");
    assert!(
        err.contains("install the Session Manager plugin: https://docs.aws.amazon.com/"),
        "{err}"
    );
    assert!(
        w.emulator.calls_to("GetComputeAccess").is_empty(),
        "credentials fetched with nothing to use them"
    );
}

#[test]
fn compute_credentials_appear_in_no_output_even_with_debug() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    for drop in [&[][..], &["aws"]] {
        let mut cmd = w.cmd();
        cmd.env("PATH", path_with(&plugin.bin_dir, drop))
            .args(["--debug", "connect", SDK5_FLEET, SDK5_INSTANCE]);
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        let output = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            output.contains("GetComputeAccess"),
            "--debug shows the calls, so the check below means something"
        );
        let issued = w.emulator.issued_compute_credentials();
        let creds = issued.last().unwrap();
        assert!(
            !output.contains(&creds.secret_access_key),
            "secret access key in the output"
        );
        assert!(!output.contains(&creds.session_token), "session token in the output");
        for s in w.emulator.ssm_sessions() {
            let run = plugin
                .runs()
                .into_iter()
                .find(|r| r.env["AWS_SSM_START_SESSION_RESPONSE"].contains(&s.session_id));
            let token = serde_json::from_str::<serde_json::Value>(&run.unwrap().env["AWS_SSM_START_SESSION_RESPONSE"])
                .unwrap()["TokenValue"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(!output.contains(&token), "SSM token in the output");
        }
    }
}
