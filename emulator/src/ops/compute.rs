//! Compute-level operations: ListCompute, DescribeCompute,
//! DescribeGameSessions and GetComputeAccess.

use std::borrow::Cow;

use super::{Ctx, Input, find_fleet, paginate, pattern_error};
use crate::error::ApiError;
use crate::fixture::{Compute, ComputeType, ContainerAttribute, Fixture, Fleet, GameSession};
use crate::state;
use crate::wire::{Obj, Out};

const COMPUTE_NAME_OR_ARN_PATTERN: &str =
    r"^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$|^arn:.*:compute\/[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$";
const GAME_SESSION_ID_PATTERN: &str = r"[a-zA-Z0-9:/-]+";

pub(super) fn list_compute(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let location = input.location("Location")?;
    let status = input.opt_str("ComputeStatus")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(s) = status
        && s != "ACTIVE"
        && s != "IMPAIRED"
    {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{s}' at 'computeStatus' failed to satisfy \
             constraint: Member must satisfy enum value set: [ACTIVE, IMPAIRED]"
        )));
    }
    let fleet = find_fleet(fx, region, fleet_ref)?;
    // Without Location, computes in every location of the fleet are listed.
    let computes: Vec<Cow<'_, Compute>> = fleet_computes(fx, fleet)
        .into_iter()
        .filter(|c| location.is_none_or(|l| compute_location(fleet, c) == l))
        .filter(|c| status.is_none_or(|s| c.status == s))
        .collect();
    let (page, next) = paginate(&computes, limit, next_token)?;
    Ok(Out::Map(
        Obj::new()
            .put(
                "ComputeList",
                page.iter()
                    .map(|c| Out::Map(compute_out(fx, fleet, c)))
                    .collect::<Vec<_>>(),
            )
            .put_opt("NextToken", next),
    ))
}

pub(super) fn describe_compute(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let name = compute_name(input)?;
    let fleet = find_fleet(fx, region, fleet_ref)?;
    let compute = find_compute(fx, fleet, name)?;
    Ok(Out::Map(Obj::new().put("Compute", compute_out(fx, fleet, &compute))))
}

pub(super) fn describe_game_sessions(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.opt_str("FleetId")?;
    let session_id = input.opt_str("GameSessionId")?;
    let alias_ref = input.opt_str("AliasId")?;
    let location = input.location("Location")?;
    let status = input.opt_str("StatusFilter")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(f) = fleet_ref {
        super::check_fleet_id_or_arn("FleetId", f)?;
    }
    if let Some(id) = session_id
        && (id.is_empty() || id.len() > 512 || id.chars().any(char::is_whitespace))
    {
        return Err(pattern_error(id, "GameSessionId", GAME_SESSION_ID_PATTERN));
    }

    let mut fleet: Option<&Fleet> = match (fleet_ref, alias_ref) {
        (Some(f), _) => Some(find_fleet(fx, region, f)?),
        (None, Some(a)) => Some(super::fleets::resolve_alias_to_fleet(fx, region, "AliasId", a)?),
        (None, None) => None,
    };
    if let Some(id) = session_id {
        let not_found = || ApiError::not_found(format!("Game session {id} not found."));
        let session = fx.game_session(id).ok_or_else(not_found)?;
        let owner = find_fleet(fx, region, &session.fleet_id).map_err(|_| not_found())?;
        if fleet.is_some_and(|f| f.fleet_id != owner.fleet_id) {
            return Err(not_found());
        }
        fleet = Some(owner);
    }
    let Some(fleet) = fleet else {
        return Err(ApiError::invalid(
            "One of FleetId, AliasId or GameSessionId must be specified.",
        ));
    };
    if let Some(loc) = location
        && !fleet.has_location(loc)
    {
        return Err(ApiError::invalid(format!(
            "Location {loc} is not a location of fleet {}.",
            fleet.fleet_id
        )));
    }

    // Without Location, sessions in every location of the fleet are returned.
    let sessions: Vec<&GameSession> = fx
        .game_sessions
        .iter()
        .filter(|g| g.fleet_id == fleet.fleet_id)
        .filter(|g| session_id.is_none_or(|id| g.game_session_id == id))
        .filter(|g| location.is_none_or(|l| session_location(fleet, g) == l))
        .filter(|g| status.is_none_or(|s| g.status.eq_ignore_ascii_case(s)))
        .collect();
    let (page, next) = paginate(&sessions, limit, next_token)?;
    Ok(Out::Map(
        Obj::new()
            .put(
                "GameSessions",
                page.iter()
                    .map(|g| Out::Map(game_session_out(fx, fleet, g)))
                    .collect::<Vec<_>>(),
            )
            .put_opt("NextToken", next),
    ))
}

