//! `connect` end to end: the real binary, the real aws-sdk-gamelift against
//! the emulator, and the real OpenSSH client against a real sshd.

mod common;

use std::process::Stdio;

use common::*;
use gamelift_emulator::Fault;

#[test]
fn remote_output_arrives_and_exit_code_is_passed_through() {
    let w = World::with_sshd();
    let out = run(w.connect(&["--", "echo", "hello-from-the-instance"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello-from-the-instance\n");

    let out = run(w.connect(&["--", "exit 7"]));
    assert_eq!(code(out.status), 7, "stderr: {}", text(&out.stderr));

    // One GetInstanceAccess per connect, signed for the configured region.
    let calls = w.emulator.calls_to("GetInstanceAccess");
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|c| c.region == REGION && c.body["FleetId"] == FLEET && c.body["InstanceId"] == INSTANCE)
    );
    assert!(w.key_files().is_empty(), "keys left behind: {:?}", w.key_files());
}

#[test]
fn key_file_is_0600_in_a_0700_dir_while_ssh_runs_and_gone_after() {
    let w = World::with_sshd();
    // The "instance" is this machine, so the remote side can look at the key file.
    let keys = w.keys_dir();
    let script = format!(
        "stat -c '%a %s' {}/*.pem; stat -c %a {}",
        keys.display(),
        keys.display()
    );
    let out = run(w.connect(&["--", &script]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let key_line = lines.next().unwrap();
    let (key_mode, key_size) = key_line.split_once(' ').unwrap();
    assert_eq!(key_mode, "600");
    assert!(
        key_size.parse::<usize>().unwrap() > 1000,
        "key file is too small to hold the key: {key_line}"
    );
    assert_eq!(lines.next(), Some("700"));
    assert_eq!(mode(&w.dir.path().join("runtime/gamelift-access")), 0o700);
    assert!(w.key_files().is_empty(), "keys left behind: {:?}", w.key_files());
}

/// A signal mid-session ends ssh and removes the key; we exit 128 + signal.
/// While the session is live, no process's argv or environment holds the key.
#[test]
fn signals_mid_session_leave_no_key_and_no_secret_in_any_argv() {
    let w = World::with_sshd();
    let fragment = w.secret_fragment();
    for (signal, expected) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129), (libc::SIGINT, 130)] {
        let mut cmd = w.connect(&["--", "echo ready; read line"]);
        // A live stdin pipe keeps the remote `read` waiting; ending the session closes it.
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        // Held open until the run is over, so only the signal can end the session.
        let stdin = child.stdin.take();
        read_until_line(&mut child, "ready");

        let keys = w.key_files();
        assert_eq!(keys.len(), 1, "exactly one key while the session runs");
        assert_eq!(mode(&keys[0]), 0o600);
        for (proc, contents) in all_process_args_and_env() {
            assert!(!contents.contains(&fragment), "the key is visible in /proc/{proc}");
        }

        // SAFETY: kill(2) on our own child, which has not been reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(
            code(out.status),
            expected,
            "signal {signal}; stderr: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("interrupted"), "{}", text(&out.stderr));
        assert!(
            w.key_files().is_empty(),
            "signal {signal} left a key: {:?}",
            w.key_files()
        );
    }
}

#[test]
fn the_secret_appears_in_no_output_even_with_debug() {
    let w = World::with_sshd();
    let fragment = w.secret_fragment();
    for flags in [
        &["--debug"][..],
        &["-vv"],
        &["-v", "--print"],
        &["--print", "--output", "json"],
    ] {
        let mut args = flags.to_vec();
        args.extend(["--", "echo", "done"]);
        let out = run(w.connect(&args));
        assert_eq!(code(out.status), 0, "{flags:?}: {}", text(&out.stderr));
        for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let s = text(stream);
            assert!(!s.contains(&fragment), "{flags:?}: the key is in {name}");
            assert!(!s.contains("PRIVATE KEY"), "{flags:?}: a key header is in {name}");
        }
        if flags.contains(&"--debug") {
            // Prove --debug really shows the SDK's request handling, so the check above means something.
            assert!(text(&out.stderr).contains("GetInstanceAccess"), "{}", text(&out.stderr));
        }
    }
}

