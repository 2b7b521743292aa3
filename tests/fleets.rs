//! `fleets`: container fleets from ListContainerFleets, DescribeFleetAttributes
//! batched, and `--all-regions`.

mod common;

use common::*;
use gamelift_emulator::fixture::sample;

#[test]
fn one_describe_call_for_the_region_and_container_fleets_included() {
    let w = World::without_sshd();
    let mut cmd = w.cmd();
    cmd.args(["fleets", "--output", "json"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let fleets: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fleets.len(), 4);
    assert!(fleets.iter().any(|f| f["fleet_id"] == sample::CONTAINER_FLEET));
    assert_eq!(w.emulator.calls_to("ListContainerFleets").len(), 1);
    let describe = w.emulator.calls_to("DescribeFleetAttributes");
    assert_eq!(describe.len(), 1, "one call for every fleet");
    assert_eq!(describe[0].body["FleetIds"].as_array().unwrap().len(), 4);
    // Three builds, each asked once.
    assert_eq!(w.emulator.calls_to("DescribeBuild").len(), 3);

    // 120 fleets: three calls of at most 50 IDs.
    w.emulator.with_fixture(|f| {
        let template = f.fleet(sample::LINUX_SDK4_FLEET).unwrap().clone();
        for n in 0..116 {
            let mut fleet = template.clone();
            fleet.fleet_id = format!("fleet-00000000-0000-4000-8000-{n:012}");
            fleet.name = format!("bulk-{n}");
            f.fleets.push(fleet);
        }
    });
    w.emulator.clear_calls();
    let mut cmd = w.cmd();
    cmd.args(["fleets", "--output", "json", "--refresh"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let fleets: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fleets.len(), 120);
    let sizes: Vec<usize> = w
        .emulator
        .calls_to("DescribeFleetAttributes")
        .iter()
        .map(|c| c.body["FleetIds"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
}

#[test]
fn all_regions_asks_every_region_and_shows_where_each_fleet_lives() {
    let w = World::without_sshd();
    w.emulator.with_fixture(|f| {
        f.fleet_mut(sample::WINDOWS_SDK4_FLEET).unwrap().region = "eu-west-1".to_owned();
        f.builds
            .iter_mut()
            .find(|b| b.build_id == sample::WINDOWS_SDK4_BUILD)
            .unwrap()
            .region = "eu-west-1".to_owned();
        f.instance_mut(sample::WINDOWS_SDK4_INSTANCE).unwrap().location = None;
    });
    let mut cmd = w.cmd();
    cmd.args(["fleets", "--all-regions"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("REGION") && header.contains("ID"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("eu-west-1") && l.contains(sample::WINDOWS_SDK4_FLEET)),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("us-west-2") && l.contains(sample::LINUX_SDK4_FLEET)),
        "{table}"
    );
    assert_eq!(table.lines().count(), 5, "{table}");
    let mut regions: Vec<String> = w
        .emulator
        .calls_to("ListFleets")
        .into_iter()
        .map(|c| c.region)
        .collect();
    regions.sort();
    regions.dedup();
    assert_eq!(regions.len(), 21, "{regions:?}");
}
