//! Lightsail bucket access keys whose one-time secret is never lost.
//!
//! `create` is a pipeline: **preflight** (the bucket exists, it has a free
//! slot, the store takes a durable write) → **journal** (an entry that
//! survives a crash between the next two steps) → **create**
//! (CreateBucketAccessKey; the secret goes into `secrecy` at once) →
//! **durable store** (temp file → fsync → rename → fsync dir). If the store
//! fails after the key exists, the secret goes to the fallback store, else
//! (with `--print-secret`) to stdout, else the key is deleted again, so no
//! Active key is ever left without a secret the user can recover.
//!
//! `lightsail.rs` holds the AWS calls, `store.rs` the files, `journal.rs`
//! the crash journal and rotation records, `profile.rs` the AWS config file.

pub mod journal;
pub mod lightsail;
pub mod profile;
pub mod store;
pub mod verify;

use std::path::PathBuf;

use secrecy::SecretString;

use crate::aws::{AwsError, AwsOptions};
use journal::{Entry, Journal, Rotation};
use lightsail::{BucketInfo, KeyInfo, LastUsed, Lightsail, rfc3339};
use store::{NewRecord, Store, StoreError, StoredKey};

/// Lightsail's per-bucket limit on access keys.
pub const MAX_KEYS: usize = 2;

#[derive(Debug, thiserror::Error)]
pub enum BucketKeyError {
    #[error(
        "{name:?} is not a Lightsail bucket name: 3 to 54 characters, lowercase letters, digits and hyphens, \
         starting and ending with a letter or digit\n  nothing was created; check the name (gamelift-access bucket-key list needs the exact name)"
    )]
    BadBucketName { name: String },
    #[error(
        "{id:?} is not an access key ID (16 to 128 uppercase letters and digits, like AKIA…)\n  see the IDs with: gamelift-access bucket-key list <BUCKET>"
    )]
    BadKeyId { id: String },
    #[error(
        "there is no Lightsail bucket {bucket} in {region}\n  check the name, and the region: a bucket lives in one region (pass --region)"
    )]
    NoSuchBucket { bucket: String, region: String },
    #[error(
        "bucket {bucket} has no access key {key_id}, and none is stored here\n  see its keys with: gamelift-access bucket-key list {bucket}"
    )]
    NoSuchKey { bucket: String, key_id: String },
    #[error(
        "bucket {bucket} already has {MAX_KEYS} access keys, Lightsail's limit; nothing was created\n{table}  \
         free a slot: gamelift-access bucket-key delete {bucket} {suggest} ({why}), or rotate --finish if a rotation is under way"
    )]
    LimitReached {
        bucket: String,
        table: String,
        suggest: String,
        why: &'static str,
    },
    #[error("{op}: Lightsail refused the request: {message}")]
    Refused { op: &'static str, message: String },
    #[error("{op}: Lightsail's response is unusable: {what}\n  run gamelift-access bucket-key list to see what exists")]
    BadResponse { op: &'static str, what: &'static str },
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the secret of new key {key_id} could not be stored ({main}), nor in the fallback ({fallback}); \
         the key was deleted again, so no key was left behind\n  \
         fix the store directory, or pass --print-secret to get the secret on stdout if storing fails"
    )]
    StoreFailedKeyDeleted {
        key_id: String,
        main: String,
        fallback: String,
    },
    #[error(
        "the secret of new key {key_id} could not be stored ({main}), nor in the fallback ({fallback}), \
         and deleting the key failed too: {delete}\n  \
         the key has no recoverable secret: delete it with gamelift-access bucket-key delete {bucket} {key_id}"
    )]
    StoreFailedDeleteFailed {
        bucket: String,
        key_id: String,
        main: String,
        fallback: String,
        delete: String,
    },
    #[error(
        "no secret for bucket {bucket} is stored here{which}\n  create one with: gamelift-access bucket-key create {bucket}"
    )]
    NotStored { bucket: String, which: String },
    #[error("{0}")]
    Confirm(String),
    #[error("nothing was deleted")]
    Declined,
    #[error(
        "no rotation of bucket {bucket} is under way\n  start one with: gamelift-access bucket-key rotate {bucket}"
    )]
    NoRotation { bucket: String },
    #[error(
        "a rotation of bucket {bucket} is already under way (new key {new_key_id})\n  \
         finish it first: gamelift-access bucket-key rotate {bucket} --finish"
    )]
    RotationUnderWay { bucket: String, new_key_id: String },
    #[error(
        "the old key {key_id} was used at {used_at} ({service} in {region}), after the rotation began at {started_at}: \
         something still uses it, so it was not deleted\n  \
         move that user to the new key (the profile and credential-process already use it), then run --finish again; --force deletes it anyway"
    )]
    OldKeyStillUsed {
        key_id: String,
        used_at: String,
        service: String,
        region: String,
        started_at: String,
    },
    #[error(
        "the new key {key_id} did not work with S3 (ListObjectsV2 on {bucket}) within {secs} s: {detail}\n  \
         it was deleted again and the old key left as it was; try again later"
    )]
    VerifyFailed {
        bucket: String,
        key_id: String,
        secs: u64,
        detail: String,
    },
    #[error(
        "the secret of new key {key_id} could be neither stored nor printed ({error}): it is lost\n  \
         the run's journal entry {} was kept, so gamelift-access bucket-key list {bucket} reports the key; \
         delete it: gamelift-access bucket-key delete {bucket} {key_id}, then run again with stdout open (or the store fixed)",
        journal.display()
    )]
    PrintFailed {
        bucket: String,
        key_id: String,
        error: String,
        journal: PathBuf,
    },
    #[error("cannot update the AWS config file {}: {source}\n  the key was created and stored; add the profile by hand (see README) or fix the file and run with --write-profile again", path.display())]
    Profile { path: PathBuf, source: std::io::Error },
}

