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

    /// How long one attempt may wait for AWS's answer before it is retried
    /// (like `aws --cli-read-timeout`); a stalled endpoint never hangs us.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30)]
    pub cli_read_timeout: u64,

    /// How long to wait for a connection to AWS (like `aws --cli-connect-timeout`).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10)]
    pub cli_connect_timeout: u64,

    /// Format of results on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// More diagnostics on stderr (-v: this tool, -vv: also the AWS SDK).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Debug diagnostics from this tool and the AWS SDK on stderr. Secrets are
    /// never printed, at any level.
    #[arg(long, global = true)]
    pub debug: bool,
}

impl GlobalArgs {
    /// The AWS options as plain values, for the layers that call AWS.
    pub fn aws(&self) -> crate::aws::AwsOptions {
        crate::aws::AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            read_timeout: self.cli_read_timeout,
            connect_timeout: self.cli_connect_timeout,
        }
    }

    /// `--profile`, `--region` and `--endpoint-url` as given, shell-quoted,
    /// each with a leading space: for a command we print for the user to
    /// run, which must reach the same account and endpoint when followed.
    pub fn aws_flags(&self) -> String {
        let mut flags = String::new();
        for (flag, value) in [
            ("--profile", &self.profile),
            ("--region", &self.region),
            ("--endpoint-url", &self.endpoint_url),
        ] {
            if let Some(value) = value {
                let quoted = shlex::try_quote(value).map_or_else(|_| value.clone(), |q| q.into_owned());
                flags.push_str(&format!(" {flag} {quoted}"));
            }
        }
        flags
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    #[value(alias = "text")]
    Table,
    /// JSON for programs.
    Json,
}

