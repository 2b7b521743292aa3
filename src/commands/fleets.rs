//! `gamelift-access fleets`: what fleets there are, and how each is reached.

use serde::Serialize;

use crate::aws::GameLift;
use crate::cli::{FleetsArgs, GlobalArgs, OutputFormat};
use crate::error::Result;
use crate::output;
use crate::resolve::{ComputeType, FleetInfo, Resolver, Sdk};

/// The regions GameLift's managed fleets can have their home in (the
/// aws partition; see "Amazon GameLift service locations" in the
/// developer guide). `--all-regions` asks each.
pub const GAMELIFT_REGIONS: [&str; 21] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "me-south-1",
    "sa-east-1",
];

#[derive(Serialize)]
struct FleetRow<'a> {
    #[serde(flatten)]
    fleet: &'a FleetInfo,
    /// How `connect` reaches its instances.
    access: &'static str,
}

/// One region's fleets.
async fn in_region(global: &GlobalArgs, region: Option<&str>, refresh: bool) -> Result<Vec<FleetInfo>> {
    let gamelift = GameLift::connect(&global.aws(), region).await?;
    let resolver = Resolver::new(&gamelift, refresh);
    Ok(resolver.all_fleets().await?)
}

pub async fn run(global: &GlobalArgs, args: FleetsArgs) -> Result<u8> {
    let fleets = if args.all_regions {
        let answers = futures::future::join_all(
            GAMELIFT_REGIONS
                .iter()
                .map(|r| async move { (*r, in_region(global, Some(r), args.refresh).await) }),
        )
        .await;
        let mut fleets = vec![];
        let mut failed = vec![];
        for (region, answer) in answers {
            match answer {
                Ok(found) => fleets.extend(found),
                Err(e) => failed.push((region, e)),
            }
        }
        // A region the account has not opted into refuses the credentials;
        // say so and list the others, unless no region answered at all.
        if failed.len() == GAMELIFT_REGIONS.len() {
            return Err(failed.remove(0).1);
        }
        for (region, e) in &failed {
            let first = e.to_string();
            eprintln!(
                "gamelift-access: {region}: skipped: {}",
                first.lines().next().unwrap_or_default()
            );
        }
        fleets
    } else {
        in_region(global, None, args.refresh).await?
    };
    let rows: Vec<FleetRow> = fleets
        .iter()
        .map(|f| FleetRow {
            fleet: f,
            access: access_path(f),
        })
        .collect();
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialize")),
        OutputFormat::Table => {
            let mut header = vec!["ID", "NAME", "STATUS", "COMPUTE", "OS", "SDK", "ACCESS", "LOCATIONS"];
            if args.all_regions {
                header.insert(0, "REGION");
            }
            output::print_table(
                &header,
                &rows
                    .iter()
                    .map(|r| {
                        let f = r.fleet;
                        let mut row = vec![
                            f.fleet_id.clone(),
                            f.name.clone(),
                            f.status.clone(),
                            f.compute.as_str().to_owned(),
                            f.os.clone().unwrap_or_else(|| "-".into()),
                            f.sdk.map(|s| s.as_str().to_owned()).unwrap_or_else(|| "?".into()),
                            r.access.to_owned(),
                            f.locations.join(","),
                        ];
                        if args.all_regions {
                            row.insert(0, f.region.clone());
                        }
                        row
                    })
                    .collect::<Vec<_>>(),
            )
        }
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
