//! Fleet lookups: aliases, names, attributes, builds and locations.

use std::collections::BTreeMap;

use aws_sdk_gamelift::types::{ComputeType as SdkComputeType, FleetAttributes, RoutingStrategyType};

use super::{ComputeType, FleetInfo, ResolveError, Sdk};
use crate::aws::GameLift;

/// ResolveAlias: the fleet a SIMPLE alias routes to.
pub async fn resolve_alias(gl: &GameLift, alias: &str) -> Result<String, ResolveError> {
    const OP: &str = "ResolveAlias";
    match gl.client().await.resolve_alias().alias_id(alias).send().await {
        Ok(out) => out
            .fleet_id
            .ok_or_else(|| ResolveError::Mismatch(format!("{OP} returned no fleet for {alias}"))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_terminal_routing_strategy_exception()) =>
        {
            let message = e
                .as_service_error()
                .and_then(|e| e.meta().message())
                .unwrap_or("")
                .to_owned();
            Err(ResolveError::TerminalAlias {
                alias: alias.to_owned(),
                message,
            })
        }
        Err(e) => Err(gl.classify(OP, e).into()),
    }
}

/// A fleet or alias name: ListAliases for aliases of that name, ListFleets +
/// DescribeFleetAttributes for fleets of that name. Exactly one fleet must
/// come out of it.
pub async fn by_name(gl: &GameLift, name: &str) -> Result<String, ResolveError> {
    let mut found: BTreeMap<String, String> = BTreeMap::new();

    let aliases = gl
        .client()
        .await
        .list_aliases()
        .name(name)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| gl.classify("ListAliases", e))?;
    for alias in aliases.iter().filter(|a| a.name() == Some(name)) {
        let routing = alias.routing_strategy();
        match (routing.and_then(|r| r.r#type()), routing.and_then(|r| r.fleet_id())) {
            (Some(RoutingStrategyType::Simple), Some(fleet_id)) => {
                found.insert(
                    fleet_id.to_owned(),
                    format!("via alias {}", alias.alias_id().unwrap_or("?")),
                );
            }
            _ => {
                let message = routing.and_then(|r| r.message()).unwrap_or("").to_owned();
                if found.is_empty() && aliases.len() == 1 {
                    return Err(ResolveError::TerminalAlias {
                        alias: name.to_owned(),
                        message,
                    });
                }
            }
        }
    }

    let fleet_ids = list_fleet_ids(gl).await?;
    for fleet in attributes(gl, &fleet_ids).await? {
        if let (Some(id), Some(n)) = (fleet.fleet_id(), fleet.name())
            && n == name
        {
            let status = fleet.status().map(|s| s.as_str()).unwrap_or("?");
            found
                .entry(id.to_owned())
                .or_insert_with(|| format!("fleet named '{n}', {status}"));
        }
    }

    match found.len() {
        0 => Err(ResolveError::NoSuchName {
            name: name.to_owned(),
            region: gl.region.clone(),
        }),
        1 => Ok(found.into_keys().next().expect("one entry")),
        _ => Err(ResolveError::Ambiguous {
            name: name.to_owned(),
            region: gl.region.clone(),
            candidates: found
                .iter()
                .map(|(id, why)| format!("  {id}  ({why})"))
                .collect::<Vec<_>>()
                .join("\n"),
        }),
    }
}

/// ListFleets: every fleet ID in the region.
pub async fn list_fleet_ids(gl: &GameLift) -> Result<Vec<String>, ResolveError> {
    gl.client()
        .await
        .list_fleets()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| gl.classify("ListFleets", e).into())
}

/// DescribeFleetAttributes, DescribeBuild (for the server SDK version) and
/// DescribeFleetLocationAttributes: everything `connect` needs to know.
pub async fn describe(gl: &GameLift, fleet_id: &str) -> Result<FleetInfo, ResolveError> {
    let mut found = describe_many(gl, &[fleet_id.to_owned()]).await?;
    match found.pop() {
        Some(info) => Ok(info),
        None => Err(no_fleet(gl, fleet_id)),
    }
}

