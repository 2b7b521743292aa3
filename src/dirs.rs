//! Where this tool keeps things, and how it makes sure nobody else can read
//! them. Locations follow the platform's conventions through `directories`
//! (`XDG_RUNTIME_DIR`, `XDG_DATA_HOME`, … on Linux).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

fn project() -> io::Result<ProjectDirs> {
    ProjectDirs::from("", "", "gamelift-access")
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no home directory to keep state in (set HOME)"))
}

/// The per-user runtime directory for secrets: `$XDG_RUNTIME_DIR/gamelift-access`
/// where the platform has one (tmpfs, private, cleared at logout), else
/// `<tmp>/gamelift-access-<uid>`; on Windows `%LOCALAPPDATA%\gamelift-access\runtime`
/// (the temp dir there is per user anyway, but roams less predictably).
/// Either way it is checked to be ours and private.
pub fn runtime_dir() -> io::Result<PathBuf> {
    let project = project()?;
    let dir = match project.runtime_dir() {
        Some(dir) => dir.to_owned(),
        #[cfg(unix)]
        // SAFETY: geteuid has no preconditions and cannot fail.
        None => std::env::temp_dir().join(format!("gamelift-access-{}", unsafe { libc::geteuid() })),
        #[cfg(windows)]
        None => project.data_local_dir().join("runtime"),
    };
    ensure_private_dir(&dir)?;
    Ok(dir)
}

/// Long-lived data, such as the per-fleet known_hosts files.
pub fn data_dir() -> io::Result<PathBuf> {
    let dir = project()?.data_dir().to_owned();
    ensure_private_dir(&dir)?;
    Ok(dir)
}

/// State that must survive a crash, such as the ledger of opened ports:
/// `$XDG_STATE_HOME/gamelift-access` on Linux, the data dir elsewhere.
pub fn state_dir() -> io::Result<PathBuf> {
    let project = project()?;
    let dir = project.state_dir().unwrap_or(project.data_dir()).to_owned();
    ensure_private_dir(&dir)?;
    Ok(dir)
}

/// Cached metadata (no secrets), such as the fleet cache.
pub fn cache_dir() -> io::Result<PathBuf> {
    let dir = project()?.cache_dir().to_owned();
    ensure_private_dir(&dir)?;
    Ok(dir)
}

/// Creates `dir` (and parents) if needed, then insists that it is a real
/// directory owned by us with mode 0700. A directory in a shared place like
/// /tmp that someone else made, or a symlink planted there, is refused rather
/// than trusted with a secret.
#[cfg(unix)]
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    create_dirs_durably(dir)?;
    let meta = fs::symlink_metadata(dir)?;
    if !meta.file_type().is_dir() {
        return Err(unsafe_dir(dir, "is not a directory (a symlink?)"));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if meta.uid() != unsafe { libc::geteuid() } {
        return Err(unsafe_dir(dir, "belongs to another user"));
    }
    if meta.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Windows: creates `dir` (parents as usual, `dir` itself owner-only), then
/// insists that it is a real directory (not a junction or symlink) owned by
/// the current user, and gives it the protected owner-only DACL again, which
/// is what 0700 means there.
#[cfg(windows)]
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)?;
    }
    crate::winsec::create_private_dir(dir)?;
    let meta = fs::symlink_metadata(dir)?;
    if !meta.file_type().is_dir() || meta.file_type().is_symlink() {
        return Err(unsafe_dir(dir, "is not a directory (a link?)"));
    }
    if !crate::winsec::owned_by_us(dir)? {
        return Err(unsafe_dir(dir, "belongs to another user"));
    }
    crate::winsec::make_private(dir)
}

/// How something that should be ours alone is exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// Another user owns it.
    OtherUser,
    /// Unix: group or other bits are set (the mode, for the message).
    #[cfg_attr(windows, allow(dead_code))]
    Mode(u32),
    /// Windows: its ACL lets someone besides us, SYSTEM and Administrators in.
    #[cfg_attr(unix, allow(dead_code))]
    Acl,
}

