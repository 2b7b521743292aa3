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
