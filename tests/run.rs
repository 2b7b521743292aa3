//! `run`: one command on many instances, against the emulator's `many`
//! fleet (every instance played by one real sshd) with GameLift-style
//! rate-based throttling, and over SSM with the recording fake plugin.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::fixture::sample;

const MANY: &str = sample::MANY_FLEET;

fn run_cmd(w: &World, args: &[&str]) -> std::process::Command {
    let mut cmd = w.cmd();
    cmd.args(["run", MANY, "--port", &w.port().to_string()]).args(args);
    cmd
}

#[test]
fn two_hundred_instances_throttled_and_none_fails() {
    let w = World::with_many_instances(200);
    // GameLift-like: a sustained rate with a small burst, so 16 at once are throttled.
    w.emulator.set_rate_limit("GetInstanceAccess", 40.0, 5);
    let script = "for n in 1 2 3; do echo \"line-$n-of-a-fairly-long-output-line-to-make-interleaving-visible\"; done";
    let out = run_within(
        run_cmd(&w, &["--parallel", "16", "--", script]),
        Duration::from_secs(600),
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(out.status), 0, "{stderr}");

    // Every output line is whole and prefixed with its instance's ID.
    let mut per_instance: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lines = stdout.lines();
    for line in lines.by_ref() {
        if line.is_empty() {
            break; // the summary follows
        }
        let (id, rest) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("unprefixed line {line:?}"));
        assert!(
            rest.starts_with("line-") && rest.ends_with("-to-make-interleaving-visible"),
            "mangled line {line:?}"
        );
        per_instance.entry(id.to_owned()).or_default().push(rest.to_owned());
    }
    assert_eq!(per_instance.len(), 200);
    for (id, lines) in &per_instance {
        assert_eq!(lines.len(), 3, "{id}: {lines:?}");
        assert!(
            lines[0].starts_with("line-1") && lines[2].starts_with("line-3"),
            "{id}: {lines:?}"
        );
    }
    // The summary: a header and one row per instance, all exit 0.
    let summary: Vec<&str> = lines.collect();
    assert!(
        summary[0].starts_with("INSTANCE") && summary[0].contains("EXIT"),
        "{summary:?}"
    );
    assert_eq!(summary.len(), 201, "{summary:?}");
    for row in &summary[1..] {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[2], "0", "{row}");
    }
    assert!(stderr.contains("200 of 200 instances exited 0"), "{stderr}");

    // Throttling happened, and was absorbed: 200 granted accesses, no failure.
    assert!(
        w.emulator.rate_limited_calls("GetInstanceAccess") > 0,
        "the rate limit never kicked in"
    );
    let granted = w
        .emulator
        .calls_to("GetInstanceAccess")
        .iter()
        .filter(|c| c.status == 200)
        .count();
    assert_eq!(granted, 200);
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());
}

#[test]
fn json_records_narrowed_by_instance_and_location() {
    let w = World::with_many_instances(9);
    // Instances 1, 4, 7 are in us-west-2; 2, 5, 8 in us-east-1; 3, 6, 9 in eu-west-1.
    let east = sample::many_instance(2);
    let west = sample::many_instance(4);
    let out = run(run_cmd(
        &w,
        &[
            "--output",
            "json",
            "--instance",
            &east,
            "--instance",
            &west,
            "--instance",
            &east,
            "--",
            "echo out; echo err >&2; exit 3",
        ],
    ));
    assert_eq!(
        code(out.status),
        1,
        "a non-zero exit fails the run: {}",
        text(&out.stderr)
    );
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["instance_id"], east.as_str());
    assert_eq!(records[0]["location"], "us-east-1");
    assert_eq!(records[1]["location"], "us-west-2");
    for r in records {
        assert_eq!(r["exit_code"], 3);
        assert_eq!(r["stdout"], "out\n");
        assert_eq!(r["stderr"], "err\n");
        assert_eq!(r["error"], serde_json::Value::Null);
        assert!(r["duration_secs"].as_f64().unwrap() > 0.0);
    }

    let out = run(run_cmd(
        &w,
        &["--output", "json", "--location", "eu-west-1", "--", "true"],
    ));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["instance_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            sample::many_instance(3),
            sample::many_instance(6),
            sample::many_instance(9)
        ]
    );

    let out = run(run_cmd(&w, &["--location", "mars-north-1", "--", "true"]));
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("us-east-1"), "{}", text(&out.stderr));
}

