//! `gamelift-access sessions <FLEET>`: the fleet's game sessions in every
//! location, or a player's sessions on it.

use crate::aws::GameLift;
use crate::cli::{GlobalArgs, OutputFormat, SessionsArgs};
use crate::error::Result;
use crate::output;
use crate::resolve::{FleetRef, InstanceRef, Resolver};
use crate::sessions::{self, GameSessionRow, PlayerSessionRow};

pub async fn run(global: &GlobalArgs, args: SessionsArgs) -> Result<u8> {
    let fleet = FleetRef::parse(&args.fleet)?;
    let instance = args.instance.as_deref().map(InstanceRef::parse).transpose()?;
    let gamelift = GameLift::connect(&global.aws(), fleet.region()).await?;
    let resolver = Resolver::new(&gamelift, args.refresh);
    let info = resolver.fleet(&fleet).await?;
    let locations = sessions::locations(&info, &args.locations)?;
    // `--instance`: the instance (or compute) it names, as `connect` finds it.
    let on_instance = match &instance {
        Some(r) => Some(resolver.target(info.clone(), Some(r), None, false).await?.instance_id),
        None => None,
    };
    let now = output::now();

    if let Some(player) = &args.player {
        let statuses = sessions::statuses(&args.statuses, &sessions::PLAYER_SESSION_STATUSES)?;
        let rows: Vec<PlayerSessionRow> = sessions::player_sessions(&gamelift, &resolver, &info, player)
            .await?
            .into_iter()
            .filter(|r| statuses.is_empty() || statuses.contains(&r.status))
            .filter(|r| locations.contains(&r.location))
            .filter(|r| on_instance.as_ref().is_none_or(|i| r.instance_id.as_ref() == Some(i)))
            .collect();
        match global.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialize")),
            OutputFormat::Table => output::print_table(
                &PlayerSessionRow::HEADER,
                &rows.iter().map(|r| r.row(now)).collect::<Vec<_>>(),
            ),
        }
        return Ok(0);
    }

    let mut statuses = sessions::statuses(&args.statuses, &sessions::GAME_SESSION_STATUSES)?;
    if statuses.is_empty() {
        statuses = sessions::DEFAULT_STATUSES.iter().map(|s| s.to_string()).collect();
    }
    let rows: Vec<GameSessionRow> = sessions::game_sessions(&gamelift, &resolver, &info, &locations)
        .await?
        .into_iter()
        .filter(|r| statuses.contains(&r.status))
        .filter(|r| on_instance.as_ref().is_none_or(|i| r.instance_id.as_ref() == Some(i)))
        .collect();
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&rows).expect("rows serialize")),
        OutputFormat::Table => output::print_table(
            &GameSessionRow::HEADER,
            &rows.iter().map(|r| r.row(now)).collect::<Vec<_>>(),
        ),
    }
    Ok(0)
}
