//! `gamelift-access logs <FLEET> <GAME_SESSION | psess-… | player:ID>`:
//! the logs GameLift stored for an ended game session, unpacked.

use crate::aws::GameLift;
use crate::cli::{GlobalArgs, LogsArgs, OutputFormat};
use crate::error::Result;
use crate::resolve::{FleetRef, InstanceRef, Resolver};
use crate::sessions::logs;

pub async fn run(global: &GlobalArgs, args: LogsArgs) -> Result<u8> {
    let fleet = FleetRef::parse(&args.fleet)?;
    let reference = InstanceRef::parse(&args.session)?;
    let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
    let resolver = Resolver::new(&gamelift, args.refresh);
    let info = resolver.fleet(&fleet).await?;
    let game_session = logs::game_session_id(&resolver, &info, &reference).await?;
    let unpacked = logs::fetch(&gamelift, &info, &game_session, args.out).await?;
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&unpacked).expect("result serializes")
        ),
        OutputFormat::Table => {
            for f in &unpacked.files {
                println!("{}  {} bytes", unpacked.directory.join(&f.path).display(), f.size);
            }
            println!(
                "wrote {} file{} to {}",
                unpacked.files.len(),
                if unpacked.files.len() == 1 { "" } else { "s" },
                unpacked.directory.display()
            );
        }
    }
    Ok(0)
}
