//! `gamelift-access proxy <host> <port>`: ssh's `ProxyCommand` for hosts
//! named `<instance>.<fleet>.gamelift`, so every OpenSSH tool (ssh, scp,
//! sftp, rsync, VS Code Remote-SSH, Ansible) reaches fleet instances by name.
//!
//! resolve → key into the agent (started if none runs; no GameLift call if
//! it already holds one) → TCP to the instance → relay stdin/stdout → if
//! sshd refused the agent's cached key, drop it so the rerun gets a fresh one.

use crate::cli::{GlobalArgs, ProxyArgs};
use crate::error::{Error, Result};

/// The suffix that marks a fleet instance's host name.
pub const HOST_SUFFIX: &str = ".gamelift";

/// `<instance>.<fleet>.gamelift` → (instance, fleet). The instance is the
/// first label (an instance ID or compute name: no dots), the fleet the rest
/// (an ID, alias or name, as `connect` takes it).
pub fn split_host(host: &str) -> Result<(&str, &str)> {
    let usage = || {
        Error::Usage(format!(
            "'{host}' is not a fleet instance's name: write it <instance>.<fleet>{HOST_SUFFIX}, \
             e.g. i-0123456789abcdef0.my-fleet{HOST_SUFFIX}"
        ))
    };
    let len = host.len();
    let stem = match host.get(len.saturating_sub(HOST_SUFFIX.len())..) {
        Some(tail) if tail.eq_ignore_ascii_case(HOST_SUFFIX) => &host[..len - HOST_SUFFIX.len()],
        _ => return Err(usage()),
    };
    match stem.split_once('.') {
        Some((instance, fleet)) if !instance.is_empty() && !fleet.is_empty() => Ok((instance, fleet)),
        _ => Err(usage()),
    }
}

pub async fn run(global: &GlobalArgs, args: ProxyArgs) -> Result<u8> {
    imp::run(global, args).await
}

mod imp {
    use super::*;
    use crate::agent::client::{AgentClient, Watch};
    use crate::agent::{KeyMeta, Lifetimes};
    use crate::aws::GameLift;
    use crate::launch::LaunchError;
    use crate::obtain::{self, Access};
    use crate::resolve::{FleetRef, InstanceRef, Resolver, Sdk};

    pub async fn run(global: &GlobalArgs, args: ProxyArgs) -> Result<u8> {
        let (instance, fleet) = split_host(&args.host)?;
        let fleet = FleetRef::parse(fleet)?;
        let instance = InstanceRef::parse(instance)?;
        let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
        let resolver = Resolver::new(&gamelift, false);
        let info = resolver.fleet(&fleet).await?;
        let target = resolver.target(info, Some(&instance), None, false).await?;
        if target.sdk == Sdk::V5 {
            return Err(Error::Usage(format!(
                "{} is a server SDK 5 or container fleet: GameLift hands out no ssh key there \
                 (its access is SSM)\n  use: gamelift-access connect {} {}",
                target.fleet.fleet_id, target.fleet.fleet_id, target.instance_id
            )));
        }
        if target.fleet.os.as_deref().is_some_and(|os| os.starts_with("WINDOWS")) {
            return Err(windows(&target.fleet.fleet_id, &target.instance_id));
        }

        // The ssh_config block files host keys here; ssh won't make the directory.
        crate::commands::ssh_config::known_hosts_dir()?;
        let socket = crate::commands::agent::socket_path(None)?;
        let (mut agent, started) = crate::commands::agent::ensure_running(&socket, Lifetimes::default()).await?;
        if let Some(pid) = started {
            tracing::info!(pid, socket = %socket.display(), "started the agent");
        }
        let before = agent.watch(&target.fleet.fleet_id, &target.instance_id).await?;
        let host = match &before.held {
            Some(held) => {
                tracing::debug!(%target, "the agent holds a key for it");
                agent.promote(&held.public).await?;
                held.meta.host.clone()
            }
            None => match obtain::instance_access(&gamelift, &target).await? {
                Access::Ssh(access) => {
                    let meta = KeyMeta {
                        fleet_id: target.fleet.fleet_id.clone(),
                        instance_id: target.instance_id.clone(),
                        user: access.user.clone(),
                        host: access.host.clone(),
                    };
                    agent.add_instance_key(&access.key, &meta, None).await?;
                    access.host
                }
                _ => return Err(windows(&target.fleet.fleet_id, &target.instance_id)),
            },
        };
        drop(agent);
        // ssh sends its ProxyCommand SIGHUP as it exits, and one check is
        // left to make after the relay: whether the cached key was refused.
        // (Windows has no SIGHUP; there the relay ends when ssh.exe closes
        // our standard handles.)
        // SAFETY: signal(2) with SIG_IGN, before any thread of ours relies on SIGHUP.
        #[cfg(unix)]
        unsafe {
            libc::signal(libc::SIGHUP, libc::SIG_IGN)
        };
        let code = relay(&host, args.port).await?;
        if before.held.is_some() {
            drop_refused_key(&socket, &target.fleet.fleet_id, &target.instance_id, &before).await;
        }
        Ok(code)
    }

