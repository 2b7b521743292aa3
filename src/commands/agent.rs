//! `gamelift-access agent run|start|stop|status`.

use crate::cli::{AgentArgs, GlobalArgs};
use crate::error::Result;

/// `agent status` exits with this when no agent runs (as `systemctl status`
/// and LSB init scripts do).
pub const NOT_RUNNING: u8 = 3;

pub async fn run(global: &GlobalArgs, args: AgentArgs) -> Result<u8> {
    imp::run(global, args).await
}

/// The socket: `--socket`/`GAMELIFT_ACCESS_AGENT_SOCK`, else the default.
/// On Windows it is a named pipe, `\\.\pipe\NAME`.
pub fn socket_path(explicit: Option<std::path::PathBuf>) -> Result<std::path::PathBuf> {
    match explicit.or_else(|| {
        std::env::var_os("GAMELIFT_ACCESS_AGENT_SOCK")
            .filter(|v| !v.is_empty())
            .map(Into::into)
    }) {
        #[cfg(windows)]
        Some(path) if !crate::agent::pipe::is_pipe_name(&path) => Err(crate::error::Error::Usage(format!(
            "'{}' is not a named pipe: on Windows the agent listens on one, \\\\.\\pipe\\NAME",
            path.display()
        ))),
        #[cfg(windows)]
        Some(path) => Ok(path),
        #[cfg(unix)]
        Some(path) => Ok(std::path::absolute(&path).unwrap_or(path)),
        None => Ok(crate::agent::default_socket().map_err(crate::deliver::DeliverError::Dir)?),
    }
}

pub use imp::ensure_running;

mod imp {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::path::Path;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::agent::client::AgentClient;
    use crate::agent::{AgentError, KeyMeta, Lifetimes, server};
    use crate::cli::{AgentCommand, OutputFormat};

    pub async fn run(global: &GlobalArgs, args: AgentArgs) -> Result<u8> {
        let socket = socket_path(args.socket)?;
        match args.command {
            AgentCommand::Run { lifetimes, ready_line } => {
                server::run(&socket, lifetimes.plain(), || {
                    if ready_line {
                        announce_and_close_stdout(&socket);
                    }
                })
                .await?;
                Ok(0)
            }
            AgentCommand::Start { lifetimes } => start(global, &socket, lifetimes.plain()).await,
            AgentCommand::Stop => stop(&socket).await,
            AgentCommand::Status => status(global, &socket).await,
        }
    }

