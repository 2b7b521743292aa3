//! The emulated GameLift operations, over protocol-neutral values.
//!
//! Validation follows the service model (botocore's `gamelift` service-2.json
//! carries the patterns) and GameLift's validation message format, so a
//! client's error handling sees what it would see against the real service.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::fixture::{Build, ComputeType, Fixture, Fleet, Instance};
use crate::state::RuntimeState;
use crate::wire::{Obj, Out};

pub(crate) mod builds;
mod compute;
mod fleets;
mod lightsail;
pub(crate) mod players;
mod ssm;

/// The signing name of the service an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    GameLift,
    Ssm,
    Lightsail,
}

impl Service {
    /// SigV4 signing name, also the IAM action prefix.
    pub(crate) fn signing_name(self) -> &'static str {
        match self {
            Service::GameLift => "gamelift",
            Service::Ssm => "ssm",
            Service::Lightsail => "lightsail",
        }
    }
}

/// The operations the emulator implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    GetInstanceAccess,
    DescribeInstances,
    DescribeFleetAttributes,
    DescribeBuild,
    ListFleets,
    ListAliases,
    ResolveAlias,
    DescribeFleetLocationAttributes,
    ListCompute,
    DescribeCompute,
    DescribeGameSessions,
    GetComputeAccess,
    DescribeFleetPortSettings,
    UpdateFleetPortSettings,
    CreateBuild,
    RequestUploadCredentials,
    ListBuilds,
    DescribePlayerSessions,
    GetGameSessionLogUrl,
    ListContainerFleets,
    StartSession,
    TerminateSession,
    GetBuckets,
    CreateBucketAccessKey,
    GetBucketAccessKeys,
    DeleteBucketAccessKey,
}

impl Operation {
    pub(crate) fn from_name(service: Service, name: &str) -> Option<Operation> {
        Some(match (service, name) {
            (Service::GameLift, "GetInstanceAccess") => Operation::GetInstanceAccess,
            (Service::GameLift, "DescribeInstances") => Operation::DescribeInstances,
            (Service::GameLift, "DescribeFleetAttributes") => Operation::DescribeFleetAttributes,
            (Service::GameLift, "DescribeBuild") => Operation::DescribeBuild,
            (Service::GameLift, "ListFleets") => Operation::ListFleets,
            (Service::GameLift, "ListAliases") => Operation::ListAliases,
            (Service::GameLift, "ResolveAlias") => Operation::ResolveAlias,
            (Service::GameLift, "DescribeFleetLocationAttributes") => Operation::DescribeFleetLocationAttributes,
            (Service::GameLift, "ListCompute") => Operation::ListCompute,
            (Service::GameLift, "DescribeCompute") => Operation::DescribeCompute,
            (Service::GameLift, "DescribeGameSessions") => Operation::DescribeGameSessions,
            (Service::GameLift, "GetComputeAccess") => Operation::GetComputeAccess,
            (Service::GameLift, "DescribeFleetPortSettings") => Operation::DescribeFleetPortSettings,
            (Service::GameLift, "UpdateFleetPortSettings") => Operation::UpdateFleetPortSettings,
            (Service::GameLift, "CreateBuild") => Operation::CreateBuild,
            (Service::GameLift, "RequestUploadCredentials") => Operation::RequestUploadCredentials,
            (Service::GameLift, "ListBuilds") => Operation::ListBuilds,
            (Service::GameLift, "DescribePlayerSessions") => Operation::DescribePlayerSessions,
            (Service::GameLift, "GetGameSessionLogUrl") => Operation::GetGameSessionLogUrl,
            (Service::GameLift, "ListContainerFleets") => Operation::ListContainerFleets,
            (Service::Ssm, "StartSession") => Operation::StartSession,
            (Service::Ssm, "TerminateSession") => Operation::TerminateSession,
            (Service::Lightsail, "GetBuckets") => Operation::GetBuckets,
            (Service::Lightsail, "CreateBucketAccessKey") => Operation::CreateBucketAccessKey,
            (Service::Lightsail, "GetBucketAccessKeys") => Operation::GetBucketAccessKeys,
            (Service::Lightsail, "DeleteBucketAccessKey") => Operation::DeleteBucketAccessKey,
            _ => return None,
        })
    }
}

