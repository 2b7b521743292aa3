//! The agent's transport on Unix: a 0600 socket in the 0700 runtime dir,
//! and the peer's UID (SO_PEERCRED / getpeereid) checked on every
//! connection, so another user is refused even if the socket's mode were
//! loosened. Windows has a named pipe instead (`pipe.rs`), with the same
//! surface: `Listener::bind`, `accept`, `close`, and `connect`/`answers`
//! for clients.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::{UnixListener, UnixStream};

use super::AgentError;

/// A connection as the client holds it.
pub type ClientStream = UnixStream;

pub struct Listener {
    listener: UnixListener,
    bound: BoundSocket,
    uid: u32,
}

impl Listener {
    /// Binds the socket with mode 0600. A socket file nobody answers on
    /// (left by a SIGKILLed agent) is replaced; a live agent, or something
    /// that is not a socket, is refused.
    pub fn bind(path: &Path) -> Result<Listener, AgentError> {
        let bind_err = |source| AgentError::Bind {
            path: path.to_owned(),
            source,
        };
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(AgentError::AlreadyRunning { path: path.to_owned() });
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => {
                tracing::info!(socket = %path.display(), "replacing a socket no agent answers on");
                std::fs::remove_file(path).map_err(bind_err)?;
            }
            Ok(_) => {
                return Err(bind_err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "it exists and is not a socket; remove it or pick another --socket",
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(bind_err(e)),
        }
        // The socket is created 0600 (never briefly wider), then checked.
        // SAFETY: umask only swaps the process's file mode mask.
        let old = unsafe { libc::umask(0o177) };
        let listener = UnixListener::bind(path);
        // SAFETY: as above, restoring the previous mask.
        unsafe { libc::umask(old) };
        let listener = listener.map_err(bind_err)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(bind_err)?;
        let ino = std::fs::symlink_metadata(path).map_err(bind_err)?.ino();
        Ok(Listener {
            listener,
            bound: BoundSocket {
                path: path.to_owned(),
                ino,
            },
            // SAFETY: geteuid has no preconditions and cannot fail.
            uid: unsafe { libc::geteuid() },
        })
    }

    /// The next connection: `Some` if its peer is our own UID, `None` (and
    /// the connection closed) if it is another user's or unknown.
    /// Cancel-safe, so it can race other events in `select!`.
    pub async fn accept(&mut self) -> io::Result<Option<UnixStream>> {
        let (stream, _) = self.listener.accept().await?;
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == self.uid => Ok(Some(stream)),
            Ok(cred) => {
                tracing::warn!(peer_uid = cred.uid(), pid = ?cred.pid(), "refused a connection from another user");
                Ok(None)
            }
            Err(e) => {
                tracing::warn!("refused a connection whose peer is unknown: {e}");
                Ok(None)
            }
        }
    }

    /// Stops listening and removes the socket file, if it is still ours.
    pub fn close(self) {
        drop(self.listener);
        self.bound.remove();
    }
}

/// The socket file we created, removed on the way out only if it is still ours.
struct BoundSocket {
    path: PathBuf,
    ino: u64,
}

impl BoundSocket {
    fn remove(&self) {
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A connection to the agent on `path`.
pub async fn connect(path: &Path) -> io::Result<UnixStream> {
    UnixStream::connect(path).await
}

/// Whether an agent (anything) answers on `path`.
pub async fn answers(path: &Path) -> bool {
    UnixStream::connect(path).await.is_ok()
}