pub(super) fn get_compute_access(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let name = compute_name(input)?;
    let fx: &Fixture = ctx.fx;
    let fleet = find_fleet(fx, ctx.region, fleet_ref)?;
    if fleet.compute_type == ComputeType::Anywhere {
        return Err(ApiError::invalid(format!(
            "GetComputeAccess is not supported for fleet {} with compute type ANYWHERE.",
            fleet.fleet_id
        )));
    }
    if let Some(version) = sdk4_or_older(fx, fleet) {
        return Err(ApiError::invalid(format!(
            "GetComputeAccess is not supported for fleet {}: its build uses server SDK version \
             {version}. Use GetInstanceAccess to connect to instances of fleets on server SDK \
             4.x or earlier.",
            fleet.fleet_id
        )));
    }
    let compute = find_compute(fx, fleet, name)?;
    // Target is "the instance ID where the compute resource is running"
    // (SDK doc); for EC2 computes that is the compute name itself.
    let target = compute
        .instance_id
        .clone()
        .unwrap_or_else(|| compute.compute_name.clone());
    let issued = state::new_credentials(&fleet.fleet_id, &compute.compute_name, &target);
    let containers = containers_out(&compute.container_attributes);
    let out = Obj::new()
        .put("FleetId", &fleet.fleet_id)
        .put("FleetArn", fleet.arn())
        .put("ComputeName", &compute.compute_name)
        .put("ComputeArn", compute.arn(fleet))
        .put(
            "Credentials",
            Obj::new()
                .put("AccessKeyId", &issued.access_key_id)
                .put("SecretAccessKey", &issued.secret_access_key)
                .put("SessionToken", &issued.session_token),
        )
        .put("Target", target)
        .put_opt("ContainerIdentifiers", (!containers.is_empty()).then_some(containers));
    ctx.state.issued.push(issued);
    Ok(Out::Map(out))
}

/// `Some(version)` if the fleet's build declares a server SDK older than 5.
fn sdk4_or_older(fx: &Fixture, fleet: &Fleet) -> Option<String> {
    let build = fleet.build_id.as_deref().and_then(|id| fx.build(id))?;
    let version = build.server_sdk_version.as_deref()?;
    let major: u32 = version.split('.').next()?.trim().parse().ok()?;
    (major < 5).then(|| version.to_owned())
}

fn compute_name<'a>(input: &Input<'a>) -> Result<&'a str, ApiError> {
    let value = input.req_str("ComputeName")?;
    let name_ok = |s: &str| {
        let mut parts = s.split('/');
        let ok_part = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        parts.next().is_some_and(ok_part) && parts.next().is_none_or(ok_part) && parts.next().is_none()
    };
    let name = match value.strip_prefix("arn:") {
        Some(rest) => rest.split_once(":compute/").map(|(_, n)| n),
        None => Some(value),
    };
    match name {
        Some(n) if value.len() <= 1024 && name_ok(n) => Ok(n),
        _ => Err(pattern_error(value, "ComputeName", COMPUTE_NAME_OR_ARN_PATTERN)),
    }
}

/// The fixture's computes of `fleet`; for an SDK 5 EC2 fleet, instances
/// without a compute entry are also computes (named by instance id).
fn fleet_computes<'f>(fx: &'f Fixture, fleet: &Fleet) -> Vec<Cow<'f, Compute>> {
    let mut computes: Vec<Cow<'f, Compute>> = fx
        .computes
        .iter()
        .filter(|c| c.fleet_id == fleet.fleet_id)
        .map(Cow::Borrowed)
        .collect();
    if fleet.compute_type == ComputeType::Ec2 && sdk4_or_older(fx, fleet).is_none() {
        for i in fx.instances.iter().filter(|i| i.fleet_id == fleet.fleet_id) {
            if !computes.iter().any(|c| c.compute_name == i.instance_id) {
                computes.push(Cow::Owned(Compute {
                    fleet_id: fleet.fleet_id.clone(),
                    compute_name: i.instance_id.clone(),
                    ip_address: i.ip_address.clone(),
                    dns_name: i.dns_name.clone(),
                    location: i.location.clone(),
                    status: i.status.clone(),
                    operating_system: i.operating_system.clone(),
                    instance_id: Some(i.instance_id.clone()),
                    container_attributes: Vec::new(),
                    creation_time: i.creation_time,
                }));
            }
        }
    }
    computes
}

fn find_compute<'f>(fx: &'f Fixture, fleet: &Fleet, name: &str) -> Result<Cow<'f, Compute>, ApiError> {
    fleet_computes(fx, fleet)
        .into_iter()
        .find(|c| c.compute_name == name)
        .ok_or_else(|| ApiError::not_found(format!("Compute {name} not found in fleet {}.", fleet.fleet_id)))
}