/// Everything an operation may read or change, for a caller whose signature
/// is scoped to `region` with `access_key_id`.
pub(crate) struct Ctx<'a> {
    pub(crate) fx: &'a mut Fixture,
    pub(crate) state: &'a mut RuntimeState,
    pub(crate) region: &'a str,
    pub(crate) access_key_id: &'a str,
    /// The `X-Amz-Security-Token` header, if any.
    pub(crate) session_token: Option<&'a str>,
}

/// Runs one operation.
pub(crate) fn execute(op: Operation, ctx: &mut Ctx<'_>, body: &Value) -> Result<Out, ApiError> {
    let input = Input::new(body)?;
    let region = ctx.region;
    match op {
        Operation::GetInstanceAccess => get_instance_access(ctx.fx, region, &input),
        Operation::DescribeInstances => describe_instances(ctx.fx, region, &input),
        Operation::DescribeFleetAttributes => describe_fleet_attributes(ctx.fx, region, &input),
        Operation::DescribeBuild => describe_build(ctx.fx, region, &input),
        Operation::ListFleets => fleets::list_fleets(ctx.fx, region, &input),
        Operation::ListAliases => fleets::list_aliases(ctx.fx, region, &input),
        Operation::ResolveAlias => fleets::resolve_alias(ctx.fx, region, &input),
        Operation::DescribeFleetLocationAttributes => fleets::describe_fleet_location_attributes(ctx, &input),
        Operation::DescribeFleetPortSettings => fleets::describe_fleet_port_settings(ctx, &input),
        Operation::UpdateFleetPortSettings => fleets::update_fleet_port_settings(ctx, &input),
        Operation::ListCompute => compute::list_compute(ctx.fx, region, &input),
        Operation::DescribeCompute => compute::describe_compute(ctx.fx, region, &input),
        Operation::DescribeGameSessions => compute::describe_game_sessions(ctx.fx, region, &input),
        Operation::GetComputeAccess => compute::get_compute_access(ctx, &input),
        Operation::CreateBuild => builds::create_build(ctx, &input),
        Operation::RequestUploadCredentials => builds::request_upload_credentials(ctx, &input),
        Operation::ListBuilds => builds::list_builds(ctx, &input),
        Operation::DescribePlayerSessions => players::describe_player_sessions(ctx.fx, region, &input),
        Operation::GetGameSessionLogUrl => players::get_game_session_log_url(ctx, &input),
        Operation::ListContainerFleets => fleets::list_container_fleets(ctx.fx, region, &input),
        Operation::StartSession => ssm::start_session(ctx, &input),
        Operation::TerminateSession => ssm::terminate_session(ctx, &input),
        Operation::GetBuckets => lightsail::get_buckets(ctx, &input),
        Operation::CreateBucketAccessKey => lightsail::create_bucket_access_key(ctx, &input),
        Operation::GetBucketAccessKeys => lightsail::get_bucket_access_keys(ctx, &input),
        Operation::DeleteBucketAccessKey => lightsail::delete_bucket_access_key(ctx, &input),
    }
}

/// The bucket GameLift stores uploaded builds in, per region.
pub(crate) fn build_bucket(region: &str) -> String {
    format!("prod-gamescale-builds-{region}")
}

const FLEET_ID_OR_ARN_PATTERN: &str = r"^[a-z]*fleet-[a-zA-Z0-9\-]+$|^arn:.*:[a-z]*fleet\/[a-z]*fleet-[a-zA-Z0-9\-]+$";
const INSTANCE_ID_PATTERN: &str = r"[a-zA-Z0-9\.-]+";
const BUILD_ID_OR_ARN_PATTERN: &str = r"^build-\S+|^arn:.*:build\/build-\S+";
const LOCATION_PATTERN: &str = r"^[A-Za-z0-9\-]+";

