//! A stalled endpoint: SSM StartSession and S3 parts that take the request
//! and never answer in time (the emulator's slow-reply fault). Every AWS
//! call is bounded by `--cli-read-timeout`, and a signal ends the wait.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::fixture::sample;
use gamelift_emulator::{Emulator, Fault, Fixture};

const STALL: Duration = Duration::from_secs(300);

/// `connect` or `run` on the SDK 5 fleet through our own StartSession (no
/// AWS CLI on PATH), with the recording fake plugin.
fn ssm(w: &World, plugin: &FakePlugin, args: &[&str]) -> Command {
    let mut cmd = w.cmd();
    cmd.env("PATH", path_with(&plugin.bin_dir, &["aws"])).args(args);
    cmd
}

/// A call to a stalled endpoint ended in bounded time, exit 69, naming the
/// operation and the option that bounds it. Returns stderr.
fn assert_stalled(out: &std::process::Output, started: Instant, op: &str) -> String {
    let stderr = text(&out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}: {stderr}",
        started.elapsed()
    );
    assert_eq!(code(out.status), 69, "{stderr}");
    assert!(stderr.contains(op) && stderr.contains("--cli-read-timeout"), "{stderr}");
    stderr
}

#[test]
fn a_stalled_start_session_fails_within_the_read_timeout() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    w.emulator.inject("StartSession", Fault::SlowReply(STALL), 10);
    let started = Instant::now();
    let out = run(ssm(
        &w,
        &plugin,
        &[
            "--cli-read-timeout",
            "2",
            "connect",
            sample::LINUX_SDK5_FLEET,
            sample::LINUX_SDK5_INSTANCE,
        ],
    ));
    let stderr = assert_stalled(&out, started, "StartSession");
    assert_eq!(
        stderr.trim_end().lines().count(),
        2,
        "one line and what to do: {stderr}"
    );
    assert!(plugin.runs().is_empty(), "no session, no plugin");
}

/// Starts `args` with StartSession stalled, waits until the service has
/// started the session (the reply is what stalls), sends SIGINT, and
/// returns the exit code and how long the end took.
fn sigint_during_start_session(w: &World, plugin: &FakePlugin, args: &[&str]) -> (i32, Duration, String) {
    w.emulator.inject("StartSession", Fault::SlowReply(STALL), 1);
    let mut cmd = ssm(w, plugin, args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while w.emulator.ssm_sessions().is_empty() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ended before StartSession: {status:?}");
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no StartSession");
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = Instant::now();
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = sent.elapsed();
    let out = child.wait_with_output().unwrap();
    (code(out.status), took, text(&out.stderr))
}

#[test]
fn sigint_during_start_session_ends_connect_promptly() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let (code, took, stderr) = sigint_during_start_session(
        &w,
        &plugin,
        &["connect", sample::LINUX_SDK5_FLEET, sample::LINUX_SDK5_INSTANCE],
    );
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}: {stderr}");
    assert!(plugin.runs().is_empty());
}

#[test]
fn sigint_during_start_session_ends_run_promptly() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    let (code, took, stderr) = sigint_during_start_session(
        &w,
        &plugin,
        &["run", sample::LINUX_SDK5_FLEET, "--parallel", "1", "--", "true"],
    );
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(5), "{took:?}: {stderr}");
}

#[test]
fn a_stalled_s3_part_fails_the_upload_within_the_read_timeout() {
    let emulator = Emulator::start_with_s3(Fixture::sample())
        .expect("emulator with S3 (needs moto_server: pip install 'moto[server]')");
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("game.bin"), b"a small build").unwrap();
    emulator.inject("UploadPart", Fault::SlowReply(STALL), 10);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gamelift-access"));
    sandbox_env(&mut cmd, dir.path());
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETESTONLY1")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
        .env("AWS_REGION", "us-west-2")
        .env("AWS_ENDPOINT_URL_GAMELIFT", emulator.endpoint())
        .env("AWS_ENDPOINT_URL_S3", emulator.s3_endpoint().unwrap())
        .env("AWS_MAX_ATTEMPTS", "2")
        .args(["--cli-read-timeout", "2", "build", "upload", tree.to_str().unwrap()])
        .args([
            "--name",
            "game",
            "--build-version",
            "1",
            "--operating-system",
            "AMAZON_LINUX_2023",
        ]);
    let started = Instant::now();
    let out = run(cmd);
    assert_stalled(&out, started, "UploadPart");
}
