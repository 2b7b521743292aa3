//! `bucket-key` through the real binary and the real aws-sdk-lightsail
//! against the emulator: the store, the two-key limit, the store failing
//! while CreateBucketAccessKey is in flight, a SIGKILL between create and
//! store, delete, bad input, and no secret in any output.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use gamelift_emulator::Fault;
use gamelift_emulator::fixture::sample;

const BUCKET: &str = sample::BUILDS_BUCKET;

fn bk(w: &World, args: &[&str]) -> Output {
    let mut cmd = w.cmd();
    cmd.arg("bucket-key").args(args);
    run(cmd)
}

fn ok(out: &Output) -> String {
    assert_eq!(
        code(out.status),
        0,
        "stderr: {}\nstdout: {}",
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

fn store_root(w: &World) -> PathBuf {
    w.dir.path().join("data/gamelift-access/bucket-keys")
}

fn fallback_root(w: &World) -> PathBuf {
    w.dir.path().join("state/gamelift-access/bucket-keys-fallback")
}

fn journal_dir(w: &World) -> PathBuf {
    w.dir.path().join("state/gamelift-access/bucket-key-journal")
}

fn journal_entries(w: &World) -> Vec<PathBuf> {
    fs::read_dir(journal_dir(w))
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

fn stored_secret(file: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&fs::read(file).unwrap()).unwrap();
    v["secret_access_key"].as_str().unwrap().to_owned()
}

/// The invariant: every Active key on the bucket has its secret in a file
/// here (main or fallback store).
fn assert_every_active_key_recoverable(w: &World, bucket: &str) {
    for key in w.emulator.bucket_access_keys(bucket) {
        if key.status != "Active" {
            continue;
        }
        let found = [store_root(w), fallback_root(w)].iter().any(|root| {
            let f = root.join(bucket).join(format!("{}.json", key.access_key_id));
            f.is_file() && stored_secret(&f) == key.secret_access_key
        });
        assert!(found, "Active key {} has no recoverable secret here", key.access_key_id);
    }
}

fn create(w: &World, extra: &[&str]) -> String {
    let mut args = vec!["create", BUCKET];
    args.extend_from_slice(extra);
    let out = ok(&bk(w, &args));
    let keys = w.emulator.bucket_access_keys(BUCKET);
    let id = keys.last().unwrap().access_key_id.clone();
    assert!(out.contains(&id), "{out}");
    id
}

/// Polls (no sleeping in place of readiness) until `cond` holds.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn create_stores_the_secret_privately_and_hands_it_out_only_on_request() {
    let w = World::without_sshd();
    let id = create(&w, &[]);
    let key = w.emulator.bucket_key(&id).unwrap();
    let file = store_root(&w).join(BUCKET).join(format!("{id}.json"));
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&store_root(&w)), 0o700);
    assert_eq!(mode(&store_root(&w).join(BUCKET)), 0o700);
    assert_eq!(stored_secret(&file), key.secret_access_key);
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["bucket"], BUCKET);
    assert_eq!(v["region"], "us-west-2");
    assert_eq!(v["access_key_id"], id.as_str());
    assert!(journal_entries(&w).is_empty(), "journal entry left behind");

    let cp: serde_json::Value = serde_json::from_str(&ok(&bk(&w, &["credential-process", BUCKET]))).unwrap();
    assert_eq!(
        cp,
        serde_json::json!({"Version": 1, "AccessKeyId": id, "SecretAccessKey": key.secret_access_key})
    );
    let env = ok(&bk(&w, &["export", BUCKET, "--format", "env"]));
    assert!(env.contains(&format!("export AWS_ACCESS_KEY_ID={id}\n")), "{env}");
    assert!(
        env.contains(&format!("export AWS_SECRET_ACCESS_KEY={}", key.secret_access_key))
            || env.contains(&format!("export AWS_SECRET_ACCESS_KEY='{}'", key.secret_access_key)),
        "{env}"
    );
    assert!(env.contains("export AWS_REGION=us-west-2\n"), "{env}");
    let json: serde_json::Value = serde_json::from_str(&ok(&bk(&w, &["export", BUCKET, "--format", "json"]))).unwrap();
    assert_eq!(json["secret_access_key"], key.secret_access_key.as_str());

    let listed = ok(&bk(&w, &["list", BUCKET]));
    assert!(
        listed.contains(&id) && listed.contains("Active") && listed.contains("yes"),
        "{listed}"
    );
    let mut cmd = w.cmd();
    cmd.args(["--output", "json", "bucket-key", "list", BUCKET]);
    let listed: serde_json::Value = serde_json::from_str(&ok(&run(cmd))).unwrap();
    assert_eq!(listed["access_keys"][0]["access_key_id"], id.as_str());
    assert_eq!(listed["access_keys"][0]["stored_at"], file.display().to_string());
    assert_eq!(listed["region"], "us-west-2");
    assert_every_active_key_recoverable(&w, BUCKET);
}

