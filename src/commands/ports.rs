//! `gamelift-access ports`: inbound permissions, and cleaning up after
//! runs that were killed before they could close what they opened.

use serde::Serialize;

use crate::aws::GameLift;
use crate::cli::{GlobalArgs, OutputFormat, PortsArgs, PortsCommand};
use crate::error::{Error, Result};
use crate::output;
use crate::ports::{self, Ledger, LedgerEntry, Permission, Release};
use crate::resolve::{FleetRef, Resolver};

pub async fn run(global: &GlobalArgs, args: PortsArgs) -> Result<u8> {
    match args.command {
        PortsCommand::List { fleet } => list(global, &fleet).await,
        PortsCommand::CloseStale => close_stale(global).await,
    }
}

#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    permission: &'a Permission,
    /// The ledger entry, if this tool opened it.
    opened_by_gamelift_access: Option<&'a LedgerEntry>,
}

async fn list(global: &GlobalArgs, fleet: &str) -> Result<u8> {
    let fleet = FleetRef::parse(fleet)?;
    let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
    let info = Resolver::new(&gamelift, false).fleet(&fleet).await?;
    let settings = ports::settings(&gamelift, &info.fleet_id, None).await?;
    let entries = Ledger::open()
        .and_then(|l| l.entries())
        .map_err(ports::PortError::from)?;
    let ours = |p: &Permission| {
        entries
            .iter()
            .find(|e| e.fleet_id == info.fleet_id && e.permission == *p)
    };
    let rows: Vec<Row> = settings
        .permissions
        .iter()
        .map(|p| Row {
            permission: p,
            opened_by_gamelift_access: ours(p),
        })
        .collect();
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialize")),
        OutputFormat::Table => {
            let now = output::now();
            output::print_table(
                &["PROTOCOL", "PORTS", "RANGE", "OPENED BY GAMELIFT-ACCESS"],
                &rows
                    .iter()
                    .map(|r| {
                        let p = r.permission;
                        let ports = if p.from_port == p.to_port {
                            p.from_port.to_string()
                        } else {
                            format!("{}-{}", p.from_port, p.to_port)
                        };
                        let by_us = match r.opened_by_gamelift_access {
                            Some(e) => format!(
                                "yes: pid {} ({}), {} ago",
                                e.pid,
                                if e.owner_alive() {
                                    "running"
                                } else {
                                    "gone: close-stale will revoke it"
                                },
                                output::age(now - e.opened_at)
                            ),
                            None => "-".into(),
                        };
                        vec![p.protocol.clone(), ports, p.ip_range.to_string(), by_us]
                    })
                    .collect::<Vec<_>>(),
            );
            if settings.pending {
                eprintln!("(an update to these permissions is still being applied)");
            }
        }
    }
    Ok(0)
}

/// Revokes every ledger entry whose run is gone.
async fn close_stale(global: &GlobalArgs) -> Result<u8> {
    let ledger = Ledger::open().map_err(ports::PortError::from)?;
    let stale: Vec<LedgerEntry> = ledger
        .entries()
        .map_err(ports::PortError::from)?
        .into_iter()
        .filter(|e| !e.owner_alive())
        .collect();
    let mut closed = vec![];
    let mut failures = vec![];
    for entry in stale {
        let p = &entry.permission;
        let what = format!(
            "{} {} from {} on {} ({})",
            p.protocol, p.from_port, p.ip_range, entry.fleet_id, entry.region
        );
        let result = async {
            let gamelift = GameLift::connect(&global.aws(), Some(&entry.region))
                .await
                .map_err(ports::PortError::from)?;
            ports::release(&gamelift, &ledger, &entry).await
        }
        .await;
        match result {
            Ok(release) => {
                if global.output == OutputFormat::Table {
                    match release {
                        Release::Revoke => println!("revoked {what}"),
                        Release::HandedOver { pid } => {
                            println!("left {what} open: pid {pid}, a live session, still uses it")
                        }
                        Release::Left | Release::Gone => println!("dropped the record of {what}"),
                    }
                }
                closed.push(entry);
            }
            Err(e) => failures.push((what, Error::from(e))),
        }
    }
    if global.output == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&closed).expect("entries serialize"));
    } else if closed.is_empty() && failures.is_empty() {
        println!("nothing to close");
    }
    // Each failure on its own line; the run exits with the first one's
    // code (78 for credentials, 69 for the network, …), like any other command.
    let mut failures = failures.into_iter();
    let Some((what, first)) = failures.next() else {
        return Ok(0);
    };
    for (what, e) in failures {
        let e = e.to_string();
        eprintln!(
            "gamelift-access: could not revoke {what} (kept in the ledger): {}",
            e.lines().next().unwrap_or_default()
        );
    }
    Err(Error::Exit {
        code: first.exit_code(),
        message: format!("could not revoke {what} (kept in the ledger): {first}"),
    })
}