/// `--sdk 4|5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SdkArg {
    #[value(name = "4")]
    V4,
    #[value(name = "5")]
    V5,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a session on a fleet instance: ssh, RDP or SSM, whichever it needs.
    Connect(ConnectArgs),

    /// List the fleets in a region: ID, name, status, compute type, OS, SDK
    /// generation and locations.
    Fleets(FleetsArgs),

    /// List a fleet's instances (or computes) in every location.
    Instances(InstancesArgs),

    /// List a fleet's game sessions in every location (or a player's
    /// sessions): ID, status, location, hosting instance, address, players, age.
    Sessions(SessionsArgs),

    /// Download and unpack the logs GameLift stored for an ended game
    /// session (kept 14 days), found by game session, player session or player.
    Logs(LogsArgs),

    /// Inbound port permissions: list them, or close what a killed run left open.
    Ports(PortsArgs),

    /// Copy files to or from an instance with scp: `<instance>.<fleet>.gamelift:<path>`.
    Cp(CpArgs),

    /// Run a command on every instance of a fleet (or those chosen), in parallel.
    Run(RunArgs),

    /// The helper daemon: an ssh-agent that keeps instance keys in memory
    /// only, so connect writes no key file and reconnects without an API call.
    Agent(AgentArgs),

    /// ssh's ProxyCommand for `<instance>.<fleet>.gamelift` hosts: gets the
    /// key into the agent (starting it if needed) and relays to the instance.
    Proxy(ProxyArgs),

    /// Print the ssh_config block for `*.gamelift` hosts, or --install it
    /// into ~/.ssh/config (an Include between marker lines).
    SshConfig(SshConfigArgs),

    /// Lightsail bucket access keys whose one-time secret is never lost:
    /// create, list, rotate, delete, and hand them to the AWS CLI and SDKs.
    #[command(name = "bucket-key")]
    BucketKey(BucketKeyArgs),

    /// Build uploads: upload a directory as a build, or hand its upload
    /// credentials to another tool.
    Build(BuildArgs),

    /// List the region's builds: ID, name, version, status, OS, SDK, size, age.
    Builds,

    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff) to stdout.
    Manpage,

    /// Try it without an AWS account: a local GameLift emulator and a local
    /// sshd on 127.0.0.1, a real `build upload` (with moto_server
    /// installed) and a real `connect` between them.
    #[cfg(feature = "emulator")]
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Fleet: a fleet ID or ARN, an alias ID or ARN, or a fleet or alias name.
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// Instance: an instance ID, a compute name, an IP address or DNS name,
    /// a game session ID or ARN, a player session ID (psess-…) or
    /// player:<PlayerId>. Omitted: pick from a list (on a terminal).
    #[arg(value_name = "INSTANCE")]
    pub instance: Option<String>,

    /// Port to connect to on the instance (ssh: 22, RDP: 3389).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Log in as this user instead of the one GameLift returns.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Server SDK generation, instead of asking the fleet's build: 4 uses
    /// GetInstanceAccess (ssh/RDP), 5 uses GetComputeAccess (SSM).
    #[arg(long, value_enum, value_name = "4|5")]
    pub sdk: Option<SdkArg>,

    /// On a container fleet, open a shell inside this container
    /// (`docker exec`) rather than on the instance.
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,

    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,

    /// Open the session's port (TCP) in the fleet's inbound permissions for
    /// your IP only, for the length of the session, and close it afterwards.
    #[arg(long)]
    pub open_port: bool,

    /// With --open-port: open it to this address or CIDR instead of the
    /// public IP that --ip-lookup-url reports. 0.0.0.0/0 or ::/0 only if you
    /// really mean everyone.
    #[arg(long, value_name = "CIDR", requires = "open_port")]
    pub cidr: Option<String>,

    /// With --open-port: where to ask for your public IP.
    #[arg(
        long,
        value_name = "URL",
        env = "GAMELIFT_ACCESS_IP_LOOKUP_URL",
        default_value = crate::ports::DEFAULT_LOOKUP_URL
    )]
    pub ip_lookup_url: String,

    /// With --open-port: how long to wait for GameLift to apply the rule.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub open_port_timeout: u64,

    /// Windows: put the password on the clipboard instead of showing it on
    /// the terminal; it is cleared after SECS seconds (default 45), or when
    /// the session ends if that is sooner.
    #[arg(long, value_name = "SECS", num_args = 0..=1, default_missing_value = "45", conflicts_with = "show_password")]
    pub copy: Option<u64>,

    /// Windows: print the password alone on stdout and stop, for scripts
    /// (with --output json: the whole access record, password included).
    #[arg(long)]
    pub show_password: bool,

    /// Print the command that would run, then stop: no secret is written and
    /// no connection is made.
    #[arg(long)]
    pub print: bool,

    /// Pass FLAG to ssh, before the destination (repeatable; gcloud's
    /// convention): `-A`, `-v`, `-o ServerAliveInterval=30`. Flags that would
    /// override the key or host-key checking (-i, IdentitiesOnly,
    /// UserKnownHostsFile, StrictHostKeyChecking, …) are refused.
    #[arg(long = "ssh-flag", value_name = "FLAG", allow_hyphen_values = true)]
    pub ssh_flags: Vec<String>,

    /// Forward LOCAL_PORT on this machine to HOST:PORT as seen from the
    /// instance (repeatable). BIND defaults to 127.0.0.1. ssh `-L` on SDK 4
    /// fleets; an SSM port-forwarding session on SDK 5 fleets.
    #[arg(long, value_name = "[BIND:]LOCAL_PORT:HOST:PORT")]
    pub forward: Vec<String>,

    /// With --forward: forward only, no shell (ssh -N) until Ctrl-C.
    #[arg(long, requires = "forward")]
    pub forward_only: bool,
    /// Do not use a running agent: write the key to a private file for the
    /// session, and call GetComputeAccess afresh, as when no agent runs.
    #[arg(long)]
    pub no_agent: bool,

    /// After `--`: for ssh, the command to run on the instance, exactly as
    /// ssh takes it; for SSM, a command run through
    /// AWS-StartNonInteractiveCommand; for RDP, arguments for the RDP
    /// client, as-is.
    #[arg(last = true, value_name = "ARGS")]
    pub remote_command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Copy directories recursively.
    #[arg(short, long)]
    pub recursive: bool,

    /// Port of sshd on the instance (default 22).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Log in as this user instead of the one GameLift returns.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,

    /// Sources then the destination. Exactly one side is remote, written
    /// `<instance>.<fleet>.gamelift:<path>` (instance and fleet: any
    /// reference `connect` takes, e.g. `i-0123….fleet-1a2b….gamelift:/tmp`).
    #[arg(value_name = "SRC… DST", num_args = 2.., required = true)]
    pub paths: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Fleet: a fleet ID or ARN, an alias ID or ARN, or a fleet or alias name.
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// Only this instance (repeatable; any reference `connect` takes).
    #[arg(long = "instance", value_name = "REF")]
    pub instances: Vec<String>,

    /// Only instances in this location (repeatable).
    #[arg(long = "location", value_name = "LOCATION")]
    pub locations: Vec<String>,

    /// How many instances at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: u16,

    /// Give up on an instance after SECS seconds (its command is killed).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,

    /// Port of sshd on the instances (default 22).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Log in as this user instead of the one GameLift returns.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Server SDK generation, instead of asking the fleet's build.
    #[arg(long, value_enum, value_name = "4|5")]
    pub sdk: Option<SdkArg>,

    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,

    /// Pass FLAG to ssh (repeatable), as for `connect`.
    #[arg(long = "ssh-flag", value_name = "FLAG", allow_hyphen_values = true)]
    pub ssh_flags: Vec<String>,

    /// The command to run on each instance, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// `<instance>.<fleet>.gamelift`: the instance as an ID or compute name,
    /// the fleet in any form connect takes (%h in ssh_config).
    #[arg(value_name = "HOST")]
    pub host: String,

    /// The port on the instance (%p in ssh_config).
    #[arg(value_name = "PORT")]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct SshConfigArgs {
    /// Write the block to the data dir and include it from ~/.ssh/config.
    #[arg(long)]
    pub install: bool,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The agent's socket (default: <runtime dir>/agent.sock). connect uses
    /// the same variable.
    #[arg(long, global = true, value_name = "PATH", env = "GAMELIFT_ACCESS_AGENT_SOCK")]
    pub socket: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Run the agent in the foreground (for systemd, launchd and tests).
    Run {
        #[command(flatten)]
        lifetimes: AgentLifetimes,

        /// Print the socket path on stdout once it answers, then close
        /// stdout (used by `agent start`).
        #[arg(long, hide = true)]
        ready_line: bool,
    },
    /// Start the agent in the background; returns once its socket answers
    /// and prints the socket path.
    Start {
        #[command(flatten)]
        lifetimes: AgentLifetimes,
    },
    /// Stop the agent; its keys are wiped from memory.
    Stop,
    /// Whether the agent runs, the keys it holds (fleet, instance, user,
    /// time left) and the compute credentials it caches (fleet, compute,
    /// time left). Never a secret. Exits 3 when no agent runs.
    Status,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct AgentLifetimes {
    /// How long a key stays when its client sets no lifetime: seconds,
    /// or a number with s, m or h.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = crate::agent::parse_duration)]
    pub key_ttl: std::time::Duration,

    /// How long GetComputeAccess credentials (server SDK 5 and container
    /// fleets) are cached, so a reconnect within it makes no call.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = crate::agent::parse_duration)]
    pub compute_ttl: std::time::Duration,
}

