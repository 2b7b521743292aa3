//! The agent end to end: the real `ssh-add` and `ssh` against
//! `gamelift-access agent run`, the real sshd as the instance, and `connect`
//! as the agent's client.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::agent::{Agent, ssh_keygen};
use common::*;

#[test]
fn ssh_add_lists_the_key_connect_added_and_d_and_capital_d_remove_it() {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    assert!(agent.list().contains("no identities"), "{}", agent.list());

    let out = run(w.connect(&["--", "echo", "through-the-agent"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "through-the-agent\n");

    // The comment names the fleet and the instance.
    let listed = agent.list();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(
        listed.contains(&format!("fleet={FLEET}")) && listed.contains(&format!("instance={INSTANCE}")),
        "{listed}"
    );
    assert!(listed.contains("(RSA)"), "{listed}");

    // ssh-add -d with the instance's public key removes exactly it.
    let public = w.dir.path().join("sshd/instance_key.pub");
    let out = agent.ssh_add(&["-d", public.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(agent.list().contains("no identities"), "{}", agent.list());

    // -D empties the agent.
    let own = w.dir.path().join("own_key");
    ssh_keygen(&own, None);
    assert!(agent.ssh_add(&[own.to_str().unwrap()]).status.success());
    let out = run(w.connect(&["--", "true"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(agent.list().lines().count(), 2, "{}", agent.list());
    let out = agent.ssh_add(&["-D"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(agent.list().contains("no identities"), "{}", agent.list());
}

#[test]
fn a_key_added_with_a_two_second_lifetime_is_gone_after_it() {
    let w = World::without_sshd();
    let agent = Agent::start(&w, &[]);
    let own = w.dir.path().join("own_key");
    ssh_keygen(&own, None);
    let added = Instant::now();
    let out = agent.ssh_add(&["-t", "2", own.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(agent.list().contains("own_key"), "{}", agent.list());

    // status shows the time left, never more than the lifetime.
    let mut status = w.cmd();
    status
        .args(["--output", "json", "agent", "status"])
        .env("GAMELIFT_ACCESS_AGENT_SOCK", &agent.socket);
    let out = run(status);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let left = json["keys"][0]["expires_in_secs"].as_u64().unwrap();
    assert!((1..=2).contains(&left), "{json}");
    assert_eq!(json["default_key_ttl_secs"], 1800);

    // The lifetime itself is what is under test, so time has to pass.
    std::thread::sleep(Duration::from_secs(2).saturating_sub(added.elapsed()) + Duration::from_millis(200));
    assert!(agent.list().contains("no identities"), "{}", agent.list());

    // Without -t, the agent's default (--key-ttl) applies.
    drop(agent);
    let agent = Agent::start(&w, &["--key-ttl", "1"]);
    assert!(agent.ssh_add(&[own.to_str().unwrap()]).status.success());
    assert!(agent.list().contains("own_key"));
    std::thread::sleep(Duration::from_millis(1200));
    assert!(agent.list().contains("no identities"), "{}", agent.list());
}

#[test]
fn a_warm_connect_makes_no_gamelift_call_and_no_key_file() {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    let keys = w.keys_dir();
    // The remote side is this machine: it can look for key files mid-session.
    let script = format!("ls -A {} | wc -l", keys.display());
    let out = run(w.connect(&["--", &script]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "0", "a key file existed during the session");
    let cold = w.emulator.calls().len();
    assert_eq!(w.emulator.calls_to("GetInstanceAccess").len(), 1);

    let out = run(w.connect(&["--", "echo", "warm"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "warm\n");
    assert_eq!(
        w.emulator.calls().len(),
        cold,
        "a warm connect called GameLift: {:?}",
        w.emulator.calls()
    );
    assert!(w.key_files().is_empty());
    drop(agent);
}

/// Every regular file under `dir` (not following symlinks) written since
/// `since` that holds `needle`. Older files cannot hold a key this run got.
fn files_holding(dir: &Path, needle: &[u8], skip: &Path, since: std::time::SystemTime, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.starts_with(skip) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            files_holding(&path, needle, skip, since, found);
        } else if meta.is_file()
            && meta.len() < 1 << 20
            && meta.modified().is_ok_and(|m| m >= since)
            && let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(path);
        }
    }
}

#[test]
fn while_a_session_is_open_no_file_holds_the_key() {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    let fragment = w.secret_fragment();
    let since = std::time::SystemTime::now() - Duration::from_secs(1);
    let mut cmd = w.connect(&["--", "echo ready; read line"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    read_until_line(&mut child, "ready");

    // The sshd directory plays the instance, whose authorized key pair lives there.
    let instance_side = w.dir.path().join("sshd");
    let mut found = vec![];
    for dir in [
        w.dir.path().join("home"),
        w.dir.path().join("runtime"),
        PathBuf::from("/tmp"),
    ] {
        files_holding(&dir, fragment.as_bytes(), &instance_side, since, &mut found);
    }
    assert!(found.is_empty(), "the key is on disk: {found:?}");
    for (proc, contents) in all_process_args_and_env() {
        assert!(!contents.contains(&fragment), "the key is visible in /proc/{proc}");
    }
    assert_eq!(agent.list().lines().count(), 1, "{}", agent.list());

    stdin.write_all(b"done\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert!(!agent.log().contains(&fragment));
}

#[test]
fn a_stale_cached_key_is_replaced_with_one_fresh_get_instance_access() {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    let out = run(w.connect(&["--", "true"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(w.emulator.calls_to("GetInstanceAccess").len(), 1);

    // The instance gets a new key: sshd's authorized key and GameLift's answer change.
    let new_key = w.dir.path().join("new_key");
    ssh_keygen(&new_key, None);
    std::fs::copy(new_key.with_extension("pub"), w.dir.path().join("sshd/authorized_keys")).unwrap();
    let pem = std::fs::read_to_string(&new_key).unwrap();
    w.emulator
        .with_fixture(|f| f.instance_mut(INSTANCE).unwrap().secret = pem.clone());

    let out = run(w.connect(&["--", "echo", "recovered"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "recovered\n");
    assert!(
        text(&out.stderr).contains("refused the agent's cached key"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        w.emulator.calls_to("GetInstanceAccess").len(),
        2,
        "exactly one fresh call"
    );
    // The agent holds the new key only.
    let listed = agent.list();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let fingerprint = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(new_key.with_extension("pub"))
        .output()
        .unwrap();
    let fingerprint = text(&fingerprint.stdout);
    assert!(
        listed.contains(fingerprint.split_whitespace().nth(1).unwrap()),
        "{listed}"
    );

    // A remote failure that exits 255 after the key was accepted is passed
    // through and fetches nothing.
    let out = run(w.connect(&["--", "exit 255"]));
    assert_eq!(code(out.status), 255, "{}", text(&out.stderr));
    assert_eq!(w.emulator.calls_to("GetInstanceAccess").len(), 2);
}

#[test]
fn no_agent_and_a_killed_agent_fall_back_to_a_key_file() {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    let keys = w.keys_dir();
    let script = format!("ls -A {} | wc -l", keys.display());

    let out = run(w.connect(&["--no-agent", "--", &script]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "1", "--no-agent uses a key file");
    assert!(agent.list().contains("no identities"));

    let out = run(w.connect(&["--", "true"]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    agent.kill();
    // The dead agent's socket is still there; nobody answers on it.
    assert!(w.agent_socket().exists());
    let out = run(w.connect(&["--", &script]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "1", "without an agent, a key file as before");
    assert!(w.key_files().is_empty());

    // A new agent takes over the dead one's socket.
    let agent = Agent::start(&w, &[]);
    let out = run(w.connect(&["--", &script]));
    assert_eq!(code(out.status), 0, "stderr: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "0");
    drop(agent);
}

fn open_fds(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

#[test]
fn hostile_clients_leave_the_agent_serving() {
    let w = World::without_sshd();
    let agent = Agent::start(&w, &[]);
    let own = w.dir.path().join("own_key");
    ssh_keygen(&own, None);
    assert!(agent.ssh_add(&[own.to_str().unwrap()]).status.success());

    // An oversized message: the connection is closed, unread.
    let mut big = UnixStream::connect(&agent.socket).unwrap();
    big.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(big.read(&mut buf).unwrap(), 0, "the oversized message was not refused");

    // An unknown message type is answered with FAILURE, as OpenSSH's agent does.
    let mut unknown = UnixStream::connect(&agent.socket).unwrap();
    unknown.write_all(&[0, 0, 0, 4, 200, 1, 2, 3]).unwrap();
    let mut answer = [0u8; 5];
    unknown.read_exact(&mut answer).unwrap();
    assert_eq!(answer, [0, 0, 0, 1, 5]);
    // Garbage inside a known message (an add whose key is cut short) closes the connection.
    let mut bad = UnixStream::connect(&agent.socket).unwrap();
    bad.write_all(&[0, 0, 0, 6, 17, 0, 0, 0, 9, b'x']).unwrap();
    let mut rest = vec![];
    bad.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    // The first connection was not harmed by the second.
    unknown.write_all(&[0, 0, 0, 1, 11]).unwrap();
    let mut answer = [0u8; 9];
    unknown.read_exact(&mut answer).unwrap();
    assert_eq!(answer[4], 12, "an identities answer");

    // A flood: connections beyond the bound are closed at once, and the
    // agent's descriptors stay bounded.
    let flood: Vec<UnixStream> = (0..300)
        .filter_map(|_| UnixStream::connect(&agent.socket).ok())
        .collect();
    assert!(flood.len() > 64);
    // Connections past the bound are closed by the agent; wait until it has caught up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while open_fds(agent.pid()) > 64 + 32 {
        assert!(Instant::now() < deadline, "{} descriptors open", open_fds(agent.pid()));
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(flood);

    // And it still serves, with the key it held.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = agent.ssh_add(&["-l"]);
        if out.status.success() {
            assert!(text(&out.stdout).contains("own_key"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the agent stopped serving: {}",
            text(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(agent.child.id() > 0);
    assert!(!agent.log().contains("panicked"), "{}", agent.log());
}

const NOBODY: u32 = 65534;

/// A command that runs as `nobody`.
fn as_nobody(mut cmd: Command) -> Command {
    // SAFETY: setgroups/setgid/setuid are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(NOBODY) != 0 || libc::setuid(NOBODY) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// A directory anyone may enter, for a socket whose mode we loosen on purpose.
fn open_dir(w: &World, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = w.dir.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(w.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn another_user_is_refused_even_through_a_loosened_socket() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::without_sshd();
    let socket = open_dir(&w, "open").join("agent.sock");
    let agent = Agent::start_with(w.cmd(), &socket, &[]);
    assert_eq!(mode(&socket), 0o600, "the socket is created 0600");
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();

    let mut cmd = Command::new("ssh-add");
    cmd.arg("-l").env("SSH_AUTH_SOCK", &socket).stdin(Stdio::null());
    let out = as_nobody(cmd).output().unwrap();
    // The agent hangs up at once: ssh-add dies of SIGPIPE writing its request.
    assert!(!out.status.success(), "nobody listed the keys: {}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("no identities"), "{}", text(&out.stdout));
    // The agent says why; its log is read on another thread, so it may lag.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !agent.log().contains("refused a connection from another user") {
        assert!(Instant::now() < deadline, "agent log: {}", agent.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    // We still may.
    assert!(agent.list().contains("no identities"));
}

/// PTRACE_ATTACH to `pid` as nobody; 0 or the errno.
fn ptrace_as_nobody(pid: i32) -> i32 {
    let mut cmd = Command::new("true");
    // SAFETY: only async-signal-safe calls, and _exit, in the forked child.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) != 0 || libc::setgid(NOBODY) != 0 || libc::setuid(NOBODY) != 0 {
                libc::_exit(100);
            }
            let rc = libc::ptrace(libc::PTRACE_ATTACH, pid, 0, 0);
            libc::_exit(if rc == 0 { 0 } else { *libc::__errno_location() });
        });
    }
    cmd.status().unwrap().code().unwrap()
}

#[test]
fn the_agent_dumps_no_core_and_refuses_a_same_uid_ptrace() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::without_sshd();
    let dir = open_dir(&w, "nobody");
    // SAFETY: chown on a path we created.
    let c = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::chown(c.as_ptr(), NOBODY, NOBODY) }, 0);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = dir.join("agent.sock");
    let agent = Agent::start_with(as_nobody(w.cmd()), &socket, &[]);

    let limits = std::fs::read_to_string(format!("/proc/{}/limits", agent.pid())).unwrap();
    let core = limits.lines().find(|l| l.starts_with("Max core file size")).unwrap();
    assert_eq!(core.split_whitespace().collect::<Vec<_>>()[4..6], ["0", "0"], "{core}");

    // A control: the same user may attach to an ordinary process of its own.
    let mut sleeper = as_nobody({
        let mut c = Command::new("sleep");
        c.arg("30");
        c
    })
    .spawn()
    .unwrap();
    let control = ptrace_as_nobody(sleeper.id() as i32);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(
        control, 0,
        "ptrace is blocked here for everything, so this test proves nothing"
    );

    assert_eq!(
        ptrace_as_nobody(agent.pid()),
        libc::EPERM,
        "a same-UID ptrace attached to the agent"
    );
}

#[test]
fn a_second_ssm_connect_uses_the_agents_cached_compute_credentials() {
    use gamelift_emulator::fixture::sample::{LINUX_SDK5_FLEET, LINUX_SDK5_INSTANCE};
    let w = World::without_sshd();
    let agent = Agent::start(&w, &["--compute-ttl", "5m"]);
    let plugin = FakePlugin::install(w.dir.path());
    // Without the AWS CLI we make StartSession ourselves, so the emulator
    // checks each session's signature against the credentials it issued:
    // cached credentials that did not work would fail the run.
    let connect = |extra: &[&str]| {
        let mut cmd = w.cmd();
        cmd.env("PATH", path_with(&plugin.bin_dir, &["aws"]))
            .arg("--debug")
            .args(["connect", LINUX_SDK5_FLEET, LINUX_SDK5_INSTANCE])
            .args(extra);
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    let mut output = connect(&[]);
    assert_eq!(w.emulator.calls_to("GetComputeAccess").len(), 1);
    output += &connect(&[]);
    assert_eq!(
        w.emulator.calls_to("GetComputeAccess").len(),
        1,
        "the second connect called GetComputeAccess"
    );
    assert!(output.contains("cached compute credentials"), "{output}");

    let issued = w.emulator.issued_compute_credentials();
    assert_eq!(issued.len(), 1);
    let runs = plugin.runs();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert_eq!(run.env["AWS_ACCESS_KEY_ID"], issued[0].access_key_id);
        assert_eq!(run.env["AWS_SECRET_ACCESS_KEY"], issued[0].secret_access_key);
        assert_eq!(run.env["AWS_SESSION_TOKEN"], issued[0].session_token);
    }
    let sessions = w.emulator.ssm_sessions();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.access_key_id == issued[0].access_key_id));

    // status names the compute and its time left, never the secret.
    let mut cmd = w.cmd();
    cmd.args(["--output", "json", "agent", "status"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["compute_ttl_secs"], 300);
    let cached = &status["compute_credentials"][0];
    assert_eq!(cached["fleet_id"], LINUX_SDK5_FLEET);
    assert_eq!(cached["compute_name"], LINUX_SDK5_INSTANCE);
    assert_eq!(cached["access_key_id"], issued[0].access_key_id.as_str());
    let left = cached["expires_in_secs"].as_u64().unwrap();
    assert!(left > 0 && left <= 300, "{left}");
    let mut cmd = w.cmd();
    cmd.args(["agent", "status"]);
    let table = text(&run(cmd).stdout);
    assert!(table.contains(LINUX_SDK5_INSTANCE), "{table}");
    output += &text(&out.stdout);
    output += &table;
    output += &agent.log();
    assert!(!output.contains(&issued[0].secret_access_key), "secret in the output");
    assert!(!output.contains(&issued[0].session_token), "token in the output");

    // --no-agent asks GameLift again, and leaves the cache alone.
    connect(&["--no-agent"]);
    assert_eq!(w.emulator.calls_to("GetComputeAccess").len(), 2);
    connect(&[]);
    assert_eq!(w.emulator.calls_to("GetComputeAccess").len(), 2);

    // ssh-add -D forgets everything, compute credentials included.
    assert!(agent.ssh_add(&["-D"]).status.success());
    connect(&[]);
    assert_eq!(w.emulator.calls_to("GetComputeAccess").len(), 3);
}

#[test]
fn ssh_flags_and_forwards_reach_ssh_through_the_agent_too() {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    // The first run adds the key to the agent; the second finds it there.
    for round in ["cold", "warm"] {
        let out = run(w.connect(&[
            "--ssh-flag=-v",
            "--ssh-flag",
            "-o ServerAliveInterval=30",
            "--",
            "echo",
            round,
        ]));
        assert_eq!(code(out.status), 0, "{round}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{round}\n"));
        let stderr = text(&out.stderr);
        // -v reached ssh: its debug lines are there.
        assert!(stderr.contains("debug1:"), "{round}: no -v: {stderr}");
    }
    // Both went through the agent: one key fetched, never a key file.
    assert!(w.key_files().is_empty());
    assert_eq!(w.emulator.calls_to("GetInstanceAccess").len(), 1);
    assert!(agent.list().contains(&format!("instance={INSTANCE}")));
}

/// A Unix socket at `path` served by `nobody`: python3 drops to nobody
/// before it listens (SO_PEERCRED reports the listener's credentials then),
/// prints `ready`, and for each connection prints how many bytes the client
/// sent before it hung up.
fn serve_as_nobody(path: &Path) -> std::process::Child {
    let script = r#"
import os, socket, sys
os.setgroups([]); os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(20)
    n = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            n += len(b)
    except OSError:
        pass
    c.close()
    print(n, flush=True)
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    read_until_line(&mut child, "ready");
    child
}

#[test]
fn a_socket_served_by_another_user_is_sent_nothing() {
    let w = World::with_sshd();
    let socket = open_dir(&w, "planted").join("agent.sock");
    let server = serve_as_nobody(&socket);

    // agent status names the socket and its owner, and fails.
    let mut cmd = w.cmd();
    cmd.arg("agent").arg("--socket").arg(&socket).arg("status");
    let out = run(cmd);
    let stderr = text(&out.stderr);
    assert_eq!(code(out.status), 69, "{stderr}");
    assert!(
        stderr.contains(socket.to_str().unwrap()) && stderr.contains("uid 65534 (nobody)"),
        "{stderr}"
    );

    // connect, pointed at it, says so and goes on without the agent.
    let mut cmd = w.connect(&["--", "echo", "no-agent"]);
    cmd.env("GAMELIFT_ACCESS_AGENT_SOCK", &socket);
    let out = run(cmd);
    let stderr = text(&out.stderr);
    assert_eq!(code(out.status), 0, "{stderr}");
    assert_eq!(text(&out.stdout), "no-agent\n");
    assert!(
        stderr.contains("not using the agent") && stderr.contains("nobody"),
        "{stderr}"
    );

    // Not a byte reached the impostor, over every connection made to it.
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let out = server.wait_with_output().unwrap();
    let counts: Vec<String> = text(&out.stdout).lines().skip(1).map(str::to_owned).collect();
    assert!(!counts.is_empty(), "no client connected");
    assert!(
        counts.iter().all(|n| n == "0"),
        "bytes sent to another user's socket: {counts:?}"
    );
}

#[test]
fn a_client_that_never_reads_its_answers_loses_its_connection() {
    let w = World::without_sshd();
    let agent = Agent::start(&w, &[]);
    let own = w.dir.path().join("own_key");
    ssh_keygen(
        &own,
        Some("a comment long enough to make each answer a few hundred bytes"),
    );
    assert!(agent.ssh_add(&[own.to_str().unwrap()]).status.success());
    let baseline = open_fds(agent.pid());

    // Thousands of key listings, and not one answer read: the agent's
    // answers fill the socket's buffer and its writes block.
    let mut hog = UnixStream::connect(&agent.socket).unwrap();
    let requests: Vec<u8> = [0u8, 0, 0, 1, 11].repeat(20_000);
    let mut writer = hog.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = writer.write_all(&requests);
    });
    let deadline = Instant::now() + Duration::from_secs(40);
    while open_fds(agent.pid()) <= baseline {
        assert!(Instant::now() < deadline, "the connection never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The agent gives up on it (after its write timeout) and frees the slot.
    while open_fds(agent.pid()) > baseline {
        assert!(
            Instant::now() < deadline,
            "a client that never reads still holds its connection"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // What it did send ends in end-of-file: the connection is closed.
    let mut rest = vec![];
    let _ = hog.read_to_end(&mut rest);
    feeder.join().unwrap();
    assert!(
        agent.list().contains("own_key") || agent.list().contains("a comment"),
        "{}",
        agent.list()
    );
}
