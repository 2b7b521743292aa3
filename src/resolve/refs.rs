//! What the user typed, parsed. Pure: no I/O, no AWS types.
//!
//! Anything shaped like an ID or ARN must be a valid one, so a typo in an ID
//! is refused before any API call and shows the accepted forms. Anything
//! else is a name, looked up later.

use std::net::IpAddr;

const FLEET_FORMS: &str = "a fleet ID (fleet-1a2b3c4d-…, containerfleet-…), a fleet ARN \
(arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-…), an alias ID (alias-…) or ARN, \
or a fleet or alias name";
const INSTANCE_FORMS: &str = "an instance ID (i-0123456789abcdef0), a compute name, an IP address, \
a DNS name, a game session ID or ARN (arn:aws:gamelift:…::gamesession/fleet-…/…), \
a player session ID (psess-…) or a player (player:<PlayerId>)";

#[derive(Debug, thiserror::Error)]
pub enum RefError {
    #[error("'{0}' is not a fleet reference\n  expected {FLEET_FORMS}")]
    MalformedFleet(String),
    #[error("'{0}' is not an instance reference\n  expected {INSTANCE_FORMS}")]
    MalformedInstance(String),
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
    AliasId(String),
    AliasArn {
        id: String,
        region: String,
    },
    /// A fleet name or an alias name.
    Name(String),
}

impl FleetRef {
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let malformed = || RefError::MalformedFleet(s.to_owned());
        if let Some(arn) = Arn::parse(s) {
            return match (arn.resource_type, arn.resource_id) {
                ("fleet" | "containerfleet", id) if is_fleet_id(id) && arn.account_ok() => Ok(FleetRef::Arn {
                    id: id.to_owned(),
                    region: arn.region.to_owned(),
                }),
                ("alias", id) if is_alias_id(id) && arn.account_ok() => Ok(FleetRef::AliasArn {
                    id: id.to_owned(),
                    region: arn.region.to_owned(),
                }),
                _ => Err(malformed()),
            };
        }
        if s.starts_with("arn:") {
            return Err(malformed());
        }
        if s.starts_with("alias-") {
            return if is_alias_id(s) {
                Ok(FleetRef::AliasId(s.to_owned()))
            } else {
                Err(malformed())
            };
        }
        // `fleet-…`, `containerfleet-…`: shaped like an ID, so it must be one.
        if s.find("fleet-")
            .is_some_and(|pos| s[..pos].bytes().all(|b| b.is_ascii_lowercase()))
        {
            return if is_fleet_id(s) {
                Ok(FleetRef::Id(s.to_owned()))
            } else {
                Err(malformed())
            };
        }
        // GameLift names: 1 to 1024 characters, no leading or trailing blanks.
        if s.is_empty() || s.len() > 1024 || s.trim() != s || s.chars().any(char::is_control) {
            return Err(malformed());
        }
        Ok(FleetRef::Name(s.to_owned()))
    }

    /// The region this reference pins, if any.
    pub fn region(&self) -> Option<&str> {
        match self {
            FleetRef::Arn { region, .. } | FleetRef::AliasArn { region, .. } => Some(region),
            _ => None,
        }
    }
}

/// An instance as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceRef {
    /// An EC2 instance ID; for server SDK 5 fleets it is also the compute name.
    Id(String),
    /// A compute name (container and Anywhere fleets).
    ComputeName(String),
    Ip(IpAddr),
    Dns(String),
    /// A game session: its full ARN, or the ID part after the fleet ID.
    GameSession(String),
    /// A player session ID, `psess-…`: the game session it is in.
    PlayerSession(String),
    /// `player:<PlayerId>`: the game session the player is in now.
    Player(String),
}