/// Whether `path` (lstat'ed as `meta`) is ours alone: our uid and no group
/// or other bits on Unix; owned by us with an ACL that lets nobody else in
/// on Windows. Checks only, never fixes: a store refuses what is loose.
#[cfg(unix)]
pub fn exposure(_path: &Path, meta: &fs::Metadata) -> io::Result<Option<Exposure>> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    Ok(if meta.uid() != unsafe { libc::geteuid() } {
        Some(Exposure::OtherUser)
    } else if meta.mode() & 0o077 != 0 {
        Some(Exposure::Mode(meta.mode() & 0o7777))
    } else {
        None
    })
}

/// Whether `path` is ours alone (see the Unix version).
#[cfg(windows)]
pub fn exposure(path: &Path, _meta: &fs::Metadata) -> io::Result<Option<Exposure>> {
    Ok(if !crate::winsec::owned_by_us(path)? {
        Some(Exposure::OtherUser)
    } else if !crate::winsec::owner_only(path)? {
        Some(Exposure::Acl)
    } else {
        None
    })
}

/// Creates `dir` if it is missing, private from the start (0700; the
/// owner-only DACL on Windows), without touching an existing one.
pub fn create_private(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    let created = create_dirs_durably(dir).map(drop);
    #[cfg(windows)]
    let created = {
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent)?;
        }
        crate::winsec::create_private_dir(dir)
    };
    match created {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Creates `dir` and every missing ancestor, one level at a time, each
/// 0700 from the start, and fsyncs each new level's parent once it is made:
/// a directory entry is durable only once the directory holding it is
/// synced, so syncing just the leaf (as a file write does) could leave a
/// crash with a "durable" file under a directory that is gone. Returns the
/// levels this call created, outermost first (a level another process
/// makes at the same moment is not ours and is left out).
#[cfg(unix)]
pub fn create_dirs_durably(dir: &Path) -> io::Result<Vec<PathBuf>> {
    use std::os::unix::fs::DirBuilderExt;
    let mut missing = Vec::new();
    for level in dir.ancestors().filter(|d| !d.as_os_str().is_empty()) {
        match fs::symlink_metadata(level) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing.push(level),
            // A file where a directory should be, or no access: say so now.
            Err(e) => return Err(e),
        }
    }
    let mut created = Vec::new();
    for level in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(0o700).create(level) {
            Ok(()) => created.push(level.to_owned()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        let parent = level
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        match fs::File::open(parent) {
            Ok(parent) => parent.sync_all()?,
            // A parent we may enter but not read (mode --x) cannot be
            // opened to sync; the new level is there all the same.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}

fn unsafe_dir(dir: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "refusing to keep secrets in {}: it {why}; remove it and try again",
            dir.display()
        ),
    )
}

/// Where bucket-key secrets go when the data dir cannot take them after a
/// key was created: somewhere outside the data dir, so that one broken
/// directory does not lose the secret. `$XDG_STATE_HOME/gamelift-access/
/// bucket-keys-fallback` on Linux; `~/.gamelift-access-fallback` where the
/// platform has no state dir (there it would be the data dir itself).
pub fn fallback_dir() -> io::Result<PathBuf> {
    let project = project()?;
    match project.state_dir() {
        Some(state) => {
            ensure_private_dir(state)?;
            Ok(state.join("bucket-keys-fallback"))
        }
        None => {
            let home = directories::BaseDirs::new()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no home directory (set HOME)"))?;
            Ok(home.home_dir().join(".gamelift-access-fallback"))
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn every_new_level_is_created_private_and_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let leaf = tmp.path().join("a/b/c");
        let created = super::create_dirs_durably(&leaf).unwrap();
        assert_eq!(
            created,
            [tmp.path().join("a"), tmp.path().join("a/b"), leaf.clone()],
            "each level, outermost first"
        );
        for d in &created {
            assert_eq!(std::fs::metadata(d).unwrap().permissions().mode() & 0o777, 0o700);
        }
        // Nothing new: nothing created, nothing reported.
        assert!(super::create_dirs_durably(&leaf).unwrap().is_empty());
        assert_eq!(super::create_dirs_durably(&leaf.join("d")).unwrap(), [leaf.join("d")]);
        // A file in the way is an error, not a silent success.
        std::fs::write(tmp.path().join("f"), b"").unwrap();
        assert!(super::create_dirs_durably(&tmp.path().join("f/g")).is_err());
    }
}