impl AgentLifetimes {
    pub fn plain(self) -> crate::agent::Lifetimes {
        crate::agent::Lifetimes {
            key: self.key_ttl,
            compute: self.compute_ttl,
        }
    }
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(subcommand)]
    pub command: BuildCommand,
}

#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Zip DIR straight into S3 as a GameLift build (flags as in `aws
    /// gamelift upload-build`). No temp file; credentials are refreshed if
    /// they expire mid-upload.
    Upload(BuildUploadArgs),

    /// Print the build's upload credentials (RequestUploadCredentials).
    /// Secrets go to stdout, and only here and in `build exec`.
    Credentials {
        /// Build ID or ARN.
        #[arg(value_name = "BUILD")]
        build: String,

        /// `env`: export lines for eval; `json`: credentials and storage
        /// location; `credential-process`: for a profile's credential_process.
        #[arg(long, value_enum, default_value_t = CredentialsFormat::Env)]
        format: CredentialsFormat,
    },

    /// Run COMMAND with the build's upload credentials and
    /// GAMELIFT_BUILD_BUCKET / GAMELIFT_BUILD_KEY in its environment (your
    /// own AWS identity removed); its exit code is passed through.
    Exec {
        /// Build ID or ARN.
        #[arg(value_name = "BUILD")]
        build: String,

        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredentialsFormat {
    Env,
    Json,
    CredentialProcess,
}

#[derive(Debug, Args)]
pub struct BuildUploadArgs {
    /// The build's root directory.
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,

    /// Build name (required unless --build-id).
    #[arg(long, required_unless_present = "build_id")]
    pub name: Option<String>,

    /// Build version label (required unless --build-id).
    #[arg(long, value_name = "V", required_unless_present = "build_id")]
    pub build_version: Option<String>,

    /// AMAZON_LINUX_2023, WINDOWS_2022, … (required unless --build-id).
    #[arg(long, value_name = "OS", required_unless_present = "build_id")]
    pub operating_system: Option<String>,

    /// Server SDK version the build uses, X.Y.Z.
    #[arg(long, value_name = "X.Y.Z")]
    pub server_sdk_version: Option<String>,

    /// Upload to this existing INITIALIZED build (ID or ARN) instead of
    /// creating one.
    #[arg(long, value_name = "BUILD", conflicts_with_all = ["name", "build_version", "operating_system", "server_sdk_version"])]
    pub build_id: Option<String>,

    /// Wait until the build is READY (exit 65 if it turns FAILED).
    #[arg(long)]
    pub wait: bool,

    /// MiB per S3 part (5 to 5120).
    #[arg(long, value_name = "MIB", default_value_t = 8, value_parser = clap::value_parser!(u64).range(5..=5120))]
    pub part_size: u64,

    /// Parts uploaded at once; memory use is about (N + 2) × part size.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
}

#[derive(Debug, Args)]
pub struct PortsArgs {
    #[command(subcommand)]
    pub command: PortsCommand,
}

#[derive(Debug, Subcommand)]
pub enum PortsCommand {
    /// A fleet's inbound permissions, marking the ones this tool opened.
    List {
        /// Fleet: a fleet ID or ARN, an alias ID or ARN, or a fleet or alias name.
        #[arg(value_name = "FLEET")]
        fleet: String,
    },
    /// Revoke the permissions that runs which no longer exist left open.
    CloseStale,
}

#[derive(Debug, Args)]
pub struct FleetsArgs {
    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,

    /// List the fleets of every region GameLift is available in (asked
    /// concurrently), with a REGION column.
    #[arg(long)]
    pub all_regions: bool,
}

#[derive(Debug, Args)]
pub struct InstancesArgs {
    /// Fleet: a fleet ID or ARN, an alias ID or ARN, or a fleet or alias name.
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Fleet: a fleet ID or ARN, an alias ID or ARN, or a fleet or alias name.
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// Only the sessions on this instance (any reference `connect` takes).
    #[arg(long, value_name = "REF")]
    pub instance: Option<String>,

    /// Only this location (repeatable; default: every location of the fleet).
    #[arg(long = "location", value_name = "LOCATION")]
    pub locations: Vec<String>,

    /// List this player's sessions on the fleet instead (player session,
    /// status, game session, instance, address, age).
    #[arg(long, value_name = "PLAYER_ID")]
    pub player: Option<String>,

    /// Only sessions with this status (repeatable). Game sessions: ACTIVE,
    /// ACTIVATING, TERMINATING, TERMINATED, ERROR (default: ACTIVE and
    /// ACTIVATING). With --player: RESERVED, ACTIVE, COMPLETED, TIMEDOUT
    /// (default: all).
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<String>,

    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Fleet: a fleet ID or ARN, an alias ID or ARN, or a fleet or alias name.
    #[arg(value_name = "FLEET")]
    pub fleet: String,

    /// A game session ID or ARN, a player session ID (psess-…), or
    /// player:<PlayerId> (that player's most recent game session on the fleet).
    #[arg(value_name = "GAME_SESSION")]
    pub session: String,

    /// Unpack into DIR, which must not exist yet (default:
    /// ./<game-session-id>-logs).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,

    /// Ignore cached fleet metadata and ask GameLift again.
    #[arg(long)]
    pub refresh: bool,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Command to run on the demo instance, after `--` (default: an
    /// interactive shell on a terminal; otherwise one `echo` saying which
    /// host and user it reached, over ssh with a key from GetInstanceAccess).
    #[arg(last = true, value_name = "REMOTE COMMAND")]
    pub remote_command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct BucketKeyArgs {
    #[command(subcommand)]
    pub command: BucketKeyCommand,
}

/// `--format env|json` for `bucket-key export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// `export AWS_ACCESS_KEY_ID=…` lines for `eval`.
    Env,
    /// `{"access_key_id": …, "secret_access_key": …, "region": …}`.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum BucketKeyCommand {
    /// Create a key and store its secret durably before anything else
    /// (the secret is shown only with --print-secret).
    Create {
        /// The Lightsail bucket.
        #[arg(value_name = "BUCKET")]
        bucket: String,
        /// Also write `[profile NAME]` to the AWS config file, whose
        /// credential_process hands the AWS CLI and SDKs this bucket's key.
        /// (The global --profile chooses the credentials that call Lightsail.)
        #[arg(long, value_name = "NAME")]
        write_profile: Option<String>,
        /// If neither the store nor the fallback can take the secret, print
        /// it on stdout rather than deleting the new key again.
        #[arg(long)]
        print_secret: bool,
    },
    /// A bucket's keys: status, created, last used, whether the secret is
    /// stored here; keys left by crashed runs.
    List {
        #[arg(value_name = "BUCKET")]
        bucket: String,
    },
    /// Delete a key on Lightsail, then its local copy.
    Delete {
        #[arg(value_name = "BUCKET")]
        bucket: String,
        #[arg(value_name = "ACCESS_KEY_ID")]
        key_id: String,
        /// Do not ask (required when not on a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Create a new key, check it against S3 and switch to it; the old key
    /// stays until `rotate --finish`.
    Rotate {
        #[arg(value_name = "BUCKET")]
        bucket: String,
        /// Delete the old key of the rotation under way.
        #[arg(long)]
        finish: bool,
        /// With --finish: delete the old key even if it was used after the
        /// rotation began.
        #[arg(long, requires = "finish")]
        force: bool,
        /// As for create: print the secret if it cannot be stored.
        #[arg(long, conflicts_with = "finish")]
        print_secret: bool,
        /// How long the new key may take to start working with S3 (keys
        /// take a few seconds to propagate) before the rotation is undone.
        #[arg(long, value_name = "SECS", default_value_t = 30)]
        verify_timeout: u64,
    },
    /// For credential_process: print the stored key as the AWS CLI expects
    /// (this prints the secret).
    CredentialProcess {
        #[arg(value_name = "BUCKET")]
        bucket: String,
        /// This key rather than the newest one stored.
        #[arg(long, value_name = "ID")]
        key_id: Option<String>,
    },
    /// Print the stored key for tools that read only the environment (this
    /// prints the secret).
    Export {
        #[arg(value_name = "BUCKET")]
        bucket: String,
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// This key rather than the newest one stored.
        #[arg(long, value_name = "ID")]
        key_id: Option<String>,
    },
}