impl InstanceRef {
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let malformed = || RefError::MalformedInstance(s.to_owned());
        // Player IDs are free text (1 to 1024 characters), hence the prefix.
        if let Some(player) = s.strip_prefix(PLAYER_PREFIX) {
            return if !player.is_empty() && player.chars().count() <= 1024 && !player.chars().any(char::is_control) {
                Ok(InstanceRef::Player(player.to_owned()))
            } else {
                Err(malformed())
            };
        }
        // GameLift's PlayerSessionId pattern, `^psess-\S+`; never a compute name.
        if s.starts_with("psess-") {
            return if s.len() > "psess-".len() && s.len() <= 1024 && !s.chars().any(char::is_whitespace) {
                Ok(InstanceRef::PlayerSession(s.to_owned()))
            } else {
                Err(malformed())
            };
        }
        if s.starts_with("i-") {
            return if is_instance_id(s) {
                Ok(InstanceRef::Id(s.to_owned()))
            } else {
                Err(malformed())
            };
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(InstanceRef::Ip(ip));
        }
        if s.starts_with("arn:") {
            return match Arn::parse(s) {
                Some(arn) if arn.resource_type == "gamesession" && arn.resource_id.contains("fleet-") => {
                    Ok(InstanceRef::GameSession(s.to_owned()))
                }
                _ => Err(malformed()),
            };
        }
        if s.starts_with("gsess-") && s.len() > "gsess-".len() {
            return Ok(InstanceRef::GameSession(s.to_owned()));
        }
        if s.contains('.') {
            let label_ok =
                |l: &str| !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            return if s.len() <= 253 && s.trim_end_matches('.').split('.').all(label_ok) {
                Ok(InstanceRef::Dns(s.trim_end_matches('.').to_ascii_lowercase()))
            } else {
                Err(malformed())
            };
        }
        // GameLift's ComputeName pattern: `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$`.
        let part_ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let valid = match s.split_once('/') {
            Some((a, b)) => part_ok(a) && part_ok(b),
            None => part_ok(s),
        };
        if valid && s.len() <= 1024 {
            Ok(InstanceRef::ComputeName(s.to_owned()))
        } else {
            Err(malformed())
        }
    }
}

/// The prefix of a player reference, `player:<PlayerId>`.
pub const PLAYER_PREFIX: &str = "player:";

/// The host-name form of an instance: `<instance>.<fleet>.gamelift`, as
/// `cp`'s remote paths (`<host>:<path>`) and ssh-config's `Host *.gamelift`
/// write it. The fleet is the last label before `.gamelift` (fleet IDs hold
/// no dots), the instance everything before it (an IP or DNS name may).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHost {
    pub instance: InstanceRef,
    pub fleet: FleetRef,
}

/// The suffix that marks a GameLift host name.
pub const HOST_SUFFIX: &str = ".gamelift";

/// Parses `<instance>.<fleet>.gamelift`. `Ok(None)`: not a GameLift host
/// name at all (no `.gamelift` suffix); `Err`: one, but malformed.
pub fn parse_host(host: &str) -> Result<Option<RemoteHost>, RefError> {
    let Some(stem) = host
        .strip_suffix(HOST_SUFFIX)
        .or_else(|| host.strip_suffix(".gamelift."))
    else {
        return Ok(None);
    };
    let (instance, fleet) = stem
        .rsplit_once('.')
        .ok_or_else(|| RefError::MalformedInstance(format!("{host} (expected <instance>.<fleet>.gamelift)")))?;
    Ok(Some(RemoteHost {
        instance: InstanceRef::parse(instance)?,
        fleet: FleetRef::parse(fleet)?,
    }))
}

/// `arn:<partition>:<service>:<region>:<account>:<type>/<id>`.
struct Arn<'a> {
    region: &'a str,
    account: &'a str,
    resource_type: &'a str,
    resource_id: &'a str,
}