    /// Tells `agent start` we answer, then lets go of its pipes: the daemon
    /// never writes to stdout again, and when it logs to a file, nothing
    /// writes to stderr either (its reader, `agent start`, is about to
    /// exit). (On Windows the pipes are left as they are: there is no
    /// SIGPIPE, and the log never fails a write.)
    fn announce_and_close_stdout(socket: &Path) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", socket.display());
        let _ = out.flush();
        #[cfg(unix)]
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            use std::os::fd::AsRawFd;
            // SAFETY: dup2 onto our own stdout and stderr, from a descriptor we own.
            unsafe {
                libc::dup2(null.as_raw_fd(), libc::STDOUT_FILENO);
                if crate::agent::log::to_file() {
                    libc::dup2(null.as_raw_fd(), libc::STDERR_FILENO);
                }
            }
        }
    }

    async fn start(global: &GlobalArgs, socket: &Path, lifetimes: Lifetimes) -> Result<u8> {
        let (mut client, started) = ensure_running(socket, lifetimes).await?;
        let (pid, already) = match started {
            Some(pid) => (pid, false),
            None => (client.status().await?.pid, true),
        };
        match global.output {
            OutputFormat::Table => {
                println!("{}", socket.display());
                if already {
                    eprintln!("an agent was already running (pid {pid})");
                }
            }
            OutputFormat::Json => println!(
                "{}",
                serde_json::json!({ "socket": socket, "pid": pid, "already_running": already })
            ),
        }
        Ok(0)
    }

    /// The agent on `socket`, started if none answers, and the pid of the
    /// one started (`None` if one was running). Many processes may call
    /// this at once (ssh runs a `proxy` per connection): one agent starts
    /// (`agent run` binds under a lock, see `agent/socket.rs`), and every
    /// other caller's daemon finds it answering, gives way, and the caller
    /// uses it.
    pub async fn ensure_running(socket: &Path, lifetimes: Lifetimes) -> Result<(AgentClient, Option<u32>)> {
        if let Some(client) = AgentClient::connect(socket).await? {
            return Ok((client, None));
        }
        let spawned = spawn_daemon(socket, lifetimes);
        match (AgentClient::connect(socket).await?, spawned) {
            (Some(client), Ok(pid)) => Ok((client, Some(pid))),
            // Ours gave way to another that started at the same moment.
            (Some(client), Err(e)) => {
                tracing::debug!("another process started the agent first: {e}");
                Ok((client, None))
            }
            (None, Err(e)) => Err(e),
            (None, Ok(_)) => Err(AgentError::NotRunning {
                path: socket.to_owned(),
            }
            .into()),
        }
    }

    /// Starts `agent run` in a session of its own (on Windows: detached from
    /// our console, in a process group of its own) and waits for its ready
    /// line, so we return only once the socket answers. Its pid is returned.
    fn spawn_daemon(socket: &Path, lifetimes: Lifetimes) -> Result<u32> {
        let exe = std::env::current_exe().map_err(|e| AgentError::Start(format!("cannot find our own binary: {e}")))?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("agent")
            .arg("--socket")
            .arg(socket)
            .args(["run", "--ready-line", "--key-ttl"])
            .arg(lifetimes.key.as_secs().to_string())
            .arg("--compute-ttl")
            .arg(lifetimes.compute.as_secs().to_string())
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: setsid is async-signal-safe; it detaches the daemon from
        // our terminal and process group, so Ctrl-C here does not reach it.
        #[cfg(unix)]
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        // No console, so closing ours or Ctrl-C in it does not reach it.
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            use windows_sys::Win32::System::Threading::{CREATE_NEW_PROCESS_GROUP, DETACHED_PROCESS};
            cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| AgentError::Start(format!("cannot run the agent: {e}")))?;
        let pid = child.id();
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        let read = BufReader::new(stdout).read_line(&mut line);
        if read.is_ok_and(|n| n > 0) && line.trim_end() == socket.to_string_lossy() {
            // The daemon lives on; its stderr pipe is dropped with `child`.
            return Ok(pid);
        }
        let mut why = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut why);
        }
        let _ = child.wait();
        let why = why.trim().trim_start_matches("gamelift-access: ");
        Err(AgentError::Start(if why.is_empty() { "it exited".into() } else { why.into() }).into())
    }

    async fn stop(socket: &Path) -> Result<u8> {
        let Some(mut client) = AgentClient::connect(socket).await? else {
            eprintln!("no agent was running on {}", socket.display());
            return Ok(0);
        };
        client.stop().await?;
        drop(client);
        // Gone once the socket no longer answers.
        let deadline = Instant::now() + Duration::from_secs(5);
        while crate::agent::answers(socket).await {
            if Instant::now() > deadline {
                return Err(AgentError::Protocol {
                    path: socket.to_owned(),
                    reason: "it acknowledged stop but still answers".into(),
                }
                .into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        eprintln!("agent stopped; its keys are wiped");
        Ok(0)
    }

    async fn status(global: &GlobalArgs, socket: &Path) -> Result<u8> {
        let Some(mut client) = AgentClient::connect(socket).await? else {
            match global.output {
                OutputFormat::Table => println!("not running (socket: {})", socket.display()),
                OutputFormat::Json => println!("{}", serde_json::json!({ "running": false, "socket": socket })),
            }
            return Ok(NOT_RUNNING);
        };
        let status = client.status().await?;
        let keys: Vec<serde_json::Value> = status
            .keys
            .iter()
            .map(|k| {
                let public = ssh_key::PublicKey::from(k.identity.credential.key_data().clone());
                let fingerprint = public.fingerprint(ssh_key::HashAlg::Sha256).to_string();
                let meta = KeyMeta::parse(&k.identity.comment);
                serde_json::json!({
                    "fleet_id": meta.as_ref().map(|m| &m.fleet_id),
                    "instance_id": meta.as_ref().map(|m| &m.instance_id),
                    "user": meta.as_ref().map(|m| &m.user),
                    "host": meta.as_ref().map(|m| &m.host),
                    "comment": k.identity.comment,
                    "fingerprint": fingerprint,
                    "expires_in_secs": k.expires_in_secs,
                })
            })
            .collect();
        match global.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::json!({
                    "running": true,
                    "pid": status.pid,
                    "socket": socket,
                    "memory_locked": status.memory_locked,
                    "default_key_ttl_secs": status.default_ttl_secs,
                    "keys": keys,
                    "keys_not_shown": status.omitted_keys,
                    "compute_credentials_not_shown": status.omitted_computes,
                    "compute_ttl_secs": status.compute_ttl_secs,
                    "compute_credentials": status.computes.iter().map(|c| serde_json::json!({
                        "fleet_id": c.fleet_id,
                        "compute_name": c.compute_name,
                        "region": c.region,
                        "ssm_target": c.target,
                        "access_key_id": c.access_key_id,
                        "expires_in_secs": c.expires_in_secs,
                    })).collect::<Vec<_>>(),
                })
            ),
            OutputFormat::Table => {
                println!("running (pid {}), socket {}", status.pid, socket.display());
                match status.memory_locked {
                    Some(true) => println!("memory locked: keys are never swapped to disk"),
                    Some(false) => println!(
                        "memory not locked: keys could be swapped to disk \
                         (the agent locks it when RLIMIT_MEMLOCK is unlimited, or as root; never on Windows)"
                    ),
                    None => println!("memory lock unknown (an older agent)"),
                }
                println!(
                    "default key lifetime {}",
                    crate::output::age(i64::from(status.default_ttl_secs))
                );
                if keys.is_empty() {
                    println!("no keys held");
                } else {
                    let rows: Vec<Vec<String>> = keys
                        .iter()
                        .map(|k| {
                            let s = |f: &str| k[f].as_str().unwrap_or("-").to_owned();
                            let who = if k["fleet_id"].is_null() {
                                s("comment")
                            } else {
                                s("fleet_id")
                            };
                            vec![
                                who,
                                s("instance_id"),
                                s("user"),
                                s("host"),
                                crate::output::age(k["expires_in_secs"].as_i64().unwrap_or(0)),
                                s("fingerprint"),
                            ]
                        })
                        .collect();
                    crate::output::print_table(
                        &["FLEET", "INSTANCE", "USER", "HOST", "EXPIRES IN", "FINGERPRINT"],
                        &rows,
                    );
                }
                if status.omitted_keys > 0 {
                    println!("... and {} more keys, not shown", status.omitted_keys);
                }
                println!();
                println!(
                    "compute credentials lifetime {}",
                    crate::output::age(i64::from(status.compute_ttl_secs))
                );
                if status.computes.is_empty() {
                    println!("no compute credentials cached");
                } else {
                    let rows: Vec<Vec<String>> = status
                        .computes
                        .iter()
                        .map(|c| {
                            vec![
                                c.fleet_id.clone(),
                                c.compute_name.clone(),
                                c.region.clone(),
                                c.target.clone(),
                                crate::output::age(i64::from(c.expires_in_secs)),
                                c.access_key_id.clone(),
                            ]
                        })
                        .collect();
                    crate::output::print_table(
                        &[
                            "FLEET",
                            "COMPUTE",
                            "REGION",
                            "SSM TARGET",
                            "EXPIRES IN",
                            "ACCESS KEY ID",
                        ],
                        &rows,
                    );
                }
                if status.omitted_computes > 0 {
                    println!(
                        "... and {} more compute credentials, not shown",
                        status.omitted_computes
                    );
                }
            }
        }
        Ok(0)
    }
}
