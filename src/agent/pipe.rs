//! The agent's transport on Windows: a named pipe only the current user can
//! open, in place of the Unix socket (`socket.rs`), with the same surface.
//!
//! - Name: `\\.\pipe\gamelift-access-agent-<user SID>` by default, so each
//!   user has their own; `--socket`/`GAMELIFT_ACCESS_AGENT_SOCK` override it.
//! - The first instance is created with `FILE_FLAG_FIRST_PIPE_INSTANCE`: if
//!   anything already holds the name (another agent, or another user
//!   squatting it), we refuse to start rather than share it.
//! - Every instance carries an explicit, protected DACL granting the current
//!   user alone (`winsec::owner_only_sddl`), and remote clients are refused
//!   (`PIPE_REJECT_REMOTE_CLIENTS`).
//! - The peer is checked on each connection, as SO_PEERCRED does on Unix:
//!   the client's process (`GetNamedPipeClientProcessId`) must run as our
//!   user SID, else the connection is closed unserved.
//! - The other way round, a client checks the pipe's server process runs as
//!   our user (`GetNamedPipeServerProcessId`) before it hands over a key, so
//!   a pipe squatted by someone else never receives one.

use std::ffi::OsStr;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeClient, NamedPipeServer, ServerOptions};
use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_NO_DATA, ERROR_PIPE_BUSY, HANDLE};
use windows_sys::Win32::System::Pipes::GetNamedPipeClientProcessId;

use super::AgentError;
use crate::winsec::{self, Descriptor};

/// A connection as the client holds it.
pub type ClientStream = NamedPipeClient;

/// Where every pipe name lives.
pub const PREFIX: &str = r"\\.\pipe\";

/// `\\.\pipe\gamelift-access-agent-<user SID>`.
pub fn default_path() -> io::Result<PathBuf> {
    Ok(PathBuf::from(format!(
        "{PREFIX}gamelift-access-agent-{}",
        winsec::user_sid()?
    )))
}

/// Whether `path` names a pipe (`\\.\pipe\NAME`).
pub fn is_pipe_name(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.len() > PREFIX.len() && text[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
}

fn pipe_name(path: &Path) -> io::Result<&OsStr> {
    if is_pipe_name(path) {
        Ok(path.as_os_str())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the agent listens on a named pipe: write {PREFIX}NAME"),
        ))
    }
}

pub struct Listener {
    /// The instance waiting for the next client.
    next: NamedPipeServer,
    name: PathBuf,
    /// Owner-only; every instance is created with it.
    sd: Descriptor,
}

/// A new instance of the pipe with the owner-only DACL.
fn create(name: &Path, sd: &Descriptor, first: bool) -> io::Result<NamedPipeServer> {
    let mut attributes = sd.attributes();
    // SAFETY: `attributes` points at a valid descriptor (`sd`), and both
    // outlive the call, which copies what it needs.
    unsafe {
        ServerOptions::new()
            .first_pipe_instance(first)
            .reject_remote_clients(true)
            .create_with_security_attributes_raw(name, (&raw mut attributes).cast())
    }
}

impl Listener {
    /// Creates the first instance of the pipe. A name that anything already
    /// holds is refused: an agent of ours says so, anything else is an error.
    pub fn bind(path: &Path) -> Result<Listener, AgentError> {
        let bind_err = |source| AgentError::Bind {
            path: path.to_owned(),
            source,
        };
        pipe_name(path).map_err(bind_err)?;
        match ClientOptions::new().open(path) {
            Ok(client) => {
                return Err(match server_is_us(&client) {
                    Ok(()) => AgentError::AlreadyRunning { path: path.to_owned() },
                    Err(e) => bind_err(e),
                });
            }
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY as i32) => {
                return Err(AgentError::AlreadyRunning { path: path.to_owned() });
            }
            Err(_) => {}
        }
        let sd = Descriptor::owner_only(false).map_err(bind_err)?;
        let next = create(path, &sd, true).map_err(|e| {
            bind_err(if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) {
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "another process already holds that pipe name; pick another --socket",
                )
            } else {
                e
            })
        })?;
        Ok(Listener {
            next,
            name: path.to_owned(),
            sd,
        })
    }

    /// The next connection: `Some` if its client process runs as our user,
    /// `None` (and the connection closed) otherwise, or if the client left
    /// before we got to it (a probe such as `answers`). A fresh instance is
    /// created before the connected one is handed out, so clients never
    /// find the name missing. Cancel-safe: the only await is tokio's
    /// `connect`, which is.
    pub async fn accept(&mut self) -> io::Result<Option<NamedPipeServer>> {
        if let Err(e) = self.next.connect().await {
            // The instance is spent either way: start afresh.
            self.next = create(&self.name, &self.sd, false)?;
            if e.raw_os_error() == Some(ERROR_NO_DATA as i32) {
                tracing::debug!("a client came and went before we looked");
                return Ok(None);
            }
            return Err(e);
        }
        let fresh = create(&self.name, &self.sd, false)?;
        let stream = std::mem::replace(&mut self.next, fresh);
        match client_is_us(&stream) {
            Ok(true) => Ok(Some(stream)),
            Ok(false) => {
                tracing::warn!("refused a connection from another user's process");
                Ok(None)
            }
            Err(e) => {
                tracing::warn!("refused a connection whose client is unknown: {e}");
                Ok(None)
            }
        }
    }

    /// Stops listening: the waiting instance is closed, so the name is free
    /// once the connections being served end.
    pub fn close(self) {
        drop(self.next);
    }

    /// The waiting instance, for tests that read its DACL.
    #[cfg(test)]
    pub fn instance(&self) -> &NamedPipeServer {
        &self.next
    }
}

