//! agent: an ssh-agent that keeps instance keys in memory only.
//!
//! `listener → keystore with lifetimes`: `server.rs` accepts connections
//! from a transport that lets only our own user in (`socket.rs`: a 0600 Unix
//! socket in the 0700 runtime dir and the peer's UID; `pipe.rs` on Windows:
//! an owner-only named pipe and the client process's user SID), caps
//! message sizes and the number of connections, and hands each request to
//! one table of handlers (ssh-agent-lib's `Session`); `keystore.rs` holds the
//! keys, expires them and signs. `connect` and `proxy` are its clients
//! (`client.rs`). The protocol is ssh-agent-lib's; only our two vendor
//! extensions (status and stop) are defined here, in `proto.rs`.
//!
//! GameLift's GetInstanceAccess says nothing about how long a key stays
//! valid, so the lifetime of a key in the agent is a choice: 30 minutes by
//! default (`agent run --key-ttl`), long enough for a working session's
//! reconnects, short enough that a key does not outlive the incident.
//!
//! It also caches GetComputeAccess's temporary credentials (server SDK 5 and
//! container fleets) per compute, for 10 minutes by default
//! (`--compute-ttl`), so a reconnect makes no GetComputeAccess call. Unlike
//! keys, which never leave the agent (it signs with them), these must be
//! handed back to `connect` to start an SSM session.

pub mod client;
mod harden;
pub mod keystore;
pub mod log;
#[cfg(windows)]
pub mod pipe;
pub mod proto;
pub mod server;
#[cfg(unix)]
mod socket;

#[cfg(windows)]
use pipe as transport;
#[cfg(unix)]
use socket as transport;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// How long a key stays in the agent when neither `--key-ttl` nor the
/// client (`ssh-add -t`) says otherwise.
pub const DEFAULT_KEY_TTL: Duration = Duration::from_secs(30 * 60);

/// How long GetComputeAccess credentials are cached unless `--compute-ttl`
/// says otherwise. The API gives no expiry; they are STS session
/// credentials, and STS issues none that live under 15 minutes, so 10
/// minutes keeps a cached set from being handed out after it has expired.
pub const DEFAULT_COMPUTE_TTL: Duration = Duration::from_secs(10 * 60);

/// How long the agent keeps what it is given, when the giver says nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub key: Duration,
    pub compute: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            key: DEFAULT_KEY_TTL,
            compute: DEFAULT_COMPUTE_TTL,
        }
    }
}

/// The agent's socket: `<runtime dir>/agent.sock`; on Windows, the pipe
/// `\\.\pipe\gamelift-access-agent-<user SID>`.
pub fn default_socket() -> io::Result<PathBuf> {
    #[cfg(unix)]
    {
        Ok(crate::dirs::runtime_dir()?.join("agent.sock"))
    }
    #[cfg(windows)]
    {
        pipe::default_path()
    }
}

/// Whether anything answers on the agent's socket (pipe) `path`.
pub async fn answers(path: &std::path::Path) -> bool {
    transport::answers(path).await
}