/// Lightsail's bucket-name rule: `^[a-z0-9][a-z0-9-]{1,52}[a-z0-9]$`.
pub fn check_bucket_name(name: &str) -> Result<(), BucketKeyError> {
    let b = name.as_bytes();
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok =
        (3..=54).contains(&b.len()) && edge(b[0]) && edge(b[b.len() - 1]) && b.iter().all(|&c| edge(c) || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(BucketKeyError::BadBucketName { name: name.to_owned() })
    }
}

/// Access key IDs are 16–128 uppercase letters and digits.
pub fn check_key_id(id: &str) -> Result<(), BucketKeyError> {
    if (16..=128).contains(&id.len()) && id.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(BucketKeyError::BadKeyId { id: id.to_owned() })
    }
}

/// Everything the pipeline works with.
pub struct Keys {
    pub lightsail: Lightsail,
    pub store: Store,
    pub journal: Journal,
}

impl Keys {
    pub async fn connect(opts: &AwsOptions) -> Result<Keys, BucketKeyError> {
        Ok(Keys {
            lightsail: Lightsail::connect(opts).await?,
            store: Store::open()?,
            journal: Journal::open()?,
        })
    }
}

/// Where a new key's secret ended up.
#[derive(Debug)]
pub enum SecretPlace {
    /// In the store, as it should be.
    Store(PathBuf),
    /// In the fallback store, because the main one failed.
    Fallback { path: PathBuf, main_error: String },
    /// Nowhere on disk: for the caller to print (`--print-secret`).
    Print {
        secret: SecretString,
        main_error: String,
        fallback_error: String,
    },
}

/// A key created and kept.
#[derive(Debug)]
pub struct Created {
    pub bucket: BucketInfo,
    pub id: String,
    pub created: i64,
    /// Epoch milliseconds, by Lightsail's clock.
    pub created_ms: i64,
    pub place: SecretPlace,
}

/// One key of a bucket: on Lightsail, stored here, or both.
#[derive(Debug)]
pub struct KeyRow {
    pub id: String,
    /// None: stored here but gone from Lightsail.
    pub status: Option<String>,
    pub created: Option<i64>,
    pub last_used: Option<LastUsed>,
    /// Where its secret is stored, if here.
    pub stored: Option<PathBuf>,
    pub in_fallback: bool,
}

/// A key that a crashed run may have created without storing its secret.
#[derive(Debug)]
pub struct Orphan {
    pub key_id: String,
    pub created: Option<i64>,
    pub entry: Entry,
    /// The entry recorded the bucket's keys before the run's create call,
    /// and this key was not among them. False for an entry of an older
    /// version: then the key may as well be someone else's.
    pub certain: bool,
}