/// Whether the client at the other end of a server instance runs as us.
fn client_is_us(pipe: &NamedPipeServer) -> io::Result<bool> {
    let handle = pipe.as_raw_handle();
    let mut pid = 0u32;
    // SAFETY: a pipe handle we own; `pid` receives the client's process ID.
    if unsafe { GetNamedPipeClientProcessId(handle as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let theirs = if pid != 0 {
        winsec::process_user_sid(pid)?
    } else {
        winsec::pipe_client_sid(handle)?
    };
    let ours = winsec::user_sid()?;
    if theirs != ours {
        tracing::debug!(pid, user = theirs, "the client runs as another user");
    }
    Ok(theirs == ours)
}

/// Fails unless the pipe instance we opened is owned by us.
fn server_is_us(pipe: &NamedPipeClient) -> io::Result<()> {
    match winsec::handle_owner_sid(pipe.as_raw_handle())? {
        Some(owner) if owner == winsec::user_sid()? => Ok(()),
        owner => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            super::NotOurs {
                owner: match owner {
                    Some(sid) => format!("another user ({sid})"),
                    None => "a process whose pipe has no owner".into(),
                },
            },
        )),
    }
}

/// A connection to the agent on pipe `path`, once its server is known to
/// run as us. While every instance is busy, waits (the caller bounds it).
pub async fn connect(path: &Path) -> io::Result<NamedPipeClient> {
    let name = pipe_name(path)?;
    let client = loop {
        match ClientOptions::new().open(name) {
            Ok(client) => break client,
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY as i32) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => return Err(e),
        }
    };
    if let Err(e) = server_is_us(&client) {
        tracing::warn!(pipe = %path.display(), "not using the pipe: {e}");
        return Err(e);
    }
    Ok(client)
}

