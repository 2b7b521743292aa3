//! Shared set-up for the integration tests: a GameLift emulator, a real sshd
//! on 127.0.0.1, private XDG directories, and the real binary.
#![allow(dead_code)]

pub mod agent;
pub mod peers;
pub mod rdp;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use gamelift_emulator::sshd::{LocalSshd, current_user};
use gamelift_emulator::{Emulator, Fixture, fixture::sample};

pub const FLEET: &str = sample::LINUX_SDK4_FLEET;
pub const INSTANCE: &str = sample::LINUX_SDK4_INSTANCE;
pub const REGION: &str = "us-west-2";

/// How long any one run of the binary may take before the test kills it
/// and fails: a hang must not hang the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct World {
    pub emulator: Emulator,
    pub sshd: Option<LocalSshd>,
    pub dir: tempfile::TempDir,
}

impl World {
    /// An emulator whose Linux SDK 4 instance is a real sshd on 127.0.0.1.
    pub fn with_sshd() -> World {
        peers::require("sshd");
        peers::require("ssh");
        let dir = tempfile::tempdir().unwrap();
        let sshd_dir = dir.path().join("sshd");
        std::fs::create_dir(&sshd_dir).unwrap();
        let sshd = LocalSshd::start(&sshd_dir, &sshd_dir.join("host_key")).expect("start sshd");
        let mut fixture = Fixture::sample();
        let instance = fixture.instance_mut(INSTANCE).unwrap();
        instance.ip_address = "127.0.0.1".into();
        instance.user_name = current_user().unwrap();
        instance.secret = sshd.instance_key_pem().to_owned();
        let emulator = Emulator::start(fixture).expect("start emulator");
        let world = World {
            emulator,
            sshd: Some(sshd),
            dir,
        };
        world.make_dirs();
        world
    }

    /// [`World::with_sshd`], plus the `many` fleet: `count` instances over
    /// three locations, every one of them played by the same local sshd.
    pub fn with_many_instances(count: usize) -> World {
        let world = World::with_sshd();
        let (user, key) = (
            current_user().unwrap(),
            world.sshd.as_ref().unwrap().instance_key_pem().to_owned(),
        );
        world.emulator.with_fixture(|f| {
            *f = std::mem::take(f).with_many_instances(count, &user, &key);
        });
        world
    }

    /// An emulator only, for tests that never reach ssh. The instance still
    /// carries a real RSA key so the access path succeeds.
    pub fn without_sshd() -> World {
        peers::require("ssh-keygen");
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k");
        let st = Command::new("ssh-keygen")
            .args(["-q", "-N", "", "-t", "rsa", "-b", "2048", "-m", "PEM", "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success());
        let mut fixture = Fixture::sample();
        fixture.instance_mut(INSTANCE).unwrap().secret = std::fs::read_to_string(&key).unwrap();
        let emulator = Emulator::start(fixture).expect("start emulator");
        let world = World {
            emulator,
            sshd: None,
            dir,
        };
        world.make_dirs();
        world
    }

    fn make_dirs(&self) {
        for d in ["runtime", "data", "cache", "state", "home"] {
            let p = self.dir.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        // Empty AWS config files, so nothing of the machine's own AWS set-up leaks in.
        std::fs::write(self.dir.path().join("aws-config"), "").unwrap();
        std::fs::write(self.dir.path().join("aws-credentials"), "").unwrap();
    }

    pub fn port(&self) -> u16 {
        self.sshd.as_ref().expect("world has an sshd").port()
    }

    /// The instance's private key, as GameLift hands it out.
    pub fn secret(&self) -> String {
        self.emulator
            .with_fixture(|f| f.instance(INSTANCE).unwrap().secret.clone())
    }

    /// A line from the middle of the key: if any output holds the key, it holds this.
    pub fn secret_fragment(&self) -> String {
        let secret = self.secret();
        let lines: Vec<&str> = secret.lines().collect();
        let line = lines[lines.len() / 2].to_owned();
        assert!(line.len() >= 40, "fragment too short to be meaningful: {line}");
        line
    }

    /// [`World::secret_fragment`] for any instance.
    pub fn secret_fragment_of(&self, instance: &str) -> String {
        let secret = self
            .emulator
            .with_fixture(|f| f.instance(instance).unwrap().secret.clone());
        let lines: Vec<&str> = secret.lines().collect();
        lines[lines.len() / 2].to_owned()
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("runtime/gamelift-access/keys")
    }

    /// Files in the key directory (empty if it does not exist).
    pub fn key_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.keys_dir()) {
            Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
            Err(_) => vec![],
        }
    }

    /// The binary, with a clean AWS environment pointed at the emulator and
    /// private XDG directories.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gamelift-access"));
        sandbox_env(&mut cmd, self.dir.path());
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETESTONLY1")
            .env("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", self.emulator.endpoint())
            .env("AWS_MAX_ATTEMPTS", "3")
            .stdin(Stdio::null());
        cmd
    }

