//! Every reference form resolves to the right instance, through the real
//! binary and the real SDK against the emulator. `--print` stops before any
//! client runs; the emulator's call log shows what was asked.

mod common;

use common::*;
use gamelift_emulator::fixture::sample;

const SDK5_FLEET: &str = sample::LINUX_SDK5_FLEET;

/// `connect <fleet> <instance> --print`, returning (exit code, stdout, stderr).
fn print(w: &World, fleet: &str, instance: Option<&str>, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = w.cmd();
    cmd.args(["connect", fleet]).args(instance).arg("--print").args(extra);
    let out = run(cmd);
    (code(out.status), text(&out.stdout), text(&out.stderr))
}

/// The instance `--print` resolved to: the one its dry run looked up
/// (DescribeInstances by InstanceId on SDK 4, DescribeCompute on SDK 5;
/// it asks for no access) since the last clear.
fn accessed_instance(w: &World) -> String {
    let calls: Vec<_> = w
        .emulator
        .calls()
        .into_iter()
        .filter(|c| {
            (c.operation == "DescribeInstances" && c.body.get("InstanceId").is_some())
                || c.operation == "DescribeCompute"
        })
        .collect();
    let last = calls
        .last()
        .unwrap_or_else(|| panic!("no instance looked up: {:?}", w.emulator.calls()));
    assert_eq!(last.body["FleetId"], FLEET);
    assert!(
        w.emulator.calls_to("GetInstanceAccess").is_empty(),
        "--print asked for access"
    );
    let id = last.body["InstanceId"]
        .as_str()
        .or(last.body["ComputeName"].as_str())
        .unwrap()
        .to_owned();
    w.emulator.clear_calls();
    id
}

#[test]
fn every_fleet_reference_form_reaches_the_same_fleet() {
    let w = World::without_sshd();
    for fleet in [
        FLEET.to_owned(),
        format!("arn:aws:gamelift:{REGION}:123456789012:fleet/{FLEET}"),
        sample::LINUX_SDK4_ALIAS.to_owned(),
        format!(
            "arn:aws:gamelift:{REGION}:123456789012:alias/{}",
            sample::LINUX_SDK4_ALIAS
        ),
        sample::LINUX_SDK4_ALIAS_NAME.to_owned(),
        "sdk4-linux".to_owned(),
    ] {
        let (c, _, err) = print(&w, &fleet, Some(INSTANCE), &[]);
        assert_eq!(c, 0, "{fleet}: {err}");
        assert_eq!(accessed_instance(&w), INSTANCE, "{fleet}");
    }
    // The alias was resolved by the API, not guessed.
    let mut cmd = w.cmd();
    cmd.args(["connect", sample::LINUX_SDK4_ALIAS, INSTANCE, "--print", "--refresh"]);
    assert_eq!(code(run(cmd).status), 0);
    assert_eq!(w.emulator.calls_to("ResolveAlias").len(), 1);
}

#[test]
fn every_instance_reference_form_reaches_the_same_instance() {
    let w = World::without_sshd();
    w.emulator.with_fixture(|f| {
        let i = f.instance_mut(INSTANCE).unwrap();
        i.ip_address = "192.0.2.44".into();
        i.dns_name = Some("ec2-192-0-2-44.us-west-2.compute.amazonaws.com".into());
    });
    let session_id = sample::LINUX_SDK4_GAME_SESSION.rsplit('/').next().unwrap();
    for instance in [
        INSTANCE,
        "192.0.2.44",
        "EC2-192-0-2-44.us-west-2.compute.amazonaws.com",
        sample::LINUX_SDK4_GAME_SESSION,
        session_id,
    ] {
        let (c, out, err) = print(&w, FLEET, Some(instance), &[]);
        assert_eq!(c, 0, "{instance}: {err}");
        assert!(out.contains("@192.0.2.44"), "{instance}: {out}");
        assert_eq!(accessed_instance(&w), INSTANCE, "{instance}");
    }
}

