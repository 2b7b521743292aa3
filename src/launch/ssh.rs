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

/// Options (`-x`) of ssh(1) that take an argument, as its getopt string
/// `46AaCfGgKkMNnqsTtVvXxYyB:b:c:D:E:e:F:I:i:J:L:l:m:O:o:P:p:Q:R:S:W:w:` has them.
const SSH_OPTS_WITH_ARG: &str = "BbcDEeFIiJLlmOoPpQRSWw";

/// `-o` keywords that would undo what keeps a session safe: which key is
/// offered (ours, and only ours) and which host keys are trusted (per fleet,
/// filed under the instance ID, new ones only on first use).
const PROTECTED_KEYWORDS: [&str; 7] = [
    "identityfile",
    "identitiesonly",
    "userknownhostsfile",
    "globalknownhostsfile",
    "knownhostscommand",
    "stricthostkeychecking",
    "hostkeyalias",
];

/// A `--ssh-flag` that cannot be passed to ssh, and why.
#[derive(Debug, thiserror::Error)]
pub enum SshFlagError {
    #[error(
        "--ssh-flag '{flag}' is refused: {reason}\n  \
         gamelift-access sets it to keep the session safe (the instance's own key, \
         host keys pinned per fleet and instance)"
    )]
    Protected { flag: String, reason: String },
    #[error(
        "--ssh-flag '{0}' is not an ssh option\n  \
         ssh flags start with '-' (e.g. --ssh-flag=-v, --ssh-flag='-o ServerAliveInterval=30'); \
         a remote command goes after `--`"
    )]
    NotAnOption(String),
    #[error("--ssh-flag '{0}' needs a value (e.g. --ssh-flag='-o ServerAliveInterval=30')")]
    MissingValue(String),
    #[error("--ssh-flag '{0}' is not valid shell words: check its quotes")]
    BadQuoting(String),
}

/// Checks `--ssh-flag` values and splits them into ssh arguments.
///
/// Each value is split as a shell would (gcloud's convention, so
/// `--ssh-flag='-o ServerAliveInterval=30'` works as well as two flags),
/// then read the way ssh's getopt reads it: bundled short options (`-vA`),
/// an option's value attached (`-oX=y`, `-i/k`) or in the next word (`-o X=y`).
/// `-i` and the `-o` keywords in [`PROTECTED_KEYWORDS`] are refused in any
/// spelling (`X=y`, `X y`, `X = y`, any case).
pub fn user_flags(values: &[String]) -> Result<Vec<String>, SshFlagError> {
    let mut words = vec![];
    for value in values {
        let split = shlex::split(value).ok_or_else(|| SshFlagError::BadQuoting(value.clone()))?;
        if split.is_empty() {
            return Err(SshFlagError::NotAnOption(value.clone()));
        }
        words.extend(split);
    }
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let Some(opts) = word.strip_prefix('-').filter(|o| !o.is_empty() && !o.starts_with('-')) else {
            return Err(SshFlagError::NotAnOption(word.clone()));
        };
        for (pos, opt) in opts.char_indices() {
            if !SSH_OPTS_WITH_ARG.contains(opt) {
                continue;
            }
            let attached = &opts[pos + opt.len_utf8()..];
            let value = if attached.is_empty() {
                i += 1;
                words
                    .get(i)
                    .cloned()
                    .ok_or_else(|| SshFlagError::MissingValue(word.clone()))?
            } else {
                attached.to_owned()
            };
            check_option(opt, &value, word)?;
            break;
        }
        i += 1;
    }
    Ok(words)
}

