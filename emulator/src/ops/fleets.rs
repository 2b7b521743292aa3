//! Fleet-level operations: ListFleets, aliases, locations and port settings.

use serde_json::Value;

use super::{Ctx, Input, find_fleet, is_build_id_or_arn, member_path, paginate, pattern_error, wrong_type};
use crate::error::{ApiError, ErrorCode};
use crate::fixture::{Alias, Fixture, Fleet, IpPermission, RoutingStrategy};
use crate::state::PendingPorts;
use crate::wire::{Obj, Out};

const ALIAS_ID_OR_ARN_PATTERN: &str = r"^alias-\S+|^arn:.*:alias\/alias-\S+";
const SCRIPT_ID_OR_ARN_PATTERN: &str = r"^script-\S+|^arn:.*:script\/script-\S+";
const BUILD_ID_OR_ARN_PATTERN: &str = r"^build-\S+|^arn:.*:build\/build-\S+";

pub(super) fn list_fleets(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let build_ref = input.opt_str("BuildId")?;
    let script_ref = input.opt_str("ScriptId")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(b) = build_ref
        && !is_build_id_or_arn(b)
    {
        return Err(pattern_error(b, "BuildId", BUILD_ID_OR_ARN_PATTERN));
    }
    if let Some(s) = script_ref
        && !(s.starts_with("script-") || s.contains(":script/script-"))
    {
        return Err(pattern_error(s, "ScriptId", SCRIPT_ID_OR_ARN_PATTERN));
    }
    let build_id = build_ref.map(|b| b.rsplit('/').next().unwrap_or(b));
    let ids: Vec<&str> = fx
        .fleets
        .iter()
        .filter(|f| f.region == region)
        .filter(|f| build_id.is_none_or(|b| f.build_id.as_deref() == Some(b)))
        // Fixtures have no script fleets, so a ScriptId filter matches nothing.
        .filter(|_| script_ref.is_none())
        .map(|f| f.fleet_id.as_str())
        .collect();
    let (page, next) = paginate(&ids, limit, next_token)?;
    Ok(Out::Map(
        Obj::new()
            .put("FleetIds", page.iter().map(|&id| Out::from(id)).collect::<Vec<_>>())
            .put_opt("NextToken", next),
    ))
}

/// ListContainerFleets: the region's managed container fleets. (This
/// emulator's ListFleets lists them as well, so a client that calls both
/// must merge by fleet ID.)
pub(super) fn list_container_fleets(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let definition = input.opt_str("ContainerGroupDefinitionName")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(d) = definition {
        let name_ok =
            |n: &str| !n.is_empty() && n.len() <= 128 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let ok = match d.strip_prefix("arn:") {
            Some(rest) => rest
                .rsplit_once(":containergroupdefinition/")
                .is_some_and(|(_, n)| name_ok(n.split(':').next().unwrap_or(""))),
            None => name_ok(d),
        };
        if !ok {
            return Err(pattern_error(
                d,
                "ContainerGroupDefinitionName",
                r"^[a-zA-Z0-9\-]+$|^arn:.*:containergroupdefinition\/[a-zA-Z0-9\-]+$",
            ));
        }
    }
    let fleets: Vec<&Fleet> = fx
        .fleets
        .iter()
        .filter(|f| f.region == region && f.is_container())
        // Fixtures name no container group definitions.
        .filter(|_| definition.is_none())
        .collect();
    let (page, next) = paginate(&fleets, limit, next_token)?;
    let out = page
        .iter()
        .map(|f| {
            let locations = f
                .all_locations()
                .into_iter()
                .map(|l| Out::Map(Obj::new().put("Location", l).put("Status", &f.status)))
                .collect::<Vec<_>>();
            Out::Map(
                Obj::new()
                    .put("FleetId", &f.fleet_id)
                    .put("FleetArn", f.arn())
                    .put("InstanceType", &f.instance_type)
                    .put("BillingType", &f.fleet_type)
                    .put_opt("Description", f.description.as_deref())
                    .put("CreationTime", Out::Time(f.creation_time))
                    .put("MetricGroups", vec![Out::from("default")])
                    .put("NewGameSessionProtectionPolicy", "NoProtection")
                    .put("Status", &f.status)
                    .put("LocationAttributes", locations),
            )
        })
        .collect::<Vec<_>>();
    Ok(Out::Map(
        Obj::new().put("ContainerFleets", out).put_opt("NextToken", next),
    ))
}