fn get_instance_access(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let instance_id = input.instance_id("InstanceId")?;
    let fleet = find_fleet(fx, region, fleet_ref)?;
    if fleet.is_container() {
        return Err(ApiError::invalid(format!(
            "GetInstanceAccess is not supported for container fleet {}. \
             Use GetComputeAccess to access a compute in a container fleet.",
            fleet.fleet_id
        )));
    }
    if fleet.compute_type == ComputeType::Anywhere {
        return Err(ApiError::invalid(format!(
            "GetInstanceAccess is not supported for fleet {} with compute type ANYWHERE.",
            fleet.fleet_id
        )));
    }
    let instance = find_instance(fx, fleet, instance_id)?;
    let access = Obj::new()
        .put("FleetId", &fleet.fleet_id)
        .put("InstanceId", &instance.instance_id)
        .put("IpAddress", &instance.ip_address)
        .put_opt("OperatingSystem", operating_system(fx, fleet, instance))
        .put(
            "Credentials",
            Obj::new()
                .put("UserName", &instance.user_name)
                .put("Secret", &instance.secret),
        );
    Ok(Out::Map(Obj::new().put("InstanceAccess", access)))
}

fn describe_instances(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let fleet_ref = input.fleet_id_or_arn("FleetId")?;
    let instance_id = input
        .opt_str("InstanceId")?
        .map(|id| check_instance_id("InstanceId", id))
        .transpose()?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    let location = input.location("Location")?;

    let fleet = find_fleet(fx, region, fleet_ref)?;
    // Like the service: without Location, only home-region instances.
    let location = location.unwrap_or(&fleet.region);
    if let Some(id) = instance_id {
        let instance = find_instance(fx, fleet, id)?;
        if instance_location(fleet, instance) != location {
            // Emulator choice: an instance outside the requested (or
            // defaulted) location is reported as not found, so a client
            // that forgets Location for a remote instance notices.
            return Err(ApiError::not_found(format!(
                "Instance {id} not found in fleet {} location {location}.",
                fleet.fleet_id
            )));
        }
    }
    let matching: Vec<&Instance> = fx
        .instances
        .iter()
        .filter(|i| i.fleet_id == fleet.fleet_id)
        .filter(|i| instance_id.is_none_or(|id| i.instance_id == id))
        .filter(|i| instance_location(fleet, i) == location)
        .collect();
    let (page, next) = paginate(&matching, limit, next_token)?;
    let instances = page
        .iter()
        .map(|i| Out::Map(instance_out(fx, fleet, i)))
        .collect::<Vec<_>>();
    Ok(Out::Map(
        Obj::new().put("Instances", instances).put_opt("NextToken", next),
    ))
}

fn describe_fleet_attributes(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let fleet_refs = input.opt_str_list("FleetIds")?;
    let limit = input.limit()?;
    let next_token = input.next_token()?;

    let (fleets, next) = match fleet_refs {
        Some(refs) => {
            if refs.is_empty() {
                return Err(ApiError::invalid(
                    "1 validation error detected: Value '[]' at 'fleetIds' failed to satisfy \
                     constraint: Member must have length greater than or equal to 1",
                ));
            }
            for r in &refs {
                check_fleet_id_or_arn("FleetIds", r)?;
            }
            // As documented for the real operation: fleets that are not found
            // are left out rather than failing the call, and Limit/NextToken
            // are ignored when fleet ids are given.
            let found: Vec<&Fleet> = refs.iter().filter_map(|r| find_fleet(fx, region, r).ok()).collect();
            (found, None)
        }
        None => {
            let in_region: Vec<&Fleet> = fx.fleets.iter().filter(|f| f.region == region).collect();
            let (page, next) = paginate(&in_region, limit, next_token)?;
            (page.to_vec(), next)
        }
    };
    let attributes = fleets.iter().map(|f| Out::Map(fleet_out(fx, f))).collect::<Vec<_>>();
    Ok(Out::Map(
        Obj::new().put("FleetAttributes", attributes).put_opt("NextToken", next),
    ))
}

