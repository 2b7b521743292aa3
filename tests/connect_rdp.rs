//! RDP end to end: the real FreeRDP client against a real FreeRDP shadow
//! server that checks the password with NLA (tests/common/rdp.rs), first on
//! its own, then through `gamelift-access connect` on a Windows fleet.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::rdp::*;
use common::*;

/// `+auth-only` makes xfreerdp exit once NLA has accepted or refused the
/// password: 0 or not, without opening a session.
const AUTH_ONLY: [&str; 4] = ["--", "+auth-only", "/cert:ignore", "/sec:nla"];

fn all_output(out: &std::process::Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

// --- The peer itself, with the real client and no gamelift-access ---------

#[test]
fn peer_accepts_the_right_password_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    let password = unique_password();
    let peer = RdpPeer::start(dir.path(), RDP_USER, &password);
    let auth = |password: &str| {
        let mut cmd = peer.client(dir.path());
        cmd.arg(format!("/v:127.0.0.1:{}", peer.port()))
            .arg(format!("/u:{RDP_USER}"))
            // The one place /p: appears: proving the peer, not our launcher.
            .arg(format!("/p:{password}"))
            .args(["+auth-only", "/cert:ignore", "/sec:nla"]);
        run(cmd)
    };
    let out = auth(&password);
    assert_eq!(code(out.status), 0, "{}", all_output(&out));
    let out = auth("not-the-password");
    assert_ne!(code(out.status), 0, "a wrong password got in: {}", all_output(&out));
    let out = auth(&format!("{password}x"));
    assert_ne!(code(out.status), 0, "a longer password got in");
}

/// What the launcher relies on: FreeRDP 2 with `/u:` and `/from-stdin:force`
/// reads exactly one line, the password, from stdin.
#[test]
fn freerdp_reads_the_password_line_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let password = unique_password();
    let peer = RdpPeer::start(dir.path(), RDP_USER, &password);
    let auth = |stdin: &str| {
        let mut cmd = peer.client(dir.path());
        cmd.arg(format!("/v:127.0.0.1:{}", peer.port()))
            .arg(format!("/u:{RDP_USER}"))
            .args(["/from-stdin:force", "+auth-only", "/cert:ignore", "/sec:nla"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(stdin.as_bytes()).unwrap();
        drop(pipe);
        let out = child.wait_with_output().unwrap();
        (code(out.status), text(&out.stderr))
    };
    let (rc, stderr) = auth(&format!("{password}\n"));
    assert_eq!(rc, 0, "{stderr}");
    assert!(stderr.starts_with("Password: "), "{stderr}");
    assert!(!stderr.contains("Domain"), "asked for a domain: {stderr}");
    // A domain line first would be taken as the password.
    let (rc, _) = auth(&format!("\n{password}\n"));
    assert_ne!(rc, 0);
    let (rc, _) = auth("wrong\n");
    assert_ne!(rc, 0);
}

// --- connect, end to end ----------------------------------------------------

#[test]
fn connect_logs_in_with_the_password_gamelift_returns() {
    let w = RdpWorld::start();
    let out = run(w.connect(&AUTH_ONLY));
    let output = all_output(&out);
    assert_eq!(code(out.status), 0, "{output}");
    assert!(!output.contains(&w.password), "password in the output");
    let calls = w.world.emulator.calls_to("GetInstanceAccess");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body["InstanceId"], WINDOWS_INSTANCE);
}

#[test]
fn connect_fails_when_the_server_refuses_the_password() {
    let peer_password = unique_password();
    let w = RdpWorld::with_gamelift_password(&peer_password, &unique_password());
    let out = run(w.connect(&AUTH_ONLY));
    let output = all_output(&out);
    let rc = code(out.status);
    assert_ne!(rc, 0, "a wrong password got in: {output}");
    // xfreerdp's own failure, passed through; not one of ours (64–78).
    assert!(!(64..=78).contains(&rc), "exit {rc}: {output}");
    assert!(!output.contains(&w.gamelift_password()), "password in the output");
}

