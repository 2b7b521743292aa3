//! The emulated account: fleets, builds and instances, loadable from JSON.
//!
//! Everything here is plain data with `pub` fields, because tests and the demo
//! build a fixture from [`Fixture::sample`] and then tweak it (fill in a real
//! private key, move a fleet to another region, ...) before or while the
//! emulator serves it. JSON keys are snake_case and almost everything has a
//! default, so a hand-written fixture only needs the fields it cares about.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The AWS account every derived ARN (and the UnauthorizedException message) uses.
pub const ACCOUNT_ID: &str = "123456789012";

/// The region used when a fixture entry does not name one.
pub const DEFAULT_REGION: &str = "us-west-2";

/// `2023-11-14T22:13:20Z`: a fixed default so responses are reproducible.
const DEFAULT_CREATION_TIME: f64 = 1_700_000_000.0;

/// Why a fixture could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The fixture file could not be read.
    #[error("cannot read fixture {path}: {source}")]
    Io {
        /// The file that was being read.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The text is not JSON of the fixture's shape.
    #[error("fixture is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON parsed but describes an inconsistent account.
    #[error("inconsistent fixture: {0}")]
    Inconsistent(String),
}

/// The whole emulated GameLift account, across regions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fixture {
    /// Fleets in every region; each answers only to requests signed for its region.
    pub fleets: Vec<Fleet>,
    /// Builds referenced by fleets (`Fleet::build_id`).
    pub builds: Vec<Build>,
    /// Instances, each belonging to a fleet by `fleet_id`.
    pub instances: Vec<Instance>,
    /// Operation names (e.g. `"GetInstanceAccess"`) the caller's IAM identity
    /// may not perform; they answer `UnauthorizedException`.
    pub unauthorized_operations: Vec<String>,
    /// Aliases, each pointing at a fleet (SIMPLE) or nowhere (TERMINAL).
    pub aliases: Vec<Alias>,
    /// Computes of container fleets and of SDK 5 EC2 fleets (where the
    /// compute name is the instance id).
    pub computes: Vec<Compute>,
    /// Game sessions, hosted on an instance or a compute.
    pub game_sessions: Vec<GameSession>,
    /// Player sessions, each in a game session (`game_session_id`).
    pub player_sessions: Vec<PlayerSession>,
    /// Lifetime of the upload credentials CreateBuild and
    /// RequestUploadCredentials issue, in seconds (default 3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_credentials_lifetime_secs: Option<u64>,
    /// Lightsail object-storage buckets (their access keys live in the
    /// emulator's runtime state, since their secrets are issued at run time).
    pub buckets: Vec<Bucket>,
}

/// A Lightsail object-storage bucket. Lightsail bucket names are unique per
/// account and region; the emulator only shows a bucket to requests signed
/// for its region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Lightsail's rules: 3–54 characters, lowercase letters, digits and
    /// hyphens, starting and ending with a letter or digit.
    pub name: String,
    /// The bucket's region.
    #[serde(default = "default_region")]
    pub region: String,
    /// The bundle (storage plan), e.g. `small_1_0`.
    #[serde(default = "default_bucket_bundle")]
    pub bundle_id: String,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub created_at: f64,
}

impl Bucket {
    /// A bucket in `region` with the default bundle and creation time.
    pub fn new(name: &str, region: &str) -> Bucket {
        Bucket {
            name: name.to_owned(),
            region: region.to_owned(),
            bundle_id: default_bucket_bundle(),
            created_at: DEFAULT_CREATION_TIME,
        }
    }
}

/// Lightsail's bucket-name rule (`^[a-z0-9][a-z0-9-]{1,52}[a-z0-9]$`).
pub fn is_valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (3..=54).contains(&b.len()) && edge(&b[0]) && edge(&b[b.len() - 1]) && b.iter().all(inner)
}

/// How a fleet's game servers are hosted. Decides which access API applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComputeType {
    /// Managed EC2 instances: `GetInstanceAccess` works.
    #[default]
    #[serde(rename = "EC2")]
    Ec2,
    /// Customer-hosted computes: no GameLift-managed instances to access.
    Anywhere,
    /// Managed containers: access goes through `GetComputeAccess` instead.
    Container,
}

impl ComputeType {
    /// The API's spelling of the value.
    pub fn as_str(self) -> &'static str {
        match self {
            ComputeType::Ec2 => "EC2",
            ComputeType::Anywhere => "ANYWHERE",
            ComputeType::Container => "CONTAINER",
        }
    }
}

/// A GameLift fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// `fleet-<uuid>` (or `containerfleet-<uuid>`).
    pub fleet_id: String,
    /// Explicit ARN; derived from region, account and id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet_arn: Option<String>,
    /// Human-readable fleet name.
    #[serde(default)]
    pub name: String,
    /// Optional description, returned as-is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Home region: only requests signed for this region can see the fleet.
    #[serde(default = "default_region")]
    pub region: String,
    /// FleetStatus (`ACTIVE`, `ERROR`, ...), kept as a string so fixtures can
    /// use values the SDK does not know yet.
    #[serde(default = "default_active")]
    pub status: String,
    /// The build the fleet runs, if any (script fleets have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// EC2, ANYWHERE or CONTAINER.
    #[serde(default)]
    pub compute_type: ComputeType,
    /// OperatingSystem; falls back to the build's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// EC2 instance type, e.g. `c5.large`.
    #[serde(default = "default_instance_type")]
    pub instance_type: String,
    /// ON_DEMAND or SPOT.
    #[serde(default = "default_fleet_type")]
    pub fleet_type: String,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
    /// Remote locations (region codes such as `us-east-1`) besides the home
    /// region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    /// Inbound port permissions (DescribeFleetPortSettings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inbound_permissions: Vec<IpPermission>,
}

impl Fleet {
    /// The fleet's ARN, derived the way GameLift formats it when not given.
    pub fn arn(&self) -> String {
        self.fleet_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:gamelift:{}:{ACCOUNT_ID}:fleet/{}", self.region, self.fleet_id))
    }

    /// The home region followed by the remote locations.
    pub fn all_locations(&self) -> Vec<&str> {
        std::iter::once(self.region.as_str())
            .chain(self.locations.iter().map(String::as_str))
            .collect()
    }

    /// Whether `location` is the home region or one of the remote locations.
    pub fn has_location(&self, location: &str) -> bool {
        self.region == location || self.locations.iter().any(|l| l == location)
    }

