//! `gamelift-access demo`: the whole product on one machine, no AWS account.
//!
//! Starts the GameLift emulator and a real sshd on 127.0.0.1 playing a
//! server SDK 4 Linux instance. With `moto_server` installed the emulator
//! also gets its S3 front, and the demo first ships a small generated build
//! with the real `build upload --wait` and lists it with `builds`. Then it
//! follows a player to their server: `sessions --player` lists where the
//! player is, `logs` unpacks the logs of a game session that ended on that
//! instance, and the real `connect … player:<id>` lands on it. Every step is this same
//! binary, as a child, with throwaway credentials.

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

    /// The emulator, with its S3 front over `moto_server` when that can
    /// start; otherwise without it, and the one line that says why the
    /// build upload step will not run.
    fn start_emulator(fixture: Fixture) -> Result<(Emulator, Option<String>)> {
        let started = |e: std::io::Error| Error::Other(format!("cannot start the emulator: {e}"));
        match Emulator::start_with_s3(fixture.clone()) {
            Ok(emulator) => Ok((emulator, None)),
            Err(e) => {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "it needs moto_server for S3: pip install 'moto[server]'".to_owned()
                } else {
                    format!("cannot start moto_server for S3: {e}")
                };
                let emulator = Emulator::start(fixture).map_err(started)?;
                Ok((emulator, Some(format!("demo: skipping the build upload step: {why}"))))
            }
        }
    }

    /// A small server build: an executable, its config, and some data.
    fn write_demo_build(dir: &std::path::Path) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        for sub in ["bin", "config", "data"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let server = dir.join("bin/demo-server");
        std::fs::write(&server, "#!/bin/sh\necho \"demo game server, port ${1:-7777}\"\n")?;
        std::fs::set_permissions(&server, std::fs::Permissions::from_mode(0o755))?;
        std::fs::write(
            dir.join("config/server.json"),
            "{\n  \"port\": 7777,\n  \"max_players\": 16,\n  \"map\": \"demo\"\n}\n",
        )?;
        let level: String = (0..2000).map(|i| format!("tile {i} {}\n", i % 7)).collect();
        std::fs::write(dir.join("data/level-1.txt"), level)?;
        std::fs::write(dir.join("README.txt"), "Uploaded by `gamelift-access demo`.\n")?;
        Ok(())
    }

    /// The environment of every child: throwaway credentials for the
    /// emulator (nothing of the user's is used or sent anywhere) and the
    /// demo's own runtime, data, cache and state dirs (the demo fleet stays
    /// out of the user's).
    fn demo_env(cmd: &mut tokio::process::Command, work: &std::path::Path, s3: Option<&str>) {
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
        ] {
            cmd.env_remove(var);
        }
        for (var, dir) in [
            ("XDG_RUNTIME_DIR", "runtime"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_CACHE_HOME", "cache"),
            ("XDG_STATE_HOME", "state"),
        ] {
            cmd.env(var, work.join(dir));
        }
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDGAMELIFTDEMO0000")
            .env("AWS_SECRET_ACCESS_KEY", "demo-secret-access-key")
            .env("AWS_CONFIG_FILE", work.join("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", work.join("aws-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if let Some(s3) = s3 {
            cmd.env("AWS_ENDPOINT_URL_S3", s3);
        }
    }

    /// This program with `args`, pointed at the emulator, with the
    /// caller's `-v`/`--debug`.
    fn this_program(global: &GlobalArgs, emulator: &Emulator, args: &[&str]) -> Result<ClientCommand> {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend(
            ["--endpoint-url", &emulator.endpoint(), "--region", "us-west-2"]
                .iter()
                .map(Into::into),
        );
        all.extend(std::iter::repeat_n("-v".into(), usize::from(global.verbose)));
        if global.debug {
            all.push("--debug".into());
        }
        Ok(ClientCommand {
            program: std::env::current_exe().map_err(|e| Error::Other(format!("cannot find this program: {e}")))?,
            args: all,
        })
    }

    /// Uploads the demo build with `build upload --wait`, then lists builds.
    /// Their output goes to stderr with the demo's narration: stdout stays
    /// the remote command's, as with `connect`. `Ok(Some(outcome))` when a
    /// step failed or was interrupted: the demo ends there.
    async fn upload_step(
        global: &GlobalArgs,
        emulator: &Emulator,
        work: &std::path::Path,
        signals: &mut Signals,
    ) -> Result<Option<launch::Outcome>> {
        let s3 = emulator.s3_endpoint();
        let build_dir = work.join("build");
        write_demo_build(&build_dir).map_err(|e| Error::Other(format!("cannot write the demo build: {e}")))?;
        let build_dir = build_dir.to_string_lossy().into_owned();
        let steps = [
            this_program(
                global,
                emulator,
                &[
                    "build",
                    "upload",
                    &build_dir,
                    "--name",
                    "demo-server",
                    "--build-version",
                    "1.0.0",
                    "--operating-system",
                    "AMAZON_LINUX_2023",
                    "--wait",
                ],
            )?,
            this_program(global, emulator, &["builds"])?,
        ];
        eprintln!(
            "demo: S3 front on {}, over moto_server",
            s3.as_deref().unwrap_or_default()
        );
        run_steps(&steps, work, s3.as_deref(), signals).await
    }

    /// A player reported lag: find their game session, and read the logs
    /// of the session that ended on the same instance before it (connect
    /// then follows `player:<id>` to the instance).
    async fn player_steps(
        global: &GlobalArgs,
        emulator: &Emulator,
        work: &std::path::Path,
        signals: &mut Signals,
    ) -> Result<Option<launch::Outcome>> {
        let logs_dir = work.join("logs").to_string_lossy().into_owned();
        let steps = [
            this_program(
                global,
                emulator,
                &["sessions", sample::LINUX_SDK4_FLEET, "--player", sample::PLAYER],
            )?,
            this_program(
                global,
                emulator,
                &[
                    "logs",
                    sample::LINUX_SDK4_FLEET,
                    sample::PLAYER_ENDED_SESSION,
                    "--out",
                    &logs_dir,
                ],
            )?,
        ];
        run_steps(&steps, work, None, signals).await
    }

    /// Runs each step in turn, its stdout on stderr with the narration;
    /// `Ok(Some(outcome))` for the first that fails or is interrupted.
    async fn run_steps(
        steps: &[ClientCommand],
        work: &std::path::Path,
        s3: Option<&str>,
        signals: &mut Signals,
    ) -> Result<Option<launch::Outcome>> {
        use std::os::fd::AsFd;

        for step in steps {
            eprintln!("demo: running {}", step.display());
            let outcome = launch::run_with(step, signals, |cmd| {
                demo_env(cmd, work, s3);
                if let Ok(stderr) = std::io::stderr().as_fd().try_clone_to_owned() {
                    cmd.stdout(std::process::Stdio::from(stderr));
                }
            })
            .await?;
            if outcome.code != 0 || outcome.interrupted.is_some() {
                eprintln!("demo: that step exited {}; stopping here", outcome.code);
                return Ok(Some(outcome));
            }
        }
        Ok(None)
    }

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
        let (emulator, no_upload) = start_emulator(fixture)?;

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
        let player = format!("player:{}", sample::PLAYER);
        let mut connect_args = vec!["connect", sample::LINUX_SDK4_FLEET, &player, "--port"];
        let port = sshd.port().to_string();
        connect_args.push(&port);
        let mut connect = this_program(global, &emulator, &connect_args)?;
        if !remote.is_empty() {
            connect.args.push("--".into());
            connect.args.extend(remote.into_iter().map(Into::into));
        }

        eprintln!("demo: GameLift emulator on {}", emulator.endpoint());
        eprintln!(
            "demo: fleet instance {} played by sshd on 127.0.0.1:{}",
            sample::LINUX_SDK4_INSTANCE,
            sshd.port()
        );
        match &no_upload {
            Some(line) => eprintln!("{line}"),
            None => {
                if let Some(outcome) = upload_step(global, &emulator, work.path(), &mut signals).await? {
                    drop(sshd);
                    drop(emulator);
                    return match outcome.interrupted {
                        Some(sig) => Err(sig.into()),
                        None => Ok(outcome.code),
                    };
                }
            }
        }
        if let Some(outcome) = player_steps(global, &emulator, work.path(), &mut signals).await? {
            drop(sshd);
            drop(emulator);
            return match outcome.interrupted {
                Some(sig) => Err(sig.into()),
                None => Ok(outcome.code),
            };
        }
        eprintln!("demo: running {}", connect.display());
        if interactive {
            eprintln!("demo: you get a shell on the demo instance as {user}; type `exit` to leave");
        }
        let outcome = launch::run_with(&connect, &mut signals, |cmd| demo_env(cmd, work.path(), None)).await?;
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
