//! `gamelift-emulator [--port N] [--fixture FILE.json] | --print-sample`
//!
//! Serves the GameLift emulator on 127.0.0.1 until SIGINT or SIGTERM, for
//! pointing the `aws` CLI or a manual `gamelift-access` run at it. Prints
//! `listening on http://127.0.0.1:PORT` once the socket accepts connections,
//! so scripts can wait for that line.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use gamelift_emulator::{Emulator, Fixture};

/// Serves an emulated Amazon GameLift API (RPC v2 CBOR and awsJson1_1), SSM
/// StartSession/TerminateSession and GET /checkip on 127.0.0.1, until SIGINT
/// or SIGTERM. Without --fixture it serves the built-in sample account
/// (us-west-2).
#[derive(Debug, Parser)]
#[command(name = "gamelift-emulator", version)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// A JSON fixture of fleets, builds, instances, computes, aliases and
    /// game sessions (see --print-sample for the format).
    #[arg(long, value_name = "FILE.json")]
    fixture: Option<String>,

    /// Also serve an S3 front on this port (0 picks a free one), backed by a
    /// `moto_server` child (pip install 'moto[server]'); prints
    /// `s3 on http://127.0.0.1:PORT` after the listening line.
    #[arg(long, value_name = "PORT")]
    s3_port: Option<u16>,

    /// Lifetime of issued upload credentials, in seconds (overrides the
    /// fixture's upload_credentials_lifetime_secs; default 3600).
    #[arg(long, value_name = "SECS")]
    upload_credentials_lifetime: Option<u64>,

    /// Print the built-in sample fixture as JSON, a starting point for your
    /// own, and exit.
    #[arg(long, conflicts_with_all = ["port", "fixture", "s3_port", "upload_credentials_lifetime"])]
    print_sample: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_sample {
        println!("{}", Fixture::sample().to_json_string());
        return ExitCode::SUCCESS;
    }
    let mut fixture = match &args.fixture {
        Some(path) => match Fixture::from_file(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gamelift-emulator: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Fixture::sample(),
    };
    if let Some(secs) = args.upload_credentials_lifetime {
        fixture.upload_credentials_lifetime_secs = Some(secs);
    }
    let started = match args.s3_port {
        Some(s3_port) => Emulator::start_with_s3_on(fixture, args.port, s3_port),
        None => Emulator::start_on(fixture, args.port),
    };
    let emulator = match started {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gamelift-emulator: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };

    let mut stdout = std::io::stdout();
    // If stdout is closed there is nobody to tell; keep serving regardless.
    let _ = writeln!(stdout, "listening on {}", emulator.endpoint());
    if let Some(s3) = emulator.s3_endpoint() {
        let _ = writeln!(stdout, "s3 on {s3}");
    }
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