#[test]
fn unknown_and_ambiguous_references_say_what_to_do() {
    let w = World::without_sshd();
    let (c, _, err) = print(&w, "no-such-fleet", Some(INSTANCE), &[]);
    assert_eq!(c, 68, "{err}");
    assert!(
        err.contains("no fleet or alias named 'no-such-fleet'") && err.contains("gamelift-access fleets"),
        "{err}"
    );

    let (c, _, err) = print(&w, FLEET, Some("198.51.100.7"), &[]);
    assert_eq!(c, 68, "{err}");
    assert!(
        err.contains("198.51.100.7") && err.contains("gamelift-access instances"),
        "{err}"
    );

    // Two fleets answer to one name: list them, ask for an ID.
    w.emulator.with_fixture(|f| {
        let mut twin = f.fleet(FLEET).unwrap().clone();
        twin.fleet_id = "fleet-99999999-5e6f-4a7b-8c9d-0e1f2a3b4c5d".into();
        twin.fleet_arn = None;
        f.fleets.push(twin);
    });
    let (c, _, err) = print(&w, "sdk4-linux", Some(INSTANCE), &[]);
    assert_eq!(c, 64, "{err}");
    assert!(
        err.contains(FLEET) && err.contains("fleet-99999999-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
        "{err}"
    );
    assert!(err.contains("pass one of these fleet IDs"), "{err}");

    let (c, _, err) = print(&w, sample::TERMINAL_ALIAS, Some(INSTANCE), &[]);
    assert_eq!(c, 76, "{err}");
    assert!(err.contains(sample::TERMINAL_ALIAS_MESSAGE), "{err}");
}

#[test]
fn a_fleet_that_is_not_active_is_explained() {
    let w = World::without_sshd();
    for (status, says) in [("ERROR", "failed to activate"), ("BUILDING", "still being created")] {
        w.emulator
            .with_fixture(|f| f.fleet_mut(FLEET).unwrap().status = status.into());
        let (c, _, err) = print(&w, FLEET, Some(INSTANCE), &["--refresh"]);
        assert_eq!(c, 76, "{err}");
        assert!(err.contains(status) && err.contains(says), "{err}");
    }
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());
}

#[test]
fn anywhere_fleets_are_not_supported() {
    let w = World::without_sshd();
    w.emulator
        .with_fixture(|f| f.fleet_mut(FLEET).unwrap().compute_type = gamelift_emulator::ComputeType::Anywhere);
    let (c, _, err) = print(&w, FLEET, Some(INSTANCE), &[]);
    assert_eq!(c, 76, "{err}");
    assert!(
        err.contains("not supported: connect to your own hosts directly"),
        "{err}"
    );
}