    /// Container fleets are recognised by compute type or by id prefix,
    /// because real container fleet ids are `containerfleet-...`.
    pub fn is_container(&self) -> bool {
        self.compute_type == ComputeType::Container || self.fleet_id.starts_with("containerfleet-")
    }
}

/// One inbound port permission of a fleet (the API's `IpPermission`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpPermission {
    /// First port of the range, 1..=60000.
    pub from_port: i64,
    /// Last port of the range, `from_port..=60000`.
    pub to_port: i64,
    /// IPv4 or IPv6 CIDR block, e.g. `203.0.113.0/24`.
    pub ip_range: String,
    /// `TCP` or `UDP`.
    pub protocol: String,
}

impl IpPermission {
    /// Convenience constructor.
    pub fn new(from_port: i64, to_port: i64, ip_range: &str, protocol: &str) -> IpPermission {
        IpPermission {
            from_port,
            to_port,
            ip_range: ip_range.to_owned(),
            protocol: protocol.to_owned(),
        }
    }
}

/// Where an alias routes players.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum RoutingStrategy {
    /// To one fleet.
    Simple {
        /// The fleet the alias resolves to.
        fleet_id: String,
    },
    /// Nowhere: resolving fails with TerminalRoutingStrategyException.
    Terminal {
        /// The message the exception carries.
        message: String,
    },
}

impl RoutingStrategy {
    /// `SIMPLE` or `TERMINAL`.
    pub fn type_str(&self) -> &'static str {
        match self {
            RoutingStrategy::Simple { .. } => "SIMPLE",
            RoutingStrategy::Terminal { .. } => "TERMINAL",
        }
    }
}

/// A fleet alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    /// `alias-<uuid>`.
    pub alias_id: String,
    /// Alias name (ListAliases filters on it exactly).
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Home region: only requests signed for it see the alias.
    #[serde(default = "default_region")]
    pub region: String,
    /// SIMPLE (to a fleet) or TERMINAL (with a message).
    pub routing: RoutingStrategy,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
}

impl Alias {
    /// `arn:aws:gamelift:<region>:<account>:alias/<alias id>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:gamelift:{}:{ACCOUNT_ID}:alias/{}", self.region, self.alias_id)
    }
}

/// One container of a container-fleet compute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerAttribute {
    /// Name from the container group definition, e.g. `game-server`.
    pub container_name: String,
    /// The Docker runtime id (64 hex digits).
    pub container_runtime_id: String,
}

/// A compute resource: a container-fleet compute, or an SDK 5 EC2 fleet's
/// instance seen through the compute APIs (then `compute_name` is the
/// instance id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compute {
    /// The owning fleet.
    pub fleet_id: String,
    /// Unique within the fleet.
    pub compute_name: String,
    /// Address of the compute.
    pub ip_address: String,
    /// Derived from the IP address and location when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    /// Fleet location; the fleet's home region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// ComputeStatus: PENDING, ACTIVE, TERMINATING or IMPAIRED.
    #[serde(default = "default_active")]
    pub status: String,
    /// Falls back to the fleet's (then the build's) operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// The EC2 instance the compute runs on: the SSM target of GetComputeAccess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Containers on the compute (container fleets only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub container_attributes: Vec<ContainerAttribute>,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
}

impl Compute {
    /// `arn:aws:gamelift:<location>:<account>:compute/<compute name>`.
    pub fn arn(&self, fleet: &Fleet) -> String {
        format!(
            "arn:aws:gamelift:{}:{ACCOUNT_ID}:compute/{}",
            self.location.as_deref().unwrap_or(&fleet.region),
            self.compute_name
        )
    }
}

/// A game session on an instance or a compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameSession {
    /// Full ARN: `arn:aws:gamelift:<home region>::gamesession/<fleet id>/<id>`
    /// (with `/<location>/` before the id for remote locations).
    pub game_session_id: String,
    /// The hosting fleet.
    pub fleet_id: String,
    /// Optional game session name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The hosting instance (EC2 fleets), giving IpAddress/DnsName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The hosting compute (container and SDK 5 fleets); takes precedence
    /// over `instance_id` for IpAddress/DnsName, and is returned as ComputeName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_name: Option<String>,
    /// Fleet location; the fleet's home region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// GameSessionStatus: ACTIVE, ACTIVATING, TERMINATED, TERMINATING, ERROR.
    #[serde(default = "default_active")]
    pub status: String,
    /// Game port.
    #[serde(default = "default_game_port")]
    pub port: i64,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
    /// For a TERMINATED session: how many seconds before the emulator
    /// process started it ended (its TerminationTime). Relative, so that a
    /// fixture keeps meaning the same thing: GameLift keeps a session's
    /// logs 14 days after it ends, and GetGameSessionLogUrl says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_secs_ago: Option<u64>,
    /// The log files GameLift stored when the session ended, served as a
    /// zip archive at the URL GetGameSessionLogUrl returns. Paths are used
    /// as given (a test may put `../x` in to play a hostile archive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_files: Vec<LogFile>,
}

/// One file of a game session's stored logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    /// The entry's name in the archive, e.g. `logs/server.log`.
    pub path: String,
    /// Its contents.
    pub contents: String,
}

impl LogFile {
    /// Convenience constructor.
    pub fn new(path: &str, contents: &str) -> LogFile {
        LogFile {
            path: path.to_owned(),
            contents: contents.to_owned(),
        }
    }
}

/// A player's session in a game session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayerSession {
    /// `psess-<uuid>`.
    pub player_session_id: String,
    /// The player, free text chosen by the game.
    pub player_id: String,
    /// The game session (its full ARN) the player joined.
    pub game_session_id: String,
    /// PlayerSessionStatus: RESERVED, ACTIVE, COMPLETED or TIMEDOUT.
    #[serde(default = "default_active")]
    pub status: String,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
}

/// A game server build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// `build-<uuid>`.
    pub build_id: String,
    /// Explicit ARN; derived when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_arn: Option<String>,
    /// Build name.
    #[serde(default)]
    pub name: String,
    /// Free-text version label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// BuildStatus: INITIALIZED, READY or FAILED.
    #[serde(default = "default_ready")]
    pub status: String,
    /// Bytes.
    #[serde(default)]
    pub size_on_disk: i64,
    /// OperatingSystem, e.g. `AMAZON_LINUX_2023`, `WINDOWS_2016`.
    #[serde(default = "default_linux")]
    pub operating_system: String,
    /// Server SDK version the build was made with (`4.0.2`, `5.1.0`): it
    /// decides whether SSH/RDP via GetInstanceAccess or SSM is the way in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_sdk_version: Option<String>,
    /// Home region.
    #[serde(default = "default_region")]
    pub region: String,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
}