#[test]
fn write_profile_adds_a_credential_process_profile_and_keeps_every_other_byte() {
    let w = World::without_sshd();
    let config = w.dir.path().join("aws-config");
    let before = "# my settings\n[default]\nregion = eu-central-1\r\n\n[profile other]\noutput = json";
    fs::write(&config, before).unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
    create(&w, &["--write-profile", "builds"]);
    let after = fs::read_to_string(&config).unwrap();
    let exe = fs::canonicalize(env!("CARGO_BIN_EXE_gamelift-access")).unwrap();
    assert_eq!(
        after,
        format!(
            "{before}\n\n[profile builds]\ncredential_process = {} bucket-key credential-process {BUCKET}\nregion = us-west-2\n",
            exe.display()
        )
    );
    assert_eq!(mode(&config), 0o644);
    // The secret goes nowhere near the AWS config.
    let secret = w.emulator.bucket_access_keys(BUCKET)[0].secret_access_key.clone();
    assert!(!after.contains(&secret));
    // Again for the same profile: updated in place, nothing duplicated.
    ok(&bk(
        &w,
        &[
            "delete",
            BUCKET,
            &w.emulator.bucket_access_keys(BUCKET)[0].access_key_id,
            "--yes",
        ],
    ));
    create(&w, &["--write-profile", "builds"]);
    assert_eq!(fs::read_to_string(&config).unwrap(), after);
}

#[test]
fn a_third_key_is_refused_before_any_create_call() {
    let w = World::without_sshd();
    let first = create(&w, &[]);
    let second = create(&w, &[]);
    w.emulator.clear_calls();
    let out = bk(&w, &["create", BUCKET]);
    assert_eq!(code(out.status), 76, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for id in [&first, &second] {
        assert!(err.contains(id.as_str()), "{err}");
    }
    assert!(err.contains("stored here") && err.contains("Active"), "{err}");
    assert!(
        err.contains(&format!("gamelift-access bucket-key delete {BUCKET} {first}")),
        "{err}"
    );
    assert!(err.contains("rotate --finish"), "{err}");
    assert!(w.emulator.calls_to("CreateBucketAccessKey").is_empty());
    assert!(journal_entries(&w).is_empty());
    assert_eq!(w.emulator.bucket_access_keys(BUCKET).len(), 2);
}

/// Replaces `dir` with a plain file, as a broken disk or a confused user might.
fn break_dir(dir: &Path) -> PathBuf {
    let aside = dir.with_extension("aside");
    if dir.exists() {
        fs::rename(dir, &aside).unwrap();
    }
    fs::write(dir, b"not a directory").unwrap();
    aside
}

fn unbreak_dir(dir: &Path, aside: &Path) {
    fs::remove_file(dir).unwrap();
    if aside.exists() {
        fs::rename(aside, dir).unwrap();
    }
}

/// Starts `create` with CreateBucketAccessKey's reply held back, waits until
/// the key exists on the bucket, runs `meanwhile`, then waits for the run.
fn create_with_store_breaking_midway(w: &World, extra: &[&str], meanwhile: impl FnOnce()) -> Output {
    w.emulator
        .inject("CreateBucketAccessKey", Fault::SlowReply(Duration::from_secs(2)), 1);
    let mut cmd = w.cmd();
    cmd.args(["bucket-key", "create", BUCKET]).args(extra);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_for("the key to be created", || {
        !w.emulator.bucket_access_keys(BUCKET).is_empty()
    });
    meanwhile();
    let out = child.wait_with_output().unwrap();
    assert_eq!(w.emulator.pending_faults("CreateBucketAccessKey"), 0);
    out
}

#[test]
fn store_failing_mid_create_puts_the_secret_in_the_named_fallback() {
    let w = World::without_sshd();
    let main = store_root(&w);
    let mut aside = PathBuf::new();
    let out = create_with_store_breaking_midway(&w, &[], || aside = break_dir(&main));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let id = w.emulator.bucket_access_keys(BUCKET)[0].access_key_id.clone();
    let file = fallback_root(&w).join(BUCKET).join(format!("{id}.json"));
    assert_eq!(mode(&file), 0o600);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        stdout.contains(&file.display().to_string()),
        "the fallback is named: {stdout}"
    );
    assert!(stderr.contains("fallback"), "{stderr}");
    unbreak_dir(&main, &aside);
    assert_every_active_key_recoverable(&w, BUCKET);
    // And the fallback copy works like any other.
    let cp: serde_json::Value = serde_json::from_str(&ok(&bk(&w, &["credential-process", BUCKET]))).unwrap();
    assert_eq!(cp["AccessKeyId"], id.as_str());
    assert!(ok(&bk(&w, &["list", BUCKET])).contains("yes (fallback)"));
}

