//! The ledger of port permissions this tool opened and has not yet closed.
//!
//! An entry is written *before* the permission is authorized and removed
//! only after it is revoked, so a run killed at any point (even SIGKILL)
//! leaves a record that `ports close-stale` can act on. Updates hold an
//! exclusive lock and replace the file atomically.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Permission;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: String,
    pub fleet_id: String,
    /// The fleet's home region, where the revocation must be sent.
    pub region: String,
    pub location: String,
    pub permission: Permission,
    /// Seconds since the Unix epoch.
    pub opened_at: i64,
    pub pid: u32,
    /// This run did not open the permission: it relies on one that another
    /// (live) run opened, which must hand it over rather than revoke it.
    #[serde(default)]
    pub borrowed: bool,
}

impl LedgerEntry {
    /// Whether the run that opened it is still running.
    pub fn owner_alive(&self) -> bool {
        crate::deliver::process_alive(self.pid as i32)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    opened: Vec<LedgerEntry>,
}

/// The outcome of [`Ledger::release`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// It was borrowed: nothing to revoke.
    Left,
    /// Another live run now owns it: nothing to revoke.
    HandedOver { pid: u32 },
    /// The last user is done: revoke it, then remove the entry.
    Revoke,
    /// No such entry (already closed).
    Gone,
}

#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    lock_path: PathBuf,
}

impl Ledger {
    pub fn open() -> io::Result<Self> {
        let dir = crate::dirs::state_dir()?;
        Ok(Self {
            path: dir.join("open-ports.json"),
            lock_path: dir.join("open-ports.lock"),
        })
    }

    pub fn entries(&self) -> io::Result<Vec<LedgerEntry>> {
        let _lock = self.lock()?;
        Ok(self.read()?.opened)
    }

    pub fn add(&self, entry: &LedgerEntry) -> io::Result<()> {
        self.update(|file| file.opened.push(entry.clone()))
    }

    pub fn remove(&self, id: &str) -> io::Result<()> {
        self.update(|file| file.opened.retain(|e| e.id != id))
    }

    /// Records that run `entry.pid` leans on a permission another live run
    /// of ours opened, if there is such a run. Decided under the lock, so
    /// the owner cannot revoke in between.
    pub fn borrow(&self, entry: &LedgerEntry) -> io::Result<bool> {
        let mut borrowed = false;
        self.update(|file| {
            let owned = file.opened.iter().any(|e| {
                !e.borrowed && e.fleet_id == entry.fleet_id && e.permission == entry.permission && e.owner_alive()
            });
            if owned {
                file.opened.push(LedgerEntry {
                    borrowed: true,
                    ..entry.clone()
                });
                borrowed = true;
            }
        })?;
        Ok(borrowed)
    }

    /// What to do with entry `id` now that its run is done with it (or gone):
    /// a borrower just leaves; an owner hands the permission to a live
    /// borrower if there is one, and otherwise must revoke it (and then
    /// `remove` the entry).
    pub fn release(&self, id: &str) -> io::Result<Release> {
        let mut release = Release::Gone;
        self.update(|file| {
            let Some(at) = file.opened.iter().position(|e| e.id == id) else {
                return;
            };
            let entry = file.opened[at].clone();
            if entry.borrowed {
                file.opened.remove(at);
                release = Release::Left;
                return;
            }
            let heir = file.opened.iter().position(|e| {
                e.id != id && e.fleet_id == entry.fleet_id && e.permission == entry.permission && e.owner_alive()
            });
            match heir {
                Some(heir) => {
                    file.opened[heir].borrowed = false;
                    release = Release::HandedOver {
                        pid: file.opened[heir].pid,
                    };
                    file.opened.remove(at);
                }
                None => release = Release::Revoke,
            }
        })?;
        Ok(release)
    }

    fn update(&self, change: impl FnOnce(&mut LedgerFile)) -> io::Result<()> {
        let _lock = self.lock()?;
        let mut file = self.read()?;
        change(&mut file);
        let dir = self.path.parent().expect("ledger has a parent dir");
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut tmp, &file)?;
        tmp.write_all(b"\n")?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }

    fn read(&self) -> io::Result<LedgerFile> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is damaged: {e}", self.path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(LedgerFile::default()),
            Err(e) => Err(e),
        }
    }

    /// An exclusive advisory lock, released when the file closes.
    fn lock(&self) -> io::Result<fs::File> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)?;
        file.lock()?;
        Ok(file)
    }
}
