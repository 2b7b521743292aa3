//! `gamelift-access fleets`: what fleets there are, and how each is reached.

use serde::Serialize;

use crate::aws::GameLift;
use crate::cli::{FleetsArgs, GlobalArgs, OutputFormat};
use crate::error::Result;
use crate::output;
use crate::resolve::{ComputeType, FleetInfo, Resolver, Sdk};

#[derive(Serialize)]
struct FleetRow<'a> {
    #[serde(flatten)]
    fleet: &'a FleetInfo,
    /// How `connect` reaches its instances.
    access: &'static str,
}

pub async fn run(global: &GlobalArgs, args: FleetsArgs) -> Result<u8> {
    let gamelift = GameLift::connect(&global.aws(), None).await?;
    let resolver = Resolver::new(&gamelift, args.refresh);
    let fleet_ids = resolver.fleet_ids().await?;
    let mut fleets = Vec::with_capacity(fleet_ids.len());
    for id in &fleet_ids {
        fleets.push(resolver.fleet_info(id).await?);
    }
    let rows: Vec<FleetRow> = fleets
        .iter()
        .map(|f| FleetRow {
            fleet: f,
            access: access_path(f),
        })
        .collect();
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialize")),
        OutputFormat::Table => output::print_table(
            &["ID", "NAME", "STATUS", "COMPUTE", "OS", "SDK", "ACCESS", "LOCATIONS"],
            &rows
                .iter()
                .map(|r| {
                    let f = r.fleet;
                    vec![
                        f.fleet_id.clone(),
                        f.name.clone(),
                        f.status.clone(),
                        f.compute.as_str().to_owned(),
                        f.os.clone().unwrap_or_else(|| "-".into()),
                        f.sdk.map(|s| s.as_str().to_owned()).unwrap_or_else(|| "?".into()),
                        r.access.to_owned(),
                        f.locations.join(","),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
    Ok(0)
}

fn access_path(f: &FleetInfo) -> &'static str {
    match (f.compute, f.sdk) {
        (ComputeType::Anywhere, _) => "none (Anywhere)",
        (ComputeType::Container, _) | (_, Some(Sdk::V5)) => "ssm",
        _ if f.os.as_deref().is_some_and(|o| o.starts_with("WINDOWS")) => "rdp",
        _ => "ssh",
    }
}