fn describe_build(fx: &Fixture, region: &str, input: &Input) -> Result<Out, ApiError> {
    let build_ref = input.req_str("BuildId")?;
    if !is_build_id_or_arn(build_ref) {
        return Err(pattern_error(build_ref, "BuildId", BUILD_ID_OR_ARN_PATTERN));
    }
    let not_found = || ApiError::not_found(format!("Build {build_ref} not found."));
    let build_id = build_ref.rsplit('/').next().unwrap_or(build_ref);
    let build = fx
        .builds
        .iter()
        .find(|b| b.build_id == build_id && b.region == region)
        .ok_or_else(not_found)?;
    if build_ref.starts_with("arn:") && build.arn() != build_ref {
        return Err(not_found());
    }
    Ok(Out::Map(Obj::new().put("Build", build_out(build))))
}

fn instance_out(fx: &Fixture, fleet: &Fleet, i: &Instance) -> Obj {
    let dns = i.dns_name.clone().unwrap_or_else(|| default_dns_name(fleet, i));
    Obj::new()
        .put("FleetId", &fleet.fleet_id)
        .put("FleetArn", fleet.arn())
        .put("InstanceId", &i.instance_id)
        .put("IpAddress", &i.ip_address)
        .put("DnsName", dns)
        .put_opt("OperatingSystem", operating_system(fx, fleet, i))
        .put("Type", i.instance_type.as_deref().unwrap_or(&fleet.instance_type))
        .put("Status", &i.status)
        .put("CreationTime", Out::Time(i.creation_time))
        .put("Location", instance_location(fleet, i))
}

fn fleet_out(fx: &Fixture, f: &Fleet) -> Obj {
    let build = f.build_id.as_deref().and_then(|id| fx.build(id));
    let os = f
        .operating_system
        .clone()
        .or_else(|| build.map(|b| b.operating_system.clone()));
    let build_arn = match (build, &f.build_id) {
        (Some(b), _) => Some(b.arn()),
        (None, Some(id)) => Some(format!(
            "arn:aws:gamelift:{}:{}:build/{id}",
            f.region,
            crate::fixture::ACCOUNT_ID
        )),
        (None, None) => None,
    };
    Obj::new()
        .put("FleetId", &f.fleet_id)
        .put("FleetArn", f.arn())
        .put("FleetType", &f.fleet_type)
        .put("InstanceType", &f.instance_type)
        .put_opt("Description", f.description.as_deref())
        .put("Name", &f.name)
        .put("CreationTime", Out::Time(f.creation_time))
        .put("Status", &f.status)
        .put_opt("BuildId", f.build_id.as_deref())
        .put_opt("BuildArn", build_arn)
        .put("NewGameSessionProtectionPolicy", "NoProtection")
        .put_opt("OperatingSystem", os)
        .put("MetricGroups", vec![Out::from("default")])
        .put("ComputeType", f.compute_type.as_str())
}

fn build_out(b: &Build) -> Obj {
    Obj::new()
        .put("BuildId", &b.build_id)
        .put("BuildArn", b.arn())
        .put("Name", &b.name)
        .put_opt("Version", b.version.as_deref())
        .put("Status", &b.status)
        .put("SizeOnDisk", b.size_on_disk)
        .put("OperatingSystem", &b.operating_system)
        .put("CreationTime", Out::Time(b.creation_time))
        .put_opt("ServerSdkVersion", b.server_sdk_version.as_deref())
}

