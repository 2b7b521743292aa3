//! resolve: a fleet reference and an instance reference become a [`Target`].
//!
//! `refs` parses what the user typed (no I/O); `fleet` finds the fleet and
//! its metadata (cached on disk, see `cache.rs`); `instance` finds the
//! instance or compute, or asks. aws-sdk types stay in here and `obtain`.

mod cache;
mod fleet;
mod instance;
mod players;
mod refs;

use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, GameLift};
use cache::FleetCache;

pub use instance::InstanceSummary;
pub use players::{PlayerSessionSummary, address, short_game_session};
pub use refs::{FleetRef, InstanceRef, RefError, RemoteHost, parse_host};

/// What runs a fleet's game servers, which decides how we get in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ComputeType {
    Ec2,
    Container,
    Anywhere,
}

impl ComputeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ComputeType::Ec2 => "EC2",
            ComputeType::Container => "CONTAINER",
            ComputeType::Anywhere => "ANYWHERE",
        }
    }
}

/// The server SDK generation, which decides the access API: 4.x and earlier
/// use GetInstanceAccess (ssh/RDP), 5.x uses GetComputeAccess (SSM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Sdk {
    #[serde(rename = "4")]
    V4,
    #[serde(rename = "5")]
    V5,
}

impl Sdk {
    pub fn as_str(self) -> &'static str {
        match self {
            Sdk::V4 => "4",
            Sdk::V5 => "5",
        }
    }
}

/// A fleet's metadata: what `connect` needs to choose a path, and what
/// `fleets` lists. Cached on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetInfo {
    pub fleet_id: String,
    pub name: String,
    /// The home region, where every GameLift call for this fleet goes.
    pub region: String,
    pub status: String,
    pub compute: ComputeType,
    pub os: Option<String>,
    /// `None` when the build does not say (no build, or no ServerSdkVersion).
    pub sdk: Option<Sdk>,
    pub server_sdk_version: Option<String>,
    /// Every location, the home region first.
    pub locations: Vec<String>,
    pub instance_type: Option<String>,
}

/// Where `connect` is going, with everything later steps need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub fleet: FleetInfo,
    /// What the access API takes: the instance ID (GetInstanceAccess, and
    /// GetComputeAccess on EC2 fleets) or the compute name (containers).
    pub instance_id: String,
    /// The instance's location: the region its SSM session is started in.
    pub location: String,
    pub sdk: Sdk,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} in {}", self.fleet.fleet_id, self.instance_id, self.location)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Ref(#[from] RefError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("no fleet or alias named '{name}' in {region}\n  list them with: gamelift-access fleets --region {region}")]
    NoSuchName { name: String, region: String },
    #[error("'{name}' names more than one fleet in {region}:\n{candidates}\n  pass one of these fleet IDs instead")]
    Ambiguous {
        name: String,
        region: String,
        candidates: String,
    },
    #[error("alias {alias} does not route to a fleet (TERMINAL routing): {message}")]
    TerminalAlias { alias: String, message: String },
    #[error("fleet {fleet_id} is {status}: {meaning}")]
    NotActive {
        fleet_id: String,
        status: String,
        meaning: &'static str,
    },
    #[error("fleet {fleet_id} is an Anywhere fleet: not supported: connect to your own hosts directly")]
    Anywhere { fleet_id: String },
    #[error("{0}")]
    NoMatch(String),
    #[error("which instance? fleet {fleet_id} has these ACTIVE ones:\n{candidates}\n  pass one as the second argument")]
    Choose { fleet_id: String, candidates: String },
    #[error("{0}")]
    Mismatch(String),
    #[error("no instance chosen")]
    Cancelled,
}

/// Whether `fleet.status` was read from GameLift in this run. The cache
/// never holds a status; container fleets have none to read.
fn status_known(fleet: &FleetInfo) -> bool {
    !fleet.status.is_empty() || fleet.compute == ComputeType::Container
}

/// Resolves references against one region's GameLift.
pub struct Resolver<'a> {
    gl: &'a GameLift,
    cache: FleetCache,
    refresh: bool,
    /// Leave the status unknown (`""`) when the rest came from the cache,
    /// for a caller that asks for it with [`Resolver::ensure_usable`] only
    /// when it matters (`connect`, whose warm path through the agent makes
    /// no call at all).
    status_later: bool,
}

impl<'a> Resolver<'a> {
    /// `refresh` skips the fleet cache (and refills it).
    pub fn new(gl: &'a GameLift, refresh: bool) -> Self {
        Self {
            gl,
            cache: FleetCache::open(),
            refresh,
            status_later: false,
        }
    }

    /// See [`Resolver::status_later`]: [`Resolver::fleet`] and
    /// [`Resolver::target`] ask for no status the cache cannot give.
    pub fn status_later(mut self) -> Self {
        self.status_later = true;
        self
    }

    /// The fleet a reference names, with its metadata.
    pub async fn fleet(&self, fleet: &FleetRef) -> Result<FleetInfo, ResolveError> {
        let fleet_id = match fleet {
            FleetRef::Id(id) | FleetRef::Arn { id, .. } => id.clone(),
            FleetRef::AliasId(alias) | FleetRef::AliasArn { id: alias, .. } => {
                fleet::resolve_alias(self.gl, alias).await?
            }
            FleetRef::Name(name) => fleet::by_name(self.gl, name).await?,
        };
        self.fleet_info(&fleet_id).await
    }

