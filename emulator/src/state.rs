//! Mutable emulator state that is not part of the fixture: credentials
//! handed out by GetComputeAccess, SSM sessions, pending port-setting
//! updates, and the `/checkip` answer.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::fixture::IpPermission;
use crate::ops::builds::UploadTarget;
use crate::s3::S3Credential;

/// Temporary AWS credentials GetComputeAccess issued, with what they are for.
///
/// `Debug` redacts the secret key and session token so that printing the
/// emulator (or a test failure message) never leaks them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredentials {
    /// `ASIA` + 16 characters, like STS session credentials.
    pub access_key_id: String,
    /// 40 characters.
    pub secret_access_key: String,
    /// A long opaque token; SSM requests must carry it as `X-Amz-Security-Token`.
    pub session_token: String,
    /// The fleet the credentials were issued for (its id, never the ARN).
    pub fleet_id: String,
    /// The compute the credentials were issued for.
    pub compute_name: String,
    /// The SSM target they allow (GetComputeAccess's `Target`).
    pub target: String,
}

impl fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &"<redacted>")
            .field("fleet_id", &self.fleet_id)
            .field("compute_name", &self.compute_name)
            .field("target", &self.target)
            .finish()
    }
}

/// A Lightsail bucket access key the emulator issued.
///
/// `Debug` redacts the secret, unlike aws-sdk-lightsail's `AccessKey`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketAccessKey {
    /// The bucket it grants access to (and only that bucket).
    pub bucket: String,
    /// The bucket's region.
    pub region: String,
    /// `AKIA` + 16 characters, like an IAM user's long-term key.
    pub access_key_id: String,
    /// 40 characters; returned by CreateBucketAccessKey only.
    pub secret_access_key: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Epoch seconds.
    pub created_at: f64,
    /// When S3 last accepted the key.
    pub last_used: Option<KeyLastUsed>,
}

impl fmt::Debug for BucketAccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketAccessKey")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("last_used", &self.last_used)
            .finish()
    }
}

/// GetBucketAccessKeys' `lastUsed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyLastUsed {
    /// Epoch seconds.
    pub date: f64,
    /// The region the request went to.
    pub region: String,
    /// The service that accepted the key (`s3`).
    pub service_name: String,
}

/// An SSM session started through the emulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsmSession {
    /// `emulator-` followed by 17 hex digits.
    pub session_id: String,
    /// The instance id the session targets.
    pub target: String,
    /// DocumentName as sent, or `SSM-SessionManagerRunShell` (SSM's default)
    /// when absent.
    pub document_name: String,
    /// Parameters as sent (`null` when absent).
    pub parameters: serde_json::Value,
    /// The (issued) access key id that signed StartSession.
    pub access_key_id: String,
    /// Set by TerminateSession.
    pub terminated: bool,
}

/// A port-settings update waiting to take effect.
#[derive(Debug, Clone)]
pub(crate) struct PendingPorts {
    pub(crate) permissions: Vec<IpPermission>,
    /// DescribeFleetPortSettings calls that will still report PENDING_UPDATE.
    pub(crate) polls_left: usize,
}

/// The long-term test identities the emulator knows the secret of, as
/// `(access key id, secret access key)`: the ones this repository's tests,
/// benchmarks and `demo` sign with. Any other key is answered with
/// `UnrecognizedClientException` unless the emulator issued it or
/// [`crate::Emulator::add_identity`] registered it.
pub const TEST_IDENTITIES: &[(&str, &str)] = &[
    ("AKIDEXAMPLE", "secret"),
    ("AKIDCLI", "cli-secret"),
    ("AKIDEXAMPLETESTONLY1", "test-secret-access-key"),
    ("AKIDOTHERADMIN000000", "other"),
    ("AKIDGAMELIFTDEMO0000", "demo-secret-access-key"),
    ("AKIDBENCH", "bench"),
];

#[derive(Debug)]
pub(crate) struct RuntimeState {
    /// Long-term identities by access key id → secret.
    pub(crate) identities: HashMap<String, String>,
    pub(crate) issued: Vec<IssuedCredentials>,
    /// Upload credentials CreateBuild / RequestUploadCredentials issued,
    /// which the S3 front accepts.
    pub(crate) upload_credentials: Vec<S3Credential>,
    /// Set on the next upload credentials issued, then cleared.
    pub(crate) upload_credentials_max_requests: Option<u32>,
    /// Each uploadable build's object, by build id.
    pub(crate) upload_targets: HashMap<String, UploadTarget>,
    pub(crate) ssm_sessions: Vec<SsmSession>,
    /// By fleet id.
    pub(crate) pending_ports: HashMap<String, PendingPorts>,
    pub(crate) port_update_delay: usize,
    pub(crate) public_ip: Option<String>,
    pub(crate) public_ip_lookups: usize,
    /// Lightsail bucket access keys, oldest first.
    pub(crate) bucket_keys: Vec<BucketAccessKey>,
    /// `http://127.0.0.1:PORT`: where the pre-signed log URLs point.
    pub(crate) self_url: Option<String>,
    /// Pre-signed log URLs by token.
    pub(crate) log_urls: HashMap<String, LogUrl>,
    /// How long a log URL GetGameSessionLogUrl returns stays valid.
    pub(crate) log_url_lifetime: std::time::Duration,
    /// Every download of a log URL, oldest first.
    pub(crate) log_downloads: Vec<LogDownload>,
    /// Seconds added to Lightsail's clock (`createdAt`, `lastUsedDate`):
    /// AWS's clock against a client's that is off.
    pub(crate) lightsail_clock_skew: f64,
}