#[derive(Debug)]
pub struct Listing {
    pub bucket: BucketInfo,
    pub rows: Vec<KeyRow>,
    pub orphans: Vec<Orphan>,
    /// Journal entries of ended runs that left no key; removed.
    pub cleared: Vec<Entry>,
    pub rotation: Option<Rotation>,
}

/// Formats keys for the "limit reached" message.
fn key_table(rows: &[KeyRow]) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "    {}  {}  created {}  last used {}  {}\n",
            r.id,
            r.status.as_deref().unwrap_or("gone"),
            r.created.map(rfc3339).unwrap_or_else(|| "-".into()),
            describe_last_used(r.last_used.as_ref()),
            if r.stored.is_some() {
                "stored here"
            } else {
                "not stored here"
            }
        ));
    }
    out
}

/// `2026-01-02T03:04:05Z (s3, us-west-2)` or `never`.
pub fn describe_last_used(u: Option<&LastUsed>) -> String {
    match u.and_then(|u| u.date.map(|d| (d, u))) {
        Some((date, u)) => format!(
            "{} ({}, {})",
            rfc3339(date),
            u.service.as_deref().unwrap_or("?"),
            u.region.as_deref().unwrap_or("?")
        ),
        None => "never".into(),
    }
}

fn rows(remote: &[KeyInfo], stored: &[StoredKey]) -> Vec<KeyRow> {
    let mut rows: Vec<KeyRow> = remote
        .iter()
        .map(|k| {
            let local = stored.iter().find(|s| s.id == k.id);
            KeyRow {
                id: k.id.clone(),
                status: Some(k.status.clone()),
                created: k.created,
                last_used: k.last_used.clone(),
                stored: local.map(|s| s.path.clone()),
                in_fallback: local.is_some_and(|s| s.in_fallback),
            }
        })
        .collect();
    for s in stored.iter().filter(|s| !remote.iter().any(|k| k.id == s.id)) {
        rows.push(KeyRow {
            id: s.id.clone(),
            status: None,
            created: Some(s.created),
            last_used: None,
            stored: Some(s.path.clone()),
            in_fallback: s.in_fallback,
        });
    }
    rows
}

impl Keys {
    /// `list`: the bucket's keys on both sides, orphans of crashed runs,
    /// and the rotation under way.
    pub async fn list(&self, bucket: &str) -> Result<Listing, BucketKeyError> {
        check_bucket_name(bucket)?;
        let info = self.lightsail.bucket(bucket).await?;
        let remote = self.lightsail.keys(bucket).await?;
        let stored = self.store.keys(bucket)?;
        let rows = rows(&remote, &stored);
        let (orphans, cleared) = self.orphans(bucket, &remote, &stored)?;
        Ok(Listing {
            bucket: info,
            rows,
            orphans,
            cleared,
            rotation: self.journal.rotation(bucket)?,
        })
    }

    /// Journal entries of runs that ended early, matched with the keys they
    /// may have created: Active keys whose secret is not stored here and
    /// that were not among the bucket's keys when the run began. No clock
    /// is compared: this machine's and Lightsail's may disagree by any
    /// amount. Entries that left no such key are removed.
    ///
    /// An entry of an older version has no key set: every Active key with no
    /// secret here may be its orphan, and it stays until none is left (or
    /// the user removes it), since removing it on a guess could hide the
    /// only trace of a lost secret.
    fn orphans(
        &self,
        bucket: &str,
        remote: &[KeyInfo],
        stored: &[StoredKey],
    ) -> Result<(Vec<Orphan>, Vec<Entry>), BucketKeyError> {
        let mut orphans: Vec<Orphan> = Vec::new();
        let mut cleared = Vec::new();
        for entry in self.journal.entries(bucket)? {
            if entry.running() {
                continue;
            }
            let suspects: Vec<&KeyInfo> = remote
                .iter()
                .filter(|k| k.status == "Active")
                .filter(|k| !stored.iter().any(|s| s.id == k.id))
                .filter(|k| {
                    entry
                        .existing_keys
                        .as_ref()
                        .is_none_or(|before| !before.contains(&k.id))
                })
                .collect();
            if suspects.is_empty() {
                self.journal.end(&entry)?;
                cleared.push(entry);
                continue;
            }
            for k in suspects {
                if orphans.iter().any(|o| o.key_id == k.id) {
                    continue;
                }
                orphans.push(Orphan {
                    key_id: k.id.clone(),
                    created: k.created,
                    certain: entry.existing_keys.is_some(),
                    entry: entry.clone(),
                });
            }
        }
        Ok((orphans, cleared))
    }