/// Instance, then fleet, then build operating system: fixtures only need to
/// say it once.
fn operating_system(fx: &Fixture, fleet: &Fleet, i: &Instance) -> Option<String> {
    i.operating_system
        .clone()
        .or_else(|| fleet.operating_system.clone())
        .or_else(|| {
            let build = fleet.build_id.as_deref().and_then(|id| fx.build(id))?;
            Some(build.operating_system.clone())
        })
}

fn instance_location<'a>(fleet: &'a Fleet, i: &'a Instance) -> &'a str {
    i.location.as_deref().unwrap_or(&fleet.region)
}

fn default_dns_name(fleet: &Fleet, i: &Instance) -> String {
    format!(
        "ec2-{}.{}.compute.amazonaws.com",
        i.ip_address.replace(['.', ':'], "-"),
        instance_location(fleet, i)
    )
}

/// Looks a fleet up by id or ARN among the fleets of the caller's region.
/// A fleet in another region is indistinguishable from a missing one, exactly
/// as when a real client resolves the wrong region.
fn find_fleet<'f>(fx: &'f Fixture, region: &str, fleet_ref: &str) -> Result<&'f Fleet, ApiError> {
    let not_found = || ApiError::not_found(format!("Fleet {fleet_ref} not found."));
    let fleet_id = fleet_ref.rsplit('/').next().unwrap_or(fleet_ref);
    let fleet = fx
        .fleets
        .iter()
        .find(|f| f.fleet_id == fleet_id && f.region == region)
        .ok_or_else(not_found)?;
    if fleet_ref.starts_with("arn:") && fleet.arn() != fleet_ref {
        return Err(not_found());
    }
    Ok(fleet)
}

fn find_instance<'f>(fx: &'f Fixture, fleet: &Fleet, instance_id: &str) -> Result<&'f Instance, ApiError> {
    fx.instances
        .iter()
        .find(|i| i.instance_id == instance_id && i.fleet_id == fleet.fleet_id)
        .ok_or_else(|| ApiError::not_found(format!("Instance {instance_id} not found in fleet {}.", fleet.fleet_id)))
}

/// Offset pagination with opaque-looking tokens.
fn paginate<'a, T>(
    items: &'a [T],
    limit: Option<usize>,
    next_token: Option<&str>,
) -> Result<(&'a [T], Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(token) => token
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ApiError::invalid(format!("Invalid NextToken: {token}")))?,
    };
    let end = limit.map_or(items.len(), |l| start.saturating_add(l).min(items.len()));
    let next = (end < items.len()).then(|| format!("{TOKEN_PREFIX}{end}"));
    Ok((&items[start..end], next))
}

const TOKEN_PREFIX: &str = "emu-page-";

/// Typed access to a request's members, producing the service's errors.
struct Input<'a> {
    members: &'a Map<String, Value>,
}