impl<'a> Arn<'a> {
    fn parse(s: &'a str) -> Option<Self> {
        let rest = s.strip_prefix("arn:")?;
        let mut parts = rest.splitn(5, ':');
        let (partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let (resource_type, resource_id) = resource.split_once('/')?;
        (!partition.is_empty() && service == "gamelift" && is_region(region)).then_some(Arn {
            region,
            account,
            resource_type,
            resource_id,
        })
    }

    fn account_ok(&self) -> bool {
        self.account.len() == 12 && self.account.bytes().all(|b| b.is_ascii_digit())
    }
}

/// GameLift's FleetId pattern, `^[a-z]*fleet-[a-zA-Z0-9\-]+$`.
pub fn is_fleet_id(s: &str) -> bool {
    let Some(pos) = s.find("fleet-") else { return false };
    let (prefix, rest) = (&s[..pos], &s[pos + "fleet-".len()..]);
    prefix.bytes().all(|b| b.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// GameLift's AliasId pattern, `^alias-\S+`.
fn is_alias_id(s: &str) -> bool {
    s.strip_prefix("alias-")
        .is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

/// EC2 instance IDs: `i-` and 8 or 17 lowercase hex digits.
fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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
    fn fleet_forms() {
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
        assert_eq!(FleetRef::parse(&arn).unwrap().region(), Some("eu-central-1"));
        let cn = "arn:aws-cn:gamelift:cn-north-1:123456789012:containerfleet/containerfleet-x1";
        assert!(matches!(FleetRef::parse(cn).unwrap(), FleetRef::Arn { id, .. } if id == "containerfleet-x1"));
        assert_eq!(
            FleetRef::parse("alias-1234").unwrap(),
            FleetRef::AliasId("alias-1234".into())
        );
        assert_eq!(
            FleetRef::parse("arn:aws:gamelift:us-east-1:123456789012:alias/alias-1").unwrap(),
            FleetRef::AliasArn {
                id: "alias-1".into(),
                region: "us-east-1".into()
            }
        );
        assert_eq!(
            FleetRef::parse("prod eu 1").unwrap(),
            FleetRef::Name("prod eu 1".into())
        );
        assert_eq!(FleetRef::parse("my-fleet").unwrap(), FleetRef::Name("my-fleet".into()));
        assert_eq!(
            FleetRef::parse("prod-fleet-eu").unwrap(),
            FleetRef::Name("prod-fleet-eu".into())
        );
    }

    #[test]
    fn malformed_fleets_are_refused() {
        for bad in [
            "",
            " padded",
            "fleet-",
            "fleet-a_b",
            "myfleet-a_b",
            "alias-",
            "arn:aws:ec2:us-west-2:123456789012:fleet/fleet-abc",
            "arn:aws:gamelift::123456789012:fleet/fleet-abc",
            "arn:aws:gamelift:us-west-2:12345:fleet/fleet-abc",
            "arn:aws:gamelift:us-west-2:123456789012:fleet/nope",
            "arn:aws:gamelift:us-west-2:123456789012:build/build-1",
        ] {
            let err = FleetRef::parse(bad).unwrap_err();
            assert!(err.to_string().contains("expected a fleet ID"), "{bad}: {err}");
        }
    }

    #[test]
    fn instance_forms() {
        assert_eq!(
            InstanceRef::parse("i-0123456789abcdef0").unwrap(),
            InstanceRef::Id("i-0123456789abcdef0".into())
        );
        assert_eq!(
            InstanceRef::parse("i-0123abcd").unwrap(),
            InstanceRef::Id("i-0123abcd".into())
        );
        assert_eq!(
            InstanceRef::parse("10.1.2.3").unwrap(),
            InstanceRef::Ip("10.1.2.3".parse().unwrap())
        );
        assert_eq!(
            InstanceRef::parse("2001:db8::1").unwrap(),
            InstanceRef::Ip("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            InstanceRef::parse("ec2-1-2-3-4.us-west-2.compute.AMAZONAWS.com").unwrap(),
            InstanceRef::Dns("ec2-1-2-3-4.us-west-2.compute.amazonaws.com".into())
        );
        assert_eq!(
            InstanceRef::parse("compute-c1").unwrap(),
            InstanceRef::ComputeName("compute-c1".into())
        );
        let gs = "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-abc";
        assert_eq!(InstanceRef::parse(gs).unwrap(), InstanceRef::GameSession(gs.into()));
        assert_eq!(
            InstanceRef::parse("gsess-abc").unwrap(),
            InstanceRef::GameSession("gsess-abc".into())
        );
    }

    #[test]
    fn player_references_are_never_compute_names() {
        let psess = "psess-7f3a9c1e-0001-4aaa-8bbb-cccccccccccc";
        assert_eq!(
            InstanceRef::parse(psess).unwrap(),
            InstanceRef::PlayerSession(psess.into())
        );
        assert_eq!(
            InstanceRef::parse("player:7f3a 9c/1e:x").unwrap(),
            InstanceRef::Player("7f3a 9c/1e:x".into())
        );
        for bad in ["psess-", "psess-a b", "player:", "player:a\nb"] {
            assert!(InstanceRef::parse(bad).is_err(), "{bad:?}");
        }
        let host = parse_host(&format!("{psess}.{ID}.gamelift")).unwrap().unwrap();
        assert_eq!(host.instance, InstanceRef::PlayerSession(psess.into()));
    }

    #[test]
    fn gamelift_host_names() {
        let host = parse_host(&format!("i-0123456789abcdef0.{ID}.gamelift"))
            .unwrap()
            .unwrap();
        assert_eq!(host.instance, InstanceRef::Id("i-0123456789abcdef0".into()));
        assert_eq!(host.fleet, FleetRef::Id(ID.into()));
        let host = parse_host("10.1.2.3.prod-eu.gamelift").unwrap().unwrap();
        assert_eq!(host.instance, InstanceRef::Ip("10.1.2.3".parse().unwrap()));
        assert_eq!(host.fleet, FleetRef::Name("prod-eu".into()));
        assert_eq!(parse_host("example.com").unwrap(), None);
        assert!(parse_host("nodot.gamelift").is_err());
        assert!(parse_host(&format!("i-XYZ.{ID}.gamelift")).is_err());
    }

    #[test]
    fn malformed_instances_are_refused() {
        for bad in [
            "",
            "i-",
            "i-XYZ",
            "i-0123456789ABCDEF0",
            "i-0123456789abcdef",
            "bad name!",
            "a..b",
            "arn:aws:gamelift:us-west-2::fleet/fleet-1",
        ] {
            assert!(InstanceRef::parse(bad).is_err(), "{bad}");
        }
    }
}
