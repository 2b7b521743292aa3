//! The journal: one small file per key creation in flight, written before
//! CreateBucketAccessKey and removed once the secret is stored (or the key
//! deleted). A file left behind means a run ended between the two, so a key
//! may exist whose secret was never stored: `list` finds those.
//!
//! `$XDG_STATE_HOME/gamelift-access/bucket-key-journal/<bucket>.<pid>.<ms>.json`:
//! `{"bucket", "region", "op", "pid", "started_epoch", "existing_keys"}`;
//! no secret, ever. `existing_keys` are the bucket's key IDs just before
//! CreateBucketAccessKey: a key that is not among them and whose secret is
//! not stored here is the run's possible orphan, whatever the clocks of this
//! machine and of AWS say. Entries written before it was recorded lack it.
//!
//! The same directory's sibling `bucket-key-rotations/<bucket>.json` records
//! a rotation in progress: `{"bucket", "region", "old_key_id",
//! "new_key_id", "started_epoch"}`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::{StoreError, write_new_durably};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub bucket: String,
    pub region: String,
    /// `create` or `rotate`.
    pub op: String,
    pub pid: u32,
    /// Epoch seconds, by this machine's clock: for messages only, never
    /// compared with Lightsail's `createdAt`.
    pub started_epoch: i64,
    /// The bucket's access key IDs just before the create call. `None` in
    /// entries of older versions.
    #[serde(default)]
    pub existing_keys: Option<Vec<String>>,
    #[serde(skip)]
    pub path: PathBuf,
}

impl Entry {
    /// Whether the process that wrote the entry is still running.
    pub fn running(&self) -> bool {
        if self.pid == std::process::id() {
            return true;
        }
        i32::try_from(self.pid).is_ok_and(crate::deliver::process_alive)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rotation {
    pub bucket: String,
    pub region: String,
    pub old_key_id: String,
    pub new_key_id: String,
    pub started_epoch: i64,
    /// The new key's `createdAt` in milliseconds, by Lightsail's clock
    /// (as `lastUsed` is): a use of the old key after it means something
    /// still uses the old key. `started_epoch` is the same instant.
    pub started_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    rotations: PathBuf,
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

impl Journal {
    pub fn open() -> Result<Journal, StoreError> {
        let state = crate::dirs::state_dir().map_err(io_err("use the state directory", Path::new("<state dir>")))?;
        Ok(Journal {
            dir: state.join("bucket-key-journal"),
            rotations: state.join("bucket-key-rotations"),
        })
    }

    fn ensure(dir: &Path) -> Result<(), StoreError> {
        crate::dirs::ensure_private_dir(dir).map_err(io_err("create", dir))
    }

    /// Records that a key is about to be created for `bucket`, which has
    /// the keys `existing` now.
    pub fn begin(
        &self,
        bucket: &str,
        region: &str,
        op: &str,
        now: i64,
        existing: Vec<String>,
    ) -> Result<Entry, StoreError> {
        Self::ensure(&self.dir)?;
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let entry = Entry {
            bucket: bucket.to_owned(),
            region: region.to_owned(),
            op: op.to_owned(),
            pid: std::process::id(),
            started_epoch: now,
            existing_keys: Some(existing),
            path: self.dir.join(format!("{bucket}.{}.{millis}.json", std::process::id())),
        };
        let body = serde_json::to_vec_pretty(&entry).map_err(|e| io_err("encode", &entry.path)(io::Error::other(e)))?;
        write_new_durably(&self.dir, &entry.path, &body)?;
        tracing::debug!(path = %entry.path.display(), "journal entry written");
        Ok(entry)
    }

    /// Removes an entry: the key's secret is stored, or no key was left.
    pub fn end(&self, entry: &Entry) -> Result<(), StoreError> {
        match fs::remove_file(&entry.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &entry.path)(e)),
        }
    }

    /// The entries for `bucket`, oldest first. Unreadable entries are
    /// skipped with a warning: they hold no secret and only point at work.
    pub fn entries(&self, bucket: &str) -> Result<Vec<Entry>, StoreError> {
        let read = match fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read", &self.dir)(e)),
        };
        let prefix = format!("{bucket}.");
        let mut entries = Vec::new();
        for item in read {
            let item = item.map_err(io_err("read", &self.dir))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if !name.starts_with(&prefix) || !name.ends_with(".json") {
                continue;
            }
            let path = item.path();
            match fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Entry>(&b).ok())
            {
                Some(mut entry) if entry.bucket == bucket => {
                    entry.path = path;
                    entries.push(entry);
                }
                Some(_) => {}
                None => tracing::warn!(path = %path.display(), "unreadable journal entry skipped"),
            }
        }
        entries.sort_by_key(|e| e.started_epoch);
        Ok(entries)
    }

    fn rotation_path(&self, bucket: &str) -> PathBuf {
        self.rotations.join(format!("{bucket}.json"))
    }

    /// The rotation in progress for `bucket`, if any.
    pub fn rotation(&self, bucket: &str) -> Result<Option<Rotation>, StoreError> {
        let path = self.rotation_path(bucket);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    path: path.clone(),
                    why: e.to_string(),
                }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    pub fn start_rotation(&self, rotation: &Rotation) -> Result<(), StoreError> {
        Self::ensure(&self.rotations)?;
        let path = self.rotation_path(&rotation.bucket);
        let body = serde_json::to_vec_pretty(rotation).map_err(|e| io_err("encode", &path)(io::Error::other(e)))?;
        write_new_durably(&self.rotations, &path, &body)
    }

    pub fn end_rotation(&self, bucket: &str) -> Result<(), StoreError> {
        let path = self.rotation_path(bucket);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("remove", &path)(e)),
        }
    }
}