#[test]
fn store_and_fallback_failing_mid_create_deletes_the_key_and_fails() {
    let w = World::without_sshd();
    let (main, fallback) = (store_root(&w), fallback_root(&w));
    let out = create_with_store_breaking_midway(&w, &[], || {
        break_dir(&main);
        break_dir(&fallback);
    });
    assert_eq!(code(out.status), 74, "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no key was left behind"), "{stderr}");
    assert!(
        w.emulator.bucket_access_keys(BUCKET).is_empty(),
        "the key was deleted again"
    );
    assert_eq!(w.emulator.calls_to("DeleteBucketAccessKey").len(), 1);
    assert_every_active_key_recoverable(&w, BUCKET);
}

#[test]
fn store_and_fallback_failing_with_print_secret_prints_it() {
    let w = World::without_sshd();
    let (main, fallback) = (store_root(&w), fallback_root(&w));
    let out = create_with_store_breaking_midway(&w, &["--print-secret"], || {
        break_dir(&main);
        break_dir(&fallback);
    });
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let key = &w.emulator.bucket_access_keys(BUCKET)[0];
    assert!(text(&out.stdout).contains(&key.secret_access_key));
    assert!(!text(&out.stderr).contains(&key.secret_access_key));
    assert!(text(&out.stderr).contains("save it now"));
    assert!(w.emulator.calls_to("DeleteBucketAccessKey").is_empty());
}

#[test]
fn sigkill_between_create_and_store_leaves_an_orphan_that_list_reports() {
    let w = World::without_sshd();
    w.emulator
        .inject("CreateBucketAccessKey", Fault::SlowReply(Duration::from_secs(20)), 1);
    let mut cmd = w.cmd();
    cmd.args(["bucket-key", "create", BUCKET])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    wait_for("the key to be created", || {
        !w.emulator.bucket_access_keys(BUCKET).is_empty()
    });
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(status.code().is_none(), "killed by a signal");
    assert_eq!(journal_entries(&w).len(), 1, "the journal survived the kill");
    let orphan = w.emulator.bucket_access_keys(BUCKET)[0].access_key_id.clone();

    let out = bk(&w, &["list", BUCKET]);
    let stderr = text(&out.stderr);
    assert_eq!(code(out.status), 0, "{stderr}");
    assert!(stderr.contains("orphan") && stderr.contains(&orphan), "{stderr}");
    assert!(
        stderr.contains(&format!("gamelift-access bucket-key delete {BUCKET} {orphan}")),
        "{stderr}"
    );
    let mut cmd = w.cmd();
    cmd.args(["--output", "json", "bucket-key", "list", BUCKET]);
    let listed: serde_json::Value = serde_json::from_str(&ok(&run(cmd))).unwrap();
    assert_eq!(listed["orphans"][0]["access_key_id"], orphan.as_str());

    ok(&bk(&w, &["delete", BUCKET, &orphan, "--yes"]));
    let out = bk(&w, &["list", BUCKET]);
    assert!(!text(&out.stderr).contains("orphan"), "{}", text(&out.stderr));
    assert!(
        journal_entries(&w).is_empty(),
        "the entry is cleared once nothing is left"
    );
}

#[test]
fn delete_asks_removes_both_sides_and_warns_about_recent_use() {
    let w = World::without_sshd();
    let id = create(&w, &[]);
    let file = store_root(&w).join(BUCKET).join(format!("{id}.json"));
    // Off a terminal, not without --yes.
    let out = bk(&w, &["delete", BUCKET, &id]);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--yes"));
    assert!(file.exists() && w.emulator.bucket_key(&id).is_some());

    assert!(w.emulator.record_bucket_key_use(&id, "s3"));
    let out = bk(&w, &["delete", BUCKET, &id, "--yes"]);
    ok(&out);
    assert!(
        text(&out.stderr).contains("used in the last 24 hours"),
        "{}",
        text(&out.stderr)
    );
    assert!(!file.exists());
    assert!(w.emulator.bucket_key(&id).is_none());

    // Stored here but gone from Lightsail: list says so, delete cleans up.
    let id = create(&w, &[]);
    let secret_file = store_root(&w).join(BUCKET).join(format!("{id}.json"));
    // Delete it on Lightsail behind the tool's back, with the aws CLI.
    let out = std::process::Command::new("aws")
        .args([
            "lightsail",
            "delete-bucket-access-key",
            "--bucket-name",
            BUCKET,
            "--access-key-id",
            &id,
        ])
        .args(["--endpoint-url", &w.emulator.endpoint(), "--region", "us-west-2"])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETESTONLY1")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the aws CLI (pip install awscli) runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = bk(&w, &["list", BUCKET]);
    assert!(text(&out.stdout).contains("GONE"), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("gone from Lightsail"),
        "{}",
        text(&out.stderr)
    );
    let out = ok(&bk(&w, &["delete", BUCKET, &id, "--yes"]));
    assert!(out.contains("already gone"), "{out}");
    assert!(!secret_file.exists());
}

