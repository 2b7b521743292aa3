//! Remote Desktop, for Windows instances: GameLift hands out a password, and
//! the client is FreeRDP (Linux), mstsc (Windows) or Windows App (macOS).
//!
//! The password never appears on a command line, in the environment or in a
//! file we leave behind:
//!
//! - **FreeRDP** gets `/from-stdin:force` and the password on its stdin.
//!   FreeRDP 2.11 (verified against the real `xfreerdp` and
//!   `freerdp-shadow-cli` in `tests/connect_rdp.rs`) with `/u:` given and
//!   `:force` prints `Password: ` to stderr while it parses its arguments and
//!   reads fd 0 one byte at a time up to the first `\n` (or end of file); it
//!   asks for no user name or domain line. So we feed exactly
//!   `<password>\n` through a pipe and close it. `/p:` is never used.
//! - **mstsc** reads a `TERMSRV/<host>` credential that we put into the
//!   Windows Credential Manager for this logon session only, and delete when
//!   mstsc exits, on every path (`cmdkey /pass:` would put it on a command line).
//! - **Windows App** (macOS) takes no password from outside: we write a 0600
//!   `.rdp` file without one (`prompt for credentials:i:1`), `open -W` it, and
//!   remove the file when `open` returns. Telling the user the password is
//!   the caller's job.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::{ClientCommand, LaunchError, Outcome};
use crate::deliver::PrivateFile;
use crate::signals::Signals;

/// The FreeRDP clients we run, in order of preference. `xfreerdp` first: it
/// is the name every distribution ships the X11 client under (FreeRDP 2
/// everywhere; FreeRDP 3 on Fedora, Arch and Homebrew), and the client whose
/// stdin protocol the tests check. Then Debian/Ubuntu's versioned FreeRDP 3
/// names: the X11 client (`freerdp3-x11`), then the SDL one (`freerdp3-sdl`).
pub const FREERDP_CLIENTS: [&str; 3] = ["xfreerdp", "xfreerdp3", "sdl-freerdp3"];

pub const INSTALL_HINT_LINUX: &str = "install FreeRDP: apt-get install freerdp2-x11 (or freerdp3-x11) on Debian/Ubuntu, \
dnf install freerdp on Fedora/RHEL";
pub const INSTALL_HINT_WINDOWS: &str = "mstsc.exe (Remote Desktop Connection) ships with Windows: \
check that %SystemRoot%\\System32 is on PATH";
pub const INSTALL_HINT_MACOS: &str = "install Windows App (formerly Microsoft Remote Desktop) from the Mac App Store; \
`open` must be on PATH";

/// The longest password FreeRDP's `/from-stdin` reads whole: it reads into a
/// 512-byte buffer and silently cuts anything longer.
const FREERDP_MAX_PASSWORD: usize = 511;

/// Where to connect, as plain values.
#[derive(Debug, Clone)]
pub struct RdpTarget<'a> {
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    /// Arguments after `--` on our command line: passed to FreeRDP and mstsc
    /// as-is after ours; on macOS, added to the `.rdp` file as setting lines
    /// (`"screen mode id:i:1"`), the only way to give Windows App options.
    pub extra_args: &'a [String],
}

/// The operating system we run on, which decides the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOs {
    /// Linux and any other Unix but macOS: FreeRDP.
    Linux,
    Windows,
    MacOs,
}

impl ClientOs {
    pub fn current() -> ClientOs {
        if cfg!(windows) {
            ClientOs::Windows
        } else if cfg!(target_os = "macos") {
            ClientOs::MacOs
        } else {
            ClientOs::Linux
        }
    }
}

/// Which client runs, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdpPlan {
    /// `xfreerdp /v:HOST:PORT /u:USER /from-stdin:force /cert:tofu [extra…]`,
    /// password on stdin.
    FreeRdp { command: ClientCommand },
    /// `mstsc /v:HOST:PORT [extra…]`, with `user` and the password stored
    /// under `cmdkey_target` (`TERMSRV/HOST`) while it runs.
    Mstsc {
        cmdkey_target: String,
        user: String,
        command: ClientCommand,
    },
    /// `open -W <runtime dir>/session.<pid>.rdp`, the file holding
    /// `rdp_file_contents` (no password).
    MacOpen {
        rdp_file_contents: String,
        command_program: PathBuf,
    },
}