pub(super) fn list_aliases(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let routing_type = input.opt_str("RoutingStrategyType")?;
    let name = input.opt_str("Name")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(t) = routing_type
        && t != "SIMPLE"
        && t != "TERMINAL"
    {
        return Err(enum_error(t, "RoutingStrategyType", "[SIMPLE, TERMINAL]"));
    }
    let matching: Vec<&Alias> = fx
        .aliases
        .iter()
        .filter(|a| a.region == region)
        .filter(|a| name.is_none_or(|n| a.name == n))
        .filter(|a| routing_type.is_none_or(|t| a.routing.type_str() == t))
        .collect();
    let (page, next) = paginate(&matching, limit, next_token)?;
    Ok(Out::Map(
        Obj::new()
            .put(
                "Aliases",
                page.iter().map(|a| Out::Map(alias_out(a))).collect::<Vec<_>>(),
            )
            .put_opt("NextToken", next),
    ))
}

pub(super) fn resolve_alias(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let alias_ref = input.req_str("AliasId")?;
    let fleet = resolve_alias_to_fleet(fx, region, "AliasId", alias_ref)?;
    Ok(Out::Map(
        Obj::new().put("FleetId", &fleet.fleet_id).put("FleetArn", fleet.arn()),
    ))
}

/// Finds an alias by id or ARN in the caller's region and follows it.
pub(super) fn resolve_alias_to_fleet<'f>(
    fx: &'f Fixture,
    region: &str,
    member: &str,
    alias_ref: &str,
) -> Result<&'f Fleet, ApiError> {
    let alias = find_alias(fx, region, member, alias_ref)?;
    match &alias.routing {
        RoutingStrategy::Simple { fleet_id } => fx
            .fleet(fleet_id)
            .ok_or_else(|| ApiError::not_found(format!("Fleet {fleet_id} not found."))),
        RoutingStrategy::Terminal { message } => {
            Err(ApiError::new(ErrorCode::TerminalRoutingStrategy, message.clone()))
        }
    }
}

fn find_alias<'f>(fx: &'f Fixture, region: &str, member: &str, alias_ref: &str) -> Result<&'f Alias, ApiError> {
    let is_id = |s: &str| {
        s.strip_prefix("alias-")
            .is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
    };
    let alias_id = match alias_ref.strip_prefix("arn:") {
        Some(rest) => rest.rsplit_once(":alias/").map(|(_, id)| id).filter(|id| is_id(id)),
        None => Some(alias_ref).filter(|id| is_id(id)),
    }
    .ok_or_else(|| pattern_error(alias_ref, member, ALIAS_ID_OR_ARN_PATTERN))?;
    let not_found = || ApiError::not_found(format!("Alias {alias_ref} not found."));
    let alias = fx
        .aliases
        .iter()
        .find(|a| a.alias_id == alias_id && a.region == region)
        .ok_or_else(not_found)?;
    if alias_ref.starts_with("arn:") && alias.arn() != alias_ref {
        return Err(not_found());
    }
    Ok(alias)
}

fn alias_out(a: &Alias) -> Obj {
    let routing = match &a.routing {
        RoutingStrategy::Simple { fleet_id } => Obj::new().put("Type", "SIMPLE").put("FleetId", fleet_id),
        RoutingStrategy::Terminal { message } => Obj::new().put("Type", "TERMINAL").put("Message", message),
    };
    Obj::new()
        .put("AliasId", &a.alias_id)
        .put("Name", &a.name)
        .put("AliasArn", a.arn())
        .put_opt("Description", a.description.as_deref())
        .put("RoutingStrategy", routing)
        .put("CreationTime", Out::Time(a.creation_time))
        .put("LastUpdatedTime", Out::Time(a.creation_time))
}