#[test]
fn bad_input_gets_a_clear_error_and_creates_nothing() {
    let w = World::without_sshd();
    for bad in ["Game-Builds", "ab", "-builds", "game_builds"] {
        let out = bk(&w, &["create", "--", bad]);
        assert_eq!(code(out.status), 64, "{bad}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("is not a Lightsail bucket name"),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(w.emulator.calls().is_empty(), "refused before any call");

    let out = bk(&w, &["create", "no-such-bucket"]);
    assert_eq!(code(out.status), 68, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no Lightsail bucket no-such-bucket in us-west-2"));
    // A bucket of another region is not found here, and --region finds it.
    let out = bk(&w, &["list", sample::REMOTE_BUCKET]);
    assert_eq!(code(out.status), 68, "{}", text(&out.stderr));
    ok(&bk(&w, &["list", sample::REMOTE_BUCKET, "--region", "us-east-1"]));

    let out = bk(&w, &["delete", BUCKET, "AKIA0000000000000000", "--yes"]);
    assert_eq!(code(out.status), 68, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("has no access key AKIA0000000000000000"));
    let out = bk(&w, &["delete", BUCKET, "not-a-key", "--yes"]);
    assert_eq!(code(out.status), 64, "{}", text(&out.stderr));
    assert!(w.emulator.calls_to("CreateBucketAccessKey").is_empty());

    // A corrupt store file: refused, named, left alone.
    let dir = store_root(&w).join(BUCKET);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(store_root(&w), fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    let bad = dir.join("AKIA1111111111111111.json");
    fs::write(&bad, b"{\"version\": 1, \"bucket\": ").unwrap();
    fs::set_permissions(&bad, fs::Permissions::from_mode(0o600)).unwrap();
    for args in [
        &["create", BUCKET][..],
        &["list", BUCKET],
        &["credential-process", BUCKET],
    ] {
        let out = bk(&w, args);
        assert_eq!(code(out.status), 74, "{args:?}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(&bad.display().to_string()) && err.contains("not a valid bucket key file"),
            "{err}"
        );
    }
    assert_eq!(fs::read(&bad).unwrap(), b"{\"version\": 1, \"bucket\": ");

    // A loose mode: refused with the fix, not silently changed.
    fs::remove_file(&bad).unwrap();
    let id = create(&w, &[]);
    let file = dir.join(format!("{id}.json"));
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    w.emulator.clear_calls();
    for args in [
        &["create", BUCKET][..],
        &["credential-process", BUCKET],
        &["export", BUCKET, "--format", "env"],
    ] {
        let out = bk(&w, args);
        assert_eq!(code(out.status), 74, "{args:?}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("mode 0644") && err.contains(&format!("chmod 600 {}", file.display())),
            "{err}"
        );
        assert!(text(&out.stdout).is_empty());
    }
    assert_eq!(mode(&file), 0o644);
    assert!(w.emulator.calls_to("CreateBucketAccessKey").is_empty());
    assert_eq!(w.emulator.bucket_access_keys(BUCKET).len(), 1);
}

#[test]
fn no_secret_in_any_output_with_debug_except_where_asked_for() {
    let w = World::without_sshd();
    let mut outputs = Vec::new();
    let mut dbg = |args: &[&str]| {
        let mut cmd = w.cmd();
        cmd.arg("--debug").arg("bucket-key").args(args);
        let out = run(cmd);
        outputs.push((format!("{args:?}"), text(&out.stdout), text(&out.stderr)));
        out
    };
    ok(&dbg(&["create", BUCKET, "--write-profile", "p"]));
    ok(&dbg(&["create", BUCKET]));
    dbg(&["create", BUCKET]);
    ok(&dbg(&["list", BUCKET]));
    let keys = w.emulator.bucket_access_keys(BUCKET);
    ok(&dbg(&["delete", BUCKET, &keys[0].access_key_id, "--yes"]));
    let mut cmd = w.cmd();
    cmd.args(["--debug", "--output", "json", "bucket-key", "list", BUCKET]);
    let out = run(cmd);
    outputs.push(("list json".into(), text(&out.stdout), text(&out.stderr)));
    // --debug really is on: the SDK's own lines are there.
    assert!(
        outputs.iter().any(|(_, _, e)| e.contains("aws_smithy_runtime")),
        "no SDK debug output"
    );
    for key in &keys {
        for (what, stdout, stderr) in &outputs {
            assert!(!stdout.contains(&key.secret_access_key), "{what} stdout has a secret");
            assert!(!stderr.contains(&key.secret_access_key), "{what} stderr has a secret");
        }
    }
    for (what, args) in all_process_args_and_env() {
        for key in &keys {
            assert!(!args.contains(&key.secret_access_key), "{what} has a secret");
        }
    }
    assert!(
        !fs::read_to_string(w.dir.path().join("aws-config"))
            .unwrap()
            .contains(&keys[1].secret_access_key)
    );
    // The three that print it, print it on stdout only.
    let mut cmd = w.cmd();
    cmd.args(["--debug", "bucket-key", "credential-process", BUCKET]);
    let out = run(cmd);
    assert!(text(&out.stdout).contains(&keys[1].secret_access_key));
    assert!(!text(&out.stderr).contains(&keys[1].secret_access_key));
}

// ---- Against the S3 front (moto_server behind a real SigV4 check) and the real `aws` CLI.

/// A world whose emulator also runs the S3 front (needs moto_server).
fn s3_world() -> World {
    let dir = tempfile::tempdir().unwrap();
    for d in ["runtime", "data", "cache", "state", "home"] {
        let p = dir.path().join(d);
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
    }
    fs::write(dir.path().join("aws-config"), "").unwrap();
    fs::write(dir.path().join("aws-credentials"), "").unwrap();
    let emulator = gamelift_emulator::Emulator::start_with_s3(gamelift_emulator::Fixture::sample())
        .expect("emulator with S3 starts (needs moto_server: pip install 'moto[server]')");
    World {
        emulator,
        sshd: None,
        dir,
    }
}

/// The real `aws` CLI as a user runs it: the world's AWS config file, S3
/// at the front, and either these credentials in the environment or none
/// (then `--profile` decides). The world's XDG dirs are passed on, since
/// the AWS CLI runs `credential_process` with its own environment.
fn aws(w: &World, creds: Option<(&str, &str)>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new("aws");
    sandbox_env(&mut cmd, w.dir.path());
    cmd.env("AWS_ENDPOINT_URL_S3", w.emulator.s3_endpoint().unwrap())
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(args);
    if let Some((id, secret)) = creds {
        cmd.env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "us-west-2");
    }
    let out = cmd.output().expect("the `aws` CLI runs (pip install awscli)");
    (code(out.status), text(&out.stdout), text(&out.stderr))
}

/// Makes the buckets exist in moto, as the test admin identity.
fn make_buckets(w: &World, buckets: &[&str]) {
    for b in buckets {
        let (c, _, err) = aws(w, Some(("AKIDCLI", "cli-secret")), &["s3", "mb", &format!("s3://{b}")]);
        assert_eq!(c, 0, "mb {b}: {err}");
    }
}

/// The bucket-key command with S3 at the front.
fn bk_s3(w: &World, args: &[&str]) -> Output {
    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_S3", w.emulator.s3_endpoint().unwrap());
    cmd.arg("bucket-key").args(args);
    run(cmd)
}

#[test]
fn the_profile_works_with_the_real_aws_cli_for_its_bucket_only() {
    let w = s3_world();
    make_buckets(&w, &[BUCKET, sample::LOGS_BUCKET]);
    let out = bk_s3(&w, &["create", BUCKET, "--write-profile", "builds"]);
    ok(&out);
    let id = w.emulator.bucket_access_keys(BUCKET)[0].access_key_id.clone();
    let file = w.dir.path().join("patch.bin");
    fs::write(&file, b"patch bytes").unwrap();
    let f = file.to_str().unwrap();
    let (c, _, err) = aws(
        &w,
        None,
        &[
            "s3",
            "cp",
            f,
            &format!("s3://{BUCKET}/patches/patch.bin"),
            "--profile",
            "builds",
        ],
    );
    assert_eq!(c, 0, "{err}");
    let (c, listed, err) = aws(
        &w,
        None,
        &["s3", "ls", &format!("s3://{BUCKET}/patches/"), "--profile", "builds"],
    );
    assert_eq!(c, 0, "{err}");
    assert!(listed.contains("patch.bin"), "{listed}");
    assert!(
        w.emulator
            .s3_requests()
            .iter()
            .any(|r| r.access_key_id == id && r.status == 200)
    );
    // The same key on another bucket: AccessDenied.
    let (c, _, err) = aws(
        &w,
        None,
        &[
            "s3",
            "cp",
            f,
            &format!("s3://{}/x", sample::LOGS_BUCKET),
            "--profile",
            "builds",
        ],
    );
    assert_ne!(c, 0);
    assert!(err.contains("AccessDenied"), "{err}");
    // Lightsail saw the use.
    let listed = ok(&bk_s3(&w, &["list", BUCKET]));
    assert!(listed.contains("(s3, us-west-2)"), "{listed}");
}

#[test]
fn rotate_verifies_the_new_key_keeps_the_old_until_finish_and_guards_it() {
    let w = s3_world();
    make_buckets(&w, &[BUCKET]);
    let old = create(&w, &[]);
    let out = bk_s3(&w, &["rotate", BUCKET]);
    ok(&out);
    assert!(text(&out.stderr).contains("works with S3"), "{}", text(&out.stderr));
    let keys = w.emulator.bucket_access_keys(BUCKET);
    assert_eq!(keys.len(), 2);
    let new = keys[1].access_key_id.clone();
    assert!(
        w.emulator
            .s3_requests()
            .iter()
            .any(|r| r.access_key_id == new && r.status == 200),
        "verified against S3"
    );
    // credential-process (and so every profile) now hands out the new key.
    let cp: serde_json::Value = serde_json::from_str(&ok(&bk_s3(&w, &["credential-process", BUCKET]))).unwrap();
    assert_eq!(cp["AccessKeyId"], new.as_str());
    // Both keys work until --finish.
    for k in &keys {
        let (c, _, err) = aws(
            &w,
            Some((&k.access_key_id, &k.secret_access_key)),
            &["s3", "ls", &format!("s3://{BUCKET}")],
        );
        assert_eq!(c, 0, "{}: {err}", k.access_key_id);
    }
    // A rotation under way is not started twice.
    let out = bk_s3(&w, &["rotate", BUCKET]);
    assert_eq!(code(out.status), 76, "{}", text(&out.stderr));
    // The old key was used after the rotation began: --finish refuses.
    let out = bk_s3(&w, &["rotate", BUCKET, "--finish"]);
    assert_eq!(code(out.status), 76, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("the old key {old} was used at")),
        "{}",
        text(&out.stderr)
    );
    assert!(w.emulator.bucket_key(&old).is_some());
    // --force deletes it, on both sides.
    ok(&bk_s3(&w, &["rotate", BUCKET, "--finish", "--force"]));
    assert!(w.emulator.bucket_key(&old).is_none());
    assert!(!store_root(&w).join(BUCKET).join(format!("{old}.json")).exists());
    let (c, _, err) = aws(
        &w,
        Some((&keys[0].access_key_id, &keys[0].secret_access_key)),
        &["s3", "ls", &format!("s3://{BUCKET}")],
    );
    assert_ne!(c, 0, "the old key no longer works");
    assert!(err.contains("InvalidAccessKeyId"), "{err}");

    // Next rotation, old key unused since: --finish deletes it at once.
    ok(&bk_s3(&w, &["rotate", BUCKET]));
    ok(&bk_s3(&w, &["rotate", BUCKET, "--finish"]));
    assert!(w.emulator.bucket_key(&new).is_none());
    assert_eq!(w.emulator.bucket_access_keys(BUCKET).len(), 1);
    assert_every_active_key_recoverable(&w, BUCKET);
}

#[test]
fn rotate_undoes_a_new_key_that_never_works_and_needs_a_free_slot() {
    let w = s3_world();
    // The bucket exists in Lightsail but not in S3: ListObjectsV2 fails.
    let old = create(&w, &[]);
    let out = bk_s3(&w, &["rotate", BUCKET, "--verify-timeout", "1"]);
    assert_eq!(code(out.status), 69, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("it was deleted again"),
        "{}",
        text(&out.stderr)
    );
    let keys = w.emulator.bucket_access_keys(BUCKET);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].access_key_id, old);
    assert_every_active_key_recoverable(&w, BUCKET);
    // With two keys there is no slot: the message names the one to delete.
    create(&w, &[]);
    let out = bk_s3(&w, &["rotate", BUCKET]);
    assert_eq!(code(out.status), 76, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("bucket-key delete {BUCKET} {old}")),
        "{}",
        text(&out.stderr)
    );
}

