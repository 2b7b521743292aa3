//! `agent start|status|stop`: the daemon is started for real, in the
//! background, and reaped by this test process, which makes itself the
//! subreaper of its orphans (the daemon is one by design). In a test binary
//! of their own so that doing so affects no other test; each test here
//! reaps its own daemon by pid.

mod common;

use common::agent::{Agent, ssh_keygen};
use common::*;

fn agent(w: &World, args: &[&str]) -> std::process::Output {
    let mut cmd = w.cmd();
    cmd.args(args);
    run(cmd)
}

#[test]
fn start_returns_once_the_socket_answers_status_lists_and_stop_ends_it() {
    // SAFETY: prctl with an integer argument.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }, 0);
    let w = World::without_sshd();
    let socket = w.agent_socket();

    let out = agent(&w, &["agent", "status"]);
    assert_eq!(code(out.status), 3, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("not running"), "{}", text(&out.stdout));

    let out = agent(&w, &["--output", "json", "agent", "start", "--key-ttl", "10m"]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let started: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(started["socket"], socket.to_str().unwrap());
    assert_eq!(started["already_running"], false);
    let pid = started["pid"].as_i64().unwrap() as i32;
    // It answers as soon as start returns: no wait, no retry.
    std::os::unix::net::UnixStream::connect(&socket).expect("the socket answers");
    assert_eq!(mode(&socket), 0o600);

    // A second start finds it running.
    let out = agent(&w, &["agent", "start"]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), socket.to_str().unwrap());
    assert!(text(&out.stderr).contains("already running"), "{}", text(&out.stderr));

    // A key named as connect names them; status shows it, and no secret.
    let own = w.dir.path().join("own_key");
    ssh_keygen(
        &own,
        Some("gamelift-access fleet=fleet-x instance=i-0123456789abcdef0 user=u host=192.0.2.1"),
    );
    let st = std::process::Command::new("ssh-add")
        .arg(&own)
        .env("SSH_AUTH_SOCK", &socket)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let out = agent(&w, &["agent", "status"]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("running (pid {pid})")), "{shown}");
    assert!(
        shown.contains("fleet-x") && shown.contains("i-0123456789abcdef0") && shown.contains("192.0.2.1"),
        "{shown}"
    );
    assert!(shown.contains("10m"), "{shown}");
    let secret = std::fs::read_to_string(&own).unwrap();
    let fragment = secret.lines().nth(5).unwrap();
    assert!(!shown.contains(fragment));

    let out = agent(&w, &["agent", "stop"]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    // Reap the daemon: it exits on its own once stopped.
    let mut status = 0;
    // SAFETY: waitpid on a process this subreaper inherited.
    let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(reaped, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    assert!(!socket.exists(), "the socket was left behind");

    let out = agent(&w, &["agent", "stop"]);
    assert_eq!(code(out.status), 0, "stopping nothing is fine: {}", text(&out.stderr));
    let out = agent(&w, &["--output", "json", "agent", "status"]);
    assert_eq!(code(out.status), 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["running"], false);

    // `agent run` refuses to start twice on one socket.
    let first = Agent::start(&w, &[]);
    let mut second = w.cmd();
    second.args(["agent", "run"]);
    let out = run(second);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("already answers"), "{}", text(&out.stderr));
    drop(first);
}

/// Reaps `pid`, a daemon this subreaper inherited, once `agent stop` ends it.
fn stop_and_reap(w: &World, pid: i32) {
    let out = agent(w, &["agent", "stop"]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let mut status = 0;
    // SAFETY: waitpid on a process this subreaper inherited.
    let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(reaped, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
}

#[test]
fn a_daemon_whose_stderr_reader_is_gone_logs_to_its_file_and_keeps_serving() {
    use std::io::{Read, Write};
    // SAFETY: prctl with an integer argument.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }, 0);
    let w = World::without_sshd();
    let socket = w.agent_socket();
    // Every connection makes the daemon log a line.
    let mut cmd = w.cmd();
    cmd.env("GAMELIFT_ACCESS_LOG", "debug")
        .args(["--output", "json", "agent", "start"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let started: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pid = started["pid"].as_i64().unwrap() as i32;
    // `agent start` has exited: the daemon's stderr is a pipe nobody reads.
    for _ in 0..3 {
        // An unknown message: logged, and answered with FAILURE.
        let mut c = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        c.write_all(&[0, 0, 0, 4, 200, 1, 2, 3]).unwrap();
        let mut answer = [0u8; 5];
        c.read_exact(&mut answer).expect("the agent answers after logging");
        assert_eq!(answer, [0, 0, 0, 1, 5]);
    }
    let out = agent(&w, &["--output", "json", "agent", "status"]);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["pid"], pid);

    // The lines are in its log file, stamped.
    let log = std::fs::read_to_string(w.dir.path().join("state/gamelift-access/agent.log")).unwrap();
    assert!(log.contains("unknown message type"), "{log}");
    assert!(log.contains("agent listening"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert_eq!(mode(&w.dir.path().join("state/gamelift-access/agent.log")), 0o600);

    // Whether its memory is locked, `agent status` says, and truly.
    let locked = status["memory_locked"].as_bool().expect("memory_locked is a boolean");
    let vm_locked_kb: u64 = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert_eq!(locked, vm_locked_kb > 0, "VmLck {vm_locked_kb} kB");
    let out = agent(&w, &["agent", "status"]);
    let shown = text(&out.stdout);
    let says = if locked { "memory locked:" } else { "memory not locked:" };
    assert!(shown.contains(says), "{shown}");

    stop_and_reap(&w, pid);
}
