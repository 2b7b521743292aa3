//! The local store of bucket key secrets: one JSON file per key.
//!
//! ```text
//! <data dir>/bucket-keys/                  0700 (Linux: $XDG_DATA_HOME/gamelift-access/bucket-keys)
//!   <bucket>/                              0700
//!     <ACCESS_KEY_ID>.json                 0600
//! ```
//!
//! Each file is `{"version": 1, "bucket", "region", "access_key_id",
//! "secret_access_key", "created_at" (RFC 3339), "created_epoch",
//! "created_epoch_ms"}`. Files are
//! written as temp file (0600) → fsync → rename (never over an existing
//! file) → fsync of the directory, so a crash leaves either no file or a
//! whole one. A file that does not parse, names another key than its file
//! name, or is readable by others is refused with an error naming it: it
//! may hold the only copy of a secret, so it is never rewritten or removed
//! behind the user's back.
//!
//! The fallback store, used only when the main one fails after a key was
//! created, has the same layout under `$XDG_STATE_HOME/gamelift-access/
//! bucket-keys-fallback` (outside the data dir); keys found there are read
//! like any other.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::dirs::Exposure;
use zeroize::Zeroizing;

/// The store format version this build reads and writes.
const VERSION: u32 = 1;

/// Why the store could not be used. Every message names the file or
/// directory and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "{} is not a valid bucket key file ({why}); it was left as it is\n  \
         it may hold the only copy of a secret: move it out of the store (keep it if it does), then run the command again",
        path.display()
    )]
    Corrupt { path: PathBuf, why: String },
    #[error(
        "{} has mode {mode:04o}, so other users may have read it; refusing to use it\n  \
         if nobody else could have: chmod {want:o} {}; otherwise delete the key (gamelift-access bucket-key delete) and create a new one",
        path.display(), path.display()
    )]
    LooseMode { path: PathBuf, mode: u32, want: u32 },
    #[error(
        "{} {why}; refusing to keep secrets there\n  move it aside and run the command again",
        path.display()
    )]
    NotPrivate { path: PathBuf, why: &'static str },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// A key whose secret is in the store.
#[derive(Debug)]
pub struct StoredKey {
    pub region: String,
    pub id: String,
    pub secret: SecretString,
    /// Epoch seconds.
    pub created: i64,
    /// Epoch milliseconds: orders keys made within one second (a rotation).
    pub created_ms: i64,
    /// The file it is in.
    pub path: PathBuf,
    /// Found in the fallback store rather than the main one.
    pub in_fallback: bool,
}

/// What is written for a new key.
pub struct NewRecord<'a> {
    pub bucket: &'a str,
    pub region: &'a str,
    pub id: &'a str,
    pub secret: &'a SecretString,
    pub created: i64,
    pub created_ms: i64,
    pub created_rfc3339: &'a str,
}

#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    bucket: &'a str,
    region: &'a str,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    created_at: &'a str,
    created_epoch: i64,
    created_epoch_ms: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    version: u32,
    bucket: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    #[allow(dead_code)]
    created_at: String,
    created_epoch: i64,
    created_epoch_ms: i64,
}

/// The main store and its fallback.
#[derive(Debug, Clone)]
pub struct Store {
    pub main: PathBuf,
    pub fallback: PathBuf,
}

impl Store {
    /// The per-user store: `<data dir>/bucket-keys`, and the fallback under
    /// the state dir (the home directory where there is no state dir).
    pub fn open() -> Result<Store, StoreError> {
        let data = crate::dirs::data_dir().map_err(io_err("use the data directory", Path::new("<data dir>")))?;
        let fallback =
            crate::dirs::fallback_dir().map_err(io_err("use the fallback directory", Path::new("<state dir>")))?;
        Ok(Store {
            main: data.join("bucket-keys"),
            fallback,
        })
    }

    fn roots(&self) -> [(&Path, bool); 2] {
        [(&self.main, false), (&self.fallback, true)]
    }