    /// Preflight for a new key: a valid name, an existing bucket with a free
    /// slot, a store that takes a durable write. No key is created here.
    pub async fn preflight(&self, bucket: &str) -> Result<(BucketInfo, Vec<KeyRow>), BucketKeyError> {
        check_bucket_name(bucket)?;
        let info = self.lightsail.bucket(bucket).await?;
        let remote = self.lightsail.keys(bucket).await?;
        let stored = self.store.keys(bucket)?;
        let rows = rows(&remote, &stored);
        if remote.len() >= MAX_KEYS {
            // Suggest the key least likely to be needed: one whose secret is
            // not here, else the one used least recently.
            let candidate = rows
                .iter()
                .filter(|r| r.status.is_some())
                .min_by_key(|r| (r.stored.is_some(), r.last_used.as_ref().and_then(|u| u.date), r.created));
            let (suggest, why) = match candidate {
                Some(r) if r.stored.is_none() => (r.id.clone(), "its secret is not stored here"),
                Some(r) => (r.id.clone(), "the least recently used"),
                None => ("<ACCESS_KEY_ID>".to_owned(), "see the list"),
            };
            return Err(BucketKeyError::LimitReached {
                bucket: bucket.to_owned(),
                table: key_table(&rows),
                suggest,
                why,
            });
        }
        self.store.probe(bucket)?;
        Ok((info, rows))
    }

    /// `create`, after [`Keys::preflight`]: journal → create → store, with
    /// the fallback, print and delete-again paths. `print` puts a secret that
    /// went nowhere else ([`SecretPlace::Print`]) on stdout; it is called
    /// before the journal entry ends and before anything else can fail.
    pub async fn create(
        &self,
        info: &BucketInfo,
        op: &str,
        print_secret: bool,
        print: impl FnOnce(&Created) -> std::io::Result<()>,
    ) -> Result<Created, BucketKeyError> {
        // The keys there are now: any other key found later with no secret
        // here may be this run's.
        let existing = self
            .lightsail
            .keys(&info.name)
            .await?
            .into_iter()
            .map(|k| k.id)
            .collect();
        let entry = self
            .journal
            .begin(&info.name, &info.region, op, lightsail::now(), existing)?;
        let key = match self.lightsail.create_key(&info.name).await {
            Ok(key) => key,
            Err(e) => {
                // A refusal means no key was made; anything else (a timeout)
                // may have made one, and the entry lets `list` find it.
                if matches!(e, BucketKeyError::Refused { .. } | BucketKeyError::NoSuchBucket { .. })
                    || matches!(&e, BucketKeyError::Aws(a) if !matches!(a, AwsError::Unavailable { .. } | AwsError::BadResponse { .. }))
                {
                    self.journal.end(&entry)?;
                }
                return Err(e);
            }
        };
        tracing::debug!(key_id = %key.id, bucket = %info.name, "access key created");
        let created_rfc = rfc3339(key.created);
        let rec = NewRecord {
            bucket: &info.name,
            region: &info.region,
            id: &key.id,
            secret: &key.secret,
            created: key.created,
            created_ms: key.created_ms,
            created_rfc3339: &created_rfc,
        };
        let place = match self.store.save(&rec, false) {
            Ok(path) => SecretPlace::Store(path),
            Err(main) => {
                tracing::warn!(error = %main, "storing the new key's secret failed; trying the fallback store");
                match self.store.save(&rec, true) {
                    Ok(path) => SecretPlace::Fallback {
                        path,
                        main_error: main.to_string(),
                    },
                    Err(fallback) if print_secret => SecretPlace::Print {
                        secret: key.secret.clone(),
                        main_error: main.to_string(),
                        fallback_error: fallback.to_string(),
                    },
                    Err(fallback) => {
                        return match self.lightsail.delete_key(&info.name, &key.id).await {
                            Ok(_) => {
                                let _ = self.journal.end(&entry);
                                Err(BucketKeyError::StoreFailedKeyDeleted {
                                    key_id: key.id,
                                    main: main.to_string(),
                                    fallback: fallback.to_string(),
                                })
                            }
                            Err(delete) => Err(BucketKeyError::StoreFailedDeleteFailed {
                                bucket: info.name.clone(),
                                key_id: key.id,
                                main: main.to_string(),
                                fallback: fallback.to_string(),
                                delete: delete.to_string(),
                            }),
                        };
                    }
                }
            }
        };
        let created = Created {
            bucket: info.clone(),
            id: key.id,
            created: key.created,
            created_ms: key.created_ms,
            place,
        };
        // A secret kept nowhere else leaves now, before anything else can
        // fail; the entry goes only once it has left. If it cannot (stdout
        // closed), the entry stays, so `list` reports the key.
        if matches!(created.place, SecretPlace::Print { .. })
            && let Err(e) = print(&created)
        {
            return Err(BucketKeyError::PrintFailed {
                bucket: info.name.clone(),
                key_id: created.id,
                error: e.to_string(),
                journal: entry.path,
            });
        }
        if let Err(e) = self.journal.end(&entry) {
            tracing::warn!(error = %e, "could not remove the journal entry (the key is stored)");
        }
        Ok(created)
    }
}

