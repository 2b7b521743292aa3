//! `cp`: the real scp against a real sshd, both ways, with a directory.

mod common;

use std::path::Path;

use common::*;
use gamelift_emulator::fixture::sample;

fn remote(path: &Path) -> String {
    format!("{INSTANCE}.{FLEET}.gamelift:{}", path.display())
}

fn tree(root: &Path) -> Vec<(String, String)> {
    let mut files = vec![];
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn copies_a_directory_up_and_back_down() {
    let w = World::with_sshd();
    let port = w.port().to_string();
    let local = w.dir.path().join("local");
    std::fs::create_dir_all(local.join("sub")).unwrap();
    std::fs::write(local.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(local.join("sub/b.txt"), "beta\n").unwrap();
    // The "instance" is this machine: its side is another directory here.
    let instance_side = w.dir.path().join("instance");
    std::fs::create_dir_all(&instance_side).unwrap();

    let mut cmd = w.cmd();
    cmd.args(["cp", "-r", "--port", &port])
        .arg(&local)
        .arg(remote(&instance_side.join("up")));
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(tree(&instance_side.join("up")), tree(&local));
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());

    let down = w.dir.path().join("down");
    let mut cmd = w.cmd();
    cmd.args(["cp", "--recursive", "--port", &port])
        .arg(remote(&instance_side.join("up")))
        .arg(&down);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    assert_eq!(tree(&down), tree(&local));
    assert!(w.key_files().is_empty(), "keys left: {:?}", w.key_files());

    // One GetInstanceAccess per copy, and scp's failure is passed through.
    assert_eq!(w.emulator.calls_to("GetInstanceAccess").len(), 2);
    let mut cmd = w.cmd();
    cmd.args(["cp", "--port", &port])
        .arg(remote(&instance_side.join("no-such-file")))
        .arg(&down);
    let out = run(cmd);
    assert_ne!(code(out.status), 0);
    assert!(text(&out.stderr).contains("no-such-file"), "{}", text(&out.stderr));
    assert!(w.key_files().is_empty());
}

#[test]
fn sdk5_fleets_and_malformed_paths_are_refused() {
    let w = World::without_sshd();
    let mut cmd = w.cmd();
    cmd.args([
        "cp",
        "/etc/hostname",
        &format!(
            "{}.{}.gamelift:/tmp/x",
            sample::LINUX_SDK5_INSTANCE,
            sample::LINUX_SDK5_FLEET
        ),
    ]);
    let out = run(cmd);
    let err = text(&out.stderr);
    assert_eq!(code(out.status), 64, "{err}");
    assert!(
        err.contains("no ssh key") && err.contains("gamelift-access connect"),
        "{err}"
    );
    assert!(w.emulator.calls_to("GetComputeAccess").is_empty());

    let before = w.emulator.calls().len();
    for paths in [
        vec!["a".to_owned(), "b".to_owned()],
        vec![format!("i-XYZ.{FLEET}.gamelift:/x"), "b".to_owned()],
        vec![remote(Path::new("/a")), remote(Path::new("/b"))],
    ] {
        let mut cmd = w.cmd();
        cmd.arg("cp").args(&paths);
        let out = run(cmd);
        assert_eq!(code(out.status), 64, "{paths:?}: {}", text(&out.stderr));
    }
    assert_eq!(w.emulator.calls().len(), before, "malformed paths made API calls");
}
