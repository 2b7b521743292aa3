//! An on-disk cache of fleet metadata, so a warm `connect` with a fleet ID
//! asks GameLift only for the status and the access.
//!
//! What is cached (home region, compute type, OS, SDK generation, locations)
//! is fixed for a fleet's life except its locations, hence a TTL rather than
//! forever; `--refresh` bypasses it. The status is never cached: it changes
//! (ACTIVATING turns ACTIVE), and a refusal served from a cache would outlive
//! its cause. The cache holds no secret.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::FleetInfo;

/// How long fleet metadata is trusted.
pub const TTL: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    /// `<region>/<fleet-id>` → entry.
    fleets: BTreeMap<String, Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    fetched_at: u64,
    fleet: FleetInfo,
}

pub struct FleetCache {
    path: Option<PathBuf>,
}

impl FleetCache {
    /// The cache file in the platform cache dir. If there is no usable
    /// cache dir the cache is simply off: it is an optimisation only.
    pub fn open() -> Self {
        let path = crate::dirs::cache_dir()
            .map_err(|e| tracing::debug!("fleet cache disabled: {e}"))
            .ok()
            .map(|d| d.join("fleets.json"));
        Self { path }
    }

    pub fn get(&self, region: &str, fleet_id: &str) -> Option<FleetInfo> {
        let now = now();
        let entry = self.read().fleets.remove(&key(region, fleet_id))?;
        let fresh = now.saturating_sub(entry.fetched_at) < TTL.as_secs();
        tracing::debug!(fleet_id, region, fresh, "fleet cache hit");
        // Files written before the status was left out may still hold one.
        fresh.then_some(FleetInfo {
            status: String::new(),
            ..entry.fleet
        })
    }

    pub fn put(&self, fleet: &FleetInfo) {
        let Some(path) = &self.path else { return };
        let mut file = self.read();
        let now = now();
        file.fleets
            .retain(|_, e| now.saturating_sub(e.fetched_at) < TTL.as_secs());
        file.fleets.insert(
            key(&fleet.region, &fleet.fleet_id),
            Entry {
                fetched_at: now,
                fleet: FleetInfo {
                    status: String::new(),
                    ..fleet.clone()
                },
            },
        );
        // Write a sibling and rename it over: concurrent runs never see half a file.
        let result = (|| {
            let dir = path.parent().expect("cache file has a parent");
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer_pretty(&mut tmp, &file)?;
            tmp.write_all(b"\n")?;
            tmp.persist(path)?;
            Ok::<_, Box<dyn std::error::Error>>(())
        })();
        if let Err(e) = result {
            tracing::debug!("could not update the fleet cache: {e}");
        }
    }

    fn read(&self) -> CacheFile {
        let Some(path) = &self.path else {
            return CacheFile::default();
        };
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::debug!("ignoring an unreadable fleet cache: {e}");
                CacheFile::default()
            }),
            Err(_) => CacheFile::default(),
        }
    }
}

fn key(region: &str, fleet_id: &str) -> String {
    format!("{region}/{fleet_id}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
