//! `build upload`, `build credentials`, `build exec` against the emulator
//! with its S3 front over a real moto_server, checked with the real
//! `unzip`, Python's `zipfile` and the real `aws` CLI.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{code, run, sandbox_env, text};
use gamelift_emulator::{Emulator, Fixture};

struct S3World {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl S3World {
    fn new() -> S3World {
        let emulator = Emulator::start_with_s3(Fixture::sample())
            .expect("emulator with S3 (needs moto_server: pip install 'moto[server]')");
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["home", "runtime"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        std::fs::write(dir.path().join("aws-config"), "").expect("write");
        std::fs::write(dir.path().join("aws-credentials"), "").expect("write");
        S3World { emulator, dir }
    }

    fn s3(&self) -> String {
        self.emulator.s3_endpoint().expect("S3 front")
    }

    /// A clean AWS environment pointed at the emulator and its S3 front.
    fn env(&self, cmd: &mut Command) {
        sandbox_env(cmd, self.dir.path());
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLETESTONLY1")
            .env("AWS_SECRET_ACCESS_KEY", "test-secret-access-key")
            .env("AWS_REGION", "us-west-2")
            .env("AWS_DEFAULT_REGION", "us-west-2")
            .env("AWS_ENDPOINT_URL_GAMELIFT", self.emulator.endpoint())
            .env("AWS_ENDPOINT_URL_S3", self.s3());
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gamelift-access"));
        self.env(&mut cmd);
        cmd.args(args);
        cmd
    }

    fn aws(&self, args: &[&str]) -> (i32, String, String) {
        let mut cmd = Command::new("aws");
        self.env(&mut cmd);
        cmd.args(args).env("AWS_MAX_ATTEMPTS", "1");
        let out = cmd.output().expect("the aws CLI runs (pip install awscli)");
        (code(out.status), text(&out.stdout), text(&out.stderr))
    }

    /// Downloads an object (as the admin test identity) to `to`.
    fn download(&self, bucket: &str, key: &str, to: &Path) {
        let (c, _, err) = self.aws(&["s3", "cp", &format!("s3://{bucket}/{key}"), to.to_str().expect("utf-8")]);
        assert_eq!(c, 0, "download failed: {err}");
    }
}

/// Deterministic incompressible bytes.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// Nested dirs, an executable, an empty file, a file bigger than one 5 MiB
/// part, and a non-ASCII name.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("bin")).expect("mkdir");
    std::fs::create_dir_all(root.join("data/levels/é")).expect("mkdir");
    std::fs::write(root.join("bin/server"), b"#!/bin/sh\necho hi\n").expect("write");
    std::fs::set_permissions(root.join("bin/server"), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(root.join("empty"), b"").expect("write");
    std::fs::write(root.join("data/big.pak"), noise(6 * 1024 * 1024 + 123, 7)).expect("write");
    std::fs::write(root.join("data/levels/é/niveau-ü.txt"), "level data\n".repeat(1000)).expect("write");
}

/// Relative path → (mode, bytes) of every file under `root`.
fn snapshot(root: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (u32, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let p = e.expect("entry").path();
            let m = std::fs::metadata(&p).expect("metadata");
            if m.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("prefix").to_string_lossy().into_owned();
                out.insert(rel, (m.permissions().mode() & 0o777, std::fs::read(&p).expect("read")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn unzip_to(zip: &Path, dest: &Path) {
    let t = Command::new("unzip")
        .arg("-t")
        .arg(zip)
        .output()
        .expect("unzip runs (apt-get install unzip)");
    assert!(t.status.success(), "unzip -t: {}", text(&t.stdout));
    let x = Command::new("unzip")
        .arg("-q")
        .arg(zip)
        .arg("-d")
        .arg(dest)
        .output()
        .expect("unzip");
    assert!(x.status.success(), "unzip: {}", text(&x.stderr));
}

fn upload_json(w: &S3World, dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec![
        "build",
        "upload",
        dir.to_str().expect("utf-8"),
        "--part-size",
        "5",
        "--output",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = run(w.cmd(&args));
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (code(out.status), json, text(&out.stderr))
}

const NEW: &[&str] = &[
    "--name",
    "game",
    "--build-version",
    "1.2.3",
    "--operating-system",
    "AMAZON_LINUX_2023",
];

#[test]
fn round_trip_matches_the_tree_and_the_aws_cli_anchor() {
    let w = S3World::new();
    let tree = w.dir.path().join("tree");
    make_tree(&tree);
    let mut extra = NEW.to_vec();
    extra.push("--wait");
    let (c, report, err) = upload_json(&w, &tree, &extra);
    assert_eq!(c, 0, "{err}");
    assert_eq!(report["status"], "READY", "{report}");
    let build_id = report["build_id"].as_str().expect("build_id").to_owned();
    assert!(report["bytes_sent"].as_u64().expect("bytes") > 6 * 1024 * 1024);

    let ours = w.dir.path().join("ours.zip");
    w.download(
        report["bucket"].as_str().expect("bucket"),
        report["key"].as_str().expect("key"),
        &ours,
    );
    let out_dir = w.dir.path().join("ours");
    unzip_to(&ours, &out_dir);
    assert!(
        snapshot(&out_dir) == snapshot(&tree),
        "extracted tree differs from the source"
    );
    let py = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; \
             print('\\n'.join(z.namelist()))",
        ])
        .arg(&ours)
        .output()
        .expect("python3");
    assert!(py.status.success(), "{}", text(&py.stderr));
    let names: Vec<String> = text(&py.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        names,
        ["bin/server", "data/big.pak", "data/levels/é/niveau-ü.txt", "empty"]
    );

    // The anchor: `aws gamelift upload-build` on the same tree.
    let (c, stdout, err) = w.aws(&[
        "gamelift",
        "upload-build",
        "--name",
        "anchor",
        "--build-version",
        "1",
        "--operating-system",
        "AMAZON_LINUX_2023",
        "--build-root",
        tree.to_str().expect("utf-8"),
    ]);
    assert_eq!(c, 0, "{stdout}{err}");
    let anchor_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Build ID: "))
        .expect("Build ID line")
        .trim()
        .to_owned();
    let anchor_zip = w.dir.path().join("anchor.zip");
    w.download(
        "prod-gamescale-builds-us-west-2",
        &format!("123456789012/{anchor_id}"),
        &anchor_zip,
    );
    let anchor_dir = w.dir.path().join("anchor");
    unzip_to(&anchor_zip, &anchor_dir);
    assert!(
        snapshot(&anchor_dir) == snapshot(&out_dir),
        "ours and the AWS CLI's differ"
    );
    assert_ne!(anchor_id, build_id);
}

#[test]
fn credentials_expiring_mid_upload_are_refreshed_and_no_part_is_sent_twice() {
    let w = S3World::new();
    let tree = w.dir.path().join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("a.bin"), noise(22 * 1024 * 1024, 3)).expect("write");
    // CreateMultipartUpload and one part, then ExpiredToken.
    w.emulator.expire_upload_credentials_after(Some(2));
    let (c, report, err) = upload_json(&w, &tree, NEW);
    assert_eq!(c, 0, "{err}");
    assert!(!w.emulator.calls_to("RequestUploadCredentials").is_empty());
    let requests = w.emulator.s3_requests();
    assert!(requests.iter().any(|r| r.error_code.as_deref() == Some("ExpiredToken")));
    let mut accepted: Vec<String> = requests
        .iter()
        .filter(|r| r.status == 200)
        .filter_map(|r| r.query_param("partNumber"))
        .collect();
    accepted.sort();
    let before = accepted.len();
    accepted.dedup();
    assert_eq!(before, accepted.len(), "a part was accepted twice: {requests:?}");
    assert_eq!(accepted.len(), 5, "22 MiB in 5 MiB parts");
    let build = report["build_id"].as_str().expect("id");
    let status = w
        .emulator
        .with_fixture(|f| f.builds.iter().find(|b| b.build_id == build).map(|b| b.status.clone()));
    assert_eq!(status.as_deref(), Some("READY"));
}

#[test]
fn bad_dir_is_refused_before_any_api_call() {
    let w = S3World::new();
    let root = w.dir.path();
    std::fs::write(root.join("file"), b"x").expect("write");
    std::fs::create_dir_all(root.join("empty/sub")).expect("mkdir");
    std::fs::create_dir_all(root.join("broken")).expect("mkdir");
    std::fs::write(root.join("broken/ok"), b"x").expect("write");
    // Unreadable even for root: a symlink to nothing.
    std::os::unix::fs::symlink(root.join("nowhere"), root.join("broken/dangling")).expect("symlink");
    let cases: [(PathBuf, &str); 4] = [
        (root.join("missing"), "no such directory"),
        (root.join("file"), "not a directory"),
        (root.join("empty"), "holds no files"),
        (root.join("broken"), "dangling"),
    ];
    for (dir, want) in cases {
        let (c, _, err) = upload_json(&w, &dir, NEW);
        assert_eq!(c, 66, "{err}");
        assert!(err.contains(want), "want {want:?}: {err}");
    }
    assert!(w.emulator.calls().is_empty(), "{:?}", w.emulator.calls());
}

#[test]
fn reupload_to_an_initialized_build_only() {
    let w = S3World::new();
    let tree = w.dir.path().join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("a.txt"), b"a").expect("write");
    let (c, out, err) = w.aws(&[
        "gamelift",
        "create-build",
        "--name",
        "pre",
        "--operating-system",
        "AMAZON_LINUX_2023",
        "--output",
        "json",
    ]);
    assert_eq!(c, 0, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).expect("json");
    let id = created["Build"]["BuildId"].as_str().expect("id").to_owned();
    let (c, report, err) = upload_json(&w, &tree, &["--build-id", &id, "--wait"]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(report["status"], "READY");
    assert_eq!(report["build_id"], id.as_str());

    let (c, _, err) = upload_json(&w, &tree, &["--build-id", &id]);
    assert_eq!(c, 76, "{err}");
    assert!(err.contains("READY") && err.contains("new build"), "{err}");
    let (c, _, err) = upload_json(&w, &tree, &["--build-id", "build-00000000-0000-4000-8000-000000000000"]);
    assert_eq!(c, 68, "{err}");
}

#[test]
fn credentials_formats_credential_process_exec_and_no_leaks() {
    let w = S3World::new();
    let tree = w.dir.path().join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("a.txt"), b"a").expect("write");
    let (_, out, err) = w.aws(&[
        "gamelift",
        "create-build",
        "--name",
        "cp",
        "--operating-system",
        "AMAZON_LINUX_2023",
        "--output",
        "json",
    ]);
    let created: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let id = created["Build"]["BuildId"].as_str().expect("id").to_owned();
    let key = created["StorageLocation"]["Key"].as_str().expect("key").to_owned();

    let out = run(w.cmd(&["build", "credentials", &id, "--format", "env"]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let env = text(&out.stdout);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GAMELIFT_BUILD_BUCKET",
        "GAMELIFT_BUILD_KEY",
    ] {
        assert!(env.contains(&format!("export {var}=")), "{env}");
    }

    // credential_process with the real `aws s3 cp`.
    let config = w.dir.path().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile gl-upload]\nregion = us-west-2\ncredential_process = {} --endpoint-url {} --region us-west-2 build credentials {id} --format credential-process\n",
            env!("CARGO_BIN_EXE_gamelift-access"),
            w.emulator.endpoint()
        ),
    )
    .expect("write config");
    let file = tree.join("a.txt");
    let dest = format!("s3://prod-gamescale-builds-us-west-2/{key}");
    let (c, _, err) = w.aws(&[
        "s3",
        "cp",
        file.to_str().expect("utf-8"),
        &dest,
        "--profile",
        "gl-upload",
    ]);
    assert_eq!(c, 0, "{err}");
    let (c, _, err) = w.aws(&[
        "s3",
        "cp",
        file.to_str().expect("utf-8"),
        "s3://prod-gamescale-builds-us-west-2/elsewhere",
        "--profile",
        "gl-upload",
    ]);
    assert_ne!(c, 0);
    assert!(err.contains("AccessDenied"), "{err}");

