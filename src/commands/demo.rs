//! `gamelift-access demo`: the whole product on one machine, no AWS account.
//!
//! Starts the GameLift emulator and a real sshd on 127.0.0.1 playing a
//! server SDK 4 Linux instance, then runs the real `connect` (this same
//! binary, as a child) against them with throwaway credentials.

/// The demo's instance is a local OpenSSH sshd, which Windows does not run
/// the way the demo needs (in the foreground, as the user).
#[cfg(not(unix))]
pub async fn run(_global: &crate::cli::GlobalArgs, _args: crate::cli::DemoArgs) -> crate::error::Result<u8> {
    Err(crate::error::Error::Usage(
        "demo needs Linux or macOS: it plays the fleet instance with a local OpenSSH sshd\n  \
         on Windows, run `connect` against a fleet, or the demo on a Linux or macOS machine"
            .into(),
    ))
}

#[cfg(unix)]
pub use unix::run;

#[cfg(unix)]
mod unix {
    use std::io::IsTerminal;

    use gamelift_emulator::sshd::{LocalSshd, current_user};
    use gamelift_emulator::{Emulator, Fixture, fixture::sample};

    use crate::cli::{DemoArgs, GlobalArgs};
    use crate::error::{Error, Result};
    use crate::launch::{self, ClientCommand, LaunchError};
    use crate::signals::Signals;

    const SSHD_HINT: &str =
        "the demo plays the instance with a local sshd: apt-get install openssh-server (Debian/Ubuntu)";

    pub async fn run(global: &GlobalArgs, args: DemoArgs) -> Result<u8> {
        let mut signals =
            Signals::install().map_err(|e| Error::Other(format!("cannot install signal handlers: {e}")))?;
        if gamelift_emulator::sshd::find_sshd().is_none() {
            return Err(LaunchError::ToolMissing {
                tool: "sshd",
                hint: SSHD_HINT,
            }
            .into());
        }
        launch::find("ssh-keygen", launch::ssh::INSTALL_HINT)?;

        let work = tempfile::Builder::new()
            .prefix("gamelift-access-demo-")
            .tempdir()
            .map_err(|e| Error::Other(format!("cannot make a temporary directory: {e}")))?;
        let sshd = LocalSshd::start(work.path(), &work.path().join("ssh_host_ed25519_key"))
            .map_err(|e| Error::Other(format!("cannot start the demo sshd: {e}")))?;
        let user = current_user().map_err(|e| Error::Other(format!("cannot tell who you are: {e}")))?;

        let mut fixture = Fixture::sample();
        let instance = fixture
            .instance_mut(sample::LINUX_SDK4_INSTANCE)
            .expect("the sample has this instance");
        instance.ip_address = "127.0.0.1".into();
        instance.user_name = user.clone();
        instance.secret = sshd.instance_key_pem().to_owned();
        let emulator = Emulator::start(fixture).map_err(|e| Error::Other(format!("cannot start the emulator: {e}")))?;

        // Empty AWS config files: the demo must not read (or warn about) yours.
        for file in ["aws-config", "aws-credentials"] {
            std::fs::write(work.path().join(file), "")
                .map_err(|e| Error::Other(format!("cannot write the demo's AWS config: {e}")))?;
        }
        for dir in ["runtime", "data", "cache", "state"] {
            crate::dirs::ensure_private_dir(&work.path().join(dir))
                .map_err(|e| Error::Other(format!("cannot make the demo's directories: {e}")))?;
        }
        let interactive = std::io::stdin().is_terminal() && args.remote_command.is_empty();
        let remote: Vec<String> = if args.remote_command.is_empty() && !interactive {
            vec!["echo \"connected to $(hostname) as $(id -un) over ssh, with a key from GetInstanceAccess\"".into()]
        } else {
            args.remote_command
        };
        let mut connect_args: Vec<std::ffi::OsString> = vec![
            "connect".into(),
            sample::LINUX_SDK4_FLEET.into(),
            sample::LINUX_SDK4_INSTANCE.into(),
            "--port".into(),
            sshd.port().to_string().into(),
            "--endpoint-url".into(),
            emulator.endpoint().into(),
            "--region".into(),
            "us-west-2".into(),
        ];
        connect_args.extend(std::iter::repeat_n("-v".into(), usize::from(global.verbose)));
        if global.debug {
            connect_args.push("--debug".into());
        }
        if !remote.is_empty() {
            connect_args.push("--".into());
            connect_args.extend(remote.into_iter().map(Into::into));
        }
        let program = std::env::current_exe().map_err(|e| Error::Other(format!("cannot find this program: {e}")))?;
        let connect = ClientCommand {
            program,
            args: connect_args,
        };

        eprintln!("demo: GameLift emulator on {}", emulator.endpoint());
        eprintln!(
            "demo: fleet instance {} played by sshd on 127.0.0.1:{}",
            sample::LINUX_SDK4_INSTANCE,
            sshd.port()
        );
        eprintln!("demo: running {}", connect.display());
        if interactive {
            eprintln!("demo: you get a shell on the demo instance as {user}; type `exit` to leave");
        }
        let outcome = launch::run_with(&connect, &mut signals, |cmd| {
            // Throwaway credentials for the emulator; nothing of yours is used or sent anywhere.
            for var in [
                "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE",
                "AWS_SESSION_TOKEN",
                "AWS_SECURITY_TOKEN",
            ] {
                cmd.env_remove(var);
            }
            // Its own runtime, data, cache and state dirs: the demo fleet stays out of yours.
            for (var, dir) in [
                ("XDG_RUNTIME_DIR", "runtime"),
                ("XDG_DATA_HOME", "data"),
                ("XDG_CACHE_HOME", "cache"),
                ("XDG_STATE_HOME", "state"),
            ] {
                cmd.env(var, work.path().join(dir));
            }
            cmd.env("AWS_ACCESS_KEY_ID", "AKIDGAMELIFTDEMO0000")
                .env("AWS_SECRET_ACCESS_KEY", "demo-secret-access-key")
                .env("AWS_CONFIG_FILE", work.path().join("aws-config"))
                .env("AWS_SHARED_CREDENTIALS_FILE", work.path().join("aws-credentials"))
                .env("AWS_EC2_METADATA_DISABLED", "true");
        })
        .await?;
        let calls = emulator.calls();
        eprintln!(
            "demo: connect exited {}; GameLift calls: {}",
            outcome.code,
            calls
                .iter()
                .map(|c| format!("{} ({})", c.operation, c.status))
                .collect::<Vec<_>>()
                .join(", ")
        );
        drop(sshd);
        drop(emulator);
        match outcome.interrupted {
            Some(sig) => Err(sig.into()),
            None => Ok(outcome.code),
        }
    }
}