impl RdpPlan {
    /// The command [`launch`] runs, for `--print` and `-v`. Holds no secret.
    pub fn command(&self, runtime_dir: &Path) -> ClientCommand {
        match self {
            RdpPlan::FreeRdp { command } | RdpPlan::Mstsc { command, .. } => command.clone(),
            RdpPlan::MacOpen { command_program, .. } => mac_open_command(command_program, &rdp_file_path(runtime_dir)),
        }
    }
}

/// Decides the client from the OS and what `find` (a PATH lookup, such as
/// `|t| which::which(t).ok()`) reports installed. Pure: no I/O of its own.
pub fn plan(target: &RdpTarget, os: ClientOs, find: impl Fn(&str) -> Option<PathBuf>) -> Result<RdpPlan, LaunchError> {
    let program = client(os, find)?;
    Ok(match os {
        ClientOs::Linux => RdpPlan::FreeRdp {
            command: freerdp_command(program, target),
        },
        ClientOs::Windows => RdpPlan::Mstsc {
            cmdkey_target: cmdkey_target(target.host),
            user: target.user.to_owned(),
            command: mstsc_command(program, target),
        },
        ClientOs::MacOs => RdpPlan::MacOpen {
            rdp_file_contents: rdp_file_contents(target)?,
            command_program: program,
        },
    })
}

/// The RDP client program for `os`, or what to install. `connect` asks
/// before it fetches a password, so none is fetched with nothing to use it.
pub fn client(os: ClientOs, find: impl Fn(&str) -> Option<PathBuf>) -> Result<PathBuf, LaunchError> {
    match os {
        ClientOs::Linux => FREERDP_CLIENTS
            .iter()
            .find_map(|name| find(name))
            .ok_or(LaunchError::ToolMissing {
                tool: "an RDP client (xfreerdp, xfreerdp3 or sdl-freerdp3)",
                hint: INSTALL_HINT_LINUX,
            }),
        ClientOs::Windows => find("mstsc").ok_or(LaunchError::ToolMissing {
            tool: "mstsc",
            hint: INSTALL_HINT_WINDOWS,
        }),
        ClientOs::MacOs => find("open").ok_or(LaunchError::ToolMissing {
            tool: "open",
            hint: INSTALL_HINT_MACOS,
        }),
    }
}

/// `HOST:PORT`, with an IPv6 address in brackets as RDP clients want it.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `/v:HOST:PORT /u:USER /from-stdin:force /cert:tofu [extra…]`.
///
/// `/cert:tofu` trusts the instance's certificate on first use and refuses a
/// changed one later, as `StrictHostKeyChecking=accept-new` does for ssh:
/// GameLift instances present self-signed certificates, and with
/// `/from-stdin` FreeRDP answers "no" to its own trust prompt instead of
/// asking, so without it no connection would ever succeed. FreeRDP files the
/// certificate under `HOST PORT` in `~/.config/freerdp/known_hosts2`; pass
/// `/cert:ignore` after `--` to skip the check.
pub fn freerdp_command(program: PathBuf, target: &RdpTarget) -> ClientCommand {
    let mut args: Vec<OsString> = vec![
        format!("/v:{}", host_port(target.host, target.port)).into(),
        format!("/u:{}", target.user).into(),
        "/from-stdin:force".into(),
        "/cert:tofu".into(),
    ];
    args.extend(target.extra_args.iter().map(OsString::from));
    ClientCommand { program, args }
}

/// The Credential Manager target mstsc looks up: `TERMSRV/HOST`, without the
/// port (mstsc drops it when it looks the credential up).
pub fn cmdkey_target(host: &str) -> String {
    format!("TERMSRV/{host}")
}

/// `mstsc /v:HOST:PORT [extra…]`.
pub fn mstsc_command(program: PathBuf, target: &RdpTarget) -> ClientCommand {
    let mut args: Vec<OsString> = vec![format!("/v:{}", host_port(target.host, target.port)).into()];
    args.extend(target.extra_args.iter().map(OsString::from));
    ClientCommand { program, args }
}

