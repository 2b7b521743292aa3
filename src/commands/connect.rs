//! `gamelift-access connect`: resolve → obtain → deliver → launch → clean up.

use std::path::PathBuf;

use crate::aws::GameLift;
use crate::cli::{ConnectArgs, GlobalArgs, OutputFormat};
use crate::deliver::{DeliverError, KeyDir};
use crate::dirs;
use crate::error::Result;
use crate::launch::{self, ssh::SshSession};
use crate::obtain::{self, Access};
use crate::resolve::{FleetRef, InstanceRef, Target};
use crate::signals::Signals;

pub async fn run(global: &GlobalArgs, args: ConnectArgs) -> Result<u8> {
    // First, before any secret exists: from here on a signal means an orderly exit.
    let mut signals = Signals::install()
        .map_err(|e| crate::error::Error::Other(format!("cannot install signal handlers: {e}")))?;

    // resolve: references are checked before anything else costs time or an API call.
    let fleet = FleetRef::parse(&args.fleet)?;
    let instance = InstanceRef::parse(&args.instance)?;
    let ssh = match launch::find("ssh", launch::ssh::INSTALL_HINT) {
        Ok(path) => path,
        // --print only shows the command; it needs no ssh to do that.
        Err(_) if args.print => PathBuf::from("ssh"),
        Err(e) => return Err(e.into()),
    };
    let keys = KeyDir::open()?;
    keys.sweep_stale();

    // obtain: a signal while we wait on AWS ends the run at once; nothing is on disk yet.
    let (target, access) = tokio::select! {
        result = obtain(global, &fleet, &instance) => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    let Access::Ssh(access) = access;

    let known_hosts = known_hosts_file(&target.fleet_id)?;
    let user = args.user.as_deref().unwrap_or(&access.user);
    let mut session = SshSession {
        ssh,
        key_file: &keys.key_path(&target.instance_id),
        known_hosts: &known_hosts,
        host_key_alias: &target.instance_id,
        port: args.port,
        user,
        host: &access.host,
        remote_command: &args.remote_command,
    };

    if args.print {
        let command = session.command();
        match global.output {
            OutputFormat::Text => println!("{}", command.display()),
            OutputFormat::Json => println!("{}", command.to_json()),
        }
        eprintln!("(--print: no key was written and nothing was run)");
        return Ok(0);
    }

    // deliver: the guard removes the key when it drops, on every path out.
    let key_file = keys.write_key(&target.instance_id, access.key.pem())?;
    session.key_file = key_file.path();
    tracing::info!(%target, host = %access.host, user, fingerprint = access.key.fingerprint(), "connecting with ssh");

    // launch, then clean up.
    let outcome = launch::run(&session.command(), &mut signals).await?;
    drop(key_file);
    match outcome.interrupted {
        Some(sig) => Err(sig.into()),
        None => Ok(outcome.code),
    }
}

async fn obtain(
    global: &GlobalArgs,
    fleet: &FleetRef,
    instance: &InstanceRef,
) -> Result<(Target, Access)> {
    let gamelift = GameLift::connect(global, fleet.region()).await?;
    let target = Target::from_refs(fleet, instance, &gamelift.region);
    let access = obtain::instance_access(&gamelift, &target).await?;
    Ok((target, access))
}

/// One known_hosts file per fleet, in the data dir, so host keys learnt for
/// one fleet never vouch for another.
fn known_hosts_file(fleet_id: &str) -> Result<PathBuf> {
    let dir = dirs::data_dir().and_then(|d| {
        let dir = d.join("known_hosts");
        dirs::ensure_private_dir(&dir).map(|()| dir)
    });
    Ok(dir.map_err(DeliverError::Dir)?.join(fleet_id))
}
