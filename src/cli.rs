//! Command-line interface: clap derive definitions only. Behaviour lives in
//! `commands/`, one file per subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// One command onto an Amazon GameLift fleet instance.
///
/// gamelift-access asks GameLift for access to an instance, puts the secret it
/// returns where the client needs it (and nowhere else), runs the client, and
/// removes the secret when the session ends, however it ends.
#[derive(Debug, Parser)]
#[command(name = "gamelift-access", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand. They follow the AWS CLI's names so that
/// muscle memory carries over.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Use a named profile from your AWS config (like `aws --profile`).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region to use. A fleet ARN's own region wins over this.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Send GameLift requests to this URL instead of the AWS endpoint
    /// (like `aws --endpoint-url`; `AWS_ENDPOINT_URL_GAMELIFT` and
    /// `AWS_ENDPOINT_URL` are honoured too).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Format of results on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// More diagnostics on stderr (-v: this tool, -vv: also the AWS SDK).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Debug diagnostics from this tool and the AWS SDK on stderr. Secrets are
    /// never printed, at any level.
    #[arg(long, global = true)]
    pub debug: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a shell on a fleet instance (ssh for server SDK 4 Linux fleets).
    Connect(ConnectArgs),

    /// Try it without an AWS account: a local GameLift emulator and a local
    /// sshd on 127.0.0.1, and a real `connect` between them.
    #[cfg(feature = "emulator")]
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Fleet: a fleet ID (fleet-…, containerfleet-…) or a fleet ARN.
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// Instance: an instance ID (i-…).
    #[arg(value_name = "INSTANCE")]
    pub instance: String,

    /// Port to connect to on the instance.
    #[arg(long, value_name = "N", default_value_t = 22)]
    pub port: u16,

    /// Log in as this user instead of the one GameLift returns.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Print the ssh command that would run, then stop: no key is written and
    /// no connection is made.
    #[arg(long)]
    pub print: bool,

    /// Command to run on the instance, after `--`, exactly as ssh takes it.
    #[arg(last = true, value_name = "REMOTE COMMAND")]
    pub remote_command: Vec<String>,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Command to run on the demo instance, after `--` (default: an
    /// interactive shell on a terminal, `id; uname -a` otherwise).
    #[arg(last = true, value_name = "REMOTE COMMAND")]
    pub remote_command: Vec<String>,
}
