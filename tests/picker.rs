//! With no instance named and a terminal to ask on, `connect` shows a
//! picker. A foreground tmux server (reaped by the test) provides the
//! terminal; the test reads the screen and presses keys like a person.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::fixture::sample;

struct Tmux {
    socket: String,
    server: std::process::Child,
}

impl Tmux {
    /// A private tmux server in the foreground (`-D`), with the given environment.
    fn start(env: &Command) -> Tmux {
        // One server per test: tests in this binary run in parallel.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("gla-picker-{}-{n}", std::process::id());
        let mut cmd = Command::new("tmux");
        cmd.args(["-D", "-L", &socket, "-f", "/dev/null"])
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for (k, v) in env.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let server = cmd
            .env("TERM", "xterm-256color")
            .spawn()
            .expect("tmux is installed (.ci/run installs it)");
        Tmux { socket, server }
    }

    fn run(&self, args: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("tmux")
                .args(["-L", &self.socket])
                .args(args)
                .output()
                .unwrap();
            if out.status.success() {
                return text(&out.stdout);
            }
            // The server may not be listening yet right after start.
            assert!(Instant::now() < deadline, "tmux {args:?}: {}", text(&out.stderr));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "picker"])
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Polls the screen until `ready` holds, with a deadline; a timeout shows
/// the screen, so a failure says what the terminal showed instead.
fn wait_for(what: &str, tmux: &Tmux, mut ready: impl FnMut(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = tmux.screen();
        if ready(&screen) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the screen shows:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `connect <SDK 5 fleet> --print` with no instance, on a tmux terminal;
/// its stdout goes to a file, and its exit code to another when it ends.
struct PickerRun {
    tmux: Tmux,
    stdout: std::path::PathBuf,
    rc: std::path::PathBuf,
}

impl PickerRun {
    fn start(w: &World) -> PickerRun {
        PickerRun::start_with(w, sample::LINUX_SDK5_FLEET, |screen| {
            screen.contains("Instance of") && screen.contains(sample::LINUX_SDK5_REMOTE_INSTANCE)
        })
    }

    /// `connect <ARGS> --print` (ARGS: words without quotes), until `ready`.
    fn start_with(w: &World, args: &str, ready: impl FnMut(&str) -> bool) -> PickerRun {
        let tmux = Tmux::start(&w.cmd());
        let stdout = w.dir.path().join("stdout");
        let rc = w.dir.path().join("rc");
        let script = format!(
            "'{bin}' connect {args} --print > '{out}'; echo $? > '{rc}'",
            bin = env!("CARGO_BIN_EXE_gamelift-access"),
            out = stdout.display(),
            rc = rc.display(),
        );
        // Keep the pane (and what connect printed) on screen after it exits.
        tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "picker",
            "-x",
            "200",
            "-y",
            "40",
            "sh",
            "-c",
            &script,
        ]);
        wait_for("the picker", &tmux, ready);
        PickerRun { tmux, stdout, rc }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "picker"];
        args.extend(keys);
        self.tmux.run(&args);
    }

    /// Waits for connect to end; its exit code.
    fn exit_code(&self) -> String {
        wait_for("connect to finish", &self.tmux, |_| {
            std::fs::read_to_string(&self.rc).is_ok_and(|s| s.ends_with('\n'))
        });
        std::fs::read_to_string(&self.rc).unwrap().trim().to_owned()
    }
}

#[test]
fn on_a_terminal_the_picker_offers_every_location_and_connects_to_the_choice() {
    let w = World::without_sshd();
    let run = PickerRun::start(&w);
    let screen = run.tmux.screen();
    assert!(
        screen.contains(sample::LINUX_SDK5_INSTANCE) && screen.contains("us-east-1"),
        "{screen}"
    );
    assert!(screen.contains("ACTIVE"), "{screen}");

    run.keys(&["Down", "Enter"]);
    assert_eq!(run.exit_code(), "0", "{}", run.tmux.screen());

    // The second row was chosen: the remote instance, in its own region.
    // (--print is a dry run: DescribeCompute, no GetComputeAccess.)
    assert!(w.emulator.calls_to("GetComputeAccess").is_empty());
    let calls = w.emulator.calls_to("DescribeCompute");
    assert_eq!(
        calls.last().expect("the chosen compute was looked up").body["ComputeName"],
        sample::LINUX_SDK5_REMOTE_INSTANCE
    );
    let printed = std::fs::read_to_string(&run.stdout).unwrap();
    assert!(printed.contains("--region us-east-1"), "{printed}");
}

#[test]
fn ctrl_c_in_the_picker_cancels_without_asking_for_access() {
    let w = World::without_sshd();
    let run = PickerRun::start(&w);
    run.keys(&["C-c"]);
    assert_eq!(run.exit_code(), "130", "{}", run.tmux.screen());
    // Ctrl-C reaches us as SIGINT, or as a key if the picker has the terminal raw.
    let screen = run.tmux.screen();
    assert!(
        screen.contains("interrupted by SIGINT") || screen.contains("no instance chosen"),
        "{screen}"
    );
    assert!(w.emulator.calls_to("GetComputeAccess").is_empty());
}

#[test]
fn a_player_in_several_game_sessions_is_picked_on_a_terminal() {
    let w = World::without_sshd();
    let args = format!("{} player:{}", sample::LINUX_SDK4_FLEET, sample::BUSY_PLAYER);
    let run = PickerRun::start_with(&w, &args, |screen| {
        screen.contains("Game session of player") && sample::BUSY_PLAYER_SESSIONS.iter().all(|p| screen.contains(p))
    });
    let screen = run.tmux.screen();
    assert!(
        screen.contains("RESERVED") && screen.contains("127.0.0.1:7779"),
        "{screen}"
    );
    run.keys(&["Down", "Enter"]);
    assert_eq!(run.exit_code(), "0", "{}", run.tmux.screen());
    // The second row: the RESERVED seat, in the second game session.
    let asked: Vec<String> = w
        .emulator
        .calls_to("DescribeGameSessions")
        .iter()
        .filter_map(|c| c.body["GameSessionId"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(asked, [sample::LINUX_SDK4_SECOND_GAME_SESSION]);
}
