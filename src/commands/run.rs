//! `gamelift-access run <FLEET> [--instance REF]… [--location L]… -- COMMAND…`:
//! parse, choose the instances, hand them to the fan-out, print the result.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::aws::GameLift;
use crate::cli::{GlobalArgs, OutputFormat, RunArgs, SdkArg};
use crate::commands::connect::known_hosts_file;
use crate::deliver::KeyDir;
use crate::error::{Error, Result};
use crate::fanout::{self, Job, Plan, Transport, report};
use crate::launch;
use crate::output;
use crate::resolve::{FleetRef, InstanceRef, ResolveError, Resolver, Sdk};
use crate::signals::Signals;

/// `run`'s exit code when at least one instance did not run the command to
/// exit 0 (non-zero exit, timeout, no access, unreachable). Documented in README.md.
pub const SOME_FAILED: u8 = 1;

pub async fn run(global: &GlobalArgs, args: RunArgs) -> Result<u8> {
    let mut signals = Signals::install().map_err(|e| Error::Other(format!("cannot install signal handlers: {e}")))?;
    // Everything the user typed is checked before any API call.
    let fleet = FleetRef::parse(&args.fleet)?;
    let wanted = args
        .instances
        .iter()
        .map(|r| InstanceRef::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    let ssh_flags = launch::ssh::user_flags(&args.ssh_flags)?;

    let (gamelift, info, sdk, jobs) = tokio::select! {
        result = targets(global, &fleet, &wanted, &args) => result?,
        sig = signals.recv() => return Err(sig.into()),
    };

    let transport = match sdk {
        Sdk::V4 => {
            let ssh = launch::find("ssh", launch::ssh::INSTALL_HINT)?;
            let keys = KeyDir::open()?;
            keys.sweep_stale();
            let mut options = launch::ssh::batch_options();
            options.extend(ssh_flags.iter().map(Into::into));
            Transport::Ssh {
                ssh,
                keys: Arc::new(keys),
                known_hosts: known_hosts_file(&info.fleet_id)?,
                port: args.port.unwrap_or(22),
                user: args.user.clone(),
                options,
            }
        }
        Sdk::V5 => {
            if !ssh_flags.is_empty() || args.port.is_some() || args.user.is_some() {
                return Err(Error::Usage(format!(
                    "fleet {} is reached over SSM (server SDK 5 or containers): --ssh-flag, --port and --user are for ssh",
                    info.fleet_id
                )));
            }
            let plugin = launch::find("session-manager-plugin", launch::ssm::INSTALL_HINT)?;
            Transport::Ssm {
                aws: which::which("aws").ok(),
                plugin,
                endpoint: crate::commands::connect::ssm_endpoint(global),
                timeouts: global.aws(),
            }
        }
    };
    tracing::info!(
        fleet = info.fleet_id,
        instances = jobs.len(),
        parallel = args.parallel,
        "running"
    );

    let json = global.output == OutputFormat::Json;
    let reporter = Arc::new(report::Reporter::new(!json, jobs.len()));
    let plan = Plan {
        gamelift,
        fleet: info,
        sdk,
        transport,
        command: args.command.clone(),
        parallel: args.parallel.into(),
        timeout: Duration::from_secs(args.timeout),
    };
    let (records, interrupted) = fanout::run(plan, jobs, Arc::clone(&reporter), &mut signals).await;
    reporter.done();

    if json {
        println!("{}", serde_json::to_string_pretty(&records).unwrap_or_default());
    } else {
        println!();
        output::print_table(&report::SUMMARY_HEADER, &report::summary_rows(&records));
        let ok = records.iter().filter(|r| r.ok()).count();
        let throttled: u32 = records.iter().map(|r| r.throttled).sum();
        eprintln!(
            "{ok} of {} instances exited 0{}",
            records.len(),
            if throttled > 0 {
                format!(" (GameLift throttled {throttled} access calls; each was waited out)")
            } else {
                String::new()
            }
        );
    }
    if let Some(sig) = interrupted {
        return Err(sig.into());
    }
    Ok(if records.iter().all(|r| r.ok()) { 0 } else { SOME_FAILED })
}

/// The fleet, the access path, and the instances to run on: every ACTIVE
/// instance in every location, narrowed by `--instance` and `--location`.
async fn targets(
    global: &GlobalArgs,
    fleet: &FleetRef,
    wanted: &[InstanceRef],
    args: &RunArgs,
) -> Result<(GameLift, crate::resolve::FleetInfo, Sdk, Vec<Job>)> {
    let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
    let resolver = Resolver::new(&gamelift, args.refresh);
    let info = resolver.fleet(fleet).await?;
    resolver.check_usable(&info)?;
    let sdk = args
        .sdk
        .map(|s| match s {
            SdkArg::V4 => Sdk::V4,
            SdkArg::V5 => Sdk::V5,
        })
        .or(info.sdk)
        .unwrap_or(Sdk::V4);
    if info.os.as_deref().is_some_and(|os| os.starts_with("WINDOWS")) {
        return Err(Error::Usage(format!(
            "fleet {} runs Windows, reached over RDP, which runs no commands: `run` needs ssh or SSM \
             (Linux fleets)\n  open a desktop with `gamelift-access connect {} <instance>`",
            info.fleet_id, info.fleet_id
        )));
    }
    for location in &args.locations {
        if !info.locations.contains(location) {
            return Err(Error::Usage(format!(
                "fleet {} has no location {location}; its locations: {}",
                info.fleet_id,
                info.locations.join(", ")
            )));
        }
    }

    // Named instances: resolved one by one, as `connect` does.
    let mut named = vec![];
    for r in wanted {
        let target = resolver.target(info.clone(), Some(r), Some(sdk), false).await?;
        named.push((target.instance_id, target.location));
    }
    // Listing gives every instance's location (ssh access never needs it,
    // so `connect`'s resolution does not look it up): one call per location.
    let listed = if wanted.is_empty() || !args.locations.is_empty() || info.locations.len() > 1 {
        Some(resolver.instances(&info).await?)
    } else {
        None
    };
    let in_location = |location: &str| args.locations.is_empty() || args.locations.iter().any(|l| l == location);
    let candidates: Vec<(String, String)> = match &listed {
        Some(all) if wanted.is_empty() => all
            .iter()
            .filter(|s| s.status == "ACTIVE")
            .map(|s| (s.id.clone(), s.location.clone()))
            .collect(),
        _ => named
            .into_iter()
            .map(|(id, location)| {
                let listed = listed.iter().flatten().find(|s| s.id == id);
                let location = listed.map_or(location, |s| s.location.clone());
                (id, location)
            })
            .collect(),
    };
    let jobs: Vec<Job> = candidates
        .into_iter()
        .filter(|(_, location)| in_location(location))
        .scan(BTreeSet::new(), |seen, (id, location)| {
            Some(seen.insert(id.clone()).then_some((id, location)))
        })
        .flatten()
        .map(|(instance_id, location)| Job { instance_id, location })
        .collect();
    if jobs.is_empty() {
        return Err(ResolveError::NoMatch(format!(
            "no ACTIVE instance of fleet {} matches{}\n  list them with: gamelift-access instances {}",
            info.fleet_id,
            if args.locations.is_empty() {
                String::new()
            } else {
                format!(" in {}", args.locations.join(", "))
            },
            info.fleet_id
        ))
        .into());
    }
    Ok((gamelift, info, sdk, jobs))
}
