//! A real OpenSSH server on 127.0.0.1, playing the part of a fleet instance.
//!
//! Used by the integration tests and by `gamelift-access demo`. It runs
//! `sshd -D -e` in the foreground with its own config, host key and
//! authorized_keys, so it touches nothing of the machine's own sshd, and it
//! is stopped and reaped when dropped.
//!
//! Readiness is sshd's own "Server listening on" line, never a sleep.

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Where to find sshd when it is not on PATH (it lives in sbin).
const SSHD_PATHS: &[&str] = &[
    "/usr/sbin/sshd",
    "/usr/local/sbin/sshd",
    "/sbin/sshd",
    "/opt/homebrew/sbin/sshd",
];

pub struct LocalSshd {
    child: Child,
    port: u16,
    instance_key_pem: String,
    log: Arc<Mutex<String>>,
    drain: Option<JoinHandle<()>>,
}

/// Finds the sshd binary.
pub fn find_sshd() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("sshd"));
    on_path
        .chain(SSHD_PATHS.iter().map(PathBuf::from))
        .find(|p| p.is_file())
}

/// The user the tests and the demo log in as: whoever runs them, since a
/// non-root sshd can only log in its own user.
pub fn current_user() -> io::Result<String> {
    let out = Command::new("id").arg("-un").stderr(Stdio::inherit()).output()?;
    if !out.status.success() {
        return Err(io::Error::other("`id -un` failed"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl LocalSshd {
    /// Starts sshd with its files in `dir`. The host key is `host_key`
    /// (generated if missing, so a caller can keep it between runs and keep
    /// its known_hosts valid); the instance key is a fresh RSA key in PKCS#1
    /// PEM, the form GameLift's GetInstanceAccess returns.
    pub fn start(dir: &Path, host_key: &Path) -> io::Result<LocalSshd> {
        let sshd = find_sshd().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "sshd not found: install openssh-server (apt-get install openssh-server)",
            )
        })?;
        if !host_key.exists() {
            keygen(host_key, &["-t", "ed25519"])?;
        }
        let instance_key = dir.join("instance_key");
        let _ = fs::remove_file(&instance_key);
        let _ = fs::remove_file(dir.join("instance_key.pub"));
        keygen(&instance_key, &["-t", "rsa", "-b", "2048", "-m", "PEM"])?;
        let instance_key_pem = fs::read_to_string(&instance_key)?;
        fs::copy(dir.join("instance_key.pub"), dir.join("authorized_keys"))?;
        fs::set_permissions(dir.join("authorized_keys"), fs::Permissions::from_mode(0o600))?;
        if is_root() {
            // sshd refuses to start as root without its privilege separation directory.
            fs::create_dir_all("/run/sshd")?;
        }
        // A port is picked by binding :0 and releasing it; if another process
        // grabs it in between, sshd says so and we try another.
        let mut last_log = String::new();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let config = dir.join("sshd_config");
            fs::write(&config, sshd_config(dir, host_key, port))?;
            let mut child = Command::new(&sshd)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()?;
            let stderr = child.stderr.take().expect("stderr is piped");
            let log = Arc::new(Mutex::new(String::new()));
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let drain = {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let mut ready_tx = Some(ready_tx);
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        if line.contains("Server listening on 127.0.0.1")
                            && let Some(tx) = ready_tx.take()
                        {
                            let _ = tx.send(());
                        }
                        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                        log.push_str(&line);
                        log.push('\n');
                    }
                })
            };
            // recv fails when the drain thread ends: sshd exited without listening.
            if ready_rx.recv().is_ok() {
                return Ok(LocalSshd {
                    child,
                    port,
                    instance_key_pem,
                    log,
                    drain: Some(drain),
                });
            }
            let _ = child.wait();
            let _ = drain.join();
            last_log = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if !last_log.contains("Address already in use") {
                break;
            }
        }
        Err(io::Error::other(format!("sshd did not start:\n{last_log}")))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The private key whose public half is in authorized_keys.
    pub fn instance_key_pem(&self) -> &str {
        &self.instance_key_pem
    }

    /// What sshd has logged so far (it runs with `-e`, logging to stderr).
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for LocalSshd {
    fn drop(&mut self) {
        // SIGTERM lets sshd exit cleanly; then reap it and the log reader.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }
}

fn sshd_config(dir: &Path, host_key: &Path, port: u16) -> String {
    format!(
        "ListenAddress 127.0.0.1:{port}\n\
         HostKey {host_key}\n\
         AuthorizedKeysFile {keys}\n\
         PidFile none\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         UsePAM no\n\
         StrictModes no\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         LogLevel VERBOSE\n\
         Subsystem sftp internal-sftp\n",
        host_key = host_key.display(),
        keys = dir.join("authorized_keys").display(),
    )
}

fn keygen(path: &Path, args: &[&str]) -> io::Result<()> {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-C", "gamelift-emulator"])
        .args(args)
        .arg("-f")
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| io::Error::new(e.kind(), format!("ssh-keygen: {e} (install openssh-client)")))?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("ssh-keygen failed for {}", path.display())))
    }
}

fn is_root() -> bool {
    current_user().is_ok_and(|u| u == "root")
}