pub(super) fn describe_fleet_location_attributes(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let filter = input.opt_str_list("Locations")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    if let Some(locations) = &filter {
        if locations.is_empty() || locations.len() > 100 {
            return Err(ApiError::invalid(
                "1 validation error detected: Value at 'locations' failed to satisfy \
                 constraint: Member must have length between 1 and 100",
            ));
        }
        for l in locations {
            super::check_location("Locations", l)?;
        }
    }
    let fleet = find_fleet(ctx.fx, ctx.region, fleet_ref)?;
    let pending = ctx.state.pending_ports.contains_key(&fleet.fleet_id);
    let locations: Vec<&str> = fleet
        .all_locations()
        .into_iter()
        .filter(|l| filter.as_ref().is_none_or(|f| f.contains(l)))
        .collect();
    let (page, next) = paginate(&locations, limit, next_token)?;
    let attributes = page
        .iter()
        .map(|&l| {
            Out::Map(
                Obj::new()
                    .put(
                        "LocationState",
                        Obj::new().put("Location", l).put("Status", &fleet.status),
                    )
                    .put_opt("UpdateStatus", pending.then_some("PENDING_UPDATE")),
            )
        })
        .collect::<Vec<_>>();
    Ok(Out::Map(
        Obj::new()
            .put("FleetId", &fleet.fleet_id)
            .put("FleetArn", fleet.arn())
            .put("LocationAttributes", attributes)
            .put_opt("NextToken", next),
    ))
}

pub(super) fn describe_fleet_port_settings(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let location = input.location("Location")?;
    let fleet = find_fleet(ctx.fx, ctx.region, fleet_ref)?;
    if let Some(loc) = location
        && !fleet.has_location(loc)
    {
        return Err(ApiError::invalid(format!(
            "Location {loc} is not a location of fleet {}.",
            fleet.fleet_id
        )));
    }
    let fleet_id = fleet.fleet_id.clone();
    let location = location.unwrap_or(&fleet.region).to_owned();

    // An update reports PENDING_UPDATE (with the old permissions) for the
    // configured number of polls, then takes effect.
    let mut update_status = None;
    if let Some(pending) = ctx.state.pending_ports.get_mut(&fleet_id) {
        if pending.polls_left == 0 {
            let applied = ctx
                .state
                .pending_ports
                .remove(&fleet_id)
                .map(|p| p.permissions)
                .unwrap_or_default();
            if let Some(f) = ctx.fx.fleet_mut(&fleet_id) {
                f.inbound_permissions = applied;
            }
        } else {
            pending.polls_left -= 1;
            update_status = Some("PENDING_UPDATE");
        }
    }
    let fleet = ctx
        .fx
        .fleet(&fleet_id)
        .ok_or_else(|| ApiError::not_found(format!("Fleet {fleet_ref} not found.")))?;
    Ok(Out::Map(
        Obj::new()
            .put("FleetId", &fleet.fleet_id)
            .put("FleetArn", fleet.arn())
            .put(
                "InboundPermissions",
                fleet
                    .inbound_permissions
                    .iter()
                    .map(|p| Out::Map(permission_out(p)))
                    .collect::<Vec<_>>(),
            )
            .put_opt("UpdateStatus", update_status)
            .put("Location", location),
    ))
}

pub(super) fn update_fleet_port_settings(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let authorize = permissions(input, "InboundPermissionAuthorizations")?;
    let revoke = permissions(input, "InboundPermissionRevocations")?;
    if authorize.is_empty() && revoke.is_empty() {
        return Err(ApiError::invalid(
            "Either InboundPermissionAuthorizations or InboundPermissionRevocations must be \
             provided.",
        ));
    }
    let fleet = find_fleet(ctx.fx, ctx.region, fleet_ref)?;
    let fleet_id = fleet.fleet_id.clone();
    let fleet_arn = fleet.arn();
    // Updates stack on one that has not taken effect yet.
    let mut next = match ctx.state.pending_ports.get(&fleet_id) {
        Some(p) => p.permissions.clone(),
        None => fleet.inbound_permissions.clone(),
    };
    for r in &revoke {
        let Some(at) = next.iter().position(|p| same_permission(p, r)) else {
            return Err(ApiError::invalid(format!(
                "Cannot revoke inbound permission {} {}-{} from {}: fleet {fleet_id} has no \
                 such permission.",
                r.protocol, r.from_port, r.to_port, r.ip_range
            )));
        };
        next.remove(at);
    }
    for a in authorize {
        if next.iter().any(|p| same_permission(p, &a)) {
            return Err(ApiError::invalid(format!(
                "Inbound permission {} {}-{} from {} already exists on fleet {fleet_id}.",
                a.protocol, a.from_port, a.to_port, a.ip_range
            )));
        }
        next.push(a);
    }
    let delay = ctx.state.port_update_delay;
    if delay == 0 {
        ctx.state.pending_ports.remove(&fleet_id);
        if let Some(f) = ctx.fx.fleet_mut(&fleet_id) {
            f.inbound_permissions = next;
        }
    } else {
        ctx.state.pending_ports.insert(
            fleet_id.clone(),
            PendingPorts {
                permissions: next,
                polls_left: delay,
            },
        );
    }
    Ok(Out::Map(Obj::new().put("FleetId", fleet_id).put("FleetArn", fleet_arn)))
}

