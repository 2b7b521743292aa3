//! Completions and the man page come from the clap definitions.

mod common;

use common::*;

#[test]
fn completions_and_man_page_cover_every_command() {
    let w = World::without_sshd();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let mut cmd = w.cmd();
        cmd.args(["completions", shell]);
        let out = run(cmd);
        assert_eq!(code(out.status), 0, "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for word in ["connect", "instances", "close-stale", "--open-port"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let mut cmd = w.cmd();
    cmd.arg("manpage");
    let out = run(cmd);
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH gamelift-access"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(
        page.contains("connect") && page.contains("ports"),
        "man page lacks subcommands"
    );
    assert!(w.emulator.calls().is_empty());
}

#[test]
fn a_reader_that_stops_early_is_no_error() {
    // `completions bash | head -1`: the pipe closes before the script is written.
    let w = World::without_sshd();
    for args in [&["completions", "bash"][..], &["manpage"]] {
        let mut cmd = w.cmd();
        cmd.args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(code(out.status), 0, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
