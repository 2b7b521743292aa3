//! The agent's transport on Unix: a 0600 socket in the 0700 runtime dir,
//! and the peer's UID (SO_PEERCRED / getpeereid) checked on every
//! connection, so another user is refused even if the socket's mode were
//! loosened. Clients check the server's UID the same way before they send
//! anything. Windows has a named pipe instead (`pipe.rs`), with the same
//! surface: `Listener::bind`, `accept`, `close`, and `connect`/`answers`
//! for clients.
//!
//! Agents start concurrently (ssh runs one `proxy` per connection, and each
//! starts the agent if none answers), so binding is serialised by an
//! exclusive `flock` on `<socket>.lock`, held for the agent's whole life:
//! only its holder may replace a stale socket file, so no agent ever
//! unlinks the socket of another that has just bound (which would leave
//! that one running, unreachable, for ever). The kernel drops the lock when
//! its holder dies, even by SIGKILL; the lock file itself stays.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::net::{UnixListener, UnixStream};

use super::AgentError;

/// A connection as the client holds it.
pub type ClientStream = UnixStream;

pub struct Listener {
    listener: UnixListener,
    bound: BoundSocket,
    uid: u32,
    /// `<socket>.lock`, locked until we exit.
    _lock: std::fs::File,
}

/// How long a second agent waits for the first, which holds the lock, to answer.
const START_WAIT: Duration = Duration::from_secs(5);

/// The lock file's path: the socket's, with `.lock` added.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock on `<socket>.lock`. `Ok(None)` while another process holds it.
fn try_lock(path: &Path) -> io::Result<Option<std::fs::File>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(lock_path(path))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(Some(file));
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(None)
    } else {
        Err(e)
    }
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
        let answers = || std::os::unix::net::UnixStream::connect(path).is_ok();
        if answers() {
            return Err(AgentError::AlreadyRunning { path: path.to_owned() });
        }
        // Another agent holds the lock: it is starting (or stopping). Wait
        // until it answers (we are not needed) or lets go (we take over).
        let deadline = Instant::now() + START_WAIT;
        let lock = loop {
            if let Some(lock) = try_lock(path).map_err(bind_err)? {
                break lock;
            }
            if answers() {
                return Err(AgentError::AlreadyRunning { path: path.to_owned() });
            }
            if Instant::now() > deadline {
                return Err(bind_err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("another agent holds {} but does not answer", lock_path(path).display()),
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // An agent that answers without the lock (an older version) stays.
        if answers() {
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
            _lock: lock,
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

/// A connection to the agent on `path`, once its server is known to run as
/// us: before anything is sent, since whoever serves the socket receives
/// instance keys and STS credentials. (A socket path given with `--socket`
/// or `GAMELIFT_ACCESS_AGENT_SOCK` may be one another user could create.)
/// Another user's server is an error carrying [`super::NotOurs`].
pub async fn connect(path: &Path) -> io::Result<UnixStream> {
    let stream = UnixStream::connect(path).await?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let ours = unsafe { libc::geteuid() };
    let theirs = stream.peer_cred()?.uid();
    if theirs != ours {
        let owner = match user_name(theirs) {
            Some(name) => format!("uid {theirs} ({name})"),
            None => format!("uid {theirs}"),
        };
        tracing::debug!(socket = %path.display(), "not using the socket: {owner} serves it");
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            super::NotOurs { owner },
        ));
    }
    Ok(stream)
}

/// The login name of `uid`, if the password database has one.
fn user_name(uid: u32) -> Option<String> {
    // SAFETY: passwd is plain data; getpwuid_r fills it with pointers into
    // `buf`, which outlives every use of them below.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found);
        if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned())
    }
}

/// Whether an agent (anything) answers on `path`.
pub async fn answers(path: &Path) -> bool {
    UnixStream::connect(path).await.is_ok()
}