/// Whether anything answers on pipe `path`.
pub async fn answers(path: &Path) -> bool {
    match ClientOptions::new().open(path) {
        Ok(_) => true,
        Err(e) => e.raw_os_error() == Some(ERROR_PIPE_BUSY as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::client::AgentClient;
    use crate::agent::{KeyMeta, Lifetimes, server};
    use crate::obtain::{InstanceKey, SsmAccess, TempCredentials};
    use secrecy::ExposeSecret;

    fn pipe(what: &str) -> PathBuf {
        PathBuf::from(format!("{PREFIX}gamelift-access-test-{}-{what}", std::process::id()))
    }

    fn instance_key() -> InstanceKey {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let pem = key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).unwrap();
        InstanceKey::parse(pem.to_string().into()).unwrap()
    }

    #[test]
    fn pipe_names() {
        assert!(is_pipe_name(Path::new(r"\\.\pipe\gamelift-access-agent-S-1-5-21-1")));
        assert!(is_pipe_name(Path::new(r"\\.\PIPE\x")));
        for bad in [r"\\.\pipe\", r"C:\agent.sock", "agent", r"\\server\pipe\x"] {
            assert!(!is_pipe_name(Path::new(bad)), "{bad}");
        }
        let default = default_path().unwrap();
        assert!(is_pipe_name(&default), "{}", default.display());
        assert!(
            default.to_string_lossy().ends_with(winsec::user_sid().unwrap()),
            "the default pipe is per user: {}",
            default.display()
        );
        assert!(matches!(
            Listener::bind(Path::new(r"C:\agent.sock")),
            Err(AgentError::Bind { .. })
        ));
    }

    /// The pipe carries exactly the owner-only DACL, a second listener on
    /// the same name is refused, and the peer checks both ways pass for
    /// our own process (and a process we cannot query is a stranger).
    #[tokio::test]
    async fn the_pipe_is_owner_only_and_exclusive() {
        let path = pipe("dacl");
        let listener = Listener::bind(&path).unwrap();
        let sddl = winsec::handle_dacl_sddl(listener.instance().as_raw_handle()).unwrap();
        let sid = winsec::user_sid().unwrap();
        assert_eq!(sddl, format!("D:P(A;;FA;;;{sid})"));
        assert!(winsec::sddl_owner_only(&sddl).unwrap());
        assert!(!winsec::sddl_owner_only("D:(A;;FA;;;WD)").unwrap());

        let mut listener = listener;
        let (client, accepted) = tokio::join!(connect(&path), listener.accept());
        let client = client.expect("our own server passes the client's check");
        let accepted = accepted.unwrap().expect("our own client passes the server's check");
        assert!(client_is_us(&accepted).unwrap());
        server_is_us(&client).unwrap();
        assert_eq!(
            winsec::handle_owner_sid(client.as_raw_handle()).unwrap().as_deref(),
            Some(sid)
        );
        // Impersonation (the fallback where no client pid is given) names
        // us too, once the client has written something.
        {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut client, mut accepted) = (client, accepted);
            client.write_all(b"x").await.unwrap();
            let mut byte = [0u8];
            accepted.read_exact(&mut byte).await.unwrap();
            assert_eq!(winsec::pipe_client_sid(accepted.as_raw_handle()).unwrap(), sid);
            let (client, accepted) = (client, accepted);
            drop((client, accepted));
        }
        assert_eq!(winsec::process_user_sid(std::process::id()).unwrap(), sid);
        assert!(winsec::process_user_sid(0xFFFF_FFF0).is_err());

        // The name is taken while we listen. (Wine does not enforce
        // FILE_FLAG_FIRST_PIPE_INSTANCE; the probe of the name refuses it.)
        match Listener::bind(&path) {
            Err(AgentError::AlreadyRunning { .. }) => {}
            Err(e) => panic!("a second listener: {e}"),
            Ok(_) => panic!("a second listener got the same pipe"),
        }
        listener.close();
    }

    /// The whole agent over the pipe: add a key, list it, keep and get
    /// compute credentials, status, stop.
    #[tokio::test]
    async fn the_agent_serves_over_the_pipe() {
        let path = pipe("agent");
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let server = tokio::spawn({
            let path = path.clone();
            async move {
                let lifetimes = Lifetimes {
                    key: Duration::from_secs(600),
                    compute: Duration::from_secs(300),
                };
                server::run(&path, lifetimes, move || {
                    let _ = ready_tx.send(());
                })
                .await
            }
        });
        ready_rx.await.expect("the agent announced itself");
        assert!(answers(&path).await);
        // Hardened: our user may no longer read or write the agent's memory.
        // (Wine drops the P, protected, flag when it reads the DACL back.)
        // SAFETY: the pseudo-handle of our own process.
        let process = unsafe { windows_sys::Win32::System::Threading::GetCurrentProcess() };
        let dacl = winsec::handle_dacl_sddl(process as std::os::windows::io::RawHandle).unwrap();
        let mut expected = winsec::restricted_process_sddl().unwrap();
        if winsec::under_wine() {
            expected = expected.replacen("D:P", "D:", 1);
        }
        assert_eq!(dacl, expected);

        let key = instance_key();
        let meta = KeyMeta {
            fleet_id: "fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d".into(),
            instance_id: "i-0123456789abcdef0".into(),
            user: "gl-user-remote".into(),
            host: "192.0.2.10".into(),
        };
        let mut client = AgentClient::connect(&path).await.unwrap().expect("the agent answers");
        client
            .add_instance_key(&key, &meta, Some(Duration::from_secs(120)))
            .await
            .unwrap();
        let status = client.status().await.unwrap();
        assert_eq!(status.pid, std::process::id());
        assert_eq!(status.default_ttl_secs, 600);
        assert_eq!(status.keys.len(), 1);
        let entry = &status.keys[0];
        assert_eq!(entry.identity.comment, meta.comment());
        assert!(
            (110..=120).contains(&entry.expires_in_secs),
            "{}",
            entry.expires_in_secs
        );
        assert_eq!(entry.identity.credential.key_data(), key.public_key().key_data());

        // A second connection while the first is open sees the same keys.
        let mut second = AgentClient::connect(&path).await.unwrap().expect("a second connection");
        let held = second
            .held_key(&meta.fleet_id, &meta.instance_id)
            .await
            .unwrap()
            .expect("the key is held");
        assert_eq!(held.meta, meta);

        // GetComputeAccess credentials, cached and handed back.
        let fleet = "fleet-3c4d5e6f-7081-4c9d-8e0f-2a3b4c5d6e7f";
        assert!(second.get_compute(fleet, "compute-1").await.unwrap().is_none());
        let access = SsmAccess {
            target: "i-0a1b2c3d4e5f60718".into(),
            region: "us-west-2".into(),
            credentials: TempCredentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: "secret-access-key".to_owned().into(),
                session_token: "session-token".to_owned().into(),
            },
            containers: Vec::new(),
        };
        second.put_compute(fleet, "compute-1", &access).await.unwrap();
        let (cached, left) = second.get_compute(fleet, "compute-1").await.unwrap().expect("cached");
        assert_eq!(cached.target, access.target);
        assert_eq!(
            cached.credentials.secret_access_key.expose_secret(),
            "secret-access-key"
        );
        assert!(
            left <= Duration::from_secs(300) && left >= Duration::from_secs(290),
            "{left:?}"
        );
        drop(second);

        client.stop().await.unwrap();
        drop(client);
        server.await.unwrap().unwrap();
        // Gone once the last connection's task has seen its client leave.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while answers(&path).await {
            assert!(
                std::time::Instant::now() < deadline,
                "the pipe still answers after stop"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