impl<'a> Input<'a> {
    fn new(body: &'a Value) -> Result<Input<'a>, ApiError> {
        match body {
            Value::Object(members) => Ok(Input { members }),
            _ => Err(ApiError::serialization(
                "request body must be a structure (CBOR map / JSON object)",
            )),
        }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.members.get(name).filter(|v| !v.is_null())
    }

    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, "string", other)),
        }
    }

    fn req_str(&self, name: &str) -> Result<&'a str, ApiError> {
        self.opt_str(name)?.ok_or_else(|| {
            ApiError::invalid(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                member_path(name)
            ))
        })
    }

    fn opt_str_list(&self, name: &str) -> Result<Option<Vec<&'a str>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().ok_or_else(|| wrong_type(name, "list of strings", v)))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(wrong_type(name, "list", other)),
        }
    }

    fn opt_list(&self, name: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(wrong_type(name, "list", other)),
        }
    }

    /// An optional Location member, checked against the LocationStringModel.
    fn location(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        let location = self.opt_str(name)?;
        if let Some(loc) = location {
            check_location(name, loc)?;
        }
        Ok(location)
    }

    fn fleet_id_or_arn(&self, name: &str) -> Result<&'a str, ApiError> {
        let value = self.req_str(name)?;
        check_fleet_id_or_arn(name, value)?;
        Ok(value)
    }

    fn instance_id(&self, name: &str) -> Result<&'a str, ApiError> {
        check_instance_id(name, self.req_str(name)?)
    }

    /// `Limit` is a PositiveInteger.
    fn limit(&self) -> Result<Option<usize>, ApiError> {
        match self.get("Limit") {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(l) if l >= 1 => Ok(usize::try_from(l).ok()),
                _ => Err(ApiError::invalid(format!(
                    "1 validation error detected: Value '{n}' at 'limit' failed to satisfy \
                     constraint: Member must have value greater than or equal to 1"
                ))),
            },
            Some(other) => Err(wrong_type("Limit", "integer", other)),
        }
    }

    /// `NextToken` is 1..=1024 characters.
    fn next_token(&self) -> Result<Option<&'a str>, ApiError> {
        let token = self.opt_str("NextToken")?;
        if let Some(t) = token
            && (t.is_empty() || t.chars().count() > 1024)
        {
            return Err(ApiError::invalid(
                "1 validation error detected: Value at 'nextToken' failed to satisfy constraint: \
                 Member must have length between 1 and 1024",
            ));
        }
        Ok(token)
    }
}

/// GameLift's validation messages name members in camelCase.
fn member_path(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn wrong_type(name: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::serialization(format!(
        "member {name} must be a {expected}, got {}",
        match got {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "list",
            Value::Object(_) => "structure",
        }
    ))
}

fn pattern_error(value: &str, name: &str, pattern: &str) -> ApiError {
    ApiError::invalid(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: {pattern}",
        member_path(name)
    ))
}

fn check_fleet_id_or_arn(name: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 512 || !is_fleet_id_or_arn(value) {
        return Err(pattern_error(value, name, FLEET_ID_OR_ARN_PATTERN));
    }
    Ok(())
}

fn check_location(name: &str, loc: &str) -> Result<(), ApiError> {
    let ok = !loc.is_empty() && loc.len() <= 64 && loc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok {
        return Err(pattern_error(loc, name, LOCATION_PATTERN));
    }
    Ok(())
}

fn check_instance_id<'a>(name: &str, value: &'a str) -> Result<&'a str, ApiError> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if !ok {
        return Err(pattern_error(value, name, INSTANCE_ID_PATTERN));
    }
    Ok(value)
}