    /// Every stored key of `bucket`, oldest first, from both stores. Any bad
    /// file (corrupt, loose mode) or loose directory is an error.
    pub fn keys(&self, bucket: &str) -> Result<Vec<StoredKey>, StoreError> {
        let mut keys = Vec::new();
        for (root, in_fallback) in self.roots() {
            let dir = root.join(bucket);
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                // The store dir replaced by a file: nothing can be stored there.
                Err(e) if e.kind() == io::ErrorKind::NotADirectory && in_fallback => continue,
                Err(e) => return Err(io_err("read", &dir)(e)),
            };
            check_private_dir(root)?;
            check_private_dir(&dir)?;
            for entry in entries {
                let entry = entry.map_err(io_err("read", &dir))?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                // Temp files of an interrupted write hold no completed key.
                let Some(id) = name.strip_suffix(".json").filter(|_| !name.starts_with('.')) else {
                    continue;
                };
                keys.push(read_key(&entry.path(), bucket, id, in_fallback)?);
            }
        }
        keys.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then_with(|| a.id.cmp(&b.id)));
        Ok(keys)
    }

    /// Preflight: the main store for `bucket` exists privately and takes a
    /// durable write (a probe file written, fsynced and removed).
    pub fn probe(&self, bucket: &str) -> Result<(), StoreError> {
        let dir = make_private_dirs(&self.main, bucket)?;
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        let result = (|| {
            let mut f = File::create(&probe)?;
            f.write_all(b"probe")?;
            f.sync_all()?;
            fs::remove_file(&probe)?;
            File::open(&dir)?.sync_all()
        })();
        result.map_err(io_err("write a probe file in", &dir))
    }

    /// Writes `rec` durably to the main store (`fallback: false`) or the
    /// fallback store. Returns the file's path.
    pub fn save(&self, rec: &NewRecord<'_>, fallback: bool) -> Result<PathBuf, StoreError> {
        let root = if fallback { &self.fallback } else { &self.main };
        let dir = make_private_dirs(root, rec.bucket)?;
        let body = Zeroizing::new(
            serde_json::to_vec_pretty(&FileOut {
                version: VERSION,
                bucket: rec.bucket,
                region: rec.region,
                access_key_id: rec.id,
                secret_access_key: rec.secret.expose_secret(),
                created_at: rec.created_rfc3339,
                created_epoch: rec.created,
                created_epoch_ms: rec.created_ms,
            })
            .map_err(|e| io_err("encode a key file for", &dir)(io::Error::other(e)))?,
        );
        let path = dir.join(format!("{}.json", rec.id));
        write_new_durably(&dir, &path, &body)?;
        Ok(path)
    }

    /// Removes `key_id`'s files (both stores). Returns the paths removed.
    pub fn remove(&self, bucket: &str, key_id: &str) -> Result<Vec<PathBuf>, StoreError> {
        let mut removed = Vec::new();
        for (root, _) in self.roots() {
            let dir = root.join(bucket);
            let path = dir.join(format!("{key_id}.json"));
            match fs::remove_file(&path) {
                Ok(()) => {
                    File::open(&dir)
                        .and_then(|d| d.sync_all())
                        .map_err(io_err("sync", &dir))?;
                    removed.push(path);
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {}
                Err(e) => return Err(io_err("remove", &path)(e)),
            }
        }
        Ok(removed)
    }
}

fn read_key(path: &Path, bucket: &str, id: &str, in_fallback: bool) -> Result<StoredKey, StoreError> {
    let meta = fs::symlink_metadata(path).map_err(io_err("read", path))?;
    if !meta.file_type().is_file() {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            why: "not a regular file".into(),
        });
    }
    check_exposure(path, &meta, 0o600)?;
    let text = Zeroizing::new(fs::read(path).map_err(io_err("read", path))?);
    let corrupt = |why: String| StoreError::Corrupt {
        path: path.to_owned(),
        why,
    };
    // serde_json's error names the line and column, never the content.
    let file: FileIn = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
    if file.version != VERSION {
        return Err(corrupt(format!(
            "format version {}, this build reads {VERSION}",
            file.version
        )));
    }
    if file.access_key_id != id || file.bucket != bucket {
        return Err(corrupt(format!(
            "it holds key {} of bucket {}, not what its path says",
            file.access_key_id, file.bucket
        )));
    }
    if file.secret_access_key.is_empty() {
        return Err(corrupt("the secret access key is empty".into()));
    }
    Ok(StoredKey {
        region: file.region,
        id: file.access_key_id,
        // Moved, not copied: the String's buffer becomes the secret's.
        secret: SecretString::from(file.secret_access_key),
        created: file.created_epoch,
        created_ms: file.created_epoch_ms,
        path: path.to_owned(),
        in_fallback,
    })
}

/// An existing store directory must be a real directory, ours, 0700. A
/// loose one is refused, not fixed: its files may already have been read.
fn check_private_dir(dir: &Path) -> Result<(), StoreError> {
    let meta = fs::symlink_metadata(dir).map_err(io_err("inspect", dir))?;
    if !meta.file_type().is_dir() {
        return Err(StoreError::NotPrivate {
            path: dir.to_owned(),
            why: "is not a directory",
        });
    }
    check_exposure(dir, &meta, 0o700)
}