#[test]
fn without_a_terminal_a_missing_instance_lists_the_candidates() {
    let w = World::without_sshd();
    let (c, _, err) = print(&w, SDK5_FLEET, None, &[]);
    assert_eq!(c, 64, "{err}");
    // Both locations were searched.
    assert!(
        err.contains(sample::LINUX_SDK5_INSTANCE) && err.contains(sample::LINUX_SDK5_REMOTE_INSTANCE),
        "{err}"
    );
    assert!(
        err.contains("us-east-1") && err.contains("pass one as the second argument"),
        "{err}"
    );
    let locations: Vec<String> = w
        .emulator
        .calls_to("DescribeInstances")
        .iter()
        .map(|c| c.body["Location"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(locations, [REGION, sample::SDK5_REMOTE_LOCATION]);
}

#[test]
fn sdk_detection_picks_the_api_and_the_flag_overrides_it() {
    let w = World::without_sshd();
    // SDK 4 build → the instance's address (GetInstanceAccess on a real run).
    let (c, _, err) = print(&w, FLEET, Some(INSTANCE), &[]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(accessed_instance_op(&w), "DescribeInstances");
    let builds = w.emulator.calls_to("DescribeBuild");
    assert_eq!(builds[0].body["BuildId"], sample::LINUX_SDK4_BUILD);

    // SDK 5 build → the compute (GetComputeAccess on a real run).
    w.emulator.clear_calls();
    let (c, _, err) = print(&w, SDK5_FLEET, Some(sample::LINUX_SDK5_INSTANCE), &[]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(accessed_instance_op(&w), "DescribeCompute");

    // --sdk overrides: GameLift itself then refuses the mismatched API.
    w.emulator.clear_calls();
    let fake = FakePlugin::install(w.dir.path());
    let mut cmd = w.cmd();
    cmd.env("PATH", path_with(&fake.bin_dir, &["aws"]))
        .args(["connect", FLEET, INSTANCE, "--sdk", "5"]);
    let out = run(cmd);
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 76, "{err}");
    assert_eq!(w.emulator.calls_to("GetComputeAccess").len(), 1);
    assert!(err.contains("GetInstanceAccess"), "{err}");

    // Container fleets have SSM access only: --sdk 4 is refused before any access call.
    w.emulator.clear_calls();
    let (c, _, err) = print(&w, sample::CONTAINER_FLEET, Some("compute-c1"), &["--sdk", "4"]);
    assert_eq!(c, 64, "{err}");
    assert!(err.contains("container fleet") && err.contains("drop --sdk 4"), "{err}");
}

/// Which lookup `--print`'s dry run made for the instance, with no access call.
fn accessed_instance_op(w: &World) -> String {
    assert!(
        w.emulator.calls_to("GetInstanceAccess").is_empty(),
        "{:?}",
        w.emulator.calls()
    );
    assert!(
        w.emulator.calls_to("GetComputeAccess").is_empty(),
        "{:?}",
        w.emulator.calls()
    );
    w.emulator.calls().last().unwrap().operation.clone()
}

#[test]
fn a_warm_connect_asks_only_for_the_status_and_the_instance() {
    let w = World::without_sshd();
    let (c, _, err) = print(&w, FLEET, Some(INSTANCE), &[]);
    assert_eq!(c, 0, "{err}");
    let cold: Vec<String> = w.emulator.calls().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        cold,
        [
            "DescribeFleetAttributes",
            "DescribeBuild",
            "DescribeFleetLocationAttributes",
            "DescribeInstances"
        ]
    );

    // Cached: what cannot change; asked again: the status, which can.
    w.emulator.clear_calls();
    let (c, _, err) = print(&w, FLEET, Some(INSTANCE), &[]);
    assert_eq!(c, 0, "{err}");
    let warm: Vec<String> = w.emulator.calls().into_iter().map(|c| c.operation).collect();
    assert_eq!(warm, ["DescribeFleetAttributes", "DescribeInstances"]);

    w.emulator.clear_calls();
    let (c, _, err) = print(&w, FLEET, Some(INSTANCE), &["--refresh"]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(w.emulator.calls().len(), 4, "--refresh asks again");
}

#[test]
fn listing_fleets_and_instances() {
    let w = World::without_sshd();
    let mut cmd = w.cmd();
    cmd.args(["fleets", "--output", "json"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let fleets: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_id = |id: &str| {
        fleets
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["fleet_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(FLEET)["sdk"], "4");
    assert_eq!(by_id(FLEET)["access"], "ssh");
    assert_eq!(by_id(sample::WINDOWS_SDK4_FLEET)["access"], "rdp");
    assert_eq!(by_id(SDK5_FLEET)["sdk"], "5");
    assert_eq!(by_id(SDK5_FLEET)["locations"], serde_json::json!([REGION, "us-east-1"]));
    assert_eq!(by_id(sample::CONTAINER_FLEET)["compute"], "CONTAINER");

    let mut cmd = w.cmd();
    cmd.args(["fleets"]);
    let table = text(&run(cmd).stdout);
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("ID") && header.contains("SDK") && header.contains("LOCATIONS"),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with(FLEET) && l.contains("sdk4-linux")),
        "{table}"
    );

    let mut cmd = w.cmd();
    cmd.args(["instances", SDK5_FLEET, "--output", "json"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["location"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (sample::LINUX_SDK5_INSTANCE.to_owned(), REGION.to_owned()),
            (sample::LINUX_SDK5_REMOTE_INSTANCE.to_owned(), "us-east-1".to_owned())
        ]
    );

    let mut cmd = w.cmd();
    cmd.args(["instances", sample::CONTAINER_FLEET]);
    let table = text(&run(cmd).stdout);
    assert!(
        table.lines().nth(1).unwrap().starts_with(sample::CONTAINER_COMPUTE),
        "{table}"
    );
}