fn check_option(opt: char, value: &str, word: &str) -> Result<(), SshFlagError> {
    let protected = |reason: String| SshFlagError::Protected {
        flag: word.to_owned(),
        reason,
    };
    match opt {
        'i' => Err(protected("-i would offer another key than the instance's".into())),
        'o' => {
            let keyword = value
                .trim_start()
                .split(|c: char| c == '=' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            match PROTECTED_KEYWORDS.iter().find(|k| **k == keyword) {
                Some(_) => Err(protected(format!(
                    "-o {} overrides an option gamelift-access sets",
                    value.trim_start().split(['=', ' ', '\t']).next().unwrap_or_default()
                ))),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// `command` with `options` put just before the `--` that ends ssh's
/// options (before the destination), or at the end if it has none.
pub fn with_options(mut command: ClientCommand, options: impl IntoIterator<Item = OsString>) -> ClientCommand {
    let at = command
        .args
        .iter()
        .position(|a| a == "--")
        .unwrap_or(command.args.len());
    let tail = command.args.split_off(at);
    command.args.extend(options);
    command.args.extend(tail);
    command
}

/// Whether checked `--ssh-flag` words (from [`user_flags`]) ask for agent
/// forwarding one way or the other: `-A` (alone or bundled, `-vA`), `-a`,
/// or `-o ForwardAgent=…` in any spelling.
pub fn sets_agent_forwarding(words: &[String]) -> bool {
    let mut i = 0;
    while i < words.len() {
        let opts = words[i].strip_prefix('-').unwrap_or_default();
        for (pos, opt) in opts.char_indices() {
            if opt == 'A' || opt == 'a' {
                return true;
            }
            if !SSH_OPTS_WITH_ARG.contains(opt) {
                continue;
            }
            let attached = &opts[pos + opt.len_utf8()..];
            let value = if attached.is_empty() {
                i += 1;
                words.get(i).map(String::as_str).unwrap_or_default()
            } else {
                attached
            };
            let keyword = value
                .trim_start()
                .split(|c: char| c == '=' || c.is_whitespace())
                .next()
                .unwrap_or_default();
            if opt == 'o' && keyword.eq_ignore_ascii_case("forwardagent") {
                return true;
            }
            break;
        }
        i += 1;
    }
    false
}

/// What `connect` adds to ssh's own options: `ForwardAgent no` unless the
/// user's flags say otherwise (a forwarded agent lets whoever is root on the
/// instance sign with every key it holds, for as long as the session lasts),
/// `-L` per forward (and ExitOnForwardFailure, so a port ssh cannot bind is
/// an error, not a warning), `-N` for `--forward-only`, then the user's
/// checked `--ssh-flag`s.
pub fn session_options(
    user_flags: &[String],
    forwards: &[super::forward::Forward],
    forward_only: bool,
) -> Vec<OsString> {
    let mut options: Vec<OsString> = vec![];
    if !sets_agent_forwarding(user_flags) {
        options.extend(["-o".into(), "ForwardAgent=no".into()]);
    }
    for forward in forwards {
        options.extend(forward.ssh_args());
    }
    if !forwards.is_empty() {
        options.extend(["-o".into(), "ExitOnForwardFailure=yes".into()]);
    }
    if forward_only {
        options.push("-N".into());
    }
    options.extend(user_flags.iter().map(OsString::from));
    options
}

/// `-o BatchMode=yes` and a connect timeout: for `run`, where nobody is
/// there to answer a prompt and one dead instance must not hold a slot.
/// `LogLevel=ERROR` keeps ssh's notices (a host key learnt) out of each
/// instance's stderr, which is the command's; errors still show.
pub fn batch_options() -> Vec<OsString> {
    ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "LogLevel=ERROR"]
        .map(OsString::from)
        .to_vec()
}

/// One side of `cp`: a local path, or a path on the session's instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyPath {
    Local(OsString),
    Remote(String),
}

/// `scp` with exactly the safety options of `session` (the same key, the
/// same pinned host keys), so `cp` is as safe as `connect`. scp takes ssh's
/// options, except that the port is `-P` (scp's `-p` preserves times).
pub fn scp_command(
    scp: PathBuf,
    session: &SshSession<'_>,
    recursive: bool,
    sources: &[CopyPath],
    dest: &CopyPath,
) -> ClientCommand {
    let host = if session.host.contains(':') {
        format!("[{}]", session.host)
    } else {
        session.host.to_owned()
    };
    let ssh = session.command();
    let end = ssh.args.iter().position(|a| a == "--").unwrap_or(ssh.args.len());
    let mut args: Vec<OsString> = vec![];
    let mut options = ssh.args[..end].iter();
    while let Some(arg) = options.next() {
        args.push(arg.clone());
        // Every option here takes a value: copy it as is, so a value is never read as a flag.
        if let Some(value) = options.next() {
            if arg == "-p" {
                args.pop();
                args.push("-P".into());
            }
            args.push(value.clone());
        }
    }
    if recursive {
        args.push("-r".into());
    }
    args.push("--".into());
    let render = |p: &CopyPath| -> OsString {
        match p {
            // scp reads `a:b` as host `a`: a local name with a colon is made a path.
            CopyPath::Local(path) => {
                let text = path.to_string_lossy();
                match text.find(':') {
                    Some(colon) if !text[..colon].contains('/') => format!("./{text}").into(),
                    _ => path.clone(),
                }
            }
            CopyPath::Remote(path) => format!("{}@{host}:{path}", session.user).into(),
        }
    };
    args.extend(sources.iter().map(render));
    args.push(render(dest));
    ClientCommand { program: scp, args }
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

    fn refused(flags: &[&str]) -> String {
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        user_flags(&flags).unwrap_err().to_string()
    }

    #[test]
    fn ssh_flags_pass_through() {
        let flags: Vec<String> = [
            "-A",
            "-o ServerAliveInterval=30",
            "-vv",
            "-L 8080:localhost:80",
            "-oCompression=yes",
        ]
        .iter()
        .map(|f| f.to_string())
        .collect();
        assert_eq!(
            user_flags(&flags).unwrap(),
            [
                "-A",
                "-o",
                "ServerAliveInterval=30",
                "-vv",
                "-L",
                "8080:localhost:80",
                "-oCompression=yes"
            ]
        );
        // A value that looks like a protected keyword is only a value.
        assert!(user_flags(&["-l".into(), "identityfile".into()]).is_ok());
    }

    #[test]
    fn safety_flags_are_refused_in_any_spelling() {
        for flags in [
            &["-i /tmp/k"][..],
            &["-i", "/tmp/k"],
            &["-i/tmp/k"],
            &["-Ai/tmp/k"],
            &["-vi", "/tmp/k"],
            &["-oIdentitiesOnly=no"],
            &["-o IdentitiesOnly=no"],
            &["-o", "identitiesonly no"],
            &["-o", "IDENTITYFILE=/tmp/k"],
            &["-o UserKnownHostsFile=/dev/null"],
            &["-oUserKnownHostsFile /dev/null"],
            &["-o", " StrictHostKeyChecking = no"],
            &["-o stricthostkeychecking=no"],
            &["-A -o HostKeyAlias=other"],
        ] {
            let err = refused(flags);
            assert!(err.contains("is refused"), "{flags:?}: {err}");
        }
        assert!(refused(&["uptime"]).contains("not an ssh option"));
        assert!(refused(&["--", "x"]).contains("not an ssh option"));
        assert!(refused(&["-o"]).contains("needs a value"));
        assert!(refused(&["-o 'x"]).contains("quotes"));
    }

    #[test]
    fn agent_forwarding_is_off_unless_asked_for() {
        let words = |flags: &[&str]| user_flags(&flags.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap();
        let no = ["-o", "ForwardAgent=no"].map(OsString::from);
        for flags in [
            &[][..],
            &["-v"],
            &["-o ServerAliveInterval=30"],
            &["-l", "A"],
            &["-L 1:a:2"],
        ] {
            let options = session_options(&words(flags), &[], false);
            assert_eq!(options[..2], no, "{flags:?}");
        }
        for flags in [
            &["-A"][..],
            &["-vA"],
            &["-a"],
            &["-o ForwardAgent=yes"],
            &["-oforwardagent=yes"],
            &["-o 'ForwardAgent /tmp/sock'"],
        ] {
            assert!(sets_agent_forwarding(&words(flags)), "{flags:?}");
            let options = session_options(&words(flags), &[], false);
            assert!(!options.windows(2).any(|w| w == no), "{flags:?}: {options:?}");
        }
    }

    #[test]
    fn options_go_before_the_destination() {
        let cmd = ClientCommand {
            program: "ssh".into(),
            args: ["-p", "22", "--", "u@h", "ls"].map(OsString::from).to_vec(),
        };
        let cmd = with_options(cmd, ["-v".into(), "-N".into()]);
        assert_eq!(cmd.args, ["-p", "22", "-v", "-N", "--", "u@h", "ls"]);
    }

    #[test]
    fn scp_takes_the_same_safety_options() {
        let session = SshSession {
            ssh: "/usr/bin/ssh".into(),
            key_file: Path::new("/k.pem"),
            known_hosts: Path::new("/kh"),
            host_key_alias: "i-1",
            port: 2222,
            user: "u",
            host: "10.0.0.1",
            remote_command: &[],
        };
        let cmd = scp_command(
            "/usr/bin/scp".into(),
            &session,
            true,
            &[CopyPath::Local("dir".into()), CopyPath::Local("a:b".into())],
            &CopyPath::Remote("/tmp/x".into()),
        );
        assert_eq!(
            cmd.args,
            [
                "-i",
                "/k.pem",
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "UserKnownHostsFile=/kh",
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-o",
                "HostKeyAlias=i-1",
                "-P",
                "2222",
                "-r",
                "--",
                "dir",
                "./a:b",
                "u@10.0.0.1:/tmp/x"
            ]
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