/// The bucket-key command with S3 at the front, `GAMELIFT_ACCESS_LOG` set to
/// `log` (if any) and `flags` before the subcommand.
fn bk_logged(w: &World, log: Option<&str>, flags: &[&str], args: &[&str]) -> Output {
    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_S3", w.emulator.s3_endpoint().unwrap())
        // The SDK would print even bodies it knows are sensitive with this.
        .env("LOG_SENSITIVE_BODIES", "true");
    if let Some(log) = log {
        cmd.env("GAMELIFT_ACCESS_LOG", log);
    }
    cmd.args(flags).arg("bucket-key").args(args);
    run(cmd)
}

#[test]
fn no_log_filter_shows_a_secret_not_even_trace() {
    let w = s3_world();
    make_buckets(&w, &[BUCKET]);
    // -v only to print each line's target.
    let levels: [(Option<&str>, &[&str]); 4] = [
        (Some("trace"), &["-v"]),
        (
            Some("aws_smithy_runtime::client::orchestrator=trace,aws_sdk_lightsail=trace,aws_sigv4=trace"),
            &["-v"],
        ),
        (None, &["--debug"]),
        (None, &["-vv"]),
    ];
    for (log, flags) in levels {
        let mut outputs = Vec::new();
        let mut secrets = Vec::new();
        for args in [
            &["create", BUCKET][..],
            &["rotate", BUCKET],
            &["rotate", BUCKET, "--finish", "--force"],
        ] {
            let out = bk_logged(&w, log, flags, args);
            let stderr = text(&out.stderr);
            assert_eq!(code(out.status), 0, "{log:?} {flags:?} {args:?}: {stderr}");
            outputs.push((args, stderr));
            secrets.extend(
                w.emulator
                    .bucket_access_keys(BUCKET)
                    .into_iter()
                    .map(|k| k.secret_access_key),
            );
        }
        secrets.sort();
        secrets.dedup();
        assert_eq!(secrets.len(), 2, "the created key and the rotated-in one");
        // The SDK's lines are there: the filter really let it talk.
        assert!(
            outputs.iter().all(|(_, e)| e.contains("aws_smithy_runtime")),
            "{log:?} {flags:?}: no SDK output"
        );
        for (args, stderr) in &outputs {
            for secret in &secrets {
                assert!(
                    !stderr.contains(secret.as_str()),
                    "{log:?} {flags:?} {args:?}: stderr has a secret"
                );
            }
            // Nor any part of CreateBucketAccessKey's response body.
            assert!(
                !stderr.contains("secretAccessKey"),
                "{log:?} {flags:?} {args:?}: {stderr}"
            );
        }
        let keys = w.emulator.bucket_access_keys(BUCKET);
        assert_eq!(keys.len(), 1, "create, rotate, finish leave one key");
        ok(&bk_s3(&w, &["delete", BUCKET, &keys[0].access_key_id, "--yes"]));
    }
}