impl Build {
    /// The build's ARN, derived when not given.
    pub fn arn(&self) -> String {
        self.build_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:gamelift:{}:{ACCOUNT_ID}:build/{}", self.region, self.build_id))
    }
}

/// A fleet instance, with the credentials GetInstanceAccess hands out for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// The owning fleet's id.
    pub fleet_id: String,
    /// `i-` followed by 17 hex digits in real life.
    pub instance_id: String,
    /// Where SSH/RDP should connect; `127.0.0.1` for loopback demos.
    pub ip_address: String,
    /// Derived from the IP address when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_name: Option<String>,
    /// Falls back to the fleet's (then the build's) operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    /// Falls back to the fleet's instance type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// InstanceStatus: PENDING, ACTIVE or TERMINATING.
    #[serde(default = "default_active")]
    pub status: String,
    /// Fleet location (region name); the fleet's home region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Epoch seconds.
    #[serde(default = "default_creation_time")]
    pub creation_time: f64,
    /// Login returned by GetInstanceAccess (GameLift uses `gl-user-remote`).
    #[serde(default = "default_user")]
    pub user_name: String,
    /// PEM private key (Linux) or password (Windows) returned by GetInstanceAccess.
    #[serde(default)]
    pub secret: String,
}

impl Fixture {
    /// Parses and checks a JSON fixture.
    pub fn from_json_str(json: &str) -> Result<Fixture, FixtureError> {
        let fixture: Fixture = serde_json::from_str(json)?;
        fixture.validate()?;
        Ok(fixture)
    }