/// A pre-signed log URL handed out by GetGameSessionLogUrl.
#[derive(Debug, Clone)]
pub(crate) struct LogUrl {
    pub(crate) game_session_id: String,
    pub(crate) expires_at: std::time::Instant,
}

/// One request for a pre-signed log URL, as the emulator answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDownload {
    /// The game session whose logs were asked for (empty for an unknown URL).
    pub game_session_id: String,
    /// HTTP status of the answer: 200, 403 (expired or unknown) or 400
    /// (credentials on a pre-signed request).
    pub status: u16,
    /// Whether the request carried an `Authorization` header or an
    /// `X-Amz-Security-Token`: a pre-signed URL needs neither.
    pub had_credentials: bool,
}

/// The emulator's "now" for relative fixture times (a game session's
/// `ended_secs_ago`): when this process first asked, in epoch seconds.
pub(crate) fn clock_base() -> f64 {
    static BASE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| now_epoch().floor())
}

impl RuntimeState {
    /// The secret for an access key the GameLift/SSM front accepts: a
    /// long-term identity or GetComputeAccess credentials.
    pub(crate) fn api_secret(&self, access_key_id: &str) -> Option<String> {
        self.identities.get(access_key_id).cloned().or_else(|| {
            self.issued
                .iter()
                .find(|c| c.access_key_id == access_key_id)
                .map(|c| c.secret_access_key.clone())
        })
    }
}

impl Default for RuntimeState {
    fn default() -> RuntimeState {
        RuntimeState {
            identities: TEST_IDENTITIES
                .iter()
                .map(|(k, s)| ((*k).to_owned(), (*s).to_owned()))
                .collect(),
            issued: Vec::new(),
            upload_credentials: Vec::new(),
            upload_credentials_max_requests: None,
            upload_targets: HashMap::new(),
            ssm_sessions: Vec::new(),
            pending_ports: HashMap::new(),
            port_update_delay: 1,
            public_ip: None,
            public_ip_lookups: 0,
            bucket_keys: Vec::new(),
            self_url: None,
            log_urls: HashMap::new(),
            log_url_lifetime: std::time::Duration::from_secs(900),
            log_downloads: Vec::new(),
            lightsail_clock_skew: 0.0,
        }
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64ISH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Unpredictable enough for test credentials without a `rand` dependency:
/// std's randomly keyed SipHash over a process-wide counter and the clock.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}

pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(len);
    let mut bits = 0u64;
    let mut left = 0;
    while out.len() < len {
        if left == 0 {
            bits = random_u64();
            left = 8;
        }
        let byte = (bits & 0xff) as usize;
        bits >>= 8;
        left -= 1;
        out.push(char::from(alphabet[byte % alphabet.len()]));
    }
    out
}

/// Fresh STS-style session credentials.
pub(crate) fn new_credentials(fleet_id: &str, compute_name: &str, target: &str) -> IssuedCredentials {
    IssuedCredentials {
        access_key_id: format!("ASIA{}", random_string(16, UPPER_DIGITS)),
        secret_access_key: random_string(40, BASE64ISH),
        session_token: format!("IQoJb3JpZ2luX2VjE{}", random_string(380, BASE64ISH)),
        fleet_id: fleet_id.to_owned(),
        compute_name: compute_name.to_owned(),
        target: target.to_owned(),
    }
}

/// Sets `lastUsed` of the bucket access key `access_key_id` (if it is one)
/// to now, in the key's region. Returns whether it was a bucket key.
pub(crate) fn record_bucket_key_use(state: &mut RuntimeState, access_key_id: &str, service: &str) -> bool {
    let now = now_epoch() + state.lightsail_clock_skew;
    match state.bucket_keys.iter_mut().find(|k| k.access_key_id == access_key_id) {
        Some(key) => {
            key.last_used = Some(KeyLastUsed {
                date: now,
                region: key.region.clone(),
                service_name: service.to_owned(),
            });
            true
        }
        None => false,
    }
}

/// A fresh bucket access key for `bucket` in `region`, created at `now`
/// (Lightsail's clock).
pub(crate) fn new_bucket_key(bucket: &str, region: &str, now: f64) -> BucketAccessKey {
    BucketAccessKey {
        bucket: bucket.to_owned(),
        region: region.to_owned(),
        access_key_id: format!("AKIA{}", random_string(16, UPPER_DIGITS)),
        secret_access_key: random_string(40, BASE64ISH),
        status: "Active".to_owned(),
        created_at: now,
        last_used: None,
    }
}

/// The current time in epoch seconds, millisecond precision.
pub(crate) fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| (d.as_millis() as f64) / 1000.0)
}

/// `len` random lowercase hex digits.
pub(crate) fn random_hex(len: usize) -> String {
    random_string(len, HEX)
}

pub(crate) fn new_session_id() -> String {
    format!("emulator-{}", random_string(17, HEX))
}

pub(crate) fn new_token_value() -> String {
    random_string(256, ALNUM)
}

pub(crate) fn new_cell_number() -> String {
    random_string(96, ALNUM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_look_like_sts_and_differ() {
        let a = new_credentials("fleet-1", "i-1", "i-1");
        let b = new_credentials("fleet-1", "i-1", "i-1");
        assert_eq!(a.access_key_id.len(), 20);
        assert!(a.access_key_id.starts_with("ASIA"));
        assert_eq!(a.secret_access_key.len(), 40);
        assert!(a.session_token.len() > 300);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret_access_key, b.secret_access_key);
        let shown = format!("{a:?}");
        assert!(!shown.contains(&a.secret_access_key), "{shown}");
        assert!(!shown.contains(&a.session_token), "{shown}");
    }
}
