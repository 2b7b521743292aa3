//! The OpenSSH client, for Linux instances.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::ClientCommand;

pub const INSTALL_HINT: &str = "install the OpenSSH client: apt-get install openssh-client (Debian/Ubuntu), \
dnf install openssh-clients (Fedora/RHEL); it ships with macOS and Windows 10+";

/// Everything ssh needs, as plain values.
#[derive(Debug, Clone)]
pub struct SshSession<'a> {
    pub ssh: PathBuf,
    pub key_file: &'a Path,
    pub known_hosts: &'a Path,
    /// Host keys are filed under the instance ID, not the IP: GameLift reuses
    /// IPs across instances, and a recycled IP must not look like a
    /// man-in-the-middle, nor a new instance inherit an old one's trust.
    pub host_key_alias: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub host: &'a str,
    pub remote_command: &'a [String],
}

impl SshSession<'_> {
    /// `ssh -i KEY -o IdentitiesOnly=yes -o UserKnownHostsFile=… -o
    /// StrictHostKeyChecking=accept-new -o HostKeyAlias=… -p PORT -- USER@IP [CMD…]`.
    ///
    /// The `--` stops ssh from reading options after the destination, so
    /// neither a user name nor a remote command can smuggle in an option
    /// such as `-oProxyCommand=…`.
    pub fn command(&self) -> ClientCommand {
        let mut args: Vec<OsString> = vec![
            "-i".into(),
            self.key_file.into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", ssh_config_path(self.known_hosts)).into(),
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            format!("HostKeyAlias={}", self.host_key_alias).into(),
            "-p".into(),
            self.port.to_string().into(),
            "--".into(),
            format!("{}@{}", self.user, self.host).into(),
        ];
        args.extend(self.remote_command.iter().map(OsString::from));
        ClientCommand {
            program: self.ssh.clone(),
            args,
        }
    }
}

/// Makes ssh take its key from the agent on `socket`: `IdentityAgent`
/// first, so it wins over any in the user's ssh_config. With
/// `IdentitiesOnly yes` and a public key as the identity file, ssh offers
/// exactly that key from the agent.
pub fn use_agent(command: &mut ClientCommand, socket: &Path) {
    let option = format!("IdentityAgent={}", ssh_config_path(socket));
    command.args.splice(0..0, ["-o".into(), option.into()]);
}

/// A path as an ssh_config value: ssh splits option values on whitespace,
/// honours double quotes and backslashes, and expands `%` tokens.
pub fn ssh_config_path(path: &Path) -> String {
    let raw = path.to_string_lossy().replace('%', "%%");
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\' || c == '\'')
    {
        format!("\"{}\"", raw.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_documented_command() {
        let remote = vec!["echo".to_owned(), "hi there".to_owned()];
        let session = SshSession {
            ssh: "/usr/bin/ssh".into(),
            key_file: Path::new("/run/user/1000/gamelift-access/keys/i-1.42.pem"),
            known_hosts: Path::new("/home/me/.local/share/gamelift-access/known_hosts/fleet-1"),
            host_key_alias: "i-0123456789abcdef0",
            port: 2222,
            user: "gl-user-remote",
            host: "192.0.2.10",
            remote_command: &remote,
        };
        let command = session.command();
        assert_eq!(command.program, Path::new("/usr/bin/ssh"));
        assert_eq!(
            command.args,
            [
                "-i",
                "/run/user/1000/gamelift-access/keys/i-1.42.pem",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "UserKnownHostsFile=/home/me/.local/share/gamelift-access/known_hosts/fleet-1",
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-o",
                "HostKeyAlias=i-0123456789abcdef0",
                "-p",
                "2222",
                "--",
                "gl-user-remote@192.0.2.10",
                "echo",
                "hi there",
            ]
        );
        // What --print shows is the same argv, as a shell would split it.
        let shown = shlex::split(&command.display()).unwrap();
        assert_eq!(shown[0], "/usr/bin/ssh");
        assert_eq!(
            shown[1..],
            command.args.iter().map(|a| a.to_str().unwrap()).collect::<Vec<_>>()[..]
        );
    }

    #[test]
    fn quotes_paths_for_ssh_config() {
        assert_eq!(
            ssh_config_path(Path::new("/Users/me/Library/Application Support/x/100%")),
            "\"/Users/me/Library/Application Support/x/100%%\""
        );
        assert_eq!(ssh_config_path(Path::new("/plain/path")), "/plain/path");
    }
}