fn compute_location<'a>(fleet: &'a Fleet, c: &'a Compute) -> &'a str {
    c.location.as_deref().unwrap_or(&fleet.region)
}

fn session_location<'a>(fleet: &'a Fleet, g: &'a GameSession) -> &'a str {
    g.location.as_deref().unwrap_or(&fleet.region)
}

fn dns_for(ip: &str, location: &str) -> String {
    format!("ec2-{}.{location}.compute.amazonaws.com", ip.replace(['.', ':'], "-"))
}

/// `[{ContainerName, ContainerRuntimeId}]`: GetComputeAccess's
/// ContainerIdentifiers and a Compute's ContainerAttributes share the shape.
fn containers_out(attributes: &[ContainerAttribute]) -> Vec<Out> {
    attributes
        .iter()
        .map(|a| {
            Out::Map(
                Obj::new()
                    .put("ContainerName", &a.container_name)
                    .put("ContainerRuntimeId", &a.container_runtime_id),
            )
        })
        .collect()
}

fn compute_out(fx: &Fixture, fleet: &Fleet, c: &Compute) -> Obj {
    let location = compute_location(fleet, c);
    let os = c
        .operating_system
        .clone()
        .or_else(|| fleet.operating_system.clone())
        .or_else(|| {
            let build = fleet.build_id.as_deref().and_then(|id| fx.build(id))?;
            Some(build.operating_system.clone())
        });
    let containers = containers_out(&c.container_attributes);
    Obj::new()
        .put("FleetId", &fleet.fleet_id)
        .put("FleetArn", fleet.arn())
        .put("ComputeName", &c.compute_name)
        .put("ComputeArn", c.arn(fleet))
        .put("IpAddress", &c.ip_address)
        .put(
            "DnsName",
            c.dns_name.clone().unwrap_or_else(|| dns_for(&c.ip_address, location)),
        )
        .put("ComputeStatus", &c.status)
        .put("Location", location)
        .put("CreationTime", Out::Time(c.creation_time))
        .put_opt("OperatingSystem", os)
        .put("Type", &fleet.instance_type)
        .put_opt("InstanceId", c.instance_id.as_deref())
        .put_opt("ContainerAttributes", (!containers.is_empty()).then_some(containers))
}

/// The address (IP, DNS name) of the instance or compute hosting `g`; the
/// hosting compute wins over the instance.
pub(super) fn game_session_host(fx: &Fixture, fleet: &Fleet, g: &GameSession) -> Option<(String, String)> {
    let location = session_location(fleet, g);
    g.compute_name
        .as_deref()
        .and_then(|name| find_compute(fx, fleet, name).ok())
        .map(|c| {
            let dns = c.dns_name.clone().unwrap_or_else(|| dns_for(&c.ip_address, location));
            (c.ip_address.clone(), dns)
        })
        .or_else(|| {
            let id = g.instance_id.as_deref()?;
            let i = fx
                .instances
                .iter()
                .find(|i| i.instance_id == id && i.fleet_id == fleet.fleet_id)?;
            let dns = i.dns_name.clone().unwrap_or_else(|| dns_for(&i.ip_address, location));
            Some((i.ip_address.clone(), dns))
        })
}

fn game_session_out(fx: &Fixture, fleet: &Fleet, g: &GameSession) -> Obj {
    let location = session_location(fleet, g);
    let (ip, dns) = game_session_host(fx, fleet, g).unzip();
    // Players who hold a seat: connected (ACTIVE) or on their way (RESERVED).
    let players = fx
        .player_sessions
        .iter()
        .filter(|p| p.game_session_id == g.game_session_id)
        .filter(|p| p.status == "ACTIVE" || p.status == "RESERVED")
        .count();
    Obj::new()
        .put("GameSessionId", &g.game_session_id)
        .put_opt("Name", g.name.as_deref())
        .put("FleetId", &fleet.fleet_id)
        .put("FleetArn", fleet.arn())
        .put("CreationTime", Out::Time(g.creation_time))
        .put_opt("TerminationTime", super::players::termination_time(g).map(Out::Time))
        .put("CurrentPlayerSessionCount", i64::try_from(players).unwrap_or(i64::MAX))
        .put("MaximumPlayerSessionCount", 10i64)
        .put("Status", &g.status)
        .put_opt("IpAddress", ip)
        .put_opt("DnsName", dns)
        .put("Port", g.port)
        .put("PlayerSessionCreationPolicy", "ACCEPT_ALL")
        .put("Location", location)
        .put_opt("ComputeName", g.compute_name.as_deref())
}