    // exec: the child sees the upload identity, not ours; exit code passes through.
    let out = run(w.cmd(&[
        "build",
        "exec",
        &id,
        "--",
        "sh",
        "-c",
        "echo \"$AWS_ACCESS_KEY_ID $GAMELIFT_BUILD_KEY ${AWS_PROFILE:-none}\"; exit 7",
    ]));
    assert_eq!(code(out.status), 7, "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(
        line.starts_with("ASIA") && line.contains(&key) && line.trim_end().ends_with("none"),
        "{line}"
    );

    // An upload with --debug: no upload secret in any output.
    let out = run(w.cmd(&[
        "--debug",
        "build",
        "upload",
        tree.to_str().expect("utf-8"),
        "--name",
        "d",
        "--build-version",
        "1",
        "--operating-system",
        "AMAZON_LINUX_2023",
    ]));
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let issued = w.emulator.issued_upload_credentials();
    assert!(!issued.is_empty());
    for c in &issued {
        assert!(!all.contains(&c.secret_access_key), "secret key leaked");
        assert!(
            !all.contains(c.session_token.as_deref().expect("token")),
            "session token leaked"
        );
    }
}

/// Ctrl-C while parts are in flight: the multipart upload is aborted (S3
/// lists no open upload for the build's key), the exit code is 130, and
/// the message names the build and the exact command that re-uploads to it.
#[test]
fn sigint_mid_upload_aborts_the_multipart_upload() {
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    let w = S3World::new();
    let tree = w.dir.path().join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    std::fs::write(tree.join("big.pak"), noise(24 * 1024 * 1024, 11)).expect("write");

    // The first accepted UploadPart holds its reply (and so the upload) until
    // the test has sent SIGINT: the signal lands mid-upload, not by timing.
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let (part_done, first_part) = std::sync::mpsc::channel::<()>();
    let part_done = Mutex::new(part_done);
    let hook_gate = Arc::clone(&gate);
    w.emulator.on_s3_access(move |access| {
        if access.method == "PUT" && access.query_param("partNumber").is_some() {
            let _ = part_done.lock().expect("lock").send(());
            let (open, cv) = &*hook_gate;
            let guard = open.lock().expect("lock");
            let _unused = cv.wait_while(guard, |open| !*open).expect("wait");
        }
    });
    let release = || {
        let (open, cv) = &*gate;
        *open.lock().expect("lock") = true;
        cv.notify_all();
    };

    let mut args = vec!["build", "upload", tree.to_str().expect("utf-8"), "--part-size", "5"];
    args.extend_from_slice(NEW);
    let mut cmd = w.cmd(&args);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    if first_part.recv_timeout(Duration::from_secs(120)).is_err() {
        release();
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait");
        panic!("no part was uploaded: {}", text(&out.stderr));
    }
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    release();
    let out = child.wait_with_output().expect("wait");
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 130, "{err}");
    assert!(err.contains("interrupted by SIGINT"), "{err}");
    assert!(err.contains("no parts are left behind"), "{err}");
    let build_id = err
        .split(|c: char| c.is_whitespace() || c == ':')
        .find(|w| w.starts_with("build-"))
        .expect("the message names the build")
        .to_owned();
    assert!(
        err.contains(&format!("build upload {} --build-id {build_id}", tree.display())),
        "no exact re-upload command: {err}"
    );

    let aborts = w
        .emulator
        .s3_requests()
        .into_iter()
        .filter(|a| a.method == "DELETE" && a.query_param("uploadId").is_some() && a.status == 204)
        .count();
    assert_eq!(aborts, 1, "AbortMultipartUpload was not sent exactly once");
    let upload = w
        .emulator
        .s3_requests()
        .into_iter()
        .find(|a| a.query_param("partNumber").is_some())
        .expect("a part request");
    let bucket = upload.bucket.expect("bucket");
    let (c, listed, err) = w.aws(&[
        "s3api",
        "list-multipart-uploads",
        "--bucket",
        &bucket,
        "--output",
        "json",
    ]);
    assert_eq!(c, 0, "{err}");
    assert!(
        !listed.contains("UploadId"),
        "a multipart upload was left open: {listed}"
    );
}
