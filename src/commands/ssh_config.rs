//! `gamelift-access ssh-config [--install]`: the ssh_config block that sends
//! `*.gamelift` hosts through `gamelift-access proxy`.
//!
//! `--install` writes the block to `<data dir>/ssh_config` and puts an
//! `Include` of it, between marker lines, at the top of `~/.ssh/config` (an
//! `Include` below a `Host` line would apply to that host only). A second
//! install replaces the marked lines rather than adding more.
//!
//! The block turns agent forwarding off for these hosts (`ForwardAgent no`:
//! the first value ssh reads wins, and the `Include` comes first, so a
//! user's `ForwardAgent yes` further down does not apply). `ssh -A` on the
//! command line still forwards; the agent then serves that forwarded
//! connection only key listing and signing (see `agent/server.rs`).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{GlobalArgs, SshConfigArgs};
use crate::deliver::DeliverError;
use crate::dirs;
use crate::error::{Error, Result};
use crate::launch::ssh::ssh_config_path;

const BEGIN: &str = "# >>> gamelift-access (managed by `gamelift-access ssh-config --install`) >>>";
const END: &str = "# <<< gamelift-access <<<";

pub fn run(global: &GlobalArgs, args: SshConfigArgs) -> Result<u8> {
    let block = block(global)?;
    if !args.install {
        print!("{block}");
        return Ok(0);
    }
    let data = dirs::data_dir().map_err(DeliverError::Dir)?;
    let included = data.join("ssh_config");
    write_file(&included, &block)?;
    let home = directories::BaseDirs::new()
        .map(|b| b.home_dir().to_owned())
        .ok_or_else(|| Error::Other("no home directory (set HOME)".into()))?;
    let ssh_dir = home.join(".ssh");
    if !ssh_dir.exists() {
        dirs::ensure_private_dir(&ssh_dir).map_err(DeliverError::Dir)?;
    }
    let config = ssh_dir.join("config");
    let current = match std::fs::read_to_string(&config) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(DeliverError::Write {
                path: config,
                source: e,
            }
            .into());
        }
    };
    write_file(&config, &install_into(&current, &included))?;
    eprintln!(
        "{} now includes {}\n  try: ssh <instance-id>.<fleet>.gamelift",
        config.display(),
        included.display()
    );
    Ok(0)
}

/// The block, with this binary's absolute path and the AWS options given.
fn block(global: &GlobalArgs) -> Result<String> {
    let exe = std::env::current_exe().map_err(|e| Error::Other(format!("cannot find our own binary: {e}")))?;
    let socket = crate::commands::agent::socket_path(None)?;
    let known_hosts = known_hosts_dir()?.join("gamelift");
    let mut proxy = vec![exe.to_string_lossy().into_owned()];
    for (flag, value) in [
        ("--profile", &global.profile),
        ("--region", &global.region),
        ("--endpoint-url", &global.endpoint_url),
    ] {
        if let Some(value) = value {
            proxy.push(flag.to_owned());
            proxy.push(value.clone());
        }
    }
    // ProxyCommand goes to the shell, after ssh expands % tokens.
    let proxy: Vec<String> = proxy
        .iter()
        .map(|a| {
            shlex::try_quote(a)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| a.clone())
                .replace('%', "%%")
        })
        .collect();
    Ok(format!(
        "# gamelift-access: fleet instances by name, as <instance>.<fleet>.gamelift\n\
         Host *.gamelift\n\
         \x20 ProxyCommand {} proxy %h %p\n\
         \x20 IdentityAgent {}\n\
         \x20 User gl-user-remote\n\
         \x20 UserKnownHostsFile {}\n\
         \x20 StrictHostKeyChecking accept-new\n\
         \x20 ForwardAgent no\n",
        proxy.join(" "),
        ssh_config_path(&socket),
        ssh_config_path(&known_hosts),
    ))
}

/// `<data dir>/known_hosts`, made if missing: ssh adds to a known_hosts
/// file but never makes its directory.
pub fn known_hosts_dir() -> Result<PathBuf> {
    let dir = dirs::data_dir().map_err(DeliverError::Dir)?.join("known_hosts");
    dirs::ensure_private_dir(&dir).map_err(DeliverError::Dir)?;
    Ok(dir)
}

/// `current` with our marked lines (if any) removed and an `Include` of
/// `included` put first.
fn install_into(current: &str, included: &Path) -> String {
    let mut kept = Vec::new();
    let mut inside = false;
    for line in current.lines() {
        match line.trim() {
            l if l == BEGIN => inside = true,
            l if l == END && inside => inside = false,
            _ if inside => {}
            _ => kept.push(line),
        }
    }
    let mut out = format!("{BEGIN}\nInclude {}\n{END}\n", ssh_config_path(included));
    for line in kept {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Replaces `path` atomically, keeping it private to us.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let dir: PathBuf = path.parent().expect("a file in a directory").to_owned();
    let write = || -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        tmp.write_all(text.as_bytes())?;
        tmp.as_file().sync_all()?;
        tmp.persist(path)?;
        Ok(())
    };
    write().map_err(|source| {
        DeliverError::Write {
            path: path.to_owned(),
            source,
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_puts_the_include_first_and_replaces_itself() {
        let included = Path::new("/home/me/.local/share/gamelift-access/ssh_config");
        let user = "Host work\n  User me\n";
        let once = install_into(user, included);
        assert_eq!(
            once,
            format!("{BEGIN}\nInclude /home/me/.local/share/gamelift-access/ssh_config\n{END}\nHost work\n  User me\n")
        );
        assert_eq!(install_into(&once, included), once, "a re-install changes nothing");
        assert!(install_into("", included).starts_with(BEGIN));
    }
}
