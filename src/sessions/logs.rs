//! `logs`: the game session a reference names → GetGameSessionLogUrl → a
//! streamed download of the archive (no AWS credentials on it, never whole
//! in memory) → a checked unpack into a new directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{SessionsError, api};
use crate::aws::GameLift;
use crate::output;
use crate::resolve::{FleetInfo, InstanceRef, Resolver, Sdk, short_game_session};

/// GameLift keeps a game session's logs this long after it ends.
const RETENTION_SECS: i64 = 14 * 86_400;

/// What `logs` wrote.
#[derive(Debug, Serialize)]
pub struct Unpacked {
    pub game_session_id: String,
    pub directory: PathBuf,
    pub files: Vec<UnpackedFile>,
}

#[derive(Debug, Serialize)]
pub struct UnpackedFile {
    /// Relative to `directory`.
    pub path: PathBuf,
    pub size: u64,
}

/// The full game session ID (ARN) a `logs` reference names.
pub async fn game_session_id(
    resolver: &Resolver<'_>,
    fleet: &FleetInfo,
    reference: &InstanceRef,
) -> Result<String, SessionsError> {
    match reference {
        InstanceRef::GameSession(s) if s.starts_with("arn:") => Ok(s.clone()),
        InstanceRef::GameSession(s) => Ok(format!(
            "arn:aws:gamelift:{}::gamesession/{}/{s}",
            fleet.region, fleet.fleet_id
        )),
        InstanceRef::PlayerSession(id) => {
            let ps = resolver.player_session(id).await?;
            if ps.fleet_id != fleet.fleet_id {
                return Err(SessionsError::Usage(format!(
                    "player session {id} is on fleet {}, not {}",
                    ps.fleet_id, fleet.fleet_id
                )));
            }
            Ok(ps.game_session_id)
        }
        InstanceRef::Player(player) => resolver
            .player_sessions(player)
            .await?
            .into_iter()
            .filter(|p| p.fleet_id == fleet.fleet_id)
            .max_by_key(|p| p.creation_time)
            .map(|p| p.game_session_id)
            .ok_or_else(|| {
                SessionsError::NoLogs(format!(
                    "player {player} has no player session on fleet {} in {}\n  \
                     list the fleet's sessions with: gamelift-access sessions {}",
                    fleet.fleet_id, fleet.region, fleet.fleet_id
                ))
            }),
        _ => Err(SessionsError::Usage(
            "logs takes a game session ID or ARN, a player session ID (psess-…) or player:<PlayerId>".into(),
        )),
    }
}

/// Downloads and unpacks the stored logs of `game_session_id` into `out`
/// (default `./<game-session-id>-logs`), which must not exist yet.
pub async fn fetch(
    gl: &GameLift,
    fleet: &FleetInfo,
    game_session_id: &str,
    out: Option<PathBuf>,
) -> Result<Unpacked, SessionsError> {
    let short = short_game_session(game_session_id);
    let session = api::one(gl, game_session_id, &fleet.region)
        .await
        .map_err(|e| match e {
            crate::aws::AwsError::NotFound { .. } => SessionsError::NoLogs(format!(
                "no game session {game_session_id} in {}\n  list them with: gamelift-access sessions {} --status TERMINATED",
                fleet.region, fleet.fleet_id
            )),
            other => SessionsError::Aws(other),
        })?
        .ok_or_else(|| SessionsError::NoLogs(format!("no game session {game_session_id} in {}", fleet.region)))?;
    if session.status != "TERMINATED" {
        return Err(SessionsError::NotEnded(not_ended(
            fleet,
            &session.game_session_id,
            &session.status,
        )));
    }
    if let Some(ended) = session.termination_time {
        let ago = output::now() - ended;
        if ago > RETENTION_SECS {
            return Err(SessionsError::NoLogs(format!(
                "game session {short} ended {} ago; GameLift keeps game session logs for 14 days",
                output::age(ago)
            )));
        }
    }
    let dir = out.unwrap_or_else(|| PathBuf::from(format!("{short}-logs")));
    if dir.symlink_metadata().is_ok() {
        return Err(SessionsError::Usage(format!(
            "{} already exists; pass --out with a new directory (logs never overwrite files)",
            dir.display()
        )));
    }
    let url = api::log_url(gl, game_session_id).await?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let archive = download(&url, &parent).await?;
    let files = unpack(archive.as_file(), &dir)?;
    Ok(Unpacked {
        game_session_id: session.game_session_id,
        directory: dir,
        files,
    })
}

/// What to say for a session that has not ended: where its live log is.
fn not_ended(fleet: &FleetInfo, game_session_id: &str, status: &str) -> String {
    let how = if fleet.os.as_deref().is_some_and(|o| o.starts_with("WINDOWS")) {
        format!(
            "  open a desktop on its instance and read the log there: gamelift-access connect {} {game_session_id}",
            fleet.fleet_id
        )
    } else if fleet.sdk == Some(Sdk::V5) || fleet.compute != crate::resolve::ComputeType::Ec2 {
        format!(
            "  read the live log on its instance: gamelift-access run {} --instance {game_session_id} -- tail -n 100 /local/game/logs/*",
            fleet.fleet_id
        )
    } else {
        format!(
            "  tail the live log on its instance: gamelift-access connect {} {game_session_id} -- tail -F /local/game/logs/*",
            fleet.fleet_id
        )
    };
    format!(
        "game session {} is {status}: GameLift stores its logs only when it ends\n{how}\n  \
         (the log paths are the ones the server passes to ProcessReady)",
        short_game_session(game_session_id)
    )
}