    /// A cached key sshd refused (ssh listed the agent's keys, and the key
    /// made no signature) is dropped from the agent, so the next connection
    /// fetches a fresh one. The proxy cannot retry itself: ssh, not the
    /// proxy, saw the refusal, and it has given up by now.
    async fn drop_refused_key(socket: &std::path::Path, fleet_id: &str, instance_id: &str, before: &Watch) {
        let Ok(Some(mut agent)) = AgentClient::connect(socket).await else {
            return;
        };
        let Ok(after) = agent.watch(fleet_id, instance_id).await else {
            return;
        };
        if !after.refused_since(before) {
            return;
        }
        let Some(held) = &after.held else { return };
        if agent.remove(&held.public).await.is_ok() {
            eprintln!(
                "gamelift-access: {instance_id} refused the agent's cached key (GameLift has issued a newer one); \
                 it is dropped, and the next connection fetches a fresh key: run the command again"
            );
        }
    }

    fn windows(fleet: &str, instance: &str) -> Error {
        Error::Usage(format!(
            "{instance} is a Windows instance: it takes RDP, not ssh\n  use: gamelift-access connect {fleet} {instance}"
        ))
    }

    /// Copies until end of input, writing each read as soon as it is read.
    /// Not `std::io::copy`: between a pipe and a socket it splices, which
    /// here held data back until more arrived, stalling ssh's handshake.
    fn pump(from: &mut impl std::io::Read, to: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            to.write_all(&buf[..n])?;
        }
    }

    /// stdin or stdout as a plain file: Rust's `Stdout` is line-buffered,
    /// which would hold back every ssh packet that does not end in `\n`.
    /// Not closed on drop: the descriptors stay the process's own.
    #[cfg(unix)]
    fn raw_stdio(stdout: bool) -> std::mem::ManuallyDrop<std::fs::File> {
        use std::os::fd::FromRawFd;
        // SAFETY: 0 and 1 are open for the life of the process (ssh gives
        // us pipes), and ManuallyDrop never closes them.
        std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(i32::from(stdout)) })
    }

    /// The same on Windows: the standard handles (ssh.exe gives us pipes),
    /// read and written with ReadFile/WriteFile, never closed.
    #[cfg(windows)]
    fn raw_stdio(stdout: bool) -> std::mem::ManuallyDrop<std::fs::File> {
        use std::os::windows::io::{AsRawHandle, FromRawHandle};
        let handle = if stdout {
            std::io::stdout().as_raw_handle()
        } else {
            std::io::stdin().as_raw_handle()
        };
        // SAFETY: a standard handle, open for the life of the process, and
        // ManuallyDrop never closes it.
        std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_handle(handle) })
    }

    /// Relays stdin to the instance and the instance to stdout. When ssh
    /// closes our stdin, the write side is shut down and the rest of the
    /// instance's output still delivered; when the instance closes, we end.
    /// Plain blocking copies on two threads: nothing else runs meanwhile.
    async fn relay(host: &str, port: u16) -> Result<u8> {
        let (host, what) = (host.to_owned(), format!("cannot reach {host} port {port}"));
        let io = |source| LaunchError::Io {
            what: what.clone(),
            source,
        };
        let stream = tokio::task::spawn_blocking(move || std::net::TcpStream::connect((host.as_str(), port)))
            .await
            .map_err(|e| Error::Other(format!("relay: {e}")))?
            .map_err(io)?;
        let _ = stream.set_nodelay(true);
        let mut to_instance = stream.try_clone().map_err(io)?;
        std::thread::spawn(move || {
            let _ = pump(&mut *raw_stdio(false), &mut to_instance);
            let _ = to_instance.shutdown(std::net::Shutdown::Write);
        });
        let mut from_instance = stream;
        tokio::task::spawn_blocking(move || {
            if let Err(e) = pump(&mut from_instance, &mut *raw_stdio(true)) {
                tracing::debug!("relay ended: {e}");
            }
        })
        .await
        .map_err(|e| Error::Other(format!("relay: {e}")))?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(
            split_host("i-0123456789abcdef0.raid-live.gamelift").unwrap(),
            ("i-0123456789abcdef0", "raid-live")
        );
        assert_eq!(split_host("i-1.fleet-1a2b.GameLift").unwrap(), ("i-1", "fleet-1a2b"));
        for bad in ["i-1.gamelift", "gamelift", "i-1.fleet", ".fleet.gamelift", "x"] {
            assert!(split_host(bad).is_err(), "{bad}");
        }
    }
}
