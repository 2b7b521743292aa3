//! The agent as a test peer: `gamelift-access agent run` in the foreground,
//! ready once it prints its socket path, stopped with SIGTERM and reaped.
//! Its stderr is a pipe, so it logs to `<state dir>/agent.log`; `log()`
//! reads both.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::World;

pub struct Agent {
    pub child: Child,
    pub socket: PathBuf,
    /// The agent's log file.
    pub log_file: Option<PathBuf>,
    log: Arc<Mutex<String>>,
    drain: Option<JoinHandle<()>>,
}

impl Agent {
    /// Starts the agent on the world's default socket.
    pub fn start(w: &World, extra: &[&str]) -> Agent {
        Agent::start_with(w.cmd(), &w.agent_socket(), extra)
    }

    /// Starts `cmd agent --socket SOCKET run --ready-line [extra…]`.
    pub fn start_with(mut cmd: Command, socket: &Path, extra: &[&str]) -> Agent {
        cmd.arg("agent")
            .arg("--socket")
            .arg(socket)
            .args(["run", "--ready-line"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let log_file = agent_log(&cmd);
        let mut child = cmd.spawn().expect("spawn the agent");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let drain = {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            })
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim_end(),
            socket.to_str().unwrap(),
            "the agent did not come up: {}",
            log.lock().unwrap()
        );
        Agent {
            child,
            socket: socket.to_owned(),
            log_file,
            log,
            drain: Some(drain),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// What the agent logged so far: on stderr (before it was ready), then
    /// in its log file.
    pub fn log(&self) -> String {
        let mut log = self.log.lock().unwrap().clone();
        if let Some(file) = &self.log_file {
            log += &std::fs::read_to_string(file).unwrap_or_default();
        }
        log
    }

    /// The real `ssh-add` against this agent.
    pub fn ssh_add(&self, args: &[&str]) -> Output {
        Command::new("ssh-add")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("run ssh-add")
    }

    /// `ssh-add -l`'s output (stdout).
    pub fn list(&self) -> String {
        super::text(&self.ssh_add(&["-l"]).stdout)
    }

    /// SIGKILL, and reap: what a crash looks like.
    pub fn kill(mut self) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(self.pid(), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on our own child, not yet reaped.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        }
        let _ = self.child.wait();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }
}

/// The log file of an agent `cmd` runs: `<XDG_STATE_HOME>/gamelift-access/agent.log`.
pub fn agent_log(cmd: &Command) -> Option<PathBuf> {
    cmd.get_envs()
        .find(|(k, _)| *k == "XDG_STATE_HOME")
        .and_then(|(_, v)| v)
        .map(|state| Path::new(state).join("gamelift-access/agent.log"))
}

/// A new 2048-bit RSA key pair at `path` (and `path.pub`), made by the
/// real ssh-keygen: with no comment, in the PEM form GetInstanceAccess hands
/// out; with one, in OpenSSH's own form, which keeps it for `ssh-add`.
pub fn ssh_keygen(path: &Path, comment: Option<&str>) {
    let form = match comment {
        None => ["-m", "PEM", "-C", ""],
        Some(comment) => ["-m", "RFC4716", "-C", comment],
    };
    let st = Command::new("ssh-keygen")
        .args(["-q", "-N", "", "-t", "rsa", "-b", "2048"])
        .args(form)
        .arg("-f")
        .arg(path)
        .status()
        .expect("run ssh-keygen");
    assert!(st.success(), "ssh-keygen failed");
}

impl World {
    /// Where `connect` looks for the agent with this world's environment.
    pub fn agent_socket(&self) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.dir.path().join("runtime/gamelift-access");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        dir.join("agent.sock")
    }
}

impl World {
    /// Another program (ssh, scp, …) with the environment `cmd()` gives the
    /// binary, so a ProxyCommand it runs sees the same world.
    pub fn tool(&self, program: &str) -> Command {
        let base = self.cmd();
        super::peers::require(program);
        let mut cmd = Command::new(program);
        cmd.env_clear();
        for (k, v) in base.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.stdin(Stdio::null());
        cmd
    }
}
