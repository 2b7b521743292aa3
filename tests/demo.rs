//! `gamelift-access demo`, as README.md tells a new user to run it.

mod common;

use common::*;

#[test]
fn the_demo_connects_and_leaves_nothing_behind() {
    let w = World::without_sshd();
    let mut cmd = w.cmd();
    cmd.args(["demo", "--", "echo", "demo-reached-the-instance"]);
    let out = run(cmd);
    let stderr = text(&out.stderr);
    assert_eq!(code(out.status), 0, "{stderr}");
    assert_eq!(text(&out.stdout), "demo-reached-the-instance\n");
    assert!(stderr.contains("GetInstanceAccess (200)"), "{stderr}");
    // From a player to their server: the player's sessions are listed, the
    // ended session's logs unpacked, and connect followed `player:<id>`.
    let sample_player_session = gamelift_emulator::fixture::sample::PLAYER_SESSION;
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(sample_player_session) && l.contains("ACTIVE")),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("logs/server.log") && l.ends_with(" bytes")),
        "{stderr}"
    );
    assert!(stderr.contains("GetGameSessionLogUrl (200)"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "connect {} player:",
            gamelift_emulator::fixture::sample::LINUX_SDK4_FLEET
        )),
        "{stderr}"
    );
    // The build upload step ran (CI installs moto_server, so it must):
    // `build upload --wait` sent bytes and saw the build turn READY, which
    // the emulator does only once the object in S3 is a valid zip, and
    // `builds` lists it READY, as big as the object the upload sent.
    assert!(!stderr.contains("skipping the build upload"), "{stderr}");
    let uploaded = stderr
        .lines()
        .find(|l| l.starts_with("uploaded ") && l.contains(" to build build-"))
        .unwrap_or_else(|| panic!("no upload summary: {stderr}"));
    assert!(uploaded.ends_with(", status READY"), "{uploaded}");
    assert!(!uploaded.starts_with("uploaded 0 B"), "{uploaded}");
    let build_id = uploaded
        .split_whitespace()
        .find(|w| w.starts_with("build-"))
        .expect("a build id");
    let listed = stderr
        .lines()
        .find(|l| l.starts_with(build_id))
        .unwrap_or_else(|| panic!("`builds` does not list {build_id}: {stderr}"));
    let cols: Vec<&str> = listed.split_whitespace().collect();
    assert_eq!(
        cols[1..5],
        ["demo-server", "1.0.0", "READY", "AMAZON_LINUX_2023"],
        "{listed}"
    );
    let sent: Vec<&str> = uploaded.split_whitespace().skip(1).take(2).collect();
    assert!(
        listed.contains(&format!(" {} ", sent.join(" "))),
        "{uploaded}\n{listed}"
    );
    let line_of = |pred: &dyn Fn(&str) -> bool| stderr.lines().position(pred);
    assert!(
        line_of(&|l| l == uploaded) < line_of(&|l| l.starts_with("demo: running") && l.contains(" connect ")),
        "the upload comes before connect: {stderr}"
    );
    // The demo ran in its own directories: nothing of it in the user's.
    for dir in ["runtime", "data", "cache", "state"] {
        let entries: Vec<_> = std::fs::read_dir(w.dir.path().join(dir)).unwrap().collect();
        assert!(
            entries.is_empty(),
            "the demo wrote into the user's {dir} dir: {entries:?}"
        );
    }
    // And its remote command's exit code comes back, as connect's would.
    let mut cmd = w.cmd();
    cmd.args(["demo", "--", "exit 3"]);
    assert_eq!(code(run(cmd).status), 3);
}

/// Without moto_server the demo still connects, and says in one line what
/// the upload step needs.
#[test]
fn without_moto_server_the_demo_says_what_the_upload_needs() {
    let moto = which_dir("moto_server").expect("moto_server on PATH (pip install 'moto[server]')");
    // PATH without moto_server: its directory is replaced by one holding
    // links to everything else in it.
    let w = World::without_sshd();
    let shadow = w.dir.path().join("path-without-moto");
    std::fs::create_dir(&shadow).unwrap();
    for entry in std::fs::read_dir(&moto).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "moto_server" {
            std::os::unix::fs::symlink(entry.path(), shadow.join(entry.file_name())).unwrap();
        }
    }
    let path = std::env::join_paths(
        std::env::split_paths(&std::env::var_os("PATH").unwrap()).map(|d| if d == moto { shadow.clone() } else { d }),
    )
    .unwrap();
    let mut cmd = w.cmd();
    cmd.env("PATH", path).args(["demo", "--", "echo", "still-connected"]);
    let out = run(cmd);
    let stderr = text(&out.stderr);
    assert_eq!(code(out.status), 0, "{stderr}");
    assert_eq!(text(&out.stdout), "still-connected\n");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.contains("moto")).collect();
    assert_eq!(
        notes,
        ["demo: skipping the build upload step: it needs moto_server for S3: pip install 'moto[server]'"],
        "{stderr}"
    );
    assert!(!stderr.contains("CreateBuild"), "{stderr}");
    assert!(stderr.contains("GetInstanceAccess (200)"), "{stderr}");
}

/// The PATH directory holding `program`.
fn which_dir(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).find(|d| d.join(program).is_file())
}
