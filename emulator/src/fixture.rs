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
}

impl Fleet {
    /// The fleet's ARN, derived the way GameLift formats it when not given.
    pub fn arn(&self) -> String {
        self.fleet_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:gamelift:{}:{ACCOUNT_ID}:fleet/{}",
                self.region, self.fleet_id
            )
        })
    }

    /// Container fleets are recognised by compute type or by id prefix,
    /// because real container fleet ids are `containerfleet-...`.
    pub fn is_container(&self) -> bool {
        self.compute_type == ComputeType::Container || self.fleet_id.starts_with("containerfleet-")
    }
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
        self.build_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:gamelift:{}:{ACCOUNT_ID}:build/{}",
                self.region, self.build_id
            )
        })
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
        Ok(())
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
        self.instances
            .iter_mut()
            .find(|i| i.instance_id == instance_id)
    }

    /// A small us-west-2 account covering the three cases the CLI tells
    /// apart: SDK 4 Linux (SSH), SDK 4 Windows (RDP) and SDK 5 (SSM).
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
        }
    }
}

/// Identifiers used by [`Fixture::sample`], so tests need not repeat literals.
pub mod sample {
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
    /// Its single instance, at 127.0.0.1, empty secret.
    pub const LINUX_SDK5_INSTANCE: &str = "i-0a1b2c3d4e5f60718";
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
        assert_eq!(
            fleet.arn(),
            "arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-abc"
        );
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
    fn unknown_keys_are_rejected() {
        assert!(Fixture::from_json_str(r#"{"fleet": []}"#).is_err());
    }
}
