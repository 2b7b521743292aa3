//! Many `proxy` processes starting the agent at once, as ssh makes them
//! when several connections begin together: exactly one agent runs after,
//! and every connection gets through. The daemon outlives the proxy that
//! started it, so this test process makes itself the subreaper of its
//! orphans and reaps them: alone in its own test binary, so that doing so
//! affects no other test.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::sshd::current_user;

/// Every running `agent run` on `socket` (not the zombies).
fn agents_on(socket: &Path) -> Vec<i32> {
    let mut pids = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_agent = args
            .windows(2)
            .any(|w| w[0] == "--socket" && w[1] == socket.to_str().unwrap())
            && args.iter().any(|a| a == "run");
        if is_agent {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn eight_ssh_connections_at_once_start_exactly_one_agent() {
    // SAFETY: prctl with an integer argument.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }, 0);
    let w = World::with_sshd();
    let socket = w.agent_socket();
    let mut cmd = w.cmd();
    cmd.arg("ssh-config");
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let config = w.dir.path().join("ssh_config");
    std::fs::write(&config, format!("{}  BatchMode yes\n", text(&out.stdout))).unwrap();
    // A stale socket file, as a SIGKILLed agent leaves: every proxy sees no
    // agent answer, and each one's daemon would replace the file.
    std::os::unix::net::UnixListener::bind(&socket).unwrap();
    assert!(socket.exists());

    let port = w.port().to_string();
    let user = current_user().unwrap();
    let host = format!("{INSTANCE}.{FLEET}.gamelift");
    let children: Vec<_> = (0..8)
        .map(|i| {
            w.tool("ssh")
                .arg("-F")
                .arg(&config)
                .args(["-p", &port, "-l", &user, &host, "echo", &format!("conn-{i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "connection {i} failed ({:?}): {}",
            out.status,
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), format!("conn-{i}\n"));
    }

    // Exactly one agent runs, and it answers on the socket.
    let agents = agents_on(&socket);
    assert_eq!(agents.len(), 1, "agents running: {agents:?}");
    let mut cmd = w.cmd();
    cmd.args(["--output", "json", "agent", "status"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["pid"], agents[0]);

    // Stopped, and reaped here.
    let mut cmd = w.cmd();
    cmd.args(["agent", "stop"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let mut st = 0;
    // SAFETY: waitpid on a process this subreaper inherited.
    assert_eq!(unsafe { libc::waitpid(agents[0], &mut st, 0) }, agents[0]);
    assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "status {st:#x}");
    assert!(agents_on(&socket).is_empty());

    // The proxies ssh left behind (it does not wait for its ProxyCommand)
    // were orphaned to us too: reap them once they have gone.
    drop(w);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // SAFETY: waitpid for any child of ours, without blocking.
        let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if pid < 0 {
            break; // ECHILD: none left
        }
        if pid == 0 {
            assert!(Instant::now() < deadline, "a child of ours never exited");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
