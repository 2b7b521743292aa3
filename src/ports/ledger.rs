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