/// [`describe`] for many fleets: DescribeFleetAttributes with up to 50 IDs
/// a call, one DescribeBuild per distinct build, and the locations of each.
/// Fleets that do not exist are left out; container fleets, which
/// DescribeFleetAttributes may not know, are described from their ID.
pub async fn describe_many(gl: &GameLift, fleet_ids: &[String]) -> Result<Vec<FleetInfo>, ResolveError> {
    let attributes = attributes(gl, fleet_ids).await?;
    let mut sdk_versions: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut fleets = Vec::with_capacity(fleet_ids.len());
    for fleet_id in fleet_ids {
        let container = fleet_id.starts_with("containerfleet-");
        // Fleets that don't exist are left out of the answer rather than refused.
        let Some(attrs) = attributes.iter().find(|f| f.fleet_id() == Some(fleet_id.as_str())) else {
            if container {
                // Container fleets are described by their own API; what we need follows from the ID.
                fleets.push(FleetInfo {
                    fleet_id: fleet_id.to_owned(),
                    name: String::new(),
                    region: gl.region.clone(),
                    status: String::new(),
                    compute: ComputeType::Container,
                    os: None,
                    sdk: Some(Sdk::V5),
                    server_sdk_version: None,
                    locations: locations(gl, fleet_id).await?,
                    instance_type: None,
                });
            }
            continue;
        };
        let compute = if container {
            ComputeType::Container
        } else {
            match attrs.compute_type() {
                Some(SdkComputeType::Anywhere) => ComputeType::Anywhere,
                Some(other) if other.as_str() == "CONTAINER" => ComputeType::Container,
                _ => ComputeType::Ec2,
            }
        };
        let server_sdk_version = match attrs.build_id() {
            Some(build_id) if compute == ComputeType::Ec2 => match sdk_versions.get(build_id) {
                Some(known) => known.clone(),
                None => {
                    let build = gl
                        .client()
                        .await
                        .describe_build()
                        .build_id(build_id)
                        .send()
                        .await
                        .map_err(|e| gl.classify("DescribeBuild", e))?;
                    let version = build
                        .build_value()
                        .and_then(|b| b.server_sdk_version())
                        .map(str::to_owned);
                    sdk_versions.insert(build_id.to_owned(), version.clone());
                    version
                }
            },
            _ => None,
        };
        let sdk = match compute {
            ComputeType::Container => Some(Sdk::V5),
            _ => server_sdk_version.as_deref().and_then(sdk_generation),
        };
        fleets.push(FleetInfo {
            fleet_id: fleet_id.to_owned(),
            name: attrs.name().unwrap_or_default().to_owned(),
            region: gl.region.clone(),
            status: attrs.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            compute,
            os: attrs.operating_system().map(|o| o.as_str().to_owned()),
            sdk,
            server_sdk_version,
            locations: locations(gl, fleet_id).await?,
            instance_type: attrs.instance_type().map(|t| t.as_str().to_owned()),
        });
    }
    Ok(fleets)
}

/// ListContainerFleets: the region's container fleet IDs.
pub async fn list_container_fleet_ids(gl: &GameLift) -> Result<Vec<String>, ResolveError> {
    let fleets = gl
        .client()
        .await
        .list_container_fleets()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| gl.classify("ListContainerFleets", e))?;
    Ok(fleets.iter().filter_map(|f| f.fleet_id().map(str::to_owned)).collect())
}

/// DescribeFleetAttributes for the status alone: never cached, asked each
/// time it matters. Container fleets it does not describe have none (`""`).
pub async fn status(gl: &GameLift, fleet_id: &str) -> Result<String, ResolveError> {
    match statuses(gl, &[fleet_id.to_owned()]).await?.remove(fleet_id) {
        Some(status) => Ok(status),
        None if fleet_id.starts_with("containerfleet-") => Ok(String::new()),
        None => Err(no_fleet(gl, fleet_id)),
    }
}

/// [`status`] for many fleets: the status of each fleet GameLift
/// describes, by fleet ID.
pub async fn statuses(gl: &GameLift, fleet_ids: &[String]) -> Result<BTreeMap<String, String>, ResolveError> {
    Ok(attributes(gl, fleet_ids)
        .await?
        .iter()
        .filter_map(|attrs| {
            let status = attrs.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
            attrs.fleet_id().map(|id| (id.to_owned(), status))
        })
        .collect())
}