/// Refuses what is not ours alone; `want` is the Unix mode it should have.
fn check_exposure(path: &Path, meta: &fs::Metadata, want: u32) -> Result<(), StoreError> {
    match crate::dirs::exposure(path, meta).map_err(io_err("inspect", path))? {
        None => Ok(()),
        Some(Exposure::OtherUser) => Err(StoreError::NotPrivate {
            path: path.to_owned(),
            why: "belongs to another user",
        }),
        Some(Exposure::Mode(mode)) => Err(StoreError::LooseMode {
            path: path.to_owned(),
            mode,
            want,
        }),
        Some(Exposure::Acl) => Err(StoreError::NotPrivate {
            path: path.to_owned(),
            why: "has an ACL that lets other users in",
        }),
    }
}

/// `root/bucket`, created 0700 where missing, checked where present.
fn make_private_dirs(root: &Path, bucket: &str) -> Result<PathBuf, StoreError> {
    let dir = root.join(bucket);
    for d in [root, dir.as_path()] {
        crate::dirs::create_private(d).map_err(io_err("create", d))?;
        check_private_dir(d)?;
    }
    Ok(dir)
}

/// temp file (0600) → fsync → rename, refusing to replace `path` → fsync `dir`.
pub(crate) fn write_new_durably(dir: &Path, path: &Path, body: &[u8]) -> Result<(), StoreError> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    // On Windows the file inherits the directory's owner-only ACE instead.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(io_err("create a temporary file in", dir))?;
    tmp.write_all(body).map_err(io_err("write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err("sync", tmp.path()))?;
    tmp.persist_noclobber(path)
        .map_err(|e| io_err("create", path)(e.error))?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err("sync", dir))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn store(tmp: &Path) -> Store {
        Store {
            main: tmp.join("main"),
            fallback: tmp.join("fallback"),
        }
    }

    fn save(s: &Store, id: &str, created: i64, fallback: bool) -> PathBuf {
        let secret = SecretString::from("s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t");
        s.save(
            &NewRecord {
                bucket: "b-1",
                region: "us-west-2",
                id,
                secret: &secret,
                created,
                created_ms: created * 1000,
                created_rfc3339: "2026-01-01T00:00:00Z",
            },
            fallback,
        )
        .expect("save")
    }

    #[test]
    fn round_trip_modes_and_order() {
        let tmp = tempfile::tempdir().expect("tmp");
        let s = store(tmp.path());
        s.probe("b-1").expect("probe");
        let p2 = save(&s, "AKIATWO", 20, false);
        save(&s, "AKIAONE", 10, true);
        assert_eq!(fs::metadata(&p2).expect("meta").mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(s.main.join("b-1")).expect("meta").mode() & 0o777, 0o700);
        let keys = s.keys("b-1").expect("keys");
        let ids: Vec<_> = keys.iter().map(|k| (k.id.as_str(), k.in_fallback)).collect();
        assert_eq!(ids, [("AKIAONE", true), ("AKIATWO", false)]);
        assert!(!format!("{keys:?}").contains("s3cr3t"));
        assert!(s.keys("other").expect("none").is_empty());
        // Never over an existing file.
        let secret = SecretString::from("x");
        assert!(
            s.save(
                &NewRecord {
                    bucket: "b-1",
                    region: "r",
                    id: "AKIATWO",
                    secret: &secret,
                    created: 1,
                    created_ms: 1000,
                    created_rfc3339: "",
                },
                false
            )
            .is_err()
        );
        assert_eq!(s.remove("b-1", "AKIAONE").expect("rm").len(), 1);
        assert_eq!(s.keys("b-1").expect("keys").len(), 1);
    }

    #[test]
    fn corrupt_and_loose_files_are_refused_and_left_alone() {
        let tmp = tempfile::tempdir().expect("tmp");
        let s = store(tmp.path());
        let p = save(&s, "AKIAONE", 10, false);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = s.keys("b-1").expect_err("loose").to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
        fs::write(&p, b"{not json").expect("write");
        let err = s.keys("b-1").expect_err("corrupt").to_string();
        assert!(err.contains("not a valid bucket key file"), "{err}");
        assert_eq!(fs::read(&p).expect("still there"), b"{not json");
        fs::set_permissions(s.main.join("b-1"), fs::Permissions::from_mode(0o755)).expect("chmod");
        let err = s.keys("b-1").expect_err("loose dir").to_string();
        assert!(err.contains("0755"), "{err}");
    }
}