    /// The fleet's metadata: what cannot change from the cache, the status
    /// from GameLift, now (unless [`Resolver::status_later`]).
    pub async fn fleet_info(&self, fleet_id: &str) -> Result<FleetInfo, ResolveError> {
        if !self.refresh
            && let Some(mut info) = self.cache.get(&self.gl.region, fleet_id)
        {
            if !self.status_later {
                info.status = fleet::status(self.gl, fleet_id).await?;
            }
            return Ok(info);
        }
        let info = fleet::describe(self.gl, fleet_id).await?;
        self.cache.put(&info);
        Ok(info)
    }

    /// Refuses a fleet with nothing to connect to (not ACTIVE, Anywhere),
    /// as [`Resolver::target`] does, for callers that pick instances themselves.
    pub fn check_usable(&self, fleet: &FleetInfo) -> Result<(), ResolveError> {
        fleet::check_usable(fleet)
    }

    /// [`Resolver::check_usable`], asking GameLift for the status first if
    /// it is not known (it came from the cache, see [`Resolver::status_later`]).
    pub async fn ensure_usable(&self, fleet: &FleetInfo) -> Result<(), ResolveError> {
        if status_known(fleet) {
            return fleet::check_usable(fleet);
        }
        let mut now = fleet.clone();
        now.status = fleet::status(self.gl, &fleet.fleet_id).await?;
        fleet::check_usable(&now)
    }

    /// Every fleet of the region, container fleets included (ListFleets
    /// and ListContainerFleets), described with DescribeFleetAttributes
    /// called for up to 50 fleets at a time; cached ones come from the cache.
    pub async fn all_fleets(&self) -> Result<Vec<FleetInfo>, ResolveError> {
        let mut ids = fleet::list_fleet_ids(self.gl).await?;
        for id in fleet::list_container_fleet_ids(self.gl).await? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut known = Vec::with_capacity(ids.len());
        let mut missing = vec![];
        for id in &ids {
            match (!self.refresh).then(|| self.cache.get(&self.gl.region, id)).flatten() {
                Some(info) => known.push(info),
                None => missing.push(id.clone()),
            }
        }
        // The cache holds no status: ask for the cached fleets' statuses now.
        if !known.is_empty() {
            let ids: Vec<String> = known.iter().map(|f| f.fleet_id.clone()).collect();
            let statuses = fleet::statuses(self.gl, &ids).await?;
            for info in &mut known {
                if let Some(status) = statuses.get(&info.fleet_id) {
                    info.status = status.clone();
                }
            }
        }
        for info in fleet::describe_many(self.gl, &missing).await? {
            self.cache.put(&info);
            known.push(info);
        }
        // In ListFleets' order, as before.
        known.sort_by_key(|f| ids.iter().position(|id| *id == f.fleet_id));
        Ok(known)
    }

    /// Every instance (EC2) or compute (containers) of the fleet, across
    /// all its locations.
    pub async fn instances(&self, fleet: &FleetInfo) -> Result<Vec<InstanceSummary>, ResolveError> {
        instance::list(self.gl, fleet).await
    }

    /// A player session, by ID (DescribePlayerSessions).
    pub async fn player_session(&self, player_session_id: &str) -> Result<PlayerSessionSummary, ResolveError> {
        players::by_id(self.gl, player_session_id).await
    }

    /// Every player session of a player in the region, any fleet, any status.
    pub async fn player_sessions(&self, player_id: &str) -> Result<Vec<PlayerSessionSummary>, ResolveError> {
        players::by_player(self.gl, player_id).await
    }

    /// Picks the instance and the access path. `sdk` overrides detection;
    /// `interactive` allows a picker when no instance was named.
    pub async fn target(
        &self,
        fleet: FleetInfo,
        instance: Option<&InstanceRef>,
        sdk: Option<Sdk>,
        interactive: bool,
    ) -> Result<Target, ResolveError> {
        if !self.status_later || status_known(&fleet) {
            fleet::check_usable(&fleet)?;
        } else if fleet.compute == ComputeType::Anywhere {
            // Known from the cache: no status needed to refuse it.
            fleet::check_usable(&fleet)?;
        }
        if fleet.compute == ComputeType::Container && sdk == Some(Sdk::V4) {
            return Err(ResolveError::Mismatch(format!(
                "{} is a container fleet: GameLift grants SSM access to it only (server SDK 5, \
                 GetComputeAccess), never an ssh key or password\n  drop --sdk 4",
                fleet.fleet_id
            )));
        }
        let sdk = sdk.or(fleet.sdk).unwrap_or_else(|| {
            // No build to ask (Realtime script fleets): those predate SDK 5.
            tracing::debug!(fleet_id = %fleet.fleet_id, "no server SDK version known; assuming 4.x");
            Sdk::V4
        });
        let (instance_id, location) = instance::find(self.gl, &fleet, sdk, instance, interactive).await?;
        Ok(Target {
            fleet,
            instance_id,
            location,
            sdk,
        })
    }
}