    /// Reads, parses and checks a JSON fixture file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Fixture, FixtureError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Fixture::from_json_str(&text)
    }

    /// Pretty JSON in the same shape [`Fixture::from_json_str`] reads.
    pub fn to_json_string(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail, but a
        // NaN timestamp would; fall back to an empty object rather than panic.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Rejects fixtures that would make the emulator answer incoherently:
    /// duplicate ids, or instances whose fleet does not exist.
    pub fn validate(&self) -> Result<(), FixtureError> {
        let mut fleet_ids = HashSet::new();
        for fleet in &self.fleets {
            if !fleet_ids.insert(fleet.fleet_id.as_str()) {
                return Err(FixtureError::Inconsistent(format!(
                    "duplicate fleet_id {}",
                    fleet.fleet_id
                )));
            }
        }
        let mut build_ids = HashSet::new();
        for build in &self.builds {
            if !build_ids.insert(build.build_id.as_str()) {
                return Err(FixtureError::Inconsistent(format!(
                    "duplicate build_id {}",
                    build.build_id
                )));
            }
        }
        let mut instance_ids = HashSet::new();
        for instance in &self.instances {
            if !fleet_ids.contains(instance.fleet_id.as_str()) {
                return Err(FixtureError::Inconsistent(format!(
                    "instance {} belongs to unknown fleet {}",
                    instance.instance_id, instance.fleet_id
                )));
            }
            if !instance_ids.insert(instance.instance_id.as_str()) {
                return Err(FixtureError::Inconsistent(format!(
                    "duplicate instance_id {}",
                    instance.instance_id
                )));
            }
        }
        self.validate_locations_and_aliases()?;
        self.validate_computes_and_sessions()?;
        self.validate_buckets()
    }

    fn validate_buckets(&self) -> Result<(), FixtureError> {
        let mut seen = HashSet::new();
        for bucket in &self.buckets {
            if !is_valid_bucket_name(&bucket.name) {
                return Err(FixtureError::Inconsistent(format!(
                    "bucket name {:?} breaks Lightsail's naming rules",
                    bucket.name
                )));
            }
            if !seen.insert((bucket.name.as_str(), bucket.region.as_str())) {
                return Err(FixtureError::Inconsistent(format!(
                    "duplicate bucket {} in {}",
                    bucket.name, bucket.region
                )));
            }
        }
        Ok(())
    }

    fn validate_locations_and_aliases(&self) -> Result<(), FixtureError> {
        let inconsistent = |m: String| Err(FixtureError::Inconsistent(m));
        for fleet in &self.fleets {
            let mut seen = HashSet::new();
            for location in &fleet.locations {
                if *location == fleet.region || !seen.insert(location.as_str()) {
                    return inconsistent(format!(
                        "fleet {} lists location {location} twice (the home region is implicit)",
                        fleet.fleet_id
                    ));
                }
            }
        }
        let mut alias_ids = HashSet::new();
        for alias in &self.aliases {
            if !alias.alias_id.starts_with("alias-") {
                return inconsistent(format!("alias id {} does not start with 'alias-'", alias.alias_id));
            }
            if !alias_ids.insert(alias.alias_id.as_str()) {
                return inconsistent(format!("duplicate alias_id {}", alias.alias_id));
            }
            if let RoutingStrategy::Simple { fleet_id } = &alias.routing
                && self.fleet(fleet_id).is_none()
            {
                return inconsistent(format!("alias {} routes to unknown fleet {fleet_id}", alias.alias_id));
            }
        }
        Ok(())
    }

    fn validate_computes_and_sessions(&self) -> Result<(), FixtureError> {
        let inconsistent = |m: String| Err(FixtureError::Inconsistent(m));
        let mut compute_keys = HashSet::new();
        for compute in &self.computes {
            let Some(fleet) = self.fleet(&compute.fleet_id) else {
                return inconsistent(format!(
                    "compute {} belongs to unknown fleet {}",
                    compute.compute_name, compute.fleet_id
                ));
            };
            if !compute_keys.insert((compute.fleet_id.as_str(), compute.compute_name.as_str())) {
                return inconsistent(format!(
                    "duplicate compute {} in fleet {}",
                    compute.compute_name, compute.fleet_id
                ));
            }
            if let Some(location) = &compute.location
                && !fleet.has_location(location)
            {
                return inconsistent(format!(
                    "compute {} is in {location}, which is not a location of fleet {}",
                    compute.compute_name, fleet.fleet_id
                ));
            }
        }
        let mut session_ids = HashSet::new();
        for session in &self.game_sessions {
            let id = &session.game_session_id;
            let Some(fleet) = self.fleet(&session.fleet_id) else {
                return inconsistent(format!(
                    "game session {id} belongs to unknown fleet {}",
                    session.fleet_id
                ));
            };
            if !session_ids.insert(id.as_str()) {
                return inconsistent(format!("duplicate game_session_id {id}"));
            }
            if let Some(location) = &session.location
                && !fleet.has_location(location)
            {
                return inconsistent(format!(
                    "game session {id} is in {location}, which is not a location of fleet {}",
                    fleet.fleet_id
                ));
            }
            if let Some(instance_id) = &session.instance_id
                && !self
                    .instances
                    .iter()
                    .any(|i| i.instance_id == *instance_id && i.fleet_id == fleet.fleet_id)
            {
                return inconsistent(format!(
                    "game session {id} is hosted on {instance_id}, not an instance of fleet {}",
                    fleet.fleet_id
                ));
            }
            if let Some(name) = &session.compute_name
                && self.compute(&fleet.fleet_id, name).is_none()
            {
                return inconsistent(format!(
                    "game session {id} is hosted on {name}, not a compute of fleet {}",
                    fleet.fleet_id
                ));
            }
        }
        let mut player_session_ids = HashSet::new();
        for ps in &self.player_sessions {
            let id = &ps.player_session_id;
            if !id
                .strip_prefix("psess-")
                .is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
            {
                return inconsistent(format!("player session id {id} does not match psess-…"));
            }
            if !player_session_ids.insert(id.as_str()) {
                return inconsistent(format!("duplicate player_session_id {id}"));
            }
            if self.game_session(&ps.game_session_id).is_none() {
                return inconsistent(format!(
                    "player session {id} is in unknown game session {}",
                    ps.game_session_id
                ));
            }
        }
        Ok(())
    }

    /// The alias with this id, in any region.
    pub fn alias(&self, alias_id: &str) -> Option<&Alias> {
        self.aliases.iter().find(|a| a.alias_id == alias_id)
    }

    /// The compute named `compute_name` in fleet `fleet_id`.
    pub fn compute(&self, fleet_id: &str, compute_name: &str) -> Option<&Compute> {
        self.computes
            .iter()
            .find(|c| c.fleet_id == fleet_id && c.compute_name == compute_name)
    }

    /// Mutable access to a compute, for tests that tweak it.
    pub fn compute_mut(&mut self, fleet_id: &str, compute_name: &str) -> Option<&mut Compute> {
        self.computes
            .iter_mut()
            .find(|c| c.fleet_id == fleet_id && c.compute_name == compute_name)
    }

    /// The game session with this id (its full ARN).
    pub fn game_session(&self, game_session_id: &str) -> Option<&GameSession> {
        self.game_sessions.iter().find(|g| g.game_session_id == game_session_id)
    }

    /// The fleet with this id, in any region.
    pub fn fleet(&self, fleet_id: &str) -> Option<&Fleet> {
        self.fleets.iter().find(|f| f.fleet_id == fleet_id)
    }

    /// Mutable access to the fleet with this id, for tests that tweak it.
    pub fn fleet_mut(&mut self, fleet_id: &str) -> Option<&mut Fleet> {
        self.fleets.iter_mut().find(|f| f.fleet_id == fleet_id)
    }

    /// The build with this id, in any region.
    pub fn build(&self, build_id: &str) -> Option<&Build> {
        self.builds.iter().find(|b| b.build_id == build_id)
    }

    /// The instance with this id, in any fleet.
    pub fn instance(&self, instance_id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.instance_id == instance_id)
    }

    /// Mutable access to the instance with this id, e.g. to fill in a real key.
    pub fn instance_mut(&mut self, instance_id: &str) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|i| i.instance_id == instance_id)
    }

    /// A small us-west-2 account covering the cases the CLI tells apart:
    /// SDK 4 Linux (SSH), SDK 4 Windows (RDP), SDK 5 (SSM via
    /// GetComputeAccess, with a second location `us-east-1`) and a managed
    /// container fleet; plus a SIMPLE and a TERMINAL alias, inbound port
    /// 22/TCP from 203.0.113.0/24 on the SDK 4 Linux fleet, game sessions
    /// (two ended, one with stored logs) and players in them. See [`sample`]
    /// for every id.
    ///
    /// The Linux instance's `secret` is empty: callers generate a throwaway key
    /// pair and put the private half in, so no key is baked into the crate.
    pub fn sample() -> Fixture {
        let region = DEFAULT_REGION.to_owned();
        let fleet = |fleet_id: &str, name: &str, build_id: &str, os: &str| Fleet {
            fleet_id: fleet_id.to_owned(),
            fleet_arn: None,
            name: name.to_owned(),
            description: None,
            region: region.clone(),
            status: default_active(),
            build_id: Some(build_id.to_owned()),
            compute_type: ComputeType::Ec2,
            operating_system: Some(os.to_owned()),
            instance_type: "c5.large".to_owned(),
            fleet_type: default_fleet_type(),
            creation_time: DEFAULT_CREATION_TIME,
            locations: Vec::new(),
            inbound_permissions: Vec::new(),
        };
        let build = |build_id: &str, name: &str, os: &str, sdk: &str| Build {
            build_id: build_id.to_owned(),
            build_arn: None,
            name: name.to_owned(),
            version: Some("1.0.0".to_owned()),
            status: default_ready(),
            size_on_disk: 104_857_600,
            operating_system: os.to_owned(),
            server_sdk_version: Some(sdk.to_owned()),
            region: region.clone(),
            creation_time: DEFAULT_CREATION_TIME - 3600.0,
        };
        let instance = |fleet_id: &str, instance_id: &str, secret: &str| Instance {
            fleet_id: fleet_id.to_owned(),
            instance_id: instance_id.to_owned(),
            ip_address: "127.0.0.1".to_owned(),
            dns_name: None,
            operating_system: None,
            instance_type: None,
            status: default_active(),
            location: None,
            creation_time: DEFAULT_CREATION_TIME + 600.0,
            user_name: default_user(),
            secret: secret.to_owned(),
        };
        Fixture {
            fleets: vec![
                fleet(
                    sample::LINUX_SDK4_FLEET,
                    "sdk4-linux",
                    sample::LINUX_SDK4_BUILD,
                    "AMAZON_LINUX_2023",
                ),
                fleet(
                    sample::WINDOWS_SDK4_FLEET,
                    "sdk4-windows",
                    sample::WINDOWS_SDK4_BUILD,
                    "WINDOWS_2016",
                ),
                fleet(
                    sample::LINUX_SDK5_FLEET,
                    "sdk5-linux",
                    sample::LINUX_SDK5_BUILD,
                    "AMAZON_LINUX_2023",
                ),
            ],
            builds: vec![
                build(
                    sample::LINUX_SDK4_BUILD,
                    "sdk4-linux-server",
                    "AMAZON_LINUX_2023",
                    "4.0.2",
                ),
                build(
                    sample::WINDOWS_SDK4_BUILD,
                    "sdk4-windows-server",
                    "WINDOWS_2016",
                    "4.0.2",
                ),
                build(
                    sample::LINUX_SDK5_BUILD,
                    "sdk5-linux-server",
                    "AMAZON_LINUX_2023",
                    "5.1.0",
                ),
            ],
            instances: vec![
                instance(sample::LINUX_SDK4_FLEET, sample::LINUX_SDK4_INSTANCE, ""),
                instance(
                    sample::WINDOWS_SDK4_FLEET,
                    sample::WINDOWS_SDK4_INSTANCE,
                    sample::WINDOWS_PASSWORD,
                ),
                instance(sample::LINUX_SDK5_FLEET, sample::LINUX_SDK5_INSTANCE, ""),
            ],
            unauthorized_operations: Vec::new(),
            aliases: Vec::new(),
            computes: Vec::new(),
            game_sessions: Vec::new(),
            player_sessions: Vec::new(),
            upload_credentials_lifetime_secs: None,
            buckets: Vec::new(),
        }
        .with_sample_extras()
        .with_sample_buckets()
    }

    /// Two Lightsail buckets in the default region and one elsewhere.
    fn with_sample_buckets(mut self) -> Fixture {
        self.buckets = vec![
            Bucket::new(sample::BUILDS_BUCKET, DEFAULT_REGION),
            Bucket::new(sample::LOGS_BUCKET, DEFAULT_REGION),
            Bucket::new(sample::REMOTE_BUCKET, sample::SDK5_REMOTE_LOCATION),
        ];
        self
    }

    /// The bucket called `name` in `region`, if any.
    pub fn bucket(&self, name: &str, region: &str) -> Option<&Bucket> {
        self.buckets.iter().find(|b| b.name == name && b.region == region)
    }

    /// Adds [`sample::MANY_FLEET`]: a server SDK 4 Amazon Linux fleet of
    /// `count` ACTIVE instances spread evenly over its home region
    /// (us-west-2) and [`sample::MANY_LOCATIONS`], for fan-out tests and
    /// benchmarks. Every instance is at 127.0.0.1 with user `user` and
    /// secret `secret` (one local sshd can play all of them). Instance IDs
    /// are `i-` and 17 hex digits, numbered from 1.
    pub fn with_many_instances(mut self, count: usize, user: &str, secret: &str) -> Fixture {
        let region = DEFAULT_REGION;
        self.fleets.push(Fleet {
            fleet_id: sample::MANY_FLEET.to_owned(),
            fleet_arn: None,
            name: "many".to_owned(),
            description: Some(format!("{count} instances over 3 locations")),
            region: region.to_owned(),
            status: default_active(),
            build_id: Some(sample::LINUX_SDK4_BUILD.to_owned()),
            compute_type: ComputeType::Ec2,
            operating_system: Some(default_linux()),
            instance_type: default_instance_type(),
            fleet_type: default_fleet_type(),
            creation_time: DEFAULT_CREATION_TIME,
            locations: sample::MANY_LOCATIONS.iter().map(|l| l.to_string()).collect(),
            inbound_permissions: Vec::new(),
        });
        let locations: Vec<&str> = std::iter::once(region).chain(sample::MANY_LOCATIONS).collect();
        for n in 1..=count {
            let location = locations[(n - 1) % locations.len()];
            self.instances.push(Instance {
                fleet_id: sample::MANY_FLEET.to_owned(),
                instance_id: sample::many_instance(n),
                ip_address: "127.0.0.1".to_owned(),
                dns_name: None,
                operating_system: Some(default_linux()),
                instance_type: Some(default_instance_type()),
                status: default_active(),
                location: (location != region).then(|| location.to_owned()),
                creation_time: DEFAULT_CREATION_TIME + 600.0,
                user_name: user.to_owned(),
                secret: secret.to_owned(),
            });
        }
        self
    }

    /// The entries added to the sample after the first three fleets: aliases,
    /// a remote location, computes, a container fleet and game sessions.
    fn with_sample_extras(mut self) -> Fixture {
        let region = DEFAULT_REGION;
        if let Some(fleet) = self.fleet_mut(sample::LINUX_SDK4_FLEET) {
            fleet.inbound_permissions = vec![IpPermission::new(22, 22, "203.0.113.0/24", "TCP")];
        }
        if let Some(fleet) = self.fleet_mut(sample::LINUX_SDK5_FLEET) {
            fleet.locations = vec![sample::SDK5_REMOTE_LOCATION.to_owned()];
        }
        let mut remote = self
            .instance(sample::LINUX_SDK5_INSTANCE)
            .cloned()
            .expect("the SDK 5 instance is part of the sample");
        remote.instance_id = sample::LINUX_SDK5_REMOTE_INSTANCE.to_owned();
        remote.location = Some(sample::SDK5_REMOTE_LOCATION.to_owned());
        self.instances.push(remote);

        self.fleets.push(Fleet {
            fleet_id: sample::CONTAINER_FLEET.to_owned(),
            fleet_arn: None,
            name: "containers".to_owned(),
            description: None,
            region: region.to_owned(),
            status: default_active(),
            build_id: None,
            compute_type: ComputeType::Container,
            operating_system: Some("AMAZON_LINUX_2023".to_owned()),
            instance_type: default_instance_type(),
            fleet_type: default_fleet_type(),
            creation_time: DEFAULT_CREATION_TIME,
            locations: Vec::new(),
            inbound_permissions: Vec::new(),
        });

        self.aliases = vec![
            Alias {
                alias_id: sample::LINUX_SDK4_ALIAS.to_owned(),
                name: sample::LINUX_SDK4_ALIAS_NAME.to_owned(),
                description: Some("Live traffic for the SDK 4 Linux fleet".to_owned()),
                region: region.to_owned(),
                routing: RoutingStrategy::Simple {
                    fleet_id: sample::LINUX_SDK4_FLEET.to_owned(),
                },
                creation_time: DEFAULT_CREATION_TIME + 60.0,
            },
            Alias {
                alias_id: sample::TERMINAL_ALIAS.to_owned(),
                name: sample::TERMINAL_ALIAS_NAME.to_owned(),
                description: None,
                region: region.to_owned(),
                routing: RoutingStrategy::Terminal {
                    message: sample::TERMINAL_ALIAS_MESSAGE.to_owned(),
                },
                creation_time: DEFAULT_CREATION_TIME + 120.0,
            },
        ];

        let compute = |fleet_id: &str, name: &str, location: &str, instance_id: &str| Compute {
            fleet_id: fleet_id.to_owned(),
            compute_name: name.to_owned(),
            ip_address: "127.0.0.1".to_owned(),
            dns_name: None,
            location: Some(location.to_owned()),
            status: default_active(),
            operating_system: None,
            instance_id: Some(instance_id.to_owned()),
            container_attributes: Vec::new(),
            creation_time: DEFAULT_CREATION_TIME + 600.0,
        };
        let mut container = compute(
            sample::CONTAINER_FLEET,
            sample::CONTAINER_COMPUTE,
            region,
            sample::CONTAINER_INSTANCE,
        );
        container.container_attributes = vec![
            ContainerAttribute {
                container_name: "game-server".to_owned(),
                container_runtime_id: sample::GAME_SERVER_CONTAINER_RUNTIME_ID.to_owned(),
            },
            ContainerAttribute {
                container_name: "sidecar".to_owned(),
                container_runtime_id: sample::SIDECAR_CONTAINER_RUNTIME_ID.to_owned(),
            },
        ];
        self.computes = vec![
            compute(
                sample::LINUX_SDK5_FLEET,
                sample::LINUX_SDK5_INSTANCE,
                region,
                sample::LINUX_SDK5_INSTANCE,
            ),
            compute(
                sample::LINUX_SDK5_FLEET,
                sample::LINUX_SDK5_REMOTE_INSTANCE,
                sample::SDK5_REMOTE_LOCATION,
                sample::LINUX_SDK5_REMOTE_INSTANCE,
            ),
            container,
        ];

        let session = |id: &str, fleet_id: &str, name: &str, instance: &str, port: i64, created: f64| GameSession {
            game_session_id: id.to_owned(),
            fleet_id: fleet_id.to_owned(),
            name: Some(name.to_owned()),
            instance_id: Some(instance.to_owned()),
            compute_name: None,
            location: None,
            status: default_active(),
            port,
            creation_time: DEFAULT_CREATION_TIME + created,
            ended_secs_ago: None,
            log_files: Vec::new(),
        };
        let sdk4 = |id: &str, name: &str, port: i64, created: f64| {
            session(
                id,
                sample::LINUX_SDK4_FLEET,
                name,
                sample::LINUX_SDK4_INSTANCE,
                port,
                created,
            )
        };
        let mut remote = session(
            sample::LINUX_SDK5_REMOTE_GAME_SESSION,
            sample::LINUX_SDK5_FLEET,
            "sdk5-remote-match",
            sample::LINUX_SDK5_REMOTE_INSTANCE,
            7778,
            960.0,
        );
        remote.compute_name = Some(sample::LINUX_SDK5_REMOTE_INSTANCE.to_owned());
        remote.location = Some(sample::SDK5_REMOTE_LOCATION.to_owned());
        let mut ended = sdk4(sample::ENDED_GAME_SESSION, "sdk4-ended-match", 7780, 300.0);
        ended.status = "TERMINATED".to_owned();
        ended.ended_secs_ago = Some(2 * 3600);
        ended.log_files = sample::ENDED_GAME_SESSION_LOGS
            .iter()
            .map(|(path, contents)| LogFile::new(path, contents))
            .collect();
        let mut old = sdk4(sample::OLD_GAME_SESSION, "sdk4-old-match", 7781, 0.0);
        old.status = "TERMINATED".to_owned();
        old.ended_secs_ago = Some(20 * 86_400);
        old.log_files = vec![LogFile::new("server.log", "long gone\n")];
        self.game_sessions = vec![
            sdk4(sample::LINUX_SDK4_GAME_SESSION, "sdk4-match", 7777, 900.0),
            remote,
            sdk4(
                sample::LINUX_SDK4_SECOND_GAME_SESSION,
                "sdk4-second-match",
                7779,
                1200.0,
            ),
            ended,
            old,
        ];

        let player = |psess: &str, player: &str, game_session: &str, status: &str, created: f64| PlayerSession {
            player_session_id: psess.to_owned(),
            player_id: player.to_owned(),
            game_session_id: game_session.to_owned(),
            status: status.to_owned(),
            creation_time: DEFAULT_CREATION_TIME + created,
        };
        self.player_sessions = vec![
            player(
                sample::PLAYER_SESSION,
                sample::PLAYER,
                sample::LINUX_SDK4_GAME_SESSION,
                "ACTIVE",
                1000.0,
            ),
            player(
                sample::PLAYER_ENDED_SESSION,
                sample::PLAYER,
                sample::ENDED_GAME_SESSION,
                "COMPLETED",
                400.0,
            ),
            player(
                sample::SDK5_PLAYER_SESSION,
                sample::SDK5_PLAYER,
                sample::LINUX_SDK5_REMOTE_GAME_SESSION,
                "ACTIVE",
                1000.0,
            ),
            player(
                sample::BUSY_PLAYER_SESSIONS[0],
                sample::BUSY_PLAYER,
                sample::LINUX_SDK4_GAME_SESSION,
                "ACTIVE",
                1100.0,
            ),
            player(
                sample::BUSY_PLAYER_SESSIONS[1],
                sample::BUSY_PLAYER,
                sample::LINUX_SDK4_SECOND_GAME_SESSION,
                "RESERVED",
                1300.0,
            ),
            player(
                sample::LEFT_PLAYER_SESSION,
                sample::LEFT_PLAYER,
                sample::LINUX_SDK4_GAME_SESSION,
                "COMPLETED",
                950.0,
            ),
        ];
        self
    }
}