fn same_permission(a: &IpPermission, b: &IpPermission) -> bool {
    a.from_port == b.from_port
        && a.to_port == b.to_port
        && a.protocol.eq_ignore_ascii_case(&b.protocol)
        && a.ip_range == b.ip_range
}

fn permission_out(p: &IpPermission) -> Obj {
    Obj::new()
        .put("FromPort", p.from_port)
        .put("ToPort", p.to_port)
        .put("IpRange", &p.ip_range)
        .put("Protocol", &p.protocol)
}

/// Parses and validates a list of IpPermission structures.
fn permissions(input: &Input, name: &str) -> Result<Vec<IpPermission>, ApiError> {
    let Some(items) = input.opt_list(name)? else {
        return Ok(Vec::new());
    };
    if items.len() > 50 {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member \
             must have length less than or equal to 50",
            member_path(name)
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| permission(name, i + 1, item))
        .collect()
}

fn permission(list: &str, index: usize, item: &Value) -> Result<IpPermission, ApiError> {
    let at = |member: &str| format!("{}.{index}.member.{}", member_path(list), member_path(member));
    let Value::Object(members) = item else {
        return Err(wrong_type(list, "list of structures", item));
    };
    let missing = |member: &str| {
        ApiError::invalid(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
             Member must not be null",
            at(member)
        ))
    };
    let port = |member: &str| -> Result<i64, ApiError> {
        match members.get(member) {
            None | Some(Value::Null) => Err(missing(member)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(p) if (1..=60000).contains(&p) => Ok(p),
                _ => Err(ApiError::invalid(format!(
                    "1 validation error detected: Value '{n}' at '{}' failed to satisfy \
                     constraint: Member must have value between 1 and 60000",
                    at(member)
                ))),
            },
            Some(other) => Err(wrong_type(member, "integer", other)),
        }
    };
    let text = |member: &str| -> Result<String, ApiError> {
        match members.get(member) {
            None | Some(Value::Null) => Err(missing(member)),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(wrong_type(member, "string", other)),
        }
    };
    let from_port = port("FromPort")?;
    let to_port = port("ToPort")?;
    let ip_range = text("IpRange")?;
    let protocol = text("Protocol")?;
    if from_port > to_port {
        return Err(ApiError::invalid(format!(
            "FromPort {from_port} must be less than or equal to ToPort {to_port}."
        )));
    }
    if protocol != "TCP" && protocol != "UDP" {
        return Err(enum_error(&protocol, &at("Protocol"), "[TCP, UDP]"));
    }
    if !is_cidr(&ip_range) {
        return Err(ApiError::invalid(format!(
            "Invalid IpRange '{ip_range}': must be an IPv4 or IPv6 CIDR block such as \
             203.0.113.0/24."
        )));
    }
    Ok(IpPermission {
        from_port,
        to_port,
        ip_range,
        protocol,
    })
}

/// `a.b.c.d/0..32` or `<ipv6>/0..128`.
pub(crate) fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        prefix <= 32
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        prefix <= 128
    } else {
        false
    }
}

fn enum_error(value: &str, name: &str, allowed: &str) -> ApiError {
    ApiError::invalid(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: \
         Member must satisfy enum value set: {allowed}",
        member_path(name)
    ))
}

#[cfg(test)]
mod tests {
    use super::is_cidr;

    #[test]
    fn cidr_blocks() {
        for ok in ["203.0.113.0/24", "0.0.0.0/0", "1.2.3.4/32", "2001:db8::/32", "::/0"] {
            assert!(is_cidr(ok), "{ok}");
        }
        for bad in [
            "203.0.113.0",
            "203.0.113.0/33",
            "203.0.113/24",
            "2001:db8::/129",
            "x/1",
            "1.2.3.4/",
            "1.2.3.4/+1",
        ] {
            assert!(!is_cidr(bad), "{bad}");
        }
    }
}