#[test]
fn a_timeout_or_an_unreachable_instance_fails_that_instance_only() {
    let w = World::with_many_instances(3);
    // Instance 2 answers on an address where no sshd listens.
    w.emulator.with_fixture(|f| {
        f.instance_mut(&sample::many_instance(2)).unwrap().ip_address = "127.0.0.2".into();
    });
    let out = run(run_cmd(&w, &["--output", "json", "--", "echo done"]));
    assert_eq!(code(out.status), 1, "{}", text(&out.stderr));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_id: BTreeMap<String, serde_json::Value> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["instance_id"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    let unreachable = &by_id[&sample::many_instance(2)];
    assert_eq!(unreachable["exit_code"], 255, "ssh's own failure: {unreachable}");
    assert_eq!(by_id[&sample::many_instance(3)]["exit_code"], 0);
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());

    // Every instance sleeps past the timeout: each is killed and reported.
    let started = Instant::now();
    let out = run(run_cmd(
        &w,
        &[
            "--timeout",
            "2",
            "--output",
            "json",
            "--instance",
            &sample::many_instance(1),
            "--instance",
            &sample::many_instance(3),
            "--",
            "sleep 8",
        ],
    ));
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(code(out.status), 1, "{}", text(&out.stderr));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in records.as_array().unwrap() {
        assert_eq!(r["error"], "timed out after 2s", "{r}");
        assert_eq!(r["exit_code"], serde_json::Value::Null);
    }
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());
}

#[test]
fn ctrl_c_stops_every_instance_and_removes_every_key() {
    let w = World::with_many_instances(4);
    let mut cmd = run_cmd(&w, &["--", "echo started; sleep 8"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Ready when all four sessions have printed their first line.
    let mut started = 0;
    while started < 4 {
        let line = read_line(&mut child);
        assert!(line.ends_with(": started"), "{line:?}");
        started += 1;
    }
    assert_eq!(w.key_files().len(), 4, "one key per running instance");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(out.status), 130, "{}", text(&out.stderr));
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());
}

#[test]
fn windows_fleets_are_refused_with_the_reason() {
    let w = World::without_sshd();
    let mut cmd = w.cmd();
    cmd.args(["run", sample::WINDOWS_SDK4_FLEET, "--", "hostname"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Windows"), "{}", text(&out.stderr));
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());
}

#[test]
fn sdk5_runs_a_non_interactive_ssm_command_per_compute() {
    let w = World::without_sshd();
    let plugin = FakePlugin::install(w.dir.path());
    for drop in [&["aws"][..], &[]] {
        let mut cmd = w.cmd();
        cmd.env("PATH", path_with(&plugin.bin_dir, drop)).args([
            "run",
            sample::LINUX_SDK5_FLEET,
            "--",
            "cat",
            "/etc/os-release",
        ]);
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    }
    let runs = plugin.runs();
    assert_eq!(runs.len(), 4, "two computes, two paths");
    let mut regions = vec![];
    for r in &runs {
        let request: serde_json::Value = serde_json::from_str(&r.argv[4]).unwrap();
        assert_eq!(request["DocumentName"], "AWS-StartNonInteractiveCommand");
        assert_eq!(
            request["Parameters"],
            serde_json::json!({"command": ["cat /etc/os-release"]})
        );
        let issued = w.emulator.issued_compute_credentials();
        let creds = issued
            .iter()
            .find(|c| c.access_key_id == r.env["AWS_ACCESS_KEY_ID"])
            .expect("the compute's own credentials");
        assert_eq!(creds.target, request["Target"].as_str().unwrap());
        assert_eq!(r.env["AWS_SESSION_TOKEN"], creds.session_token);
        regions.push(r.argv[1].clone());
    }
    regions.sort();
    assert_eq!(regions, ["us-east-1", "us-east-1", "us-west-2", "us-west-2"]);
    // The direct path terminates its sessions (the AWS CLI leaves that to the real plugin).
    let sessions = w.emulator.ssm_sessions();
    assert_eq!(sessions.len(), 4);
    assert_eq!(sessions.iter().filter(|s| s.terminated).count(), 2);
}

fn read_line(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let stdout = child.stdout.as_mut().expect("stdout piped");
    let mut line = vec![];
    let mut byte = [0u8; 1];
    loop {
        match stdout.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => return text(&line),
            Ok(1) => line.push(byte[0]),
            _ => panic!("stdout closed; saw {:?}", text(&line)),
        }
    }
}

#[test]
fn no_key_in_any_output_even_with_debug() {
    let w = World::with_many_instances(2);
    let fragment = w.secret_fragment_of(&sample::many_instance(1));
    for format in ["table", "json"] {
        let out = run(run_cmd(&w, &["--debug", "--output", format, "--", "echo", "ok"]));
        assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            all.contains("GetInstanceAccess"),
            "--debug shows the calls, so the check means something"
        );
        assert!(!all.contains(&fragment), "{format}: the key is in the output");
        assert!(!all.contains("PRIVATE KEY"), "{format}: a key header is in the output");
    }
    assert!(w.key_files().is_empty());
}