/// Identifiers used by [`Fixture::sample`], so tests need not repeat literals.
pub mod sample {
    /// The fleet [`Fixture::with_many_instances`] adds (SDK 4 Linux), named `many`.
    pub const MANY_FLEET: &str = "fleet-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    /// Its locations besides the home region (us-west-2).
    pub const MANY_LOCATIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
    /// The ID of its `n`th instance (from 1).
    pub fn many_instance(n: usize) -> String {
        format!("i-{n:017x}")
    }
    /// Lightsail bucket in us-west-2 for build artifacts.
    pub const BUILDS_BUCKET: &str = "game-builds";
    /// Lightsail bucket in us-west-2 for logs.
    pub const LOGS_BUCKET: &str = "game-logs";
    /// Lightsail bucket in us-east-1.
    pub const REMOTE_BUCKET: &str = "game-patches-east";
    /// SDK 4.0.2 Amazon Linux 2023 fleet, named `sdk4-linux`.
    pub const LINUX_SDK4_FLEET: &str = "fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    /// Its build (ServerSdkVersion 4.0.2).
    pub const LINUX_SDK4_BUILD: &str = "build-1a2b3c4d-5e6f-4a7b-8c9d-000000000004";
    /// Its single instance, at 127.0.0.1, user `gl-user-remote`, empty secret.
    pub const LINUX_SDK4_INSTANCE: &str = "i-0123456789abcdef0";
    /// SDK 4.0.2 Windows 2016 fleet, named `sdk4-windows`.
    pub const WINDOWS_SDK4_FLEET: &str = "fleet-2b3c4d5e-6f70-4b8c-9d0e-1f2a3b4c5d6e";
    /// Its build (ServerSdkVersion 4.0.2).
    pub const WINDOWS_SDK4_BUILD: &str = "build-2b3c4d5e-6f70-4b8c-9d0e-000000000004";
    /// Its single instance, at 127.0.0.1.
    pub const WINDOWS_SDK4_INSTANCE: &str = "i-0fedcba9876543210";
    /// The Windows instance's password.
    pub const WINDOWS_PASSWORD: &str = "Pa55w.rd-Emulator!";
    /// SDK 5.1.0 Amazon Linux 2023 fleet, named `sdk5-linux`.
    pub const LINUX_SDK5_FLEET: &str = "fleet-3c4d5e6f-7081-4c9d-8e0f-2a3b4c5d6e7f";
    /// Its build (ServerSdkVersion 5.1.0).
    pub const LINUX_SDK5_BUILD: &str = "build-3c4d5e6f-7081-4c9d-8e0f-000000000005";
    /// Its home-region (us-west-2) instance, at 127.0.0.1, empty secret. Also
    /// the name of its compute there (SDK 5 EC2: compute name = instance id).
    pub const LINUX_SDK5_INSTANCE: &str = "i-0a1b2c3d4e5f60718";
    /// The SDK 5 fleet's remote location.
    pub const SDK5_REMOTE_LOCATION: &str = "us-east-1";
    /// The SDK 5 fleet's instance (and compute) in `us-east-1`.
    pub const LINUX_SDK5_REMOTE_INSTANCE: &str = "i-0a1b2c3d4e5f60719";
    /// Alias `sdk4-linux-live`, SIMPLE routing to [`LINUX_SDK4_FLEET`].
    pub const LINUX_SDK4_ALIAS: &str = "alias-5e6f7081-92a3-4b4c-8d5e-6f708192a3b4";
    /// Its name.
    pub const LINUX_SDK4_ALIAS_NAME: &str = "sdk4-linux-live";
    /// Alias `retired`, TERMINAL routing.
    pub const TERMINAL_ALIAS: &str = "alias-6f708192-a3b4-4c5d-9e6f-708192a3b4c5";
    /// Its name.
    pub const TERMINAL_ALIAS_NAME: &str = "retired";
    /// The message ResolveAlias's TerminalRoutingStrategyException carries.
    pub const TERMINAL_ALIAS_MESSAGE: &str = "This fleet has been retired.";
    /// Managed container fleet named `containers` (no build).
    pub const CONTAINER_FLEET: &str = "containerfleet-4d5e6f70-8192-4dae-9f10-3b4c5d6e7f80";
    /// Its single compute, at 127.0.0.1.
    pub const CONTAINER_COMPUTE: &str = "compute-c1";
    /// The EC2 instance the container compute runs on: GetComputeAccess's Target.
    pub const CONTAINER_INSTANCE: &str = "i-0c1d2e3f4a5b6c7d8";
    /// Runtime id of the compute's `game-server` container.
    pub const GAME_SERVER_CONTAINER_RUNTIME_ID: &str =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    /// Runtime id of the compute's `sidecar` container.
    pub const SIDECAR_CONTAINER_RUNTIME_ID: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    /// Game session on [`LINUX_SDK4_INSTANCE`] (home region), port 7777.
    pub const LINUX_SDK4_GAME_SESSION: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/gsess-11111111-2222-4333-8444-555555555555";
    /// Game session on the SDK 5 fleet's us-east-1 compute, port 7778. Remote
    /// location ids carry the location: `.../gamesession/<fleet>/<location>/<id>`.
    pub const LINUX_SDK5_REMOTE_GAME_SESSION: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-3c4d5e6f-7081-4c9d-8e0f-2a3b4c5d6e7f/us-east-1/gsess-66666666-7777-4888-9999-aaaaaaaaaaaa";
    /// A second ACTIVE game session on [`LINUX_SDK4_INSTANCE`], port 7779.
    pub const LINUX_SDK4_SECOND_GAME_SESSION: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/gsess-22222222-3333-4444-8555-666666666666";
    /// A game session on [`LINUX_SDK4_INSTANCE`] that ended two hours before
    /// the emulator started, with [`ENDED_GAME_SESSION_LOGS`] stored.
    pub const ENDED_GAME_SESSION: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/gsess-33333333-4444-4555-8666-777777777777";
    /// The stored logs of [`ENDED_GAME_SESSION`]: (archive path, contents).
    pub const ENDED_GAME_SESSION_LOGS: [(&str, &str); 2] = [
        (
            "server.log",
            "12:00:01 match started\n12:31:44 tick took 212 ms (budget 33 ms)\n12:40:00 match ended\n",
        ),
        ("gamelift/process-4242.log", "OnStartGameSession\nOnProcessTerminate\n"),
    ];
    /// A game session that ended 20 days before the emulator started: past
    /// GameLift's 14 days of log retention.
    pub const OLD_GAME_SESSION: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d/gsess-44444444-5555-4666-8777-888888888888";
    /// The player of the walk-through: ACTIVE in [`LINUX_SDK4_GAME_SESSION`]
    /// ([`PLAYER_SESSION`]), earlier COMPLETED in [`ENDED_GAME_SESSION`].
    pub const PLAYER: &str = "7f3a9c1e-player";
    /// [`PLAYER`]'s ACTIVE player session.
    pub const PLAYER_SESSION: &str = "psess-7f3a9c1e-0001-4aaa-8bbb-cccccccccccc";
    /// [`PLAYER`]'s COMPLETED player session, in [`ENDED_GAME_SESSION`].
    pub const PLAYER_ENDED_SESSION: &str = "psess-7f3a9c1e-0000-4aaa-8bbb-cccccccccccc";
    /// A player ACTIVE in [`LINUX_SDK5_REMOTE_GAME_SESSION`] only.
    pub const SDK5_PLAYER: &str = "sdk5-player";
    /// [`SDK5_PLAYER`]'s player session.
    pub const SDK5_PLAYER_SESSION: &str = "psess-55555555-0001-4aaa-8bbb-cccccccccccc";
    /// A player in two game sessions of the SDK 4 fleet at once (ACTIVE in
    /// [`LINUX_SDK4_GAME_SESSION`], RESERVED in [`LINUX_SDK4_SECOND_GAME_SESSION`]).
    pub const BUSY_PLAYER: &str = "busy-player";
    /// [`BUSY_PLAYER`]'s player sessions, in that order.
    pub const BUSY_PLAYER_SESSIONS: [&str; 2] = [
        "psess-b0b0b0b0-0001-4aaa-8bbb-cccccccccccc",
        "psess-b0b0b0b0-0002-4aaa-8bbb-cccccccccccc",
    ];
    /// A player whose only session ([`LEFT_PLAYER_SESSION`], in
    /// [`LINUX_SDK4_GAME_SESSION`]) is COMPLETED.
    pub const LEFT_PLAYER: &str = "left-player";
    /// [`LEFT_PLAYER`]'s COMPLETED player session.
    pub const LEFT_PLAYER_SESSION: &str = "psess-1e1e1e1e-0001-4aaa-8bbb-cccccccccccc";
}