/// The `.rdp` file for Windows App: address, user, and a prompt for the
/// password (which the file never holds); then the extra arguments, one
/// setting per line.
pub fn rdp_file_contents(target: &RdpTarget) -> Result<String, LaunchError> {
    let lines = [
        format!("full address:s:{}", host_port(target.host, target.port)),
        format!("username:s:{}", target.user),
        "prompt for credentials:i:1".to_owned(),
    ];
    let mut contents = String::new();
    for line in lines
        .iter()
        .map(String::as_str)
        .chain(target.extra_args.iter().map(String::as_str))
    {
        if line.contains(['\r', '\n']) {
            return Err(LaunchError::Io {
                what: format!("cannot put {line:?} on one line of an .rdp file"),
                source: io::ErrorKind::InvalidInput.into(),
            });
        }
        contents.push_str(line);
        contents.push('\n');
    }
    Ok(contents)
}

/// `open -W FILE`: `-W` makes `open` return only when the application that
/// opened the file quits, so the file lives exactly as long as the client
/// (and no longer: a client already running keeps `open` waiting until it
/// quits, which is the price of never removing the file under the client).
pub fn mac_open_command(program: &Path, rdp_file: &Path) -> ClientCommand {
    ClientCommand {
        program: program.to_owned(),
        args: vec!["-W".into(), rdp_file.into()],
    }
}

/// Where the `.rdp` file goes: `<runtime dir>/session.<pid>.rdp`.
pub fn rdp_file_path(runtime_dir: &Path) -> PathBuf {
    runtime_dir.join(format!("session.{}.rdp", std::process::id()))
}

/// Runs the plan and waits for the client. Signals are passed on as
/// [`super::run`] does; whatever held the secret (the stdin pipe, the stored
/// credential, the `.rdp` file) is gone by the time this returns, however
/// it returns.
pub async fn launch(
    plan: RdpPlan,
    password: &SecretString,
    signals: &mut Signals,
    runtime_dir: &Path,
) -> Result<Outcome, LaunchError> {
    // Exactly what `--print` shows.
    let command = plan.command(runtime_dir);
    match plan {
        RdpPlan::FreeRdp { .. } => {
            let stdin = password_pipe(password)?;
            super::run_with(&command, signals, move |cmd| {
                cmd.stdin(stdin);
            })
            .await
        }
        RdpPlan::Mstsc {
            cmdkey_target, user, ..
        } => run_mstsc(&cmdkey_target, &user, &command, password, signals).await,
        RdpPlan::MacOpen { rdp_file_contents, .. } => {
            crate::dirs::ensure_private_dir(runtime_dir).map_err(|source| LaunchError::Io {
                what: format!("cannot prepare {}", runtime_dir.display()),
                source,
            })?;
            let path = rdp_file_path(runtime_dir);
            let file =
                PrivateFile::create(&path, &[rdp_file_contents.as_bytes()]).map_err(|source| LaunchError::Io {
                    what: format!("cannot write {}", path.display()),
                    source,
                })?;
            let outcome = super::run(&command, signals).await;
            drop(file);
            outcome
        }
    }
}

/// A pipe already holding `<password>\n`, its write end closed: the child
/// reads the line, then end of file. The line is far below any pipe's
/// capacity, so writing never waits for a reader; and nothing is left to
/// write once the child runs.
fn password_pipe(password: &SecretString) -> Result<io::PipeReader, LaunchError> {
    let password = password.expose_secret();
    if password.contains(['\n', '\r', '\0']) || password.len() > FREERDP_MAX_PASSWORD {
        return Err(LaunchError::Io {
            what: "the password GameLift returned cannot be passed to FreeRDP \
                   (it has a line break or is longer than 511 bytes)"
                .to_owned(),
            source: io::ErrorKind::InvalidData.into(),
        });
    }
    let err = |source| LaunchError::Io {
        what: "cannot pass the password to FreeRDP".to_owned(),
        source,
    };
    let (reader, mut writer) = io::pipe().map_err(err)?;
    writer
        .write_all(password.as_bytes())
        .and_then(|()| writer.write_all(b"\n"))
        .map_err(err)?;
    drop(writer);
    Ok(reader)
}

#[cfg(windows)]
async fn run_mstsc(
    target: &str,
    user: &str,
    command: &ClientCommand,
    password: &SecretString,
    signals: &mut Signals,
) -> Result<Outcome, LaunchError> {
    let credential = credman::store(target, user, password).map_err(|source| LaunchError::Io {
        what: format!("cannot store the credential for {target} in the Windows Credential Manager"),
        source,
    })?;
    let outcome = super::run(command, signals).await;
    drop(credential);
    outcome
}