/// The stored key `credential-process` and `export` hand out: `key_id`, or
/// the newest stored key of the bucket.
pub fn credential(store: &Store, bucket: &str, key_id: Option<&str>) -> Result<StoredKey, BucketKeyError> {
    check_bucket_name(bucket)?;
    if let Some(id) = key_id {
        check_key_id(id)?;
    }
    let keys = store.keys(bucket)?;
    let found = match key_id {
        Some(id) => keys.into_iter().find(|k| k.id == id),
        None => keys.into_iter().max_by_key(|k| k.created_ms),
    };
    found.ok_or_else(|| BucketKeyError::NotStored {
        bucket: bucket.to_owned(),
        which: key_id.map(|id| format!(" for key {id}")).unwrap_or_default(),
    })
}

/// What `delete` is about to do, for the confirmation prompt.
#[derive(Debug)]
pub struct DeletePlan {
    pub bucket: String,
    pub key_id: String,
    /// The key on Lightsail, if it is there.
    pub remote: Option<KeyInfo>,
    /// Whether its secret is stored here.
    pub stored_here: bool,
}

impl DeletePlan {
    /// When the key was used in the last 24 hours: worth a warning.
    pub fn used_recently(&self) -> Option<&LastUsed> {
        let used = self.remote.as_ref()?.last_used.as_ref()?;
        let date = used.date?;
        (lightsail::now() - date < 24 * 3600).then_some(used)
    }
}

/// What `delete` did.
#[derive(Debug)]
pub struct Deleted {
    /// Whether Lightsail still had the key (and deleted it now).
    pub remote: bool,
    pub local: Vec<PathBuf>,
}

/// A rotation started.
#[derive(Debug)]
pub struct Rotated {
    pub created: Created,
    pub old_key_id: Option<String>,
}

/// How `rotate` checks a new key against S3 before switching to it.
pub trait Verify {
    /// Ok once the key lists the bucket; Err(detail) when the window ends.
    fn verify(
        &self,
        bucket: &BucketInfo,
        key_id: &str,
        secret: &SecretString,
    ) -> impl Future<Output = Result<(), String>>;
    /// The propagation window, for the message.
    fn window_secs(&self) -> u64;
}

impl Keys {
    pub async fn plan_delete(&self, bucket: &str, key_id: &str) -> Result<DeletePlan, BucketKeyError> {
        check_bucket_name(bucket)?;
        check_key_id(key_id)?;
        self.lightsail.bucket(bucket).await?;
        let remote = self.lightsail.keys(bucket).await?.into_iter().find(|k| k.id == key_id);
        // Only this key's file is looked at: another corrupt file must not
        // stand in the way of deleting a key.
        let stored_here = [&self.store.main, &self.store.fallback]
            .iter()
            .any(|root| root.join(bucket).join(format!("{key_id}.json")).exists());
        if remote.is_none() && !stored_here {
            return Err(BucketKeyError::NoSuchKey {
                bucket: bucket.to_owned(),
                key_id: key_id.to_owned(),
            });
        }
        Ok(DeletePlan {
            bucket: bucket.to_owned(),
            key_id: key_id.to_owned(),
            remote,
            stored_here,
        })
    }