/// A key someone else made on the bucket, with the real `aws` CLI.
fn teammate_creates_a_key(w: &World) -> String {
    let out = std::process::Command::new("aws")
        .args(["lightsail", "create-bucket-access-key", "--bucket-name", BUCKET])
        .args(["--endpoint-url", &w.emulator.endpoint(), "--region", "us-west-2"])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETESTONLY1")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("the aws CLI (pip install awscli) runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["accessKey"]["accessKeyId"].as_str().unwrap().to_owned()
}

/// SIGKILLs a `create` once its key exists on the bucket (before the secret
/// is stored) and returns that key: an orphan.
fn orphan_by_sigkill(w: &World) -> String {
    let before: Vec<String> = w
        .emulator
        .bucket_access_keys(BUCKET)
        .into_iter()
        .map(|k| k.access_key_id)
        .collect();
    w.emulator
        .inject("CreateBucketAccessKey", Fault::SlowReply(Duration::from_secs(20)), 1);
    let mut cmd = w.cmd();
    cmd.args(["bucket-key", "create", BUCKET])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    wait_for("the key to be created", || {
        w.emulator.bucket_access_keys(BUCKET).len() > before.len()
    });
    child.kill().unwrap();
    assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
    w.emulator
        .bucket_access_keys(BUCKET)
        .into_iter()
        .map(|k| k.access_key_id)
        .find(|id| !before.contains(id))
        .unwrap()
}