#[cfg(not(windows))]
async fn run_mstsc(
    target: &str,
    _user: &str,
    _command: &ClientCommand,
    _password: &SecretString,
    _signals: &mut Signals,
) -> Result<Outcome, LaunchError> {
    Err(LaunchError::Io {
        what: format!(
            "cannot store the credential for {target}: the Windows Credential Manager exists only on Windows"
        ),
        source: io::ErrorKind::Unsupported.into(),
    })
}

/// The Windows Credential Manager, through the Win32 API itself (`windows-sys`,
/// already in Cargo.lock): no extra crate, no helper process, and no command
/// line holding the password, as `cmdkey /pass:` would. The credential is a
/// generic `TERMSRV/<host>` one (what `cmdkey /generic:` makes and mstsc
/// reads), persisted for this logon session only, and deleted on drop.
#[cfg(windows)]
mod credman {
    use std::io;

    use secrecy::{ExposeSecret, SecretString};
    use windows_sys::Win32::Security::Credentials::{
        CRED_PERSIST_SESSION, CRED_TYPE_GENERIC, CREDENTIALW, CredDeleteW, CredWriteW,
    };
    use zeroize::Zeroizing;

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(Some(0)).collect()
    }

    /// A stored credential; dropping it deletes it.
    pub struct StoredCredential {
        target: Vec<u16>,
    }

    pub fn store(target: &str, user: &str, password: &SecretString) -> io::Result<StoredCredential> {
        let mut target_w = wide(target);
        let mut user_w = wide(user);
        // UTF-16LE without a terminator, as mstsc reads it; wiped when dropped.
        let mut blob: Zeroizing<Vec<u8>> = Zeroizing::new(
            password
                .expose_secret()
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        );
        // SAFETY: CREDENTIALW is plain data; all-zero is its empty value.
        let mut cred: CREDENTIALW = unsafe { std::mem::zeroed() };
        cred.Type = CRED_TYPE_GENERIC;
        cred.TargetName = target_w.as_mut_ptr();
        cred.UserName = user_w.as_mut_ptr();
        cred.CredentialBlobSize = blob.len() as u32;
        cred.CredentialBlob = blob.as_mut_ptr();
        cred.Persist = CRED_PERSIST_SESSION;
        // SAFETY: every pointer in `cred` points into a buffer that outlives the call.
        if unsafe { CredWriteW(&cred, 0) } == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(StoredCredential { target: target_w })
    }

    impl Drop for StoredCredential {
        fn drop(&mut self) {
            // SAFETY: `target` is a NUL-terminated UTF-16 string we own.
            if unsafe { CredDeleteW(self.target.as_ptr(), CRED_TYPE_GENERIC, 0) } == 0 {
                tracing::warn!(
                    "could not delete the stored RDP credential: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn target(extra: &[String]) -> RdpTarget<'_> {
        RdpTarget {
            host: "192.0.2.10",
            port: 3390,
            user: "gl-user-remote",
            extra_args: extra,
        }
    }

    fn only(names: &'static [&'static str]) -> impl Fn(&str) -> Option<PathBuf> {
        move |tool| names.contains(&tool).then(|| PathBuf::from(format!("/usr/bin/{tool}")))
    }

    fn args(command: &ClientCommand) -> Vec<&str> {
        command.args.iter().map(|a| a.to_str().unwrap()).collect()
    }

    #[test]
    fn linux_runs_freerdp_with_the_password_on_stdin_never_p() {
        let extra = vec!["+auth-only".to_owned(), "/cert:ignore".to_owned()];
        let RdpPlan::FreeRdp { command } = plan(&target(&extra), ClientOs::Linux, only(&["xfreerdp"])).unwrap() else {
            panic!("not FreeRDP");
        };
        assert_eq!(command.program, Path::new("/usr/bin/xfreerdp"));
        assert_eq!(
            args(&command),
            [
                "/v:192.0.2.10:3390",
                "/u:gl-user-remote",
                "/from-stdin:force",
                "/cert:tofu",
                "+auth-only",
                "/cert:ignore",
            ]
        );
        assert!(!command.display().contains("/p:"));
    }

    #[test]
    fn freerdp_clients_in_order_of_preference() {
        let program = |names: &'static [&'static str]| match plan(&target(&[]), ClientOs::Linux, only(names)) {
            Ok(RdpPlan::FreeRdp { command }) => command.program,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            program(&["sdl-freerdp3", "xfreerdp3", "xfreerdp"]),
            Path::new("/usr/bin/xfreerdp")
        );
        assert_eq!(program(&["sdl-freerdp3", "xfreerdp3"]), Path::new("/usr/bin/xfreerdp3"));
        assert_eq!(program(&["sdl-freerdp3"]), Path::new("/usr/bin/sdl-freerdp3"));
    }

    #[test]
    fn no_client_names_the_package_for_each_os() {
        for (os, needle) in [
            (ClientOs::Linux, "apt-get install freerdp2-x11"),
            (ClientOs::Windows, "mstsc"),
            (ClientOs::MacOs, "Windows App"),
        ] {
            match plan(&target(&[]), os, |_| None) {
                Err(e @ LaunchError::ToolMissing { hint, .. }) => {
                    assert!(hint.contains(needle), "{os:?}: {hint}");
                    assert!(e.to_string().contains(needle));
                }
                other => panic!("{os:?}: {other:?}"),
            }
        }
        assert!(INSTALL_HINT_LINUX.contains("dnf install freerdp"));
        assert!(INSTALL_HINT_LINUX.contains("freerdp3-x11"));
    }

    #[test]
    fn windows_stores_termsrv_credential_and_runs_mstsc() {
        let extra = vec!["/f".to_owned()];
        let plan = plan(&target(&extra), ClientOs::Windows, |t| {
            (t == "mstsc").then(|| PathBuf::from(r"C:\Windows\System32\mstsc.exe"))
        })
        .unwrap();
        let RdpPlan::Mstsc {
            cmdkey_target,
            user,
            command,
        } = plan
        else {
            panic!("not mstsc");
        };
        assert_eq!(cmdkey_target, "TERMSRV/192.0.2.10");
        assert_eq!(user, "gl-user-remote");
        assert_eq!(command.program, Path::new(r"C:\Windows\System32\mstsc.exe"));
        assert_eq!(args(&command), ["/v:192.0.2.10:3390", "/f"]);
    }

    #[test]
    fn macos_writes_an_rdp_file_without_password_and_opens_it() {
        let extra = vec!["screen mode id:i:1".to_owned()];
        let plan = plan(&target(&extra), ClientOs::MacOs, only(&["open"])).unwrap();
        let RdpPlan::MacOpen {
            rdp_file_contents,
            command_program,
        } = &plan
        else {
            panic!("not open");
        };
        assert_eq!(
            rdp_file_contents,
            "full address:s:192.0.2.10:3390\n\
             username:s:gl-user-remote\n\
             prompt for credentials:i:1\n\
             screen mode id:i:1\n"
        );
        assert_eq!(command_program, Path::new("/usr/bin/open"));
        let runtime = Path::new("/run/user/501/gamelift-access");
        let command = plan.command(runtime);
        let file = runtime.join(format!("session.{}.rdp", std::process::id()));
        assert_eq!(args(&command), ["-W", &file.display().to_string()[..]]);
    }

    #[test]
    fn rdp_file_refuses_line_breaks() {
        let extra = vec!["a\nusername:s:other".to_owned()];
        assert!(rdp_file_contents(&target(&extra)).is_err());
        let evil = RdpTarget {
            user: "me\r\nfull address:s:203.0.113.1",
            ..target(&[])
        };
        assert!(plan(&evil, ClientOs::MacOs, only(&["open"])).is_err());
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(host_port("2001:db8::1", 3389), "[2001:db8::1]:3389");
        assert_eq!(host_port("[2001:db8::1]", 3389), "[2001:db8::1]:3389");
        assert_eq!(host_port("10.0.0.1", 3389), "10.0.0.1:3389");
    }

    #[test]
    fn password_pipe_holds_exactly_one_line() {
        use std::io::Read;
        let mut reader = password_pipe(&SecretString::from("Pa55 w.rd!")).unwrap();
        let mut got = String::new();
        reader.read_to_string(&mut got).unwrap();
        assert_eq!(got, "Pa55 w.rd!\n");
        for bad in ["two\nlines", "cr\r", "nul\0", &"x".repeat(512)] {
            let err = password_pipe(&SecretString::from(bad)).unwrap_err();
            assert!(!err.to_string().contains(bad), "error text holds the password");
        }
        assert!(password_pipe(&SecretString::from("x".repeat(511))).is_ok());
    }

    /// A stand-in client: a script that records its stdin and argv.
    #[cfg(unix)]
    fn recorder(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("client");
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn launch_feeds_freerdp_one_password_line_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let client = recorder(
            dir.path(),
            &format!(
                "cat > '{0}.stdin'; printf '%s\\n' \"$@\" > '{0}.argv'; exit 3",
                out.display()
            ),
        );
        let extra = vec!["+auth-only".to_owned()];
        let RdpPlan::FreeRdp { mut command } = plan(&target(&extra), ClientOs::Linux, only(&["xfreerdp"])).unwrap()
        else {
            panic!("not FreeRDP");
        };
        command.program = client;
        let mut signals = Signals::install().unwrap();
        let outcome = launch(
            RdpPlan::FreeRdp { command },
            &SecretString::from("s3cret pass"),
            &mut signals,
            dir.path(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.code, 3);
        assert_eq!(
            fs::read_to_string(dir.path().join("out.stdin")).unwrap(),
            "s3cret pass\n"
        );
        let argv = fs::read_to_string(dir.path().join("out.argv")).unwrap();
        assert!(!argv.contains("s3cret"));
        assert!(argv.contains("/from-stdin:force\n"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn launch_opens_a_0600_rdp_file_and_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = dir.path().join("runtime");
        let out = dir.path().join("seen");
        let open = recorder(
            dir.path(),
            &format!(
                "[ \"$1\" = -W ] || exit 9; stat -c %a \"$2\" > '{0}'; cat \"$2\" >> '{0}'",
                out.display()
            ),
        );
        let plan = RdpPlan::MacOpen {
            rdp_file_contents: rdp_file_contents(&target(&[])).unwrap(),
            command_program: open,
        };
        let mut signals = Signals::install().unwrap();
        let outcome = launch(plan, &SecretString::from("pw"), &mut signals, &runtime)
            .await
            .unwrap();
        assert_eq!(outcome.code, 0);
        let seen = fs::read_to_string(&out).unwrap();
        assert!(seen.starts_with("600\nfull address:s:192.0.2.10:3390\n"), "{seen}");
        assert!(!seen.contains("pw\n"));
        assert_eq!(fs::read_dir(&runtime).unwrap().count(), 0, "file left behind");
    }

    #[cfg(not(windows))]
    #[tokio::test]
    async fn mstsc_is_refused_off_windows() {
        let plan = RdpPlan::Mstsc {
            cmdkey_target: cmdkey_target("192.0.2.10"),
            user: "u".to_owned(),
            command: mstsc_command("mstsc".into(), &target(&[])),
        };
        let mut signals = Signals::install().unwrap();
        let err = launch(plan, &SecretString::from("pw"), &mut signals, Path::new("/nonexistent"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("only on Windows"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn rdp_file_is_0600_refuses_existing_files_and_goes_away() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = rdp_file_path(dir.path());
        let file = PrivateFile::create(&path, &[b"full address:s:x:1\n"]).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_to_string(&path).unwrap(), "full address:s:x:1\n");
        assert!(PrivateFile::create(&path, &[b"again"]).is_err(), "O_EXCL");
        drop(file);
        assert!(!path.exists());
        // A symlink planted at the path is not followed.
        std::os::unix::fs::symlink(dir.path().join("target"), &path).unwrap();
        assert!(PrivateFile::create(&path, &[b"x"]).is_err());
        assert!(!dir.path().join("target").exists());
    }

    /// Windows: the same file, owner-only by its DACL rather than a mode.
    #[cfg(windows)]
    #[test]
    fn rdp_file_is_owner_only_refuses_existing_files_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = rdp_file_path(dir.path());
        let file = PrivateFile::create(&path, &[b"full address:s:x:1\n"]).unwrap();
        assert!(
            crate::winsec::owner_only(&path).unwrap(),
            "{:?}",
            crate::winsec::dacl_sddl(&path)
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "full address:s:x:1\n");
        assert!(PrivateFile::create(&path, &[b"again"]).is_err(), "CREATE_NEW");
        drop(file);
        assert!(!path.exists());
    }
}