#[test]
fn password_reaches_xfreerdp_on_stdin_not_in_argv_or_environment() {
    let w = RdpWorld::start();
    let (bin, record) = w.recording_wrapper();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = w.connect(&AUTH_ONLY);
    cmd.env("PATH", path);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", all_output(&out));

    let recorded = std::fs::read(&record).expect("the wrapper ran");
    let recorded = text(&recorded);
    assert!(
        !recorded.contains(&w.password),
        "password in xfreerdp's argv or environment"
    );
    let args: Vec<&str> = recorded.split('\0').filter_map(|f| f.strip_prefix("arg=")).collect();
    assert_eq!(
        args[..4],
        [
            &format!("/v:127.0.0.1:{}", w.peer.port())[..],
            "/u:gl-user-remote",
            "/from-stdin:force",
            "/cert:tofu",
        ]
    );
    // Ours first, then the extra arguments as given.
    assert_eq!(args[4..], AUTH_ONLY[1..]);
    assert!(!args.iter().any(|a| a.starts_with("/p:")));
    assert!(recorded.contains("argv0="), "{recorded}");
}

/// GameLift instances present self-signed certificates; with /from-stdin
/// FreeRDP would refuse them without asking, so the launcher trusts on first
/// use and files the certificate under the host and port.
#[test]
fn certificate_is_trusted_on_first_use() {
    let w = RdpWorld::start();
    for _ in 0..2 {
        let out = run(w.connect(&["--", "+auth-only", "/sec:nla"]));
        assert_eq!(code(out.status), 0, "{}", all_output(&out));
    }
    let known = std::fs::read_to_string(w.world.dir.path().join("home/.config/freerdp/known_hosts2"))
        .expect("certificate stored");
    assert!(known.starts_with(&format!("127.0.0.1 {} ", w.peer.port())), "{known}");
}

#[test]
fn missing_client_exits_72_with_the_install_hint() {
    let w = RdpWorld::start();
    let empty = w.world.dir.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = w.connect(&AUTH_ONLY);
    cmd.env("PATH", &empty);
    let out = run(cmd);
    assert_eq!(code(out.status), 72, "{}", all_output(&out));
    assert!(
        text(&out.stderr).contains("apt-get install freerdp2-x11"),
        "{}",
        text(&out.stderr)
    );
}

/// A live session (no +auth-only): while it runs, no process on the machine
/// has the password in its argv or environment; SIGTERM to us reaches
/// xfreerdp and we exit 143. (FreeRDP overwrites a `/p:` value in its own
/// argv once parsed, so /proc cannot catch `/p:`: the recording wrapper above
/// is what proves xfreerdp was never given it.)
#[test]
fn live_session_keeps_the_password_out_of_every_argv_and_sigterm_ends_it() {
    let w = RdpWorld::start();
    let mut cmd = w.connect(&["--", "/cert:ignore", "/sec:nla"]);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);

    // Wait (bounded) for xfreerdp to hold an established connection to the peer.
    let client = loop {
        if let Some(pid) = child_named(child.id(), "xfreerdp")
            && established_to(w.peer.port())
        {
            break pid;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("connect ended early: {status}");
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            child.wait().unwrap();
            panic!("no live RDP session within 30s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for (what, content) in all_process_args_and_env() {
        assert!(!content.contains(&w.password), "password in /proc/{what}");
    }

    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline + Duration::from_secs(30) {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
            child.wait().unwrap();
            panic!("connect did not end after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(code(status), 143, "{stderr}");
    // connect waited for xfreerdp before exiting, so it is gone (and reaped).
    assert!(
        !std::path::Path::new(&format!("/proc/{client}")).exists(),
        "xfreerdp outlived connect"
    );
}

/// The pid of a child of `parent` whose command name is `name`.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(" (").and_then(|(_, r)| r.rsplit_once(") ")) else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if comm == name && ppid == Some(parent) {
            return Some(pid);
        }
    }
    None
}

