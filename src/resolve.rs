//! resolve: turn what the user typed into a [`Target`].
//!
//! References are checked here, before any API call, so a typo costs nothing
//! and the error can show the accepted forms. Each reference kind is an enum
//! so that names, aliases, IPs and pickers slot in as new variants.

use std::fmt;

const FLEET_FORMS: &str = "a fleet ID (fleet-1a2b3c4d-…, containerfleet-…) or a fleet ARN \
(arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-…)";
const INSTANCE_FORMS: &str = "an instance ID (i-0123456789abcdef0)";

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("'{0}' is not a fleet reference\n  expected {FLEET_FORMS}")]
    MalformedFleet(String),
    #[error("'{0}' is not an instance reference\n  expected {INSTANCE_FORMS}")]
    MalformedInstance(String),
}

/// The kind of compute behind a fleet, which decides the access API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeType {
    Ec2,
    Container,
}

/// A fleet as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetRef {
    Id(String),
    /// An ARN pins the region: `arn:<partition>:gamelift:<region>:<account>:fleet/<id>`.
    Arn {
        id: String,
        region: String,
    },
}

impl FleetRef {
    pub fn parse(s: &str) -> Result<Self, ResolveError> {
        let malformed = || ResolveError::MalformedFleet(s.to_owned());
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, service, region, account, resource] = parts[..] else {
                return Err(malformed());
            };
            let (kind, id) = resource.split_once('/').ok_or_else(malformed)?;
            let valid = !partition.is_empty()
                && service == "gamelift"
                && is_region(region)
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && matches!(kind, "fleet" | "containerfleet")
                && is_fleet_id(id);
            return if valid {
                Ok(FleetRef::Arn {
                    id: id.to_owned(),
                    region: region.to_owned(),
                })
            } else {
                Err(malformed())
            };
        }
        if is_fleet_id(s) {
            Ok(FleetRef::Id(s.to_owned()))
        } else {
            Err(malformed())
        }
    }

    pub fn id(&self) -> &str {
        match self {
            FleetRef::Id(id) | FleetRef::Arn { id, .. } => id,
        }
    }

    /// The region this reference pins, if any.
    pub fn region(&self) -> Option<&str> {
        match self {
            FleetRef::Id(_) => None,
            FleetRef::Arn { region, .. } => Some(region),
        }
    }
}

/// An instance as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceRef {
    Id(String),
}

impl InstanceRef {
    pub fn parse(s: &str) -> Result<Self, ResolveError> {
        if is_instance_id(s) {
            Ok(InstanceRef::Id(s.to_owned()))
        } else {
            Err(ResolveError::MalformedInstance(s.to_owned()))
        }
    }
}

/// Everything later steps need to know about where they are going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub fleet_id: String,
    pub instance_id: String,
    /// The region (or, for multi-location fleets, the location) to call.
    pub region: String,
    pub compute: ComputeType,
}

impl Target {
    /// Resolves references that need no lookup: an ID or ARN names the fleet,
    /// and the region comes from the ARN or the AWS configuration.
    pub fn from_refs(fleet: &FleetRef, instance: &InstanceRef, region: &str) -> Self {
        let InstanceRef::Id(instance_id) = instance;
        let compute = if fleet.id().starts_with("containerfleet-") {
            ComputeType::Container
        } else {
            ComputeType::Ec2
        };
        Target {
            fleet_id: fleet.id().to_owned(),
            instance_id: instance_id.clone(),
            region: region.to_owned(),
            compute,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} in {}",
            self.fleet_id, self.instance_id, self.region
        )
    }
}

/// GameLift's FleetId pattern, `^[a-z]*fleet-[a-zA-Z0-9\-]+$`.
fn is_fleet_id(s: &str) -> bool {
    let Some(pos) = s.find("fleet-") else {
        return false;
    };
    let (prefix, rest) = (&s[..pos], &s[pos + "fleet-".len()..]);
    prefix.bytes().all(|b| b.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// EC2 instance IDs: `i-` and 8 or 17 lowercase hex digits.
fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Region names: lowercase letters, digits and dashes, e.g. `us-west-2`.
fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.contains('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

    #[test]
    fn fleet_ids_and_arns() {
        assert_eq!(FleetRef::parse(ID).unwrap(), FleetRef::Id(ID.into()));
        assert_eq!(
            FleetRef::parse("containerfleet-abc").unwrap(),
            FleetRef::Id("containerfleet-abc".into())
        );
        let arn = format!("arn:aws:gamelift:eu-central-1:123456789012:fleet/{ID}");
        assert_eq!(
            FleetRef::parse(&arn).unwrap(),
            FleetRef::Arn {
                id: ID.into(),
                region: "eu-central-1".into()
            }
        );
        assert_eq!(
            FleetRef::parse(&arn).unwrap().region(),
            Some("eu-central-1")
        );
        let cn = "arn:aws-cn:gamelift:cn-north-1:123456789012:containerfleet/containerfleet-x1";
        assert_eq!(FleetRef::parse(cn).unwrap().id(), "containerfleet-x1");
    }

    #[test]
    fn malformed_fleets_are_refused() {
        for bad in [
            "",
            "fleet-",
            "Fleet-abc",
            "fleet_abc",
            "my fleet",
            "alias-123",
            "arn:aws:gamelift:us-west-2:123456789012:alias/alias-1",
            "arn:aws:ec2:us-west-2:123456789012:fleet/fleet-abc",
            "arn:aws:gamelift::123456789012:fleet/fleet-abc",
            "arn:aws:gamelift:us-west-2:12345:fleet/fleet-abc",
            "arn:aws:gamelift:us-west-2:123456789012:fleet/nope",
        ] {
            let err = FleetRef::parse(bad).unwrap_err();
            assert!(
                err.to_string().contains("expected a fleet ID"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn instance_ids() {
        assert!(InstanceRef::parse("i-0123456789abcdef0").is_ok());
        assert!(InstanceRef::parse("i-0123abcd").is_ok());
        for bad in [
            "",
            "i-",
            "i-0123456789ABCDEF0",
            "i-0123456789abcdef",
            "0123456789abcdef0",
            "i-xyz",
        ] {
            assert!(InstanceRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn container_fleets_are_recognised() {
        let t = Target::from_refs(
            &FleetRef::parse("containerfleet-1").unwrap(),
            &InstanceRef::parse("i-0123456789abcdef0").unwrap(),
            "us-west-2",
        );
        assert_eq!(t.compute, ComputeType::Container);
    }
}
