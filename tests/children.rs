//! Clients that leave a grandchild behind: a fake `aws` (or `scp`) starts a
//! `sleep` that ignores SIGINT, SIGTERM and SIGHUP and holds the output
//! pipes, as session-manager-plugin does when the AWS CLI is killed. `run
//! --timeout`, `connect`'s SSM path and `cp` must end it with its client.
//!
//! This test binary makes itself a child subreaper, so an orphaned
//! grandchild is reparented to it: every one is reaped here, and its end
//! (SIGKILL) checked.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::fixture::sample;

/// A fake client that starts the grandchild, records its pid in
/// `$FAKE_GRANDCHILDREN/<pid>`, prints `started`, then waits for it
/// (`FAKE_CLIENT_EXIT` unset) or exits at once with that code.
fn install_fake(bin_dir: &Path, name: &str) {
    let script = "#!/bin/sh\n\
         if [ \"$1\" = --version ]; then echo aws-cli/2.0.0; exit 0; fi\n\
         trap '' INT TERM HUP\n\
         sleep 300 &\n\
         echo $! > \"$FAKE_GRANDCHILDREN/$!\"\n\
         echo started\n\
         if [ -n \"$FAKE_CLIENT_EXIT\" ]; then exit \"$FAKE_CLIENT_EXIT\"; fi\n\
         wait\n";
    let path = bin_dir.join(name);
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn become_subreaper() {
    // SAFETY: prctl with plain integer arguments.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    assert_eq!(rc, 0, "PR_SET_CHILD_SUBREAPER: {}", std::io::Error::last_os_error());
}

fn grandchildren(dir: &Path) -> Vec<i32> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect()
}

/// Reaps `pid` (reparented to us) and asserts SIGKILL ended it, within 10 s.
fn assert_killed_and_reap(pid: i32) {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid on one pid, with a valid status pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(
            rc >= 0,
            "grandchild {pid} is not ours to reap: {}",
            std::io::Error::last_os_error()
        );
        if rc == pid {
            assert!(
                libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
                "grandchild {pid} ended otherwise: {status:#x}"
            );
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "grandchild {pid} still runs");
        std::thread::sleep(Duration::from_millis(10));
    }
}

struct Fakes {
    plugin: FakePlugin,
    pids: PathBuf,
}

impl Fakes {
    /// gamelift-access with the fake client first on PATH, told where its
    /// grandchildren write their pids.
    fn cmd(&self, w: &World) -> Command {
        let mut cmd = w.cmd();
        cmd.env("PATH", path_with(&self.plugin.bin_dir, &[]))
            .env("FAKE_GRANDCHILDREN", &self.pids);
        cmd
    }
}

fn fakes(w: &World, client: &str) -> Fakes {
    let plugin = FakePlugin::install(w.dir.path());
    install_fake(&plugin.bin_dir, client);
    let pids = w.dir.path().join("grandchildren");
    fs::create_dir_all(&pids).unwrap();
    Fakes { plugin, pids }
}

#[test]
fn run_timeout_ends_the_client_and_the_grandchild_holding_its_pipes() {
    become_subreaper();
    let w = World::without_sshd();
    let f = fakes(&w, "aws");
    let mut cmd = f.cmd(&w);
    cmd.args([
        "run",
        sample::LINUX_SDK5_FLEET,
        "--timeout",
        "2",
        "--output",
        "json",
        "--",
        "true",
    ]);
    let started = Instant::now();
    let out = run(cmd);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the timeout held: {:?}",
        started.elapsed()
    );
    assert_eq!(code(out.status), 1, "{}", text(&out.stderr));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2, "two computes");
    for r in records {
        assert_eq!(r["error"], "timed out after 2s", "{r}");
        assert_eq!(r["stdout"], "started\n", "output before the timeout is kept: {r}");
    }
    let pids = grandchildren(&f.pids);
    assert_eq!(pids.len(), 2, "one grandchild per compute");
    for pid in pids {
        assert_killed_and_reap(pid);
    }
}

#[test]
fn connect_over_ssm_ends_what_the_client_left_behind() {
    become_subreaper();
    let w = World::without_sshd();
    let f = fakes(&w, "aws");
    let mut cmd = f.cmd(&w);
    cmd.env("FAKE_CLIENT_EXIT", "4")
        .args(["connect", sample::LINUX_SDK5_FLEET, sample::LINUX_SDK5_INSTANCE]);
    let out = run(cmd);
    assert_eq!(code(out.status), 4, "the client's code: {}", text(&out.stderr));
    let pids = grandchildren(&f.pids);
    assert_eq!(pids.len(), 1);
    assert_killed_and_reap(pids[0]);
}

#[test]
fn cp_signals_pass_to_the_group_and_a_second_one_ends_it() {
    become_subreaper();
    let w = World::without_sshd();
    let f = fakes(&w, "scp");
    let mut cmd = f.cmd(&w);
    cmd.args([
        "cp",
        &format!("{}.{}.gamelift:/etc/hostname", INSTANCE, FLEET),
        w.dir.path().join("copy").to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The fake scp prints `started` once its grandchild runs.
    read_until_line(&mut child, "started");
    let pids = grandchildren(&f.pids);
    assert_eq!(pids.len(), 1);
    // The whole group ignores the first; the next one ends it. (Sent until
    // it ends: two signals sent at once may arrive as one.)
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "cp still runs");
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(out.status), 130, "{}", text(&out.stderr));
    assert_killed_and_reap(pids[0]);
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());
}