fn default_bucket_bundle() -> String {
    "small_1_0".to_owned()
}
fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}
fn default_active() -> String {
    "ACTIVE".to_owned()
}
fn default_ready() -> String {
    "READY".to_owned()
}
fn default_linux() -> String {
    "AMAZON_LINUX_2023".to_owned()
}
fn default_instance_type() -> String {
    "c5.large".to_owned()
}
fn default_fleet_type() -> String {
    "ON_DEMAND".to_owned()
}
fn default_user() -> String {
    "gl-user-remote".to_owned()
}
fn default_creation_time() -> f64 {
    DEFAULT_CREATION_TIME
}
fn default_game_port() -> i64 {
    7777
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_json_fills_defaults() {
        let fixture = Fixture::from_json_str(
            r#"{
                "fleets": [{"fleet_id": "fleet-abc", "compute_type": "CONTAINER"}],
                "instances": [{"fleet_id": "fleet-abc", "instance_id": "i-1", "ip_address": "10.0.0.1"}]
            }"#,
        )
        .expect("fixture parses");
        let fleet = &fixture.fleets[0];
        assert_eq!(fleet.region, "us-west-2");
        assert_eq!(fleet.status, "ACTIVE");
        assert!(fleet.is_container());
        assert_eq!(fleet.arn(), "arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-abc");
        assert_eq!(fixture.instances[0].user_name, "gl-user-remote");
    }

    #[test]
    fn sample_round_trips_through_json() {
        let sample = Fixture::sample();
        let again = Fixture::from_json_str(&sample.to_json_string()).expect("round trip");
        assert_eq!(sample, again);
    }

    #[test]
    fn orphan_instance_is_rejected() {
        let err = Fixture::from_json_str(
            r#"{"instances": [{"fleet_id": "fleet-x", "instance_id": "i-1", "ip_address": "1.2.3.4"}]}"#,
        )
        .expect_err("orphan instance");
        assert!(matches!(err, FixtureError::Inconsistent(_)), "{err}");
    }

    #[test]
    fn sample_is_consistent_and_new_entities_are_checked() {
        let sample = Fixture::sample();
        sample.validate().expect("sample validates");
        assert_eq!(sample.fleets.len(), 4);
        let mut bad = sample.clone();
        bad.computes[0].location = Some("eu-central-1".to_owned());
        assert!(bad.validate().is_err());
        let mut bad = sample.clone();
        bad.aliases[0].routing = RoutingStrategy::Simple {
            fleet_id: "fleet-missing".to_owned(),
        };
        assert!(bad.validate().is_err());
        let mut bad = sample.clone();
        bad.game_sessions[0].compute_name = Some("nope".to_owned());
        assert!(bad.validate().is_err());
        let mut bad = sample;
        bad.fleets[0].locations = vec!["us-west-2".to_owned()];
        assert!(bad.validate().is_err());

        let alias: Alias = serde_json::from_str(
            r#"{"alias_id": "alias-1", "name": "x", "routing": {"type": "TERMINAL", "message": "gone"}}"#,
        )
        .expect("alias JSON");
        assert_eq!(alias.routing.type_str(), "TERMINAL");
    }

    #[test]
    fn many_instances_spread_over_three_locations() {
        let fixture = Fixture::sample().with_many_instances(200, "me", "secret");
        fixture.validate().expect("valid");
        let many: Vec<&Instance> = fixture
            .instances
            .iter()
            .filter(|i| i.fleet_id == sample::MANY_FLEET)
            .collect();
        assert_eq!(many.len(), 200);
        for location in [None, Some("us-east-1"), Some("eu-west-1")] {
            let n = many.iter().filter(|i| i.location.as_deref() == location).count();
            assert!((66..=67).contains(&n), "{location:?}: {n}");
        }
        assert_eq!(many[0].instance_id, "i-00000000000000001");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(Fixture::from_json_str(r#"{"fleet": []}"#).is_err());
    }
}
