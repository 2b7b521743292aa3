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

    /// Add the `many` fleet (server SDK 4 Linux) with N instances over three
    /// locations, all at 127.0.0.1 (see Fixture::with_many_instances).
    #[arg(long, value_name = "N")]
    many_instances: Option<usize>,

    /// With --many-instances: the login user of its instances.
    #[arg(long, value_name = "USER", default_value = "gl-user-remote")]
    many_user: String,

    /// With --many-instances: a file holding the private key its instances
    /// hand out through GetInstanceAccess (PEM).
    #[arg(long, value_name = "FILE")]
    many_key: Option<String>,

    /// Throttle an operation above a call rate, as GameLift does:
    /// OPERATION=PER_SECOND[/BURST], e.g. GetInstanceAccess=20/10 (repeatable).
    #[arg(long, value_name = "OP=RATE[/BURST]")]
    rate_limit: Vec<String>,

    /// Keep FILE holding the number of requests served so far (rewritten
    /// every 50 ms), for benchmarks that count calls.
    #[arg(long, value_name = "FILE")]
    count_calls: Option<std::path::PathBuf>,

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
    let fixture = match args.many_instances {
        Some(n) => {
            let key = match args.many_key.as_deref().map(std::fs::read_to_string).transpose() {
                Ok(key) => key.unwrap_or_default(),
                Err(e) => {
                    eprintln!("gamelift-emulator: cannot read --many-key: {e}");
                    return ExitCode::FAILURE;
                }
            };
            fixture.with_many_instances(n, &args.many_user, &key)
        }
        None => fixture,
    };
    let mut limits = vec![];
    for spec in &args.rate_limit {
        let parsed = spec.split_once('=').and_then(|(op, rate)| {
            let (per_second, burst) = rate.split_once('/').unwrap_or((rate, "1"));
            Some((
                op.to_owned(),
                per_second.parse::<f64>().ok()?,
                burst.parse::<u32>().ok()?,
            ))
        });
        match parsed {
            Some(limit) => limits.push(limit),
            None => {
                eprintln!("gamelift-emulator: --rate-limit {spec}: expected OPERATION=PER_SECOND[/BURST]");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut fixture = fixture;
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

    for (op, per_second, burst) in &limits {
        emulator.set_rate_limit(op, *per_second, *burst);
    }
    let emulator = std::sync::Arc::new(emulator);
    let counter = args.count_calls.clone().map(|path| {
        let emulator = std::sync::Arc::clone(&emulator);
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let tmp = path.with_extension("tmp");
            loop {
                let count = emulator.calls().len();
                if std::fs::write(&tmp, format!("{count}\n"))
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .is_err()
                {
                    return;
                }
                if stopped.recv_timeout(std::time::Duration::from_millis(50)).is_ok() {
                    return;
                }
            }
        });
        (stop, thread)
    });
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
    if let Some((stop, thread)) = counter {
        let _ = stop.send(());
        let _ = thread.join();
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
