//! `--write-profile NAME`: a profile in the AWS config file whose
//! `credential_process` runs this binary, so the AWS CLI and SDKs use the
//! stored key without the secret ever being written under `~/.aws`.
//!
//! The file is edited in place, durably (temp file in the same directory
//! with the original's mode → fsync → rename → fsync dir, through a symlink
//! to its target), and every byte outside the two lines this tool owns
//! (`credential_process`, `region` in `[profile NAME]`) stays as it was.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `AWS_CONFIG_FILE`, else `~/.aws/config`, as the AWS CLI and SDKs read it.
pub fn config_path() -> io::Result<PathBuf> {
    if let Some(path) = std::env::var_os("AWS_CONFIG_FILE").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if let Ok(rest) = path.strip_prefix("~") {
            return Ok(home()?.join(rest));
        }
        return Ok(path);
    }
    Ok(home()?.join(".aws").join("config"))
}

fn home() -> io::Result<PathBuf> {
    directories::BaseDirs::new()
        .map(|b| b.home_dir().to_owned())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no home directory (set HOME)"))
}

/// The `credential_process` value: this binary, by absolute path, quoted
/// for the shell that runs it.
pub fn credential_process_line(exe: &Path, bucket: &str) -> String {
    let exe = exe.to_string_lossy();
    let quoted = shlex::try_quote(&exe).map_or_else(|_| exe.clone().into_owned(), |q| q.into_owned());
    format!("{quoted} bucket-key credential-process {bucket}")
}

/// Sets `credential_process` and `region` in `[profile NAME]` (`[default]`
/// for `default`), adding the section or the keys as needed.
pub fn write_profile(path: &Path, name: &str, credential_process: &str, region: &str) -> io::Result<PathBuf> {
    let target = match fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_owned(),
        Err(e) => return Err(e),
    };
    let (old, mode) = match fs::read(&target) {
        Ok(bytes) => (bytes, Some(fs::metadata(&target)?.permissions())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), None),
        Err(e) => return Err(e),
    };
    let old = String::from_utf8(old).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))?;
    let new = edit(
        &old,
        name,
        &[("credential_process", credential_process), ("region", region)],
    );
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        crate::dirs::create_private(dir)?;
    }
    let tmp = tempfile::Builder::new().prefix(".config-").tempfile_in(dir)?;
    // Exactly the original's mode (0600 for a new file), whatever the umask.
    // On Windows the new file inherits the folder's ACL, as the AWS CLI's does.
    #[cfg(unix)]
    tmp.as_file()
        .set_permissions(mode.unwrap_or_else(|| std::os::unix::fs::PermissionsExt::from_mode(0o600)))?;
    #[cfg(windows)]
    let _ = mode;
    let mut tmp = tmp;
    tmp.write_all(new.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    File::open(dir)?.sync_all()?;
    Ok(target)
}

fn header_name(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?.strip_suffix(']')?.trim();
    Some(match inner.strip_prefix("profile") {
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim().to_owned(),
        _ => inner.to_owned(),
    })
}

fn line_key(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') || line.starts_with(char::is_whitespace) {
        return None;
    }
    t.split_once('=').map(|(k, _)| k.trim())
}

/// The config text with `keys` set in profile `name`.
fn edit(old: &str, name: &str, keys: &[(&str, &str)]) -> String {
    let header = if name == "default" {
        "[default]".to_owned()
    } else {
        format!("[profile {name}]")
    };
    let lines: Vec<&str> = old.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .position(|l| header_name(l).as_deref() == Some(name) && (name == "default" || l.contains("profile")));
    let Some(start) = start else {
        let mut out = old.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&header);
        out.push('\n');
        for (k, v) in keys {
            out.push_str(&format!("{k} = {v}\n"));
        }
        return out;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let mut missing: Vec<(&str, &str)> = Vec::new();
    for (k, v) in keys {
        match (start + 1..end).find(|&i| line_key(lines[i]) == Some(k)) {
            Some(i) => {
                let eol = if lines[i].ends_with("\r\n") {
                    "\r\n"
                } else if lines[i].ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                out[i] = format!("{k} = {v}{eol}");
            }
            None => missing.push((k, v)),
        }
    }
    if !missing.is_empty() {
        // After the section's last non-blank line.
        let at = (start..end)
            .rev()
            .find(|&i| !lines[i].trim().is_empty())
            .unwrap_or(start);
        if !out[at].ends_with('\n') {
            out[at].push('\n');
        }
        let add: String = missing.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        out.insert(at + 1, add);
    }
    out.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[(&str, &str)] = &[
        ("credential_process", "/bin/x bucket-key credential-process b"),
        ("region", "eu-west-1"),
    ];

    #[test]
    fn appends_a_new_profile_and_keeps_every_byte() {
        let old = "[default]\nregion = us-east-1\n# comment\n[profile other]\noutput = json";
        let new = edit(old, "gl", KEYS);
        assert!(new.starts_with("[default]\nregion = us-east-1\n# comment\n[profile other]\noutput = json\n\n"));
        assert!(new.ends_with(
            "[profile gl]\ncredential_process = /bin/x bucket-key credential-process b\nregion = eu-west-1\n"
        ));
        assert_eq!(edit("", "gl", KEYS).lines().next(), Some("[profile gl]"));
    }

    #[test]
    fn updates_an_existing_profile_in_place() {
        let old = "[profile gl]\r\nregion = us-east-1\r\noutput = text\r\n\r\n[profile z]\r\nregion = x\r\n";
        let new = edit(old, "gl", KEYS);
        assert_eq!(
            new,
            "[profile gl]\r\nregion = eu-west-1\r\noutput = text\r\ncredential_process = /bin/x bucket-key credential-process b\n\r\n[profile z]\r\nregion = x\r\n"
        );
        // Idempotent.
        assert_eq!(edit(&new, "gl", KEYS), new);
        let d = edit("[default]\nregion = a\n", "default", KEYS);
        assert!(
            d.starts_with("[default]\nregion = eu-west-1\ncredential_process"),
            "{d}"
        );
    }

    #[test]
    fn quotes_paths_for_the_shell() {
        assert_eq!(
            credential_process_line(Path::new("/opt/my tools/gamelift-access"), "b-1"),
            "'/opt/my tools/gamelift-access' bucket-key credential-process b-1"
        );
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_symlinks_keeping_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tmp");
        let real = tmp.path().join("real");
        fs::write(&real, "[profile a]\nregion = x\n").expect("write");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = tmp.path().join("config");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write_profile(&link, "gl", "cp", "r").expect("write");
        assert!(fs::symlink_metadata(&link).expect("meta").file_type().is_symlink());
        assert_eq!(fs::metadata(&real).expect("meta").permissions().mode() & 0o777, 0o640);
        assert!(
            fs::read_to_string(&real)
                .expect("read")
                .starts_with("[profile a]\nregion = x\n\n[profile gl]\n")
        );
    }
}
