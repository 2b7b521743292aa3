//! `gamelift-emulator [--port N] [--fixture FILE.json]`
//!
//! Serves the GameLift emulator on 127.0.0.1 until SIGINT or SIGTERM, for
//! pointing the `aws` CLI or a manual `gamelift-access` run at it. Prints
//! `listening on http://127.0.0.1:PORT` once the socket accepts connections,
//! so scripts can wait for that line.

use std::io::Write;
use std::process::ExitCode;

use gamelift_emulator::{Emulator, Fixture};

const USAGE: &str = "usage: gamelift-emulator [--port N] [--fixture FILE.json]\n\
\n\
Serves an emulated Amazon GameLift API (RPC v2 CBOR and awsJson1_1), SSM\n\
StartSession/TerminateSession and GET /checkip on 127.0.0.1. Without\n\
--fixture, serves the built-in sample account (us-west-2).\n\
--port 0 (the default) picks a free port.";

struct Args {
    port: u16,
    fixture: Option<String>,
}

/// Hand-rolled because two flags do not justify a parser dependency.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args { port: 0, fixture: None };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let v = value("--port")?;
                parsed.port = v.parse().map_err(|_| format!("--port: '{v}' is not a port number"))?;
            }
            "--fixture" => parsed.fixture = Some(value("--fixture")?),
            other => return Err(format!("unexpected argument '{other}'")),
        }
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("gamelift-emulator: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let fixture = match &args.fixture {
        Some(path) => match Fixture::from_file(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gamelift-emulator: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Fixture::sample(),
    };
    let emulator = match Emulator::start_on(fixture, args.port) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gamelift-emulator: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };

    let mut stdout = std::io::stdout();
    // If stdout is closed there is nobody to tell; keep serving regardless.
    let _ = writeln!(stdout, "listening on {}", emulator.endpoint());
    let _ = stdout.flush();

    if let Err(e) = wait_for_signal() {
        eprintln!("gamelift-emulator: cannot wait for signals: {e}");
        return ExitCode::FAILURE;
    }
    drop(emulator);
    ExitCode::SUCCESS
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_signal() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await
        }
    })
}
