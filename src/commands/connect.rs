//! `gamelift-access connect`: resolve → obtain → deliver → launch → clean up.

mod agent;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::aws::GameLift;
use crate::cli::{ConnectArgs, GlobalArgs, OutputFormat, SdkArg};
use secrecy::{ExposeSecret, SecretString};

use crate::deliver::{ClipboardSecret, DeliverError, KeyDir};
use crate::dirs;
use crate::error::{Error, Result};
use crate::launch::rdp::{self, ClientOs, RdpTarget};
use crate::launch::{self, ClientCommand, forward::Forward, ssh::SshSession};
use crate::obtain::{self, Access, RdpAccess, SessionParams, SshAccess, SsmAccess};
use crate::ports;
use crate::resolve::{FleetRef, InstanceRef, Resolver, Sdk, Target};
use crate::signals::Signals;

pub async fn run(global: &GlobalArgs, args: ConnectArgs) -> Result<u8> {
    // First, before any secret exists: from here on a signal means an orderly exit.
    let mut signals = Signals::install().map_err(|e| Error::Other(format!("cannot install signal handlers: {e}")))?;

    // References are checked before anything else costs time or an API call.
    let fleet = FleetRef::parse(&args.fleet)?;
    let instance = args.instance.as_deref().map(InstanceRef::parse).transpose()?;
    // --ssh-flag and --forward are checked (a busy local port included) before any API call.
    launch::ssh::user_flags(&args.ssh_flags)?;
    forwards(&args)?;
    let keys = KeyDir::open()?;
    keys.sweep_stale();

    // resolve: a signal while we wait on AWS ends the run at once; nothing is on disk yet.
    let (gamelift, target) = tokio::select! {
        result = resolve(global, &fleet, instance.as_ref(), &args) => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    tracing::debug!(%target, sdk = target.sdk.as_str(), compute = target.fleet.compute.as_str(), "resolved");

    // --open-port: authorize the caller now, revoke below, whatever happens in between.
    // --print and --show-password connect to nothing, so they open nothing.
    let opened = match (args.open_port && !args.print && !args.show_password, target.sdk) {
        (true, Sdk::V4) => {
            // Nothing is open while we ask who we are and read the settings,
            // so a signal may end that at once.
            let timeout = Duration::from_secs(args.open_port_timeout);
            let (caller, current) = tokio::select! {
                result = async {
                    ensure_usable(&gamelift, &target).await?;
                    let caller = caller_cidr(&args).await?;
                    let current = ports::settled(&gamelift, &target.fleet.fleet_id, &target.location, timeout).await?;
                    Ok::<_, Error>((caller, current))
                } => result?,
                sig = signals.recv() => return Err(sig.into()),
            };
            // Not raced: the ledger and GameLift must agree on what was opened.
            let port = args.port.unwrap_or(default_port(&target));
            ports::open(
                &gamelift,
                &target.fleet.fleet_id,
                &target.location,
                port,
                caller,
                &current,
            )
            .await?
        }
        (true, Sdk::V5) => {
            eprintln!("note: SSM sessions need no inbound port; --open-port has nothing to do");
            None
        }
        (false, _) => None,
    };
    let result = async {
        if let Some(opened) = &opened {
            tokio::select! {
                result = opened.wait_applied(&gamelift, Duration::from_secs(args.open_port_timeout)) => result?,
                sig = signals.recv() => return Err(sig.into()),
            }
        }
        match target.sdk {
            Sdk::V4 => connect_instance(&gamelift, &target, &keys, global, &args, &mut signals).await,
            Sdk::V5 => connect_ssm(&gamelift, &target, global, &args, &mut signals).await,
        }
    }
    .await;
    if let Some(opened) = opened
        && let Err(e) = opened.close(&gamelift).await
    {
        eprintln!(
            "gamelift-access: could not close the port again (it stays in the ledger: \
             `gamelift-access{} ports close-stale` retries): {e}",
            global.aws_flags()
        );
    }
    result
}

/// `--forward`s, parsed, their local ports checked free (not for --print,
/// which binds nothing).
fn forwards(args: &ConnectArgs) -> Result<Vec<Forward>> {
    let forwards = args
        .forward
        .iter()
        .map(|spec| Forward::parse(spec))
        .collect::<Result<Vec<_>, _>>()?;
    if args.forward_only && !args.remote_command.is_empty() {
        return Err(Error::Usage(
            "--forward-only runs no command: drop the command after `--`, or --forward-only".into(),
        ));
    }
    if !args.print {
        for forward in &forwards {
            forward.check_free()?;
        }
    }
    Ok(forwards)
}

/// Who the port is opened to: `--cidr`, else the public-IP lookup.
async fn caller_cidr(args: &ConnectArgs) -> Result<ipnet::IpNet> {
    Ok(match &args.cidr {
        Some(cidr) => ports::parse_cidr(cidr)?,
        None => ports::lookup(&args.ip_lookup_url).await?,
    })
}

async fn resolve(
    global: &GlobalArgs,
    fleet: &FleetRef,
    instance: Option<&InstanceRef>,
    args: &ConnectArgs,
) -> Result<(GameLift, Target)> {
    let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
    // The status is asked for only when it matters (see ensure_usable):
    // a warm connect through the agent asks GameLift nothing.
    let resolver = Resolver::new(&gamelift, args.refresh).status_later();
    let info = resolver.fleet(fleet).await?;
    let sdk = args.sdk.map(|s| match s {
        SdkArg::V4 => Sdk::V4,
        SdkArg::V5 => Sdk::V5,
    });
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let target = resolver.target(info, instance, sdk, interactive).await?;
    Ok((gamelift, target))
}

/// Refuses a fleet that cannot be connected to, with its status as it is
/// now: the cache holds none, so "still being created: wait and retry"
/// works on the retry. Called before anything is asked of GameLift for it.
async fn ensure_usable(gamelift: &GameLift, target: &Target) -> Result<()> {
    Ok(Resolver::new(gamelift, false).ensure_usable(&target.fleet).await?)
}

/// The port a session uses unless `--port` says otherwise: RDP for Windows
/// fleets, ssh for the rest.
fn default_port(target: &Target) -> u16 {
    if is_windows(target.fleet.os.as_deref()) {
        3389
    } else {
        22
    }
}

fn is_windows(os: Option<&str>) -> bool {
    os.is_some_and(|os| os.starts_with("WINDOWS"))
}

/// Server SDK 4: GetInstanceAccess, then ssh (Linux) or RDP (Windows).
async fn connect_instance(
    gamelift: &GameLift,
    target: &Target,
    keys: &KeyDir,
    global: &GlobalArgs,
    args: &ConnectArgs,
    signals: &mut Signals,
) -> Result<u8> {
    // No secret is fetched without a client to use it (--print and
    // --show-password need none). The fleet's OS says which client.
    let windows = is_windows(target.fleet.os.as_deref());
    if !windows && target.fleet.os.is_some() && (args.show_password || args.copy.is_some()) {
        return Err(linux_has_no_password(target));
    }
    if windows && (!args.ssh_flags.is_empty() || !args.forward.is_empty()) {
        return Err(Error::Usage(format!(
            "{} is a Windows instance, reached over RDP: --ssh-flag and --forward are for ssh (Linux instances)",
            target.instance_id
        )));
    }
    if args.print {
        ensure_usable(gamelift, target).await?;
        return print_instance(gamelift, target, keys, global, args, signals).await;
    }
    if !args.show_password {
        if windows {
            rdp::client(ClientOs::current(), |tool| which::which(tool).ok())?;
        } else {
            launch::find("ssh", launch::ssh::INSTALL_HINT)?;
        }
    }
    // A running agent takes the key instead of a file; one that already
    // holds a key for this instance saves the GameLift call too.
    let via_agent = match !windows && !args.show_password && args.copy.is_none() && !args.no_agent {
        true => agent::find(target).await,
        false => None,
    };
    let via_agent = match via_agent {
        Some(found) if found.holds_key() => {
            return agent::connect(found, None, gamelift, target, keys, global, args, signals).await;
        }
        other => other,
    };
    let access = tokio::select! {
        result = async {
            ensure_usable(gamelift, target).await?;
            Ok::<_, Error>(obtain::instance_access(gamelift, target).await?)
        } => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    match access {
        Access::Ssh(access) => {
            if let Some(found) = via_agent {
                return agent::connect(found, Some(access), gamelift, target, keys, global, args, signals).await;
            }
            connect_ssh(target, access, keys, global, args, signals).await
        }
        Access::Rdp(access) => connect_rdp(target, access, global, args, signals).await,
        Access::Ssm(_) => unreachable!("GetInstanceAccess yields ssh or RDP access"),
    }
}

fn linux_has_no_password(target: &Target) -> Error {
    Error::Usage(format!(
        "{} is a Linux instance: its secret is an ssh key, which is never shown or copied \
         (--show-password and --copy are for Windows instances)",
        target.instance_id
    ))
}

/// Linux: a 0600 key file and ssh.
async fn connect_ssh(
    target: &Target,
    SshAccess { host, user, key }: SshAccess,
    keys: &KeyDir,
    _global: &GlobalArgs,
    args: &ConnectArgs,
    signals: &mut Signals,
) -> Result<u8> {
    if args.show_password || args.copy.is_some() {
        return Err(linux_has_no_password(target));
    }
    let user = args.user.as_deref().unwrap_or(&user);
    // deliver: the guard removes the key when it drops, on every path out.
    let key_file = keys.write_key(&target.instance_id, key.pem())?;
    let command = ssh_command(target, &host, user, key_file.path(), args)?;
    tracing::info!(%target, %host, user, fingerprint = key.fingerprint(), "connecting with ssh");

    // launch, then clean up.
    let outcome = launch::run(&command, signals).await?;
    drop(key_file);
    finish(outcome)
}

/// The ssh command line for the target, with the user's flags and forwards.
fn ssh_command(
    target: &Target,
    host: &str,
    user: &str,
    key_file: &std::path::Path,
    args: &ConnectArgs,
) -> Result<ClientCommand> {
    let ssh = launch::find("ssh", launch::ssh::INSTALL_HINT).unwrap_or_else(|_| PathBuf::from("ssh"));
    let known_hosts = known_hosts_file(&target.fleet.fleet_id)?;
    let session = SshSession {
        ssh,
        key_file,
        known_hosts: &known_hosts,
        host_key_alias: &target.instance_id,
        port: args.port.unwrap_or(22),
        user,
        host,
        remote_command: &args.remote_command,
    };
    let forwards = forwards(args)?;
    let extra = launch::ssh::session_options(&launch::ssh::user_flags(&args.ssh_flags)?, &forwards, args.forward_only);
    Ok(launch::ssh::with_options(session.command(), extra))
}

/// `--print` on server SDK 4: the command a real run would start, with the
/// address from DescribeInstances and GameLift's login. A dry run: no
/// GetInstanceAccess, so no key or password exists anywhere.
async fn print_instance(
    gamelift: &GameLift,
    target: &Target,
    keys: &KeyDir,
    global: &GlobalArgs,
    args: &ConnectArgs,
    signals: &mut Signals,
) -> Result<u8> {
    let preview = tokio::select! {
        result = obtain::preview::instance(gamelift, target) => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    let user = args.user.as_deref().unwrap_or(&preview.user);
    if is_windows(target.fleet.os.as_deref()) {
        let rdp_target = RdpTarget {
            host: &preview.host,
            port: args.port.unwrap_or(3389),
            user,
            extra_args: &args.remote_command,
        };
        let plan = rdp::plan(&rdp_target, ClientOs::current(), |tool| which::which(tool).ok())?;
        let runtime_dir = dirs::runtime_dir().map_err(DeliverError::Dir)?;
        return print(
            &plan.command(&runtime_dir),
            global,
            "the password is fetched from GameLift",
        );
    }
    let command = ssh_command(target, &preview.host, user, &keys.key_path(&target.instance_id), args)?;
    print(&command, global, "the key is fetched from GameLift and written there")
}

/// Windows: the password goes to the RDP client without touching a command
/// line, and to the user on the terminal (or the clipboard with --copy).
async fn connect_rdp(
    target: &Target,
    access: RdpAccess,
    global: &GlobalArgs,
    args: &ConnectArgs,
    signals: &mut Signals,
) -> Result<u8> {
    let user = args.user.as_deref().unwrap_or(&access.user);
    let port = args.port.unwrap_or(3389);
    if args.show_password {
        match global.output {
            OutputFormat::Table => println!("{}", access.password.expose_secret()),
            OutputFormat::Json => println!(
                "{}",
                serde_json::json!({
                    "fleet_id": target.fleet.fleet_id,
                    "instance_id": target.instance_id,
                    "host": access.host,
                    "port": port,
                    "user": user,
                    "operating_system": access.operating_system,
                    "password": access.password.expose_secret(),
                })
            ),
        }
        return Ok(0);
    }
    let rdp_target = RdpTarget {
        host: &access.host,
        port,
        user,
        extra_args: &args.remote_command,
    };
    let plan = rdp::plan(&rdp_target, ClientOs::current(), |tool| which::which(tool).ok())?;
    let runtime_dir = dirs::runtime_dir().map_err(DeliverError::Dir)?;

    // Some clients make the user type or paste it: show it, but only on the terminal.
    let _clipboard = match args.copy {
        Some(secs) => {
            let copied = ClipboardSecret::copy(&access.password, Duration::from_secs(secs))?;
            eprintln!(
                "the password for {user}@{} is on the clipboard for {secs}s",
                access.host
            );
            Some(copied)
        }
        None => {
            show_on_terminal(user, &access.host, &access.password);
            None
        }
    };
    tracing::info!(%target, host = access.host, user, "connecting with RDP");
    let outcome = rdp::launch(plan, &access.password, signals, &runtime_dir).await?;
    finish(outcome)
}

/// Writes the password to the controlling terminal itself (`/dev/tty`; the
/// console, `CONOUT$`, on Windows), not to stdout or stderr, which may be a
/// log, a pipe or a CI transcript.
fn show_on_terminal(user: &str, host: &str, password: &SecretString) {
    use std::io::Write;
    const TERMINAL: &str = if cfg!(windows) { "CONOUT$" } else { "/dev/tty" };
    match std::fs::OpenOptions::new().write(true).open(TERMINAL) {
        Ok(mut tty) => {
            let _ = writeln!(tty, "password for {user}@{host}: {}", password.expose_secret());
        }
        Err(e) => tracing::debug!("no terminal to show the password on ({e}); --copy or --show-password give it"),
    }
}

/// Server SDK 5 and container fleets: GetComputeAccess, then an SSM session
/// through the AWS CLI, or through session-manager-plugin directly.
async fn connect_ssm(
    gamelift: &GameLift,
    target: &Target,
    global: &GlobalArgs,
    args: &ConnectArgs,
    signals: &mut Signals,
) -> Result<u8> {
    let forward = ssm_forward(target, args)?;
    if !args.remote_command.is_empty() && forward.is_some() {
        return Err(Error::Usage(
            "--forward and a remote command after `--` do not go together on SSM: a session either forwards a port or runs a command"
                .into(),
        ));
    }
    // Both paths end in the plugin: without it, fail before asking for credentials.
    let plugin = launch::find("session-manager-plugin", launch::ssm::INSTALL_HINT);
    let aws = which::which("aws").ok();
    let plugin = match (plugin, args.print) {
        (Ok(p), _) => p,
        (Err(_), true) => PathBuf::from("session-manager-plugin"),
        (Err(e), false) => return Err(e.into()),
    };

    if args.print {
        // A dry run: DescribeCompute says where the session would go; no
        // GetComputeAccess, so no credentials exist.
        let preview = tokio::select! {
            result = async {
                ensure_usable(gamelift, target).await?;
                Ok::<_, Error>(obtain::preview::compute(gamelift, target).await?)
            } => result?,
            sig = signals.recv() => return Err(sig.into()),
        };
        let params = match &forward {
            Some(forward) => forward.ssm_params(&preview.target),
            None => session_params(&preview.target, &preview.containers, args)?,
        };
        let endpoint = ssm_endpoint(global);
        let command = match aws {
            Some(aws) => launch::ssm::aws_cli(aws, &params, &preview.region, endpoint.as_deref()),
            None => {
                let endpoint = endpoint.unwrap_or_else(|| obtain::ssm::default_endpoint(&preview.region));
                launch::ssm::plugin(plugin, &params, &preview.region, &endpoint)
            }
        };
        return print(
            &command,
            global,
            "the credentials are fetched from GameLift (GetComputeAccess)",
        );
    }
    let access = tokio::select! {
        result = compute_access(gamelift, target, args) => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    let params = match &forward {
        Some(forward) => forward.ssm_params(&access.target),
        None => session_params(&access.target, &access.containers, args)?,
    };
    let endpoint = ssm_endpoint(global);
    tracing::info!(%target, ssm_target = access.target, region = access.region, "starting an SSM session");

    if let Some(aws) = aws {
        let command = launch::ssm::aws_cli(aws, &params, &access.region, endpoint.as_deref());
        let outcome = launch::run_grouped(&command, signals, |cmd| {
            launch::ssm::set_env(cmd, &access.credentials, &[])
        })
        .await?;
        return finish(outcome);
    }

    // No AWS CLI: make its StartSession call ourselves and hand the plugin the same contract.
    let endpoint = endpoint.unwrap_or_else(|| obtain::ssm::default_endpoint(&access.region));
    let command = launch::ssm::plugin(plugin, &params, &access.region, &endpoint);
    // Raced with signals: a stalled endpoint must not hold Ctrl-C up. A
    // session the service started meanwhile (we never learn its ID) ends
    // at its idle timeout; one we did learn of is terminated.
    let aws = global.aws();
    let session = tokio::select! {
        session = obtain::ssm::start_session(&access.credentials, &access.region, &endpoint, &params, &aws) => session?,
        sig = signals.recv() => return Err(sig.into()),
    };
    if let Some(sig) = signals.pending().await {
        session.terminate().await;
        return Err(sig.into());
    }
    let outcome = launch::run_grouped(&command, signals, |cmd| {
        launch::ssm::set_env(
            cmd,
            &access.credentials,
            &[(launch::ssm::RESPONSE_VAR, &session.response)],
        )
    })
    .await;
    session.terminate().await;
    finish(outcome?)
}

/// GetComputeAccess's answer: from the agent's cache if one runs and holds
/// it for this compute, else a fresh call, then cached in the agent.
async fn compute_access(gamelift: &GameLift, target: &Target, args: &ConnectArgs) -> Result<SsmAccess> {
    if !args.no_agent
        && let Some(cached) = agent::cached_compute(target).await
    {
        return Ok(cached);
    }
    ensure_usable(gamelift, target).await?;
    let Access::Ssm(access) = obtain::compute_access(gamelift, target).await? else {
        unreachable!("GetComputeAccess yields SSM access or an error")
    };
    if !args.no_agent {
        agent::keep_compute(target, &access).await;
    }
    Ok(access)
}

/// SSM sessions take no ssh flags, and forward one port each (the
/// port-forwarding documents bind the local port on localhost only).
fn ssm_forward(target: &Target, args: &ConnectArgs) -> Result<Option<Forward>> {
    let refuse = |why: &str| Err(Error::Usage(format!("{}: {why}", target.instance_id)));
    if !args.ssh_flags.is_empty() {
        return refuse("--ssh-flag is for ssh; this instance is reached over SSM (server SDK 5 or a container fleet)");
    }
    let mut forwards = forwards(args)?;
    if forwards.len() > 1 {
        return refuse("an SSM session forwards one port: give one --forward per `connect`");
    }
    let Some(forward) = forwards.pop() else { return Ok(None) };
    if !matches!(forward.bind.as_str(), "127.0.0.1" | "localhost") {
        return refuse("SSM port forwarding listens on localhost only: drop BIND from --forward");
    }
    if args.container.is_some() {
        return refuse("--container opens a shell; it does not go with --forward");
    }
    Ok(Some(forward))
}

/// `--container NAME` opens a shell inside that container; without it, a
/// container fleet's session goes to the instance, and we say what runs there.
fn session_params(ssm_target: &str, containers: &[obtain::Container], args: &ConnectArgs) -> Result<SessionParams> {
    // A command after `--` runs through AWS-StartNonInteractiveCommand, as `run` does.
    if !args.remote_command.is_empty() {
        let container = args
            .container
            .as_deref()
            .map(|name| obtain::find_container(ssm_target, containers, name))
            .transpose()?;
        return Ok(SessionParams::command(ssm_target, &args.remote_command, container));
    }
    match &args.container {
        Some(name) => Ok(SessionParams::container_shell(
            ssm_target,
            obtain::find_container(ssm_target, containers, name)?,
        )),
        None => {
            if !containers.is_empty() {
                let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
                eprintln!(
                    "containers on this compute: {} (use --container NAME for a shell inside one)",
                    names.join(", ")
                );
            }
            Ok(SessionParams::shell(ssm_target))
        }
    }
}

/// `AWS_ENDPOINT_URL_SSM`, else the endpoint the user gave us, else none.
pub(crate) fn ssm_endpoint(global: &GlobalArgs) -> Option<String> {
    let env = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    env("AWS_ENDPOINT_URL_SSM")
        .or_else(|| global.endpoint_url.clone())
        .or_else(|| env("AWS_ENDPOINT_URL"))
}

/// `--print`'s output. `on_a_real_run` says what a real run would fetch:
/// a dry run asks GameLift for no secret, writes none and runs nothing.
fn print(command: &ClientCommand, global: &GlobalArgs, on_a_real_run: &str) -> Result<u8> {
    match global.output {
        OutputFormat::Table => println!("{}", command.display()),
        OutputFormat::Json => println!("{}", command.to_json()),
    }
    eprintln!(
        "(--print: a dry run: no secret was asked for or written, nothing was run; on a real run {on_a_real_run})"
    );
    Ok(0)
}

fn finish(outcome: launch::Outcome) -> Result<u8> {
    match outcome.interrupted {
        Some(sig) => Err(sig.into()),
        None => Ok(outcome.code),
    }
}

/// One known_hosts file per fleet, in the data dir, so host keys learnt for
/// one fleet never vouch for another.
pub(crate) fn known_hosts_file(fleet_id: &str) -> Result<PathBuf> {
    let dir = dirs::data_dir().and_then(|d| {
        let dir = d.join("known_hosts");
        dirs::ensure_private_dir(&dir).map(|()| dir)
    });
    Ok(dir.map_err(DeliverError::Dir)?.join(fleet_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{ComputeType, FleetInfo};

    fn target(os: Option<&str>) -> Target {
        Target {
            fleet: FleetInfo {
                fleet_id: "fleet-1".into(),
                name: String::new(),
                region: "us-west-2".into(),
                status: "ACTIVE".into(),
                compute: ComputeType::Ec2,
                os: os.map(str::to_owned),
                sdk: Some(Sdk::V4),
                server_sdk_version: None,
                locations: vec![],
                instance_type: None,
            },
            instance_id: "i-0123456789abcdef0".into(),
            location: "us-west-2".into(),
            sdk: Sdk::V4,
        }
    }

    #[test]
    fn rdp_for_windows_fleets_ssh_for_the_rest() {
        assert_eq!(default_port(&target(Some("WINDOWS_2016"))), 3389);
        assert_eq!(default_port(&target(Some("WINDOWS_2022"))), 3389);
        assert_eq!(default_port(&target(Some("AMAZON_LINUX_2023"))), 22);
        assert_eq!(default_port(&target(None)), 22);
    }
}