/// DescribeFleetAttributes for many fleets, up to 50 IDs a call (its
/// limit). Fleets that do not exist are left out of the answer.
async fn attributes(gl: &GameLift, fleet_ids: &[String]) -> Result<Vec<FleetAttributes>, ResolveError> {
    let mut attributes = Vec::with_capacity(fleet_ids.len());
    for chunk in fleet_ids.chunks(50) {
        let out = gl
            .client()
            .await
            .describe_fleet_attributes()
            .set_fleet_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| gl.classify("DescribeFleetAttributes", e))?;
        attributes.extend(out.fleet_attributes.unwrap_or_default());
    }
    Ok(attributes)
}

/// DescribeFleetAttributes left the fleet out of its answer: it does not
/// exist in this region.
fn no_fleet(gl: &GameLift, fleet_id: &str) -> ResolveError {
    crate::aws::AwsError::NotFound {
        service: crate::aws::Service::GameLift,
        op: "DescribeFleetAttributes",
        region: gl.region.clone(),
        message: format!("no fleet {fleet_id}"),
    }
    .into()
}

/// The fleet's locations, home region first.
async fn locations(gl: &GameLift, fleet_id: &str) -> Result<Vec<String>, ResolveError> {
    let pages = gl
        .client()
        .await
        .describe_fleet_location_attributes()
        .fleet_id(fleet_id)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| gl.classify("DescribeFleetLocationAttributes", e))?;
    let mut locations = vec![gl.region.clone()];
    for loc in pages.iter().flat_map(|p| p.location_attributes()) {
        if let Some(l) = loc.location_state().and_then(|s| s.location())
            && !locations.iter().any(|have| have == l)
        {
            locations.push(l.to_owned());
        }
    }
    Ok(locations)
}

/// "5.1.0" → 5; "4.0.2" → 4.
fn sdk_generation(version: &str) -> Option<Sdk> {
    let major: u32 = version.trim().split('.').next()?.parse().ok()?;
    Some(if major >= 5 { Sdk::V5 } else { Sdk::V4 })
}

/// Refuses fleets that have nothing to connect to, and says why.
pub fn check_usable(fleet: &FleetInfo) -> Result<(), ResolveError> {
    if fleet.compute == ComputeType::Anywhere {
        return Err(ResolveError::Anywhere {
            fleet_id: fleet.fleet_id.clone(),
        });
    }
    let refuse = |meaning| {
        Err(ResolveError::NotActive {
            fleet_id: fleet.fleet_id.clone(),
            status: fleet.status.clone(),
            meaning,
        })
    };
    match fleet.status.as_str() {
        "ACTIVE" | "" => Ok(()),
        "ACTIVATING" => {
            tracing::warn!(
                "fleet {} is ACTIVATING: its instances may not accept connections yet",
                fleet.fleet_id
            );
            Ok(())
        }
        "DELETING" => {
            tracing::warn!("fleet {} is DELETING: its instances are going away", fleet.fleet_id);
            Ok(())
        }
        "NEW" | "DOWNLOADING" | "VALIDATING" | "BUILDING" => {
            refuse("it is still being created and has no instances to connect to until it is ACTIVE; wait and retry")
        }
        "ERROR" => refuse(
            "it failed to activate and has no usable instances; see `aws gamelift describe-fleet-events --fleet-id <id>`",
        ),
        "TERMINATED" => refuse("it has been deleted and has no instances"),
        _ => refuse("it is not ACTIVE, so its instances cannot be reached"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_generations() {
        assert_eq!(sdk_generation("4.0.2"), Some(Sdk::V4));
        assert_eq!(sdk_generation("3.4.0"), Some(Sdk::V4));
        assert_eq!(sdk_generation("5.1.0"), Some(Sdk::V5));
        assert_eq!(sdk_generation("10.0"), Some(Sdk::V5));
        assert_eq!(sdk_generation("unknown"), None);
    }
}
