//! upload, step one: walk DIR and check it before any API call.
//!
//! DIR must exist, be a directory, hold at least one file, and every file
//! must be readable; symlinks are followed, but one that leads outside DIR
//! is refused by name. Entries come out sorted by their zip path, so the
//! same tree always gives the same zip.

use std::fs;
use std::path::{Path, PathBuf};

/// One file to put in the zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the zip: relative to DIR, `/`-separated.
    pub name: String,
    /// Where to read it.
    pub path: PathBuf,
    /// Unix permission bits (0o644 where the platform has none).
    pub mode: u32,
    /// Size when walked.
    pub len: u64,
}

/// Why DIR cannot be uploaded.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("{path}: no such directory\n  give the build's root directory")]
    Missing { path: PathBuf },
    #[error("{path}: not a directory\n  give the build's root directory, not a file in it")]
    NotADirectory { path: PathBuf },
    #[error("{path}: the directory holds no files\n  point at the directory your build tool wrote")]
    Empty { path: PathBuf },
    #[error("{path}: cannot read: {source}\n  fix its permissions (chmod u+r) or remove it from the build")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: a symlink that leads outside the build directory (to {target})\n  copy the file into the build instead"
    )]
    Escapes { path: PathBuf, target: PathBuf },
    #[error("{path}: a file name that is not valid UTF-8 cannot go into the zip\n  rename it")]
    NotUtf8 { path: PathBuf },
}

/// Checks DIR and lists the files to zip, sorted by name.
pub fn walk(dir: &Path) -> Result<Vec<Entry>, WalkError> {
    let meta = fs::metadata(dir).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => WalkError::Missing { path: dir.to_owned() },
        _ => WalkError::Unreadable {
            path: dir.to_owned(),
            source,
        },
    })?;
    if !meta.is_dir() {
        return Err(WalkError::NotADirectory { path: dir.to_owned() });
    }
    let root = fs::canonicalize(dir).map_err(|source| WalkError::Unreadable {
        path: dir.to_owned(),
        source,
    })?;
    let mut entries = Vec::new();
    visit(&root, &root, "", &mut entries)?;
    if entries.is_empty() {
        return Err(WalkError::Empty { path: dir.to_owned() });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

fn visit(root: &Path, dir: &Path, prefix: &str, out: &mut Vec<Entry>) -> Result<(), WalkError> {
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |source| WalkError::Unreadable { path, source }
    };
    for item in fs::read_dir(dir).map_err(unreadable(dir))? {
        let item = item.map_err(unreadable(dir))?;
        let path = item.path();
        let Some(file_name) = item.file_name().to_str().map(str::to_owned) else {
            return Err(WalkError::NotUtf8 { path });
        };
        let name = format!("{prefix}{file_name}");
        let is_link = item.file_type().map_err(unreadable(&path))?.is_symlink();
        if is_link {
            let target = fs::canonicalize(&path).map_err(unreadable(&path))?;
            if !target.starts_with(root) {
                return Err(WalkError::Escapes { path, target });
            }
        }
        // Follows symlinks.
        let meta = fs::metadata(&path).map_err(unreadable(&path))?;
        if meta.is_dir() {
            visit(root, &path, &format!("{name}/"), out)?;
        } else if meta.is_file() {
            // Opening proves readability now, before any build record exists.
            fs::File::open(&path).map_err(unreadable(&path))?;
            out.push(Entry {
                name,
                path,
                mode: mode_of(&meta),
                len: meta.len(),
            });
        }
        // Sockets, FIFOs and devices are not build content; skipped.
    }
    Ok(())
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_meta: &fs::Metadata) -> u32 {
    0o644
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_relative_slash_names_and_refusals() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).expect("mkdir");
        fs::write(root.join("b/c/z.txt"), b"z").expect("write");
        fs::write(root.join("a.txt"), b"a").expect("write");
        let names: Vec<String> = walk(root).expect("walks").into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["a.txt", "b/c/z.txt"]);

        assert!(matches!(walk(&root.join("nope")), Err(WalkError::Missing { .. })));
        assert!(matches!(
            walk(&root.join("a.txt")),
            Err(WalkError::NotADirectory { .. })
        ));
        let empty = tempfile::tempdir().expect("tempdir");
        fs::create_dir(empty.path().join("sub")).expect("mkdir");
        assert!(matches!(walk(empty.path()), Err(WalkError::Empty { .. })));

        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().expect("tempdir");
            fs::write(outside.path().join("secret"), b"s").expect("write");
            std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link")).expect("symlink");
            let err = walk(root).expect_err("escapes");
            assert!(err.to_string().contains("link"), "{err}");
        }
    }
}