    /// DeleteBucketAccessKey, then the local copy.
    pub async fn delete(&self, plan: &DeletePlan) -> Result<Deleted, BucketKeyError> {
        let remote = match plan.remote {
            Some(_) => self.lightsail.delete_key(&plan.bucket, &plan.key_id).await?,
            None => false,
        };
        let local = self.store.remove(&plan.bucket, &plan.key_id)?;
        if let Some(rot) = self.journal.rotation(&plan.bucket)?
            && (rot.old_key_id == plan.key_id || rot.new_key_id == plan.key_id)
        {
            self.journal.end_rotation(&plan.bucket)?;
        }
        Ok(Deleted { remote, local })
    }

    /// `rotate`: a new key through the same safe path as `create`, checked
    /// against S3, then recorded as the rotation's new key. Nothing is
    /// deleted until `rotate --finish`.
    pub async fn rotate(
        &self,
        bucket: &str,
        print_secret: bool,
        print: impl FnOnce(&Created) -> std::io::Result<()>,
        verify: &impl Verify,
    ) -> Result<Rotated, BucketKeyError> {
        check_bucket_name(bucket)?;
        if let Some(rot) = self.journal.rotation(bucket)? {
            return Err(BucketKeyError::RotationUnderWay {
                bucket: bucket.to_owned(),
                new_key_id: rot.new_key_id,
            });
        }
        let (info, rows) = self.preflight(bucket).await?;
        let old_key_id = rows
            .iter()
            .filter(|r| r.status.as_deref() == Some("Active") && r.stored.is_some())
            .max_by_key(|r| r.created)
            .map(|r| r.id.clone());
        let created = self.create(&info, "rotate", print_secret, print).await?;
        let secret = match &created.place {
            SecretPlace::Print { secret, .. } => secret.clone(),
            _ => credential(&self.store, bucket, Some(&created.id))?.secret,
        };
        if let Err(detail) = verify.verify(&info, &created.id, &secret).await {
            self.lightsail.delete_key(bucket, &created.id).await?;
            self.store.remove(bucket, &created.id)?;
            return Err(BucketKeyError::VerifyFailed {
                bucket: bucket.to_owned(),
                key_id: created.id,
                secs: verify.window_secs(),
                detail,
            });
        }
        if let Some(old) = &old_key_id {
            self.journal.start_rotation(&Rotation {
                bucket: bucket.to_owned(),
                region: info.region.clone(),
                old_key_id: old.clone(),
                new_key_id: created.id.clone(),
                // Lightsail's clock, as `lastUsed` is: this machine's may be off.
                started_epoch: created.created,
                started_ms: created.created_ms,
            })?;
        }
        Ok(Rotated { created, old_key_id })
    }

    /// `rotate --finish`: deletes the rotation's old key, unless it was used
    /// after the rotation began (then only with `force`).
    pub async fn finish(&self, bucket: &str, force: bool) -> Result<Rotation, BucketKeyError> {
        check_bucket_name(bucket)?;
        let rot = self
            .journal
            .rotation(bucket)?
            .ok_or_else(|| BucketKeyError::NoRotation {
                bucket: bucket.to_owned(),
            })?;
        let keys = self.lightsail.keys(bucket).await?;
        if let Some(old) = keys.iter().find(|k| k.id == rot.old_key_id) {
            if let Some(used) = &old.last_used
                && let (Some(date), Some(date_ms)) = (used.date, used.date_ms)
                && date_ms >= rot.started_ms
                && !force
            {
                return Err(BucketKeyError::OldKeyStillUsed {
                    key_id: old.id.clone(),
                    used_at: rfc3339(date),
                    service: used.service.clone().unwrap_or_else(|| "?".into()),
                    region: used.region.clone().unwrap_or_else(|| "?".into()),
                    started_at: rfc3339(rot.started_epoch),
                });
            }
            self.lightsail.delete_key(bucket, &old.id).await?;
        }
        self.store.remove(bucket, &rot.old_key_id)?;
        self.journal.end_rotation(bucket)?;
        Ok(rot)
    }
}
