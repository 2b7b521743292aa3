//! `gamelift-access instances <fleet>`: a fleet's instances or computes in
//! every location.

use crate::aws::GameLift;
use crate::cli::{GlobalArgs, InstancesArgs, OutputFormat};
use crate::error::Result;
use crate::output;
use crate::resolve::{FleetRef, InstanceSummary, Resolver};

pub async fn run(global: &GlobalArgs, args: InstancesArgs) -> Result<u8> {
    let fleet = FleetRef::parse(&args.fleet)?;
    let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
    let resolver = Resolver::new(&gamelift, args.refresh);
    let info = resolver.fleet(&fleet).await?;
    let instances = resolver.instances(&info).await?;
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&instances).expect("rows serialize")),
        OutputFormat::Table => {
            let now = output::now();
            output::print_table(
                &InstanceSummary::HEADER,
                &instances.iter().map(|i| i.row(now)).collect::<Vec<_>>(),
            )
        }
    }
    Ok(0)
}