/// Why a client refused a socket (pipe): another user serves it. Carried
/// inside the transport's `io::Error`, so `client.rs` can tell it from "no
/// agent there".
#[derive(Debug, thiserror::Error)]
#[error("it is served by {owner}, not by you")]
pub struct NotOurs {
    pub owner: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("no agent answers on {}\n  start one with: gamelift-access agent start", path.display())]
    NotRunning { path: PathBuf },
    #[error("an agent already answers on {}\n  stop it first: gamelift-access agent stop", path.display())]
    AlreadyRunning { path: PathBuf },
    #[error("cannot listen on {}: {source}", path.display())]
    Bind { path: PathBuf, source: io::Error },
    #[error("the agent on {} misbehaved: {reason}", path.display())]
    Protocol { path: PathBuf, reason: String },
    #[error("the agent did not start: {0}")]
    Start(String),
    #[error(
        "refusing the agent socket {}: it is served by {owner}, not by you, so nothing was sent to it\n  \
         use your own agent: unset GAMELIFT_ACCESS_AGENT_SOCK or drop --socket (or remove that socket)",
        path.display()
    )]
    NotOurs { path: PathBuf, owner: String },
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Parses a lifetime: `90` (seconds), `90s`, `30m`, `2h`, from 1 second to
/// `u32::MAX` seconds (136 years: the protocol's key lifetime is a u32).
/// The arithmetic is checked: a number too large for its unit is out of
/// range, never wrapped round to a small one.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let not_a_duration = || format!("'{text}' is not a duration: use seconds, or a number with s, m or h");
    let out_of_range = || format!("'{text}' is out of range: use 1 second to 136 years (4294967295 seconds)");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    if number.is_empty() {
        return Err(not_a_duration());
    }
    let unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(not_a_duration()),
    };
    // All digits by now: the only way parse fails is a number past u64.
    let n: u64 = number.parse().map_err(|_| out_of_range())?;
    match n.checked_mul(unit) {
        Some(secs) if secs >= 1 && secs <= u64::from(u32::MAX) => Ok(Duration::from_secs(secs)),
        _ => Err(out_of_range()),
    }
}

/// What a key in the agent is for. It travels in the key's comment, so
/// `ssh-add -l` names the fleet and instance, and the agent needs no second
/// table: `gamelift-access fleet=<id> instance=<id> user=<name> host=<ip>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMeta {
    pub fleet_id: String,
    pub instance_id: String,
    pub user: String,
    pub host: String,
}

const COMMENT_PREFIX: &str = "gamelift-access ";

impl KeyMeta {
    pub fn comment(&self) -> String {
        format!(
            "{COMMENT_PREFIX}fleet={} instance={} user={} host={}",
            self.fleet_id, self.instance_id, self.user, self.host
        )
    }

    /// The metadata in a comment we wrote; `None` for any other comment.
    pub fn parse(comment: &str) -> Option<KeyMeta> {
        let rest = comment.strip_prefix(COMMENT_PREFIX)?;
        let (mut fleet, mut instance, mut user, mut host) = (None, None, None, None);
        for field in rest.split_whitespace() {
            let (k, v) = field.split_once('=')?;
            let slot = match k {
                "fleet" => &mut fleet,
                "instance" => &mut instance,
                "user" => &mut user,
                "host" => &mut host,
                _ => continue,
            };
            *slot = Some(v.to_owned()).filter(|v| !v.is_empty());
        }
        Some(KeyMeta {
            fleet_id: fleet?,
            instance_id: instance?,
            user: user?,
            host: host?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_round_trip() {
        let meta = KeyMeta {
            fleet_id: "fleet-1".into(),
            instance_id: "i-0123456789abcdef0".into(),
            user: "gl-user-remote".into(),
            host: "192.0.2.10".into(),
        };
        assert_eq!(
            meta.comment(),
            "gamelift-access fleet=fleet-1 instance=i-0123456789abcdef0 user=gl-user-remote host=192.0.2.10"
        );
        assert_eq!(KeyMeta::parse(&meta.comment()), Some(meta));
        assert_eq!(KeyMeta::parse("me@laptop"), None);
        assert_eq!(KeyMeta::parse("gamelift-access fleet=f instance=i user=u"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(
            parse_duration("4294967295"),
            Ok(Duration::from_secs(u64::from(u32::MAX)))
        );
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("m").is_err());
        // Too large for the unit: refused, never wrapped round to a small
        // lifetime (5124095576030432h is 2^64 + 3584 seconds, which used to
        // pass as an hour) nor a panic.
        for big in [
            "5124095576030432h",
            "307445734561825861m",
            "4294967296",
            "1193047h",
            "99999999999999999999999",
            "18446744073709551615h",
        ] {
            let err = parse_duration(big).unwrap_err();
            assert!(err.contains("out of range"), "{big}: {err}");
        }
    }
}