    /// `connect FLEET INSTANCE --port <sshd> [extra…]`.
    pub fn connect(&self, extra: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.args(["connect", FLEET, INSTANCE]);
        if self.sshd.is_some() {
            cmd.args(["--port", &self.port().to_string()]);
        }
        cmd.args(extra);
        cmd
    }
}

/// A clean environment for any program a test runs (ours or the `aws`
/// CLI): nothing inherited but PATH, and HOME, the XDG dirs and the AWS
/// config files all under `dir`, so no test reads or writes the real ones.
/// Credentials, region and endpoints are each caller's to add.
pub fn sandbox_env(cmd: &mut Command, dir: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("XDG_RUNTIME_DIR", dir.join("runtime"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
}

/// Runs to completion with a watchdog, capturing output.
pub fn run(cmd: Command) -> Output {
    run_within(cmd, TIMEOUT)
}

/// [`run`] with a watchdog of `timeout`, for runs over many instances.
pub fn run_within(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn gamelift-access");
    let pid = child.id();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(timeout) {
            // SAFETY: kill(2) on our own child's pid, which wait_with_output has not yet reaped.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            return true;
        }
        false
    });
    let output = child.wait_with_output().expect("wait for gamelift-access");
    drop(done_tx);
    assert!(
        !watchdog.join().unwrap(),
        "gamelift-access hung and was killed: {}",
        text(&output.stderr)
    );
    output
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {status:?}"))
}

/// Reads `child`'s stdout until a line equal to `line` arrives.
pub fn read_until_line(child: &mut Child, line: &str) -> String {
    let stdout = child.stdout.as_mut().expect("stdout piped");
    let mut seen = String::new();
    let mut byte = [0u8; 1];
    loop {
        match stdout.read(&mut byte) {
            Ok(0) | Err(_) => panic!("stdout closed before {line:?}; saw {seen:?}"),
            Ok(_) => {
                seen.push(byte[0] as char);
                if seen.ends_with(&format!("{line}\n")) {
                    return seen;
                }
            }
        }
    }
}

/// Every process's argv and environment on this machine that we can read,
/// for proving a secret is in none of them.
pub fn all_process_args_and_env() -> Vec<(String, String)> {
    let mut out = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        for what in ["cmdline", "environ"] {
            if let Ok(bytes) = std::fs::read(entry.path().join(what)) {
                out.push((format!("{}/{what}", name.to_string_lossy()), text(&bytes)));
            }
        }
    }
    out
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A stand-in for session-manager-plugin, which cannot be installed here.
/// It answers `--version` like a plugin new enough to take the session
/// response from its environment (as the AWS CLI checks), and otherwise
/// records its argv and environment exactly, then exits with
/// `FAKE_PLUGIN_EXIT` (default 0).
pub struct FakePlugin {
    pub bin_dir: PathBuf,
    record_dir: PathBuf,
}

pub struct PluginRun {
    pub argv: Vec<String>,
    pub env: std::collections::BTreeMap<String, String>,
}

impl FakePlugin {
    pub fn install(dir: &Path) -> FakePlugin {
        let bin_dir = dir.join("fake-bin");
        let record_dir = dir.join("plugin-runs");
        std::fs::create_dir_all(&bin_dir).unwrap();
        std::fs::create_dir_all(&record_dir).unwrap();
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = --version ]; then echo 1.2.707.0; exit 0; fi\n\
             run={rec}/$$\n\
             printf '%s\\0' \"$@\" > \"$run.argv\"\n\
             /usr/bin/env -0 > \"$run.env\"\n\
             exit \"${{FAKE_PLUGIN_EXIT:-0}}\"\n",
            rec = record_dir.display()
        );
        let path = bin_dir.join("session-manager-plugin");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakePlugin { bin_dir, record_dir }
    }

    /// Every recorded run (not `--version` checks).
    pub fn runs(&self) -> Vec<PluginRun> {
        let mut runs = vec![];
        for entry in std::fs::read_dir(&self.record_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "argv") {
                // Each value ends in a NUL; empty values (an empty argument) are kept.
                let split = |bytes: Vec<u8>| -> Vec<String> {
                    let mut values: Vec<String> = bytes.split(|b| *b == 0).map(text).collect();
                    assert_eq!(values.pop().as_deref(), Some(""), "NUL-terminated");
                    values
                };
                let argv = split(std::fs::read(&path).unwrap());
                let env = split(std::fs::read(path.with_extension("env")).unwrap())
                    .into_iter()
                    .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                    .collect();
                runs.push(PluginRun { argv, env });
            }
        }
        runs
    }
}

/// PATH with `first` in front, and without any directory holding `drop`.
pub fn path_with(first: &Path, drop: &[&str]) -> std::ffi::OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(first.to_owned())
        .chain(std::env::split_paths(&current).filter(|d| !drop.iter().any(|tool| d.join(tool).exists())));
    std::env::join_paths(dirs).unwrap()
}
