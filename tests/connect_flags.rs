//! `connect --ssh-flag`, `--forward`/`--forward-only`, and errors that name
//! the endpoint really called: the real binary against the emulator, the
//! real ssh against a real sshd, and a real TCP service behind the forward.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::fixture::sample;

#[test]
fn ssh_flags_reach_ssh_and_the_session_works() {
    let w = World::with_sshd();
    let out = run(w.connect(&[
        "--ssh-flag",
        "-o ServerAliveInterval=30",
        "--ssh-flag=-v",
        "--",
        "echo",
        "flags-ok",
    ]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "flags-ok\n");
    // -v really reached ssh: its debug lines are on stderr.
    assert!(text(&out.stderr).contains("debug1:"), "{}", text(&out.stderr));

    // --print shows them after our options, before `--` and the destination.
    let out = run(w.connect(&["--ssh-flag", "-o ServerAliveInterval=30", "--ssh-flag=-A", "--print"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let argv = shlex::split(&text(&out.stdout)).unwrap();
    let dash = argv.iter().position(|a| a == "--").unwrap();
    assert_eq!(argv[dash - 3..dash], ["-o", "ServerAliveInterval=30", "-A"], "{argv:?}");
    assert!(argv[..dash - 3].contains(&"IdentitiesOnly=yes".to_owned()));
}

#[test]
fn flags_that_override_safety_are_refused_before_any_api_call() {
    let w = World::without_sshd();
    for flag in [
        "-i/tmp/other-key",
        "-o IdentitiesOnly=no",
        "-oUserKnownHostsFile=/dev/null",
        "-o stricthostkeychecking=no",
        "-o StrictHostKeyChecking no",
        "-Ai /tmp/k",
    ] {
        let out = run(w.connect(&["--ssh-flag", flag]));
        let err = text(&out.stderr);
        assert_eq!(code(out.status), 64, "{flag}: {err}");
        assert!(
            err.contains("is refused") && err.contains("keep the session safe"),
            "{flag}: {err}"
        );
    }
    let out = run(w.connect(&["--ssh-flag", "uptime"]));
    assert_eq!(code(out.status), 64);
    assert!(text(&out.stderr).contains("after `--`"), "{}", text(&out.stderr));
    assert!(w.emulator.calls().is_empty(), "{:?}", w.emulator.calls());
}

/// A port that nothing listens on (bound, then released).
fn dead_endpoint() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn errors_name_the_endpoint_really_called() {
    let w = World::without_sshd();
    let attempt = |configure: &dyn Fn(&mut std::process::Command)| {
        let mut cmd = w.cmd();
        cmd.env("AWS_MAX_ATTEMPTS", "1")
            .args(["connect", FLEET, INSTANCE, "--print"]);
        configure(&mut cmd);
        let out = run(cmd);
        (code(out.status), text(&out.stderr))
    };

    // AWS_ENDPOINT_URL_GAMELIFT wins over AWS_ENDPOINT_URL (which is the live emulator).
    let dead = dead_endpoint();
    let (c, err) = attempt(&|cmd| {
        cmd.env("AWS_ENDPOINT_URL_GAMELIFT", &dead);
    });
    assert_eq!(c, 69, "{err}");
    assert!(err.contains(&format!("could not reach {dead}")), "{err}");
    assert!(!err.contains("amazonaws.com"), "{err}");

    // A profile's services section.
    let dead = dead_endpoint();
    let config = w.dir.path().join("aws-config-services");
    std::fs::write(
        &config,
        format!("[profile svc]\nservices = local\n\n[services local]\ngamelift =\n  endpoint_url = {dead}\n"),
    )
    .unwrap();
    let (c, err) = attempt(&|cmd| {
        cmd.env_remove("AWS_ENDPOINT_URL")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", "svc");
    });
    assert_eq!(c, 69, "{err}");
    assert!(err.contains(&format!("could not reach {dead}")), "{err}");

    // A profile's endpoint_url.
    let dead = dead_endpoint();
    std::fs::write(&config, format!("[profile svc]\nendpoint_url = {dead}\n")).unwrap();
    let (c, err) = attempt(&|cmd| {
        cmd.env_remove("AWS_ENDPOINT_URL")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", "svc");
    });
    assert_eq!(c, 69, "{err}");
    assert!(err.contains(&format!("could not reach {dead}")), "{err}");

    // --endpoint-url wins over all of them.
    let dead = dead_endpoint();
    let (c, err) = attempt(&|cmd| {
        cmd.env("AWS_ENDPOINT_URL_GAMELIFT", w.emulator.endpoint())
            .args(["--endpoint-url", &dead]);
    });
    assert_eq!(c, 69, "{err}");
    assert!(err.contains(&format!("could not reach {dead}")), "{err}");
}

/// A one-connection TCP service on the "instance" side: it greets with a
/// token and echoes one line back.
fn service(token: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(format!("{token}\n").as_bytes()).unwrap();
        let mut line = String::new();
        let mut byte = [0u8; 1];
        while conn.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
            line.push(byte[0] as char);
        }
        conn.write_all(format!("echo:{line}\n").as_bytes()).unwrap();
        line
    });
    (port, handle)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn forward_only_reaches_a_service_on_the_instance_through_ssh() {
    let w = World::with_sshd();
    let (service_port, service) = service("hello-through-the-tunnel");
    let local = free_port();
    let spec = format!("{local}:localhost:{service_port}");
    let mut cmd = w.connect(&["--forward", &spec, "--forward-only"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();

    // Ready when the forwarded port accepts: until then the connection is refused.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        match TcpStream::connect(("127.0.0.1", local)) {
            Ok(conn) => break conn,
            Err(_) if Instant::now() < deadline => {
                if let Some(status) = child.try_wait().unwrap() {
                    let out = child.wait_with_output().unwrap();
                    panic!("connect exited early ({status}): {}", text(&out.stderr));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
                let _ = child.wait();
                panic!("the forwarded port never opened: {e}");
            }
        }
    };
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut greeting = [0u8; 25];
    conn.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"hello-through-the-tunnel\n");
    conn.write_all(b"ping\n").unwrap();
    let mut echo = [0u8; 10];
    conn.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"echo:ping\n");
    assert_eq!(service.join().unwrap(), "ping");
    assert_eq!(w.key_files().len(), 1, "the key lives while the forward does");

    // -N: the session runs nothing and lasts until interrupted.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(out.status), 130, "{}", text(&out.stderr));
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());
}

