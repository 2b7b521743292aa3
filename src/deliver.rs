//! deliver: put a secret where the launcher needs it, and take it away again.
//!
//! Key files live in `<runtime dir>/keys`, named `<instance>.<pid>.pem` so
//! that a later run can tell a key orphaned by a SIGKILLed run (its pid is
//! gone) from one a concurrent session is still using.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::dirs;

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("cannot use the clipboard: {0}\n  drop --copy: the password is then shown on the terminal")]
    Clipboard(String),
    #[error("cannot prepare the private directory for the key: {0}")]
    Dir(#[source] io::Error),
    #[error("cannot write the key file {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// The directory that holds key files while sessions run.
pub struct KeyDir {
    path: PathBuf,
}

impl KeyDir {
    pub fn open() -> Result<Self, DeliverError> {
        let path = dirs::runtime_dir().map_err(DeliverError::Dir)?.join("keys");
        dirs::ensure_private_dir(&path).map_err(DeliverError::Dir)?;
        Ok(Self { path })
    }

    /// Where the key for `name` would go in this process.
    pub fn key_path(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.{}.pem", std::process::id()))
    }

    /// Removes key files whose owning process no longer exists: what a
    /// SIGKILLed run (or a power cut) left behind. Keys of live runs stay.
    pub fn sweep_stale(&self) {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(owner_pid) else {
                continue;
            };
            if !process_alive(pid) {
                match fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::info!(path = %entry.path().display(), pid, "removed a key left by an earlier run")
                    }
                    Err(e) => {
                        tracing::warn!(path = %entry.path().display(), "could not remove a stale key: {e}")
                    }
                }
            }
        }
    }

    /// Writes `secret` to a new file readable by us alone; OpenSSH wants
    /// the PEM with a final newline.
    pub fn write_key(&self, name: &str, secret: &SecretString) -> Result<PrivateFile, DeliverError> {
        let path = self.key_path(name);
        let pem = secret.expose_secret().trim_end();
        let file = PrivateFile::create(&path, &[pem.as_bytes(), b"\n"]).map_err(|source| DeliverError::Write {
            path: path.clone(),
            source,
        })?;
        tracing::debug!(path = %path.display(), "key written (readable by us alone)");
        Ok(file)
    }
}

/// A file only we can read, holding a secret or something private (a key,
/// an `.rdp` file). Dropping it removes the file, so every way out of a
/// scope (return, `?`, panic unwinding) cleans up.
#[derive(Debug)]
pub struct PrivateFile {
    path: PathBuf,
}

impl PrivateFile {
    /// Creates `path` with mode 0600 and writes `parts` to it. `O_EXCL` and
    /// `O_NOFOLLOW` mean we never write through a file or symlink someone
    /// else put in our way; the mode is set at creation, never widened. On
    /// any failure after creation the file is removed again.
    /// On Windows the file gets a protected owner-only DACL at creation
    /// instead (see `winsec`), which is what Windows OpenSSH insists on.
    pub fn create(path: &Path, parts: &[&[u8]]) -> io::Result<PrivateFile> {
        let mut file = create_private(path)?;
        let guard = PrivateFile { path: path.to_owned() };
        for part in parts {
            file.write_all(part)?;
        }
        file.sync_all()?;
        Ok(guard)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

#[cfg(windows)]
fn create_private(path: &Path) -> io::Result<fs::File> {
    crate::winsec::create_private_file(path)
}

impl Drop for PrivateFile {
    fn drop(&mut self) {
        match fs::remove_file(&self.path) {
            Ok(()) => tracing::debug!(path = %self.path.display(), "removed"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = %self.path.display(), "could not remove: {e}"),
        }
    }
}

/// A secret on the clipboard. It is cleared after the timeout or when this
/// is dropped, whichever comes first, and only if the clipboard still holds
/// it: something the user copied since is left alone.
pub struct ClipboardSecret {
    stop: Option<std::sync::mpsc::Sender<()>>,
    keeper: Option<std::thread::JoinHandle<()>>,
}

impl ClipboardSecret {
    pub fn copy(secret: &SecretString, timeout: std::time::Duration) -> Result<Self, DeliverError> {
        use zeroize::Zeroize;
        let secret = SecretString::from(secret.expose_secret());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = std::sync::mpsc::channel::<()>();
        // On X11 the owner serves the clipboard's contents, so the clipboard
        // lives on a thread of its own until it is time to clear it.
        let keeper = std::thread::spawn(move || {
            let mut clipboard = match arboard::Clipboard::new().and_then(|mut c| {
                c.set_text(secret.expose_secret())?;
                Ok(c)
            }) {
                Ok(c) => {
                    let _ = ready_tx.send(Ok(()));
                    c
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = stop_rx.recv_timeout(timeout);
            if let Ok(mut now) = clipboard.get_text() {
                let ours = now == secret.expose_secret();
                now.zeroize();
                if ours {
                    let _ = clipboard.clear();
                    tracing::debug!("clipboard cleared");
                }
            }
        });
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                stop: Some(stop),
                keeper: Some(keeper),
            }),
            Ok(Err(e)) => {
                let _ = keeper.join();
                Err(DeliverError::Clipboard(e))
            }
            Err(_) => {
                let _ = keeper.join();
                Err(DeliverError::Clipboard("the clipboard thread failed".into()))
            }
        }
    }
}

impl Drop for ClipboardSecret {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
    }
}

/// `i-0123.4242.pem` → 4242.
fn owner_pid(file_name: &str) -> Option<i32> {
    let stem = file_name.strip_suffix(".pem")?;
    stem.rsplit_once('.')?.1.parse().ok().filter(|pid| *pid > 0)
}

/// Whether process `pid` exists (ours or another user's).
#[cfg(unix)]
pub fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether process `pid` exists (ours or another user's).
#[cfg(windows)]
pub fn process_alive(pid: i32) -> bool {
    u32::try_from(pid).is_ok_and(crate::winsec::process_alive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pids() {
        assert_eq!(owner_pid("i-0123456789abcdef0.4242.pem"), Some(4242));
        assert_eq!(owner_pid("i-0123456789abcdef0.pem"), None);
        assert_eq!(owner_pid("notes.txt"), None);
        assert_eq!(owner_pid("x.0.pem"), None);
    }

    #[test]
    fn liveness() {
        assert!(process_alive(std::process::id() as i32));
        #[cfg(unix)]
        let mut child = std::process::Command::new("true").spawn().unwrap();
        #[cfg(windows)]
        let mut child = std::process::Command::new("cmd")
            .args(["/c", "exit 0"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        assert!(!process_alive(pid));
    }
}
