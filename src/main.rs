//! gamelift-access: one command onto an Amazon GameLift fleet instance.
//!
//! The pipeline is `resolve → obtain → deliver → launch → clean up`, one
//! module per step; `commands/` holds one file per subcommand and
//! `error.rs` is the one place errors become messages and exit codes.

mod agent;
mod aws;
mod bucketkeys;
mod cli;
mod commands;
mod deliver;
mod dirs;
mod error;
mod fanout;
mod launch;
mod obtain;
mod output;
mod ports;
mod resolve;
mod sessions;
mod signals;
mod upload;
#[cfg(windows)]
mod winsec;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let daemon = matches!(&cli.command, Command::Agent(a) if matches!(a.command, cli::AgentCommand::Run { .. }));
    init_tracing(&cli.global, daemon);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gamelift-access: cannot start the async runtime: {e}");
            return ExitCode::from(error::code::SOFTWARE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Connect(args) => commands::connect::run(&cli.global, args).await,
            Command::Fleets(args) => commands::fleets::run(&cli.global, args).await,
            Command::Instances(args) => commands::instances::run(&cli.global, args).await,
            Command::Sessions(args) => commands::sessions::run(&cli.global, args).await,
            Command::Logs(args) => commands::logs::run(&cli.global, args).await,
            Command::Ports(args) => commands::ports::run(&cli.global, args).await,
            Command::Cp(args) => commands::cp::run(&cli.global, args).await,
            Command::Run(args) => commands::run::run(&cli.global, args).await,
            Command::Agent(args) => commands::agent::run(&cli.global, args).await,
            Command::Proxy(args) => commands::proxy::run(&cli.global, args).await,
            Command::SshConfig(args) => commands::ssh_config::run(&cli.global, args),
            Command::BucketKey(args) => commands::bucket_key::run(&cli.global, args).await,
            Command::Build(args) => commands::build::run(&cli.global, args).await,
            Command::Builds => commands::build::list(&cli.global).await,
            Command::Completions { shell } => commands::generate::completions(shell),
            Command::Manpage => commands::generate::manpage(),
            #[cfg(feature = "emulator")]
            Command::Demo(args) => commands::demo::run(&cli.global, args).await,
        }
    });
    // Every guard (key files, child processes) has been dropped by now. A
    // picker still waiting for a key on its blocking thread (a signal ended
    // the run) must not hold the exit up, as dropping the runtime would.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if matches!(err, error::Error::Interrupted { .. }) && std::io::stderr().is_terminal() {
                // A signal may have cut the picker off with the cursor hidden.
                let _ = dialoguer::console::Term::stderr().show_cursor();
            }
            eprintln!("gamelift-access: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Diagnostics go to stderr. `-v` shows this tool's debug lines, `-vv` and
/// `--debug` add the AWS SDK's; `GAMELIFT_ACCESS_LOG` takes an `EnvFilter`
/// for anything finer. Colour only on a terminal, and never with `NO_COLOR`.
///
/// aws-config's own warnings are left to `-vv`: off EC2 it warns, with a
/// screenful of HTTP debug output, that the instance metadata service gave
/// no region, just before our own error says how to set one.
///
/// The agent daemon (`agent run`) logs to a file unless its stderr is the
/// journal or a terminal (`agent/log.rs`). No failed write ends a process:
/// a line that cannot be written is dropped.
///
/// Whatever the filter says, the AWS SDK's TRACE lines are dropped (see
/// [`sdk_trace`]): they print every response and its deserialised output,
/// which for CreateBucketAccessKey, GetInstanceAccess, GetComputeAccess and
/// the upload credentials is a secret.
fn init_tracing(global: &cli::GlobalArgs, daemon: bool) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let default = match (global.debug, global.verbose) {
        (true, _) | (_, 2..) => "debug",
        (_, 1) => "warn,aws_config=error,gamelift_access=debug",
        _ => "warn,aws_config=error",
    };
    let filter = EnvFilter::try_from_env("GAMELIFT_ACCESS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let writer = if daemon {
        agent::log::log_panics();
        agent::log::daemon_writer()
    } else {
        agent::log::Writer
    };
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .log_internal_errors(false)
        .with_ansi(color)
        .with_target(global.debug || global.verbose > 0)
        .without_time();
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::filter::filter_fn(|meta| !sdk_trace(meta)))
        .with(fmt)
        .init();
}

/// Whether `meta` is a TRACE line (or span) of the AWS SDK or its HTTP
/// stack. The smithy orchestrator logs at TRACE the raw response
/// ("received response from service"), the response body (always, with
/// `LOG_SENSITIVE_BODIES` set) and the deserialised output, whose `Debug`
/// shows fields the service model does not mark sensitive, such as
/// CreateBucketAccessKey's `secretAccessKey`. No filter may turn that on,
/// so these targets stop at DEBUG, which logs neither.
fn sdk_trace(meta: &tracing::Metadata<'_>) -> bool {
    const SDK: [&str; 4] = ["aws_", "hyper", "h2", "rustls"];
    *meta.level() == tracing::Level::TRACE && SDK.iter().any(|p| meta.target().starts_with(p))
}