/// `^[a-z]*fleet-[a-zA-Z0-9\-]+$`
fn is_fleet_id(s: &str) -> bool {
    let Some(at) = s.find("fleet-") else {
        return false;
    };
    let (prefix, rest) = (&s[..at], &s[at + "fleet-".len()..]);
    prefix.bytes().all(|b| b.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The fleet id pattern, or `^arn:.*:[a-z]*fleet\/<fleet id>$`.
fn is_fleet_id_or_arn(s: &str) -> bool {
    if is_fleet_id(s) {
        return true;
    }
    let Some(after_arn) = s.strip_prefix("arn:") else {
        return false;
    };
    // `.*:` is greedy and the resource part contains no ':', so the resource
    // starts after the last colon; it must not be the colon of "arn:".
    let Some(colon) = after_arn.rfind(':') else {
        return false;
    };
    let Some((kind, id)) = after_arn[colon + 1..].split_once('/') else {
        return false;
    };
    kind.strip_suffix("fleet")
        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
        && is_fleet_id(id)
}

/// `^build-\S+` or `^arn:.*:build\/build-\S+`, matched against the whole
/// value (GameLift does not accept trailing whitespace-separated junk).
fn is_build_id_or_arn(s: &str) -> bool {
    let is_build_id = |id: &str| {
        id.strip_prefix("build-")
            .is_some_and(|rest| !rest.is_empty() && !rest.chars().any(char::is_whitespace))
    };
    if is_build_id(s) {
        return true;
    }
    let Some(after_arn) = s.strip_prefix("arn:") else {
        return false;
    };
    after_arn
        .match_indices(":build/")
        .any(|(at, m)| is_build_id(&after_arn[at + m.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_id_pattern() {
        for ok in [
            "fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
            "containerfleet-abc",
            "arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-abc",
            "arn:aws:gamelift:us-west-2:123456789012:containerfleet/containerfleet-abc",
            "arn::fleet/fleet-a",
        ] {
            assert!(is_fleet_id_or_arn(ok), "{ok}");
        }
        for bad in [
            "",
            "fleet-",
            "Fleet-abc",
            "my-fleet-abc",
            "fleet-abc/def",
            "fleet-ab c",
            "arn:fleet/fleet-a",
            "arn:aws:gamelift:us-west-2:1:build/fleet-abc",
        ] {
            assert!(!is_fleet_id_or_arn(bad), "{bad}");
        }
    }

    #[test]
    fn build_id_pattern() {
        assert!(is_build_id_or_arn("build-1234"));
        assert!(is_build_id_or_arn(
            "arn:aws:gamelift:us-west-2:123456789012:build/build-1234"
        ));
        assert!(!is_build_id_or_arn("build-"));
        assert!(!is_build_id_or_arn("build-a b"));
        assert!(!is_build_id_or_arn("bld-1234"));
        assert!(!is_build_id_or_arn("arn:aws:gamelift:x:1:fleet/build-1"));
    }

    #[test]
    fn pagination_round_trips_tokens() {
        let items = [1, 2, 3, 4, 5];
        let (page, next) = paginate(&items, Some(2), None).expect("page 1");
        assert_eq!(page, &[1, 2]);
        let (page, next) = paginate(&items, Some(2), next.as_deref()).expect("page 2");
        assert_eq!(page, &[3, 4]);
        let (page, next) = paginate(&items, Some(2), next.as_deref()).expect("page 3");
        assert_eq!(page, &[5]);
        assert_eq!(next, None);
        assert!(paginate(&items, None, Some("bogus")).is_err());
    }

    fn run(op: Operation, region: &str, body: Value) -> Result<Out, ApiError> {
        let mut fx = Fixture::sample();
        let mut state = RuntimeState::default();
        let mut ctx = Ctx {
            fx: &mut fx,
            state: &mut state,
            region,
            access_key_id: "AKIDEXAMPLE",
            session_token: None,
        };
        execute(op, &mut ctx, &body)
    }

    #[test]
    fn validation_names_the_member() {
        let err = run(
            Operation::GetInstanceAccess,
            "us-west-2",
            serde_json::json!({"InstanceId": "i-0123456789abcdef0"}),
        )
        .expect_err("missing fleet");
        assert_eq!(err.code, crate::error::ErrorCode::InvalidRequest);
        assert!(err.message.contains("'fleetId'"), "{}", err.message);

        let err = run(
            Operation::GetInstanceAccess,
            "us-west-2",
            serde_json::json!({"FleetId": 7, "InstanceId": "i-1"}),
        )
        .expect_err("wrong type");
        assert_eq!(err.code, crate::error::ErrorCode::Serialization);
    }

    #[test]
    fn wrong_region_is_not_found() {
        let body = serde_json::json!({
            "FleetId": crate::fixture::sample::LINUX_SDK4_FLEET,
            "InstanceId": crate::fixture::sample::LINUX_SDK4_INSTANCE,
        });
        assert!(run(Operation::GetInstanceAccess, "us-west-2", body.clone()).is_ok());
        let err = run(Operation::GetInstanceAccess, "us-east-1", body).expect_err("other region");
        assert_eq!(err.code, crate::error::ErrorCode::NotFound);
    }
}