#[test]
fn print_shows_the_command_and_runs_nothing() {
    let w = World::without_sshd();
    let out = run(w.connect(&["--port", "2222", "--user", "ops", "--print", "--", "uptime"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let argv = shlex::split(&text(&out.stdout)).expect("--print output is shell words");
    let key = &argv[2];
    assert!(
        key.starts_with(&w.keys_dir().to_string_lossy().into_owned()) && key.ends_with(".pem"),
        "{argv:?}"
    );
    let known_hosts = w.dir.path().join(format!("data/gamelift-access/known_hosts/{FLEET}"));
    assert_eq!(
        argv[3..],
        [
            "-o".to_owned(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", known_hosts.display()),
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            format!("HostKeyAlias={INSTANCE}"),
            "-p".into(),
            "2222".into(),
            // A forwarded agent would hand the instance every key it holds.
            "-o".into(),
            "ForwardAgent=no".into(),
            "--".into(),
            "ops@127.0.0.1".into(),
            "uptime".into(),
        ]
    );
    assert!(argv[0].ends_with("ssh") && argv[1] == "-i", "{argv:?}");
    assert!(w.key_files().is_empty());

    let out = run(w.connect(&["--print", "--output", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let args: Vec<&str> = json["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args[args.len() - 5..],
        ["22", "-o", "ForwardAgent=no", "--", "gl-user-remote@127.0.0.1"]
    );
}

#[test]
fn malformed_references_make_no_api_call() {
    let w = World::without_sshd();
    for (fleet, instance, what) in [
        ("fleet-a_b", INSTANCE, "expected a fleet ID"),
        (
            "arn:aws:gamelift:us-west-2:123456789012:build/build-1",
            INSTANCE,
            "expected a fleet ID",
        ),
        (
            "arn:aws:gamelift:us-west-2:12345:alias/alias-1",
            INSTANCE,
            "expected a fleet ID",
        ),
        (FLEET, "i-XYZ", "expected an instance ID"),
        (FLEET, "bad name!", "expected an instance ID"),
    ] {
        let mut cmd = w.cmd();
        cmd.args(["connect", fleet, instance]);
        let out = run(cmd);
        assert_eq!(code(out.status), 64, "{fleet} {instance}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(what), "{}", text(&out.stderr));
    }
    assert!(
        w.emulator.calls().is_empty(),
        "API calls were made: {:?}",
        w.emulator.calls()
    );
}

#[test]
fn a_throttled_first_call_is_retried() {
    let w = World::with_sshd();
    w.emulator.inject("GetInstanceAccess", Fault::Throttle, 1);
    let out = run(w.connect(&["--", "echo", "through"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "through\n");
    let statuses: Vec<u16> = w
        .emulator
        .calls_to("GetInstanceAccess")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [400, 200]);
}

#[test]
fn a_fleet_arn_region_wins_over_the_default_region() {
    let w = World::without_sshd();
    let arn = format!("arn:aws:gamelift:{REGION}:123456789012:fleet/{FLEET}");
    let mut cmd = w.cmd();
    cmd.env("AWS_REGION", "eu-west-1")
        .args(["connect", &arn, INSTANCE, "--print"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    // --print's dry run looks the instance up (and asks for no access).
    let calls = w.emulator.calls_to("DescribeInstances");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].region, REGION);
    assert_eq!(calls[0].body["FleetId"], FLEET);
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());

    // And without the ARN, the same fleet is not found in the other region.
    let mut cmd = w.cmd();
    cmd.env("AWS_REGION", "eu-west-1")
        .args(["connect", FLEET, INSTANCE, "--print"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 68, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("eu-west-1"), "{}", text(&out.stderr));
}

/// Each failure class has its own exit code and a message with a next step.
#[test]
fn errors_carry_their_documented_exit_codes() {
    let w = World::without_sshd();
    let connect = |instance: &str, env: &[(&str, &str)]| {
        let mut cmd = w.cmd();
        cmd.args(["connect", FLEET, instance]).envs(env.iter().copied());
        let out = run(cmd);
        (code(out.status), text(&out.stderr))
    };

    let (c, err) = connect("i-00000000000000000", &[]);
    assert_eq!(c, 68, "{err}");
    assert!(err.contains("not found") && err.contains("check the ID"), "{err}");

    w.emulator.inject("GetInstanceAccess", Fault::Throttle, 2);
    let (c, err) = connect(INSTANCE, &[("AWS_MAX_ATTEMPTS", "2")]);
    assert_eq!(c, 75, "{err}");
    assert!(
        err.contains("throttled") && err.contains("try again") || err.contains("run the command again"),
        "{err}"
    );

    w.emulator.inject("GetInstanceAccess", Fault::ServerError(500), 2);
    let (c, err) = connect(INSTANCE, &[("AWS_MAX_ATTEMPTS", "2")]);
    assert_eq!(c, 69, "{err}");

    w.emulator.inject("GetInstanceAccess", Fault::Garbage, 1);
    let (c, err) = connect(INSTANCE, &[]);
    assert_eq!(c, 65, "{err}");

    let (c, err) = connect(INSTANCE, &[("AWS_REGION", "")]); // set but empty counts as unset
    assert_eq!(c, 78, "{err}");
    assert!(err.contains("--region"), "{err}");

    w.emulator
        .with_fixture(|f| f.unauthorized_operations.push("GetInstanceAccess".into()));
    let (c, err) = connect(INSTANCE, &[]);
    assert_eq!(c, 77, "{err}");
    assert!(err.contains("gamelift:GetInstanceAccess"), "{err}");
    w.emulator.with_fixture(|f| f.unauthorized_operations.clear());

    w.emulator
        .with_fixture(|f| f.fleet_mut(FLEET).unwrap().compute_type = gamelift_emulator::ComputeType::Container);
    let (c, err) = connect(INSTANCE, &[]);
    assert_eq!(c, 76, "{err}");
    assert!(err.contains("GameLift refused"), "{err}");
    w.emulator
        .with_fixture(|f| f.fleet_mut(FLEET).unwrap().compute_type = gamelift_emulator::ComputeType::Ec2);

    w.emulator.with_fixture(|f| {
        f.instance_mut(INSTANCE).unwrap().secret =
            "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n".into()
    });
    let (c, err) = connect(INSTANCE, &[]);
    assert_eq!(c, 65, "{err}");
    assert!(
        err.contains("not an RSA private key") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(w.key_files().is_empty());

    // No secret is fetched when there is no ssh to use it.
    let before = w.emulator.calls_to("GetInstanceAccess").len();
    let (c, err) = connect(INSTANCE, &[("PATH", "/nonexistent")]);
    assert_eq!(c, 72, "{err}");
    assert!(err.contains("install the OpenSSH client"), "{err}");
    assert_eq!(
        w.emulator.calls_to("GetInstanceAccess").len(),
        before,
        "GetInstanceAccess without ssh"
    );
}

#[test]
fn keys_left_by_a_killed_run_are_swept_at_the_next_start() {
    let w = World::without_sshd();
    std::fs::create_dir_all(w.keys_dir()).unwrap();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let stale = w.keys_dir().join(format!("{INSTANCE}.{dead_pid}.pem"));
    let live = w.keys_dir().join(format!("{INSTANCE}.{}.pem", std::process::id()));
    std::fs::write(&stale, "stale").unwrap();
    std::fs::write(&live, "in use by a live process").unwrap();

    let out = run(w.connect(&["--print"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(!stale.exists(), "the orphaned key was not swept");
    assert!(live.exists(), "a live process's key was removed");
}

#[test]
fn options_that_do_not_fit_the_instance_are_refused_before_any_secret_is_fetched() {
    let w = World::without_sshd();
    for (flags, says) in [
        (&["--show-password"][..], "never shown or copied"),
        (&["--copy"], "never shown or copied"),
    ] {
        let out = run(w.connect(flags));
        assert_eq!(code(out.status), 64, "{flags:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());

    // An SSM session runs a command or forwards a port, not both.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = w.cmd();
    cmd.args([
        "connect",
        gamelift_emulator::fixture::sample::LINUX_SDK5_FLEET,
        "i-0a1b2c3d4e5f60718",
        "--forward",
        &format!("{free}:localhost:80"),
        "--",
        "uptime",
    ]);
    let out = run(cmd);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("do not go together on SSM"),
        "{}",
        text(&out.stderr)
    );
    assert!(w.emulator.calls_to("GetComputeAccess").is_empty());
}

#[test]
fn a_slow_reply_within_the_timeout_is_waited_for_and_a_stalled_one_is_not() {
    use std::time::{Duration, Instant};
    let w = World::without_sshd();
    let connect = |read_timeout: &str| {
        let mut cmd = w.cmd();
        cmd.args([
            "--cli-read-timeout",
            read_timeout,
            "connect",
            FLEET,
            INSTANCE,
            "--print",
        ]);
        let started = Instant::now();
        let out = run(cmd);
        (code(out.status), text(&out.stderr), started.elapsed())
    };
    // Warm the fleet cache, so only the dry run's DescribeInstances is slowed below.
    assert_eq!(connect("30").0, 0);

    w.emulator
        .inject("DescribeInstances", Fault::Delay(Duration::from_secs(2)), 1);
    let (c, err, took) = connect("10");
    assert_eq!(c, 0, "{err}");
    assert!(took >= Duration::from_secs(2), "the delay was not applied: {took:?}");

    // A stalled endpoint: a clear error naming the timeout to raise, not a hang.
    w.emulator
        .inject("DescribeInstances", Fault::Delay(Duration::from_secs(30)), 10);
    let (c, err, took) = connect("1");
    assert_eq!(c, 69, "{err}");
    assert!(
        err.contains("no answer in time") && err.contains("--cli-read-timeout"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}