/// `list --output json`: the orphans' key IDs, and stderr.
fn listed_orphans(w: &World) -> (Vec<(String, bool)>, String) {
    let out = bk(w, &["list", BUCKET, "--output", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let orphans = listed["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["access_key_id"].as_str().unwrap().to_owned(),
                o["certain"].as_bool().unwrap(),
            )
        })
        .collect();
    (orphans, text(&out.stderr))
}

#[test]
fn orphans_are_found_by_the_keys_that_existed_whatever_the_clocks_say() {
    // +30: AWS's clock ahead of ours, so a teammate's key made just before
    // our run looks made after it began. -30: behind, so our own orphan
    // looks made before our run began.
    for skew in [30.0, -30.0] {
        let w = World::without_sshd();
        w.emulator.set_lightsail_clock_skew(skew);
        let teammate = teammate_creates_a_key(&w);
        let orphan = orphan_by_sigkill(&w);
        let entry = journal_entries(&w);
        assert_eq!(entry.len(), 1, "{skew}: the journal survived the kill");
        let recorded: serde_json::Value = serde_json::from_slice(&fs::read(&entry[0]).unwrap()).unwrap();
        assert_eq!(recorded["existing_keys"], serde_json::json!([teammate]), "{skew}");

        for _ in 0..2 {
            let (orphans, stderr) = listed_orphans(&w);
            assert_eq!(orphans, [(orphan.clone(), true)], "{skew}: {stderr}");
            assert!(
                stderr.contains(&format!("gamelift-access bucket-key delete {BUCKET} {orphan}")),
                "{skew}: {stderr}"
            );
            assert!(
                !stderr.contains(&teammate),
                "{skew}: a teammate's key is not ours: {stderr}"
            );
            assert_eq!(journal_entries(&w), entry, "{skew}: kept while the orphan is there");
        }
        ok(&bk(&w, &["delete", BUCKET, &orphan, "--yes"]));
        let (orphans, stderr) = listed_orphans(&w);
        assert!(orphans.is_empty(), "{skew}: {stderr}");
        assert!(stderr.contains("left no key"), "{skew}: {stderr}");
        assert!(journal_entries(&w).is_empty(), "{skew}");
        assert!(w.emulator.bucket_key(&teammate).is_some());
    }
}

