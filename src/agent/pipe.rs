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
use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_PIPE_BUSY, HANDLE};
use windows_sys::Win32::System::Pipes::{GetNamedPipeClientProcessId, GetNamedPipeServerProcessId};

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
    /// `None` (and the connection closed) otherwise. A fresh instance is
    /// created before the connected one is handed out, so clients never
    /// find the name missing. Cancel-safe: the only await is tokio's
    /// `connect`, which is.
    pub async fn accept(&mut self) -> io::Result<Option<NamedPipeServer>> {
        if let Err(e) = self.next.connect().await {
            // A client that came and went before we looked: start afresh.
            self.next = create(&self.name, &self.sd, false)?;
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

/// Whether the process at the other end of a server instance runs as us.
fn client_is_us(pipe: &NamedPipeServer) -> io::Result<bool> {
    let mut pid = 0u32;
    // SAFETY: a pipe handle we own; `pid` receives the client's process ID.
    if unsafe { GetNamedPipeClientProcessId(pipe.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let theirs = winsec::process_user_sid(pid)?;
    let ours = winsec::user_sid()?;
    if theirs != ours {
        tracing::debug!(pid, user = theirs, "the client runs as another user");
    }
    Ok(theirs == ours)
}

/// Fails unless the process serving this pipe runs as us.
fn server_is_us(pipe: &NamedPipeClient) -> io::Result<()> {
    let mut pid = 0u32;
    // SAFETY: a pipe handle we own; `pid` receives the server's process ID.
    if unsafe { GetNamedPipeServerProcessId(pipe.as_raw_handle() as HANDLE, &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let theirs = winsec::process_user_sid(pid)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot tell who serves the pipe (pid {pid}): {e}")))?;
    if theirs != winsec::user_sid()? {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("the pipe is served by another user's process (pid {pid}, {theirs})"),
        ));
    }
    Ok(())
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