#[test]
fn forward_with_a_command_and_the_print_form() {
    let w = World::with_sshd();
    let out = run(w.connect(&["--forward", "127.0.0.1:0:localhost:1", "--print"]));
    // Port 0 is not a port to forward.
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));

    let local = free_port();
    let spec = format!("{local}:10.0.0.5:7777");
    let out = run(w.connect(&["--forward", &spec, "--forward", "0.0.0.0:9999:localhost:80", "--print"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let argv = shlex::split(&text(&out.stdout)).unwrap();
    let dash = argv.iter().position(|a| a == "--").unwrap();
    assert_eq!(
        argv[dash - 6..dash],
        [
            "-L".to_owned(),
            format!("127.0.0.1:{local}:10.0.0.5:7777"),
            "-L".into(),
            "0.0.0.0:9999:localhost:80".into(),
            "-o".into(),
            "ExitOnForwardFailure=yes".into()
        ]
    );

    let out = run(w.connect(&["--forward", &spec, "--forward-only", "--", "uptime"]));
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
}

#[test]
fn a_busy_local_port_is_refused_before_any_api_call() {
    let w = World::without_sshd();
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = run(w.connect(&["--forward", &format!("{port}:localhost:80")]));
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 64, "{err}");
    assert!(
        err.contains(&format!("local port {port} on 127.0.0.1 is not free")),
        "{err}"
    );
    assert!(w.emulator.calls().is_empty(), "{:?}", w.emulator.calls());
}

#[test]
fn sdk5_forwards_through_the_ssm_port_forwarding_documents() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let local = free_port();
    let cases = [
        (
            format!("{local}:localhost:7777"),
            serde_json::json!({
                "Target": sample::LINUX_SDK5_INSTANCE,
                "DocumentName": "AWS-StartPortForwardingSession",
                "Parameters": {"portNumber": ["7777"], "localPortNumber": [local.to_string()]},
            }),
        ),
        (
            format!("{local}:db.internal:5432"),
            serde_json::json!({
                "Target": sample::LINUX_SDK5_INSTANCE,
                "DocumentName": "AWS-StartPortForwardingSessionToRemoteHost",
                "Parameters": {"host": ["db.internal"], "portNumber": ["5432"], "localPortNumber": [local.to_string()]},
            }),
        ),
    ];
    // Through the AWS CLI and through the plugin directly.
    for drop in [&[][..], &["aws"]] {
        for (spec, expected) in &cases {
            let mut cmd = w.cmd();
            cmd.env("PATH", path_with(&plugin.bin_dir, drop))
                .env("AWS_PROFILE", "must-not-reach-the-plugin")
                .env("AWS_CONFIG_FILE", w.dir.path().join("aws-config-sdk5"))
                .args([
                    "connect",
                    sample::LINUX_SDK5_FLEET,
                    sample::LINUX_SDK5_INSTANCE,
                    "--forward",
                    spec,
                ]);
            std::fs::write(
                w.dir.path().join("aws-config-sdk5"),
                "[profile must-not-reach-the-plugin]\n",
            )
            .unwrap();
            let out = run(cmd);
            assert_eq!(code(out.status), 0, "{spec}: {}", text(&out.stderr));
            let runs = plugin.runs();
            let last = runs
                .iter()
                .find(|r| serde_json::from_str::<serde_json::Value>(&r.argv[4]).ok().as_ref() == Some(expected))
                .unwrap_or_else(|| panic!("no plugin run with {expected}"));
            let issued = w.emulator.issued_compute_credentials();
            assert!(issued.iter().any(|c| c.access_key_id == last.env["AWS_ACCESS_KEY_ID"]
                && c.secret_access_key == last.env["AWS_SECRET_ACCESS_KEY"]
                && c.session_token == last.env["AWS_SESSION_TOKEN"]));
            assert!(!last.env.contains_key("AWS_PROFILE"), "the profile reached the plugin");
        }
    }
    let sessions = w.emulator.ssm_sessions();
    assert_eq!(sessions.len(), 4);
    assert!(
        sessions
            .iter()
            .all(|s| s.document_name.starts_with("AWS-StartPortForwardingSession"))
    );

    // One port per SSM session, on localhost only; no ssh flags.
    for extra in [
        &["--forward", "1:localhost:2", "--forward", "3:localhost:4"][..],
        &["--forward", "0.0.0.0:1:localhost:2"],
        &["--ssh-flag", "-v"],
    ] {
        let mut cmd = w.cmd();
        cmd.env("PATH", path_with(&plugin.bin_dir, &[]))
            .args(["connect", sample::LINUX_SDK5_FLEET, sample::LINUX_SDK5_INSTANCE])
            .args(extra);
        let out = run(cmd);
        assert_eq!(code(out.status), 64, "{extra:?}: {}", text(&out.stderr));
    }
}