/// GETs the pre-signed URL into a temporary file in `dir`, chunk by chunk.
/// The request carries no AWS credentials (the URL is the credential) and
/// the URL appears in no message.
async fn download(url: &SecretString, dir: &Path) -> Result<tempfile::NamedTempFile, SessionsError> {
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| SessionsError::Download(format!("cannot set up the download: {}", e.without_url())))?;
    let mut response = client
        .get(url.expose_secret())
        .send()
        .await
        .map_err(|e| SessionsError::Download(format!("downloading the log archive failed: {}", e.without_url())))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let code = body
            .split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
            .map(|(code, _)| code.to_owned());
        let message = body
            .split_once("<Message>")
            .and_then(|(_, rest)| rest.split_once("</Message>"))
            .map(|(m, _)| m.to_owned());
        return Err(SessionsError::Download(format!(
            "the log archive's URL answered HTTP {}{}{}\n  run the command again for a fresh URL (they expire after a few minutes)",
            status.as_u16(),
            code.map(|c| format!(" {c}")).unwrap_or_default(),
            message.map(|m| format!(": {m}")).unwrap_or_default(),
        )));
    }
    let mut file = tempfile::Builder::new()
        .prefix(".gamelift-logs-")
        .suffix(".zip")
        .tempfile_in(dir)
        .map_err(|e| SessionsError::Io(format!("cannot make a temporary file in {}: {e}", dir.display())))?;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SessionsError::Download(format!("the log archive download broke off: {}", e.without_url())))?
    {
        file.write_all(&chunk)
            .map_err(|e| SessionsError::Io(format!("cannot write {}: {e}", file.path().display())))?;
    }
    file.flush()
        .map_err(|e| SessionsError::Io(format!("cannot write {}: {e}", file.path().display())))?;
    Ok(file)
}

/// An entry name we write: relative, no `..`, no root or drive, not empty.
fn safe_name(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.contains('\0') || name.starts_with(['/', '\\']) {
        return None;
    }
    let path = Path::new(name);
    let mut clean = PathBuf::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => continue,
            ".." => return None,
            p if p.contains(':') => return None,
            p => clean.push(p),
        }
    }
    (!clean.as_os_str().is_empty() && !path.has_root()).then_some(clean)
}

/// Unpacks `archive` into `dir` (created here). Every entry name is checked
/// before anything is written; on any failure `dir` is removed again.
fn unpack(archive: &std::fs::File, dir: &Path) -> Result<Vec<UnpackedFile>, SessionsError> {
    let mut zip = zip::ZipArchive::new(archive)
        .map_err(|e| SessionsError::BadArchive(format!("the log archive is not a readable zip: {e}")))?;
    let mut entries = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| SessionsError::BadArchive(format!("the log archive is not a readable zip: {e}")))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let Some(path) = safe_name(&name).filter(|_| entry.enclosed_name().is_some()) else {
            return Err(SessionsError::BadArchive(format!(
                "the log archive has an entry that would land outside the directory: {name:?}; nothing was unpacked"
            )));
        };
        if entry.is_symlink() {
            return Err(SessionsError::BadArchive(format!(
                "the log archive has a symbolic link, {name:?}; nothing was unpacked"
            )));
        }
        entries.push((path, entry.is_dir()));
    }
    std::fs::create_dir_all(dir).map_err(|e| SessionsError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let result = (|| {
        let mut written = vec![];
        for (i, (path, is_dir)) in entries.into_iter().enumerate() {
            let target = dir.join(&path);
            if is_dir {
                std::fs::create_dir_all(&target)
                    .map_err(|e| SessionsError::Io(format!("cannot create {}: {e}", target.display())))?;
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| SessionsError::Io(format!("cannot create {}: {e}", parent.display())))?;
            }
            let mut entry = zip
                .by_index(i)
                .map_err(|e| SessionsError::BadArchive(format!("cannot read {}: {e}", path.display())))?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| SessionsError::Io(format!("cannot create {}: {e}", target.display())))?;
            let size = std::io::copy(&mut entry, &mut file)
                .map_err(|e| SessionsError::BadArchive(format!("cannot unpack {}: {e}", path.display())))?;
            written.push(UnpackedFile { path, size });
        }
        Ok(written)
    })();
    if result.is_err()
        && let Err(e) = std::fs::remove_dir_all(dir)
    {
        tracing::warn!("could not remove {}: {e}", dir.display());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(safe_name("a/b.log"), Some(PathBuf::from("a").join("b.log")));
        assert_eq!(safe_name("./a.log"), Some(PathBuf::from("a.log")));
        for bad in [
            "",
            "/etc/passwd",
            "\\x",
            "../x",
            "a/../../x",
            "a/../b",
            "c:/x",
            "C:x",
            "a\0b",
            "./",
        ] {
            assert_eq!(safe_name(bad), None, "{bad:?}");
        }
    }

    fn zip_with(names: &[&str]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        {
            let mut zip = zip::ZipWriter::new(file.as_file_mut());
            for name in names {
                zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
                zip.write_all(name.as_bytes()).unwrap();
            }
            zip.finish().unwrap();
        }
        file
    }

    #[test]
    fn a_hostile_entry_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let archive = zip_with(&["ok.log", "../escape.log"]);
        let err = unpack(&std::fs::File::open(archive.path()).unwrap(), &out).unwrap_err();
        assert!(matches!(err, SessionsError::BadArchive(_)), "{err}");
        assert!(!out.exists());
        assert!(!dir.path().join("escape.log").exists());
    }

    #[test]
    fn unpacks_nested_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let archive = zip_with(&["a.log", "sub/b.log"]);
        let files = unpack(&std::fs::File::open(archive.path()).unwrap(), &out).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            std::fs::read_to_string(out.join("sub").join("b.log")).unwrap(),
            "sub/b.log"
        );
    }
}