/// Whether some TCP connection to 127.0.0.1:`port` is established.
fn established_to(port: u16) -> bool {
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    tcp.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 3 && fields[2] == format!("0100007F:{port:04X}") && fields[3] == "01"
    })
}

// --- the password for the user: terminal, clipboard, scripts ---------------

#[test]
fn show_password_prints_it_alone_for_scripts_and_runs_nothing() {
    let w = RdpWorld::start();
    let (bin, record) = w.recording_wrapper();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let mut cmd = w.connect(&["--show-password"]);
    cmd.env("PATH", &path);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", all_output(&out));
    assert_eq!(text(&out.stdout), format!("{}\n", w.password));

    let mut cmd = w.connect(&["--show-password", "--output", "json"]);
    cmd.env("PATH", &path);
    let out = run(cmd);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["password"], w.password.as_str());
    assert_eq!(json["user"], "gl-user-remote");
    assert_eq!(json["port"], w.peer.port());
    assert!(!record.exists(), "--show-password started an RDP client");
}

#[test]
fn print_and_json_output_hold_no_password() {
    let w = RdpWorld::start();
    for extra in [&["--print"][..], &["--print", "--output", "json"]] {
        let out = run(w.connect(extra));
        assert_eq!(code(out.status), 0, "{}", all_output(&out));
        let output = all_output(&out);
        assert!(output.contains("/from-stdin:force"), "{output}");
        assert!(!output.contains(&w.password), "password in --print output");
    }
}

/// `xclip -o -selection clipboard` on the peer's display: the clipboard as
/// any other program sees it, or None when nothing holds it.
fn clipboard(display: &str) -> Option<String> {
    let out = std::process::Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .output()
        .expect("xclip is installed (.ci/run installs it)");
    (out.status.success() && !out.stdout.is_empty()).then(|| text(&out.stdout))
}

#[test]
fn copy_puts_the_password_on_the_clipboard_and_clears_it() {
    let w = RdpWorld::start();
    let display = w.peer.display().to_owned();
    for (copy_secs, end) in [("60", "session end"), ("1", "timeout")] {
        let mut cmd = w.connect(&["--copy", copy_secs, "--", "/cert:ignore", "/sec:nla"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while clipboard(&display).as_deref() != Some(w.password.as_str()) {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("connect ended before the password reached the clipboard: {status}");
            }
            assert!(Instant::now() < deadline, "the password never reached the clipboard");
            std::thread::sleep(Duration::from_millis(50));
        }
        if end == "timeout" {
            // Still connected, and the clipboard empties by itself.
            while clipboard(&display).is_some() {
                assert!(child.try_wait().unwrap().is_none(), "the session ended early");
                assert!(Instant::now() < deadline, "the clipboard was not cleared after 1s");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // SAFETY: kill(2) on our own child, not yet reaped.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(out.status), 143, "{}", all_output(&out));
        assert!(!all_output(&out).contains(&w.password), "password in the output");
        assert_eq!(clipboard(&display), None, "{end}: the clipboard still holds something");
    }
}

#[test]
fn something_copied_since_is_left_alone() {
    let w = RdpWorld::start();
    let display = w.peer.display().to_owned();
    let mut cmd = w.connect(&["--copy", "60", "--", "/cert:ignore", "/sec:nla"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while clipboard(&display).as_deref() != Some(w.password.as_str()) {
        assert!(
            child.try_wait().unwrap().is_none() && Instant::now() < deadline,
            "password never on the clipboard"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The user copies something else; xclip keeps serving it until we kill it.
    let mut other = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-quiet"])
        .env("DISPLAY", &display)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    other.stdin.take().unwrap().write_all(b"the user's own text").unwrap();
    while clipboard(&display).as_deref() != Some("the user's own text") {
        assert!(Instant::now() < deadline, "xclip never took the clipboard");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own child, not yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(out.status), 143, "{}", all_output(&out));
    assert_eq!(clipboard(&display).as_deref(), Some("the user's own text"));
    other.kill().unwrap();
    other.wait().unwrap();
}