#[test]
fn a_journal_entry_of_an_older_version_is_kept_until_no_key_could_be_its_orphan() {
    let w = World::without_sshd();
    let mine = create(&w, &[]);
    let unknown = teammate_creates_a_key(&w);
    // An entry as older versions wrote it: no key set. Its process is gone.
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    fs::create_dir_all(journal_dir(&w)).unwrap();
    let old = journal_dir(&w).join(format!("{BUCKET}.{pid}.1700000000000.json"));
    fs::write(
        &old,
        serde_json::json!({"bucket": BUCKET, "region": "us-west-2", "op": "create", "pid": pid, "started_epoch": 1_700_000_000})
            .to_string(),
    )
    .unwrap();
    // No clock decides: the key without a secret here may be its orphan,
    // or someone else's; the user is told how to settle it either way.
    let (orphans, stderr) = listed_orphans(&w);
    assert_eq!(orphans, [(unknown.clone(), false)], "{stderr}");
    assert!(stderr.contains("possible orphan"), "{stderr}");
    assert!(stderr.contains(&format!("rm {}", old.display())), "{stderr}");
    assert!(!stderr.contains(&mine), "a stored key is nobody's orphan: {stderr}");
    assert!(old.exists());
    // Once every key has its secret here, it is cleared.
    ok(&bk(&w, &["delete", BUCKET, &unknown, "--yes"]));
    let (orphans, stderr) = listed_orphans(&w);
    assert!(orphans.is_empty(), "{stderr}");
    assert!(!old.exists());
}

#[test]
fn rotate_print_secret_prints_it_before_a_later_failure() {
    let w = s3_world();
    // Not in S3: the new key never verifies, so rotate deletes it again,
    // and that delete fails.
    let old = create(&w, &[]);
    let (main, fallback) = (store_root(&w), fallback_root(&w));
    w.emulator
        .inject("CreateBucketAccessKey", Fault::SlowReply(Duration::from_secs(2)), 1);
    w.emulator.inject("DeleteBucketAccessKey", Fault::ServerError(500), 10);
    let mut cmd = w.cmd();
    cmd.env("AWS_ENDPOINT_URL_S3", w.emulator.s3_endpoint().unwrap())
        .args([
            "bucket-key",
            "rotate",
            BUCKET,
            "--print-secret",
            "--verify-timeout",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    wait_for("the new key to be created", || {
        w.emulator.bucket_access_keys(BUCKET).len() == 2
    });
    break_dir(&main);
    break_dir(&fallback);
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_ne!(code(out.status), 0, "{stderr}");
    assert!(
        !w.emulator.calls_to("DeleteBucketAccessKey").is_empty(),
        "the delete was tried: {stderr}"
    );
    let new = w
        .emulator
        .bucket_access_keys(BUCKET)
        .into_iter()
        .find(|k| k.access_key_id != old)
        .expect("the failed delete left the new key");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&new.secret_access_key),
        "the secret was printed before the failure: {stdout}\n{stderr}"
    );
    assert!(!stderr.contains(&new.secret_access_key));
}

#[test]
fn a_closed_stdout_never_loses_the_secret_silently() {
    let w = World::without_sshd();
    let (main, fallback) = (store_root(&w), fallback_root(&w));
    w.emulator
        .inject("CreateBucketAccessKey", Fault::SlowReply(Duration::from_secs(2)), 1);
    let mut cmd = w.cmd();
    cmd.args(["bucket-key", "create", BUCKET, "--print-secret"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Nobody reads stdout: a write to it fails with EPIPE.
    drop(child.stdout.take());
    wait_for("the key to be created", || {
        !w.emulator.bucket_access_keys(BUCKET).is_empty()
    });
    let asides = [(&main, break_dir(&main)), (&fallback, break_dir(&fallback))];
    let out = child.wait_with_output().unwrap();
    for (dir, aside) in asides {
        unbreak_dir(dir, &aside);
    }
    let stderr = text(&out.stderr);
    assert_eq!(code(out.status), 74, "no panic: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let key = w.emulator.bucket_access_keys(BUCKET)[0].clone();
    assert!(!stderr.contains(&key.secret_access_key));
    assert!(stderr.contains("could be neither stored nor printed"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "gamelift-access bucket-key delete {BUCKET} {}",
            key.access_key_id
        )),
        "{stderr}"
    );
    let entries = journal_entries(&w);
    assert_eq!(entries.len(), 1, "the journal entry stays");
    assert!(stderr.contains(&entries[0].display().to_string()), "{stderr}");
    // And list reports the key, as the message says.
    let (orphans, stderr) = listed_orphans(&w);
    assert_eq!(orphans, [(key.access_key_id.clone(), true)], "{stderr}");
}
