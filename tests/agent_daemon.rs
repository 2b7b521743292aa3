//! `agent start|status|stop`: the daemon is started for real, in the
//! background, and reaped by this test process, which makes itself the
//! subreaper of its orphans (the daemon is one by design). Alone in its own
//! test binary so that doing so affects no other test.

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
