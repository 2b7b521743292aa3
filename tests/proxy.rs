//! `proxy` and `ssh-config`: the real ssh, scp, sftp and rsync reach the
//! instance (a real sshd) by name through `ProxyCommand`, with the block
//! `ssh-config` prints.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::agent::{Agent, ssh_keygen};
use common::*;
use gamelift_emulator::fixture::sample;
use gamelift_emulator::sshd::current_user;

struct Setup {
    w: World,
    agent: Agent,
    config: PathBuf,
    user: String,
}

fn setup() -> Setup {
    let w = World::with_sshd();
    let agent = Agent::start(&w, &[]);
    let mut cmd = w.cmd();
    cmd.arg("ssh-config");
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    let block = text(&out.stdout);
    assert!(block.contains("Host *.gamelift"), "{block}");
    assert!(
        block.contains(&format!("{} proxy %h %p", env!("CARGO_BIN_EXE_gamelift-access"))),
        "{block}"
    );
    let config = w.dir.path().join("ssh_config");
    std::fs::write(&config, format!("{block}  BatchMode yes\n")).unwrap();
    Setup {
        w,
        agent,
        config,
        user: current_user().unwrap(),
    }
}

fn host(fleet: &str) -> String {
    format!("{INSTANCE}.{fleet}.gamelift")
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({:?}): {}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn known_hosts(w: &World) -> String {
    std::fs::read_to_string(w.dir.path().join("data/gamelift-access/known_hosts/gamelift")).unwrap_or_default()
}

#[test]
fn ssh_scp_sftp_and_rsync_reach_the_instance_by_name() {
    let s = setup();
    let port = s.w.port().to_string();
    let fleet_host = host(FLEET);

    // What ssh makes of the block.
    let out =
        s.w.tool("ssh")
            .args(["-G", "-F"])
            .arg(&s.config)
            .arg(&fleet_host)
            .output()
            .unwrap();
    ok(&out, "ssh -G");
    let resolved = text(&out.stdout);
    assert!(resolved.contains(&format!("hostname {fleet_host}")), "{resolved}");
    assert!(resolved.contains("proxycommand "), "{resolved}");
    assert!(
        resolved.contains(&format!("identityagent {}", s.agent.socket.display())),
        "{resolved}"
    );
    assert!(!resolved.contains("hostkeyalias"), "{resolved}");

    // ssh, with the fleet given by ID.
    let out =
        s.w.tool("ssh")
            .arg("-F")
            .arg(&s.config)
            .args(["-p", &port, "-l", &s.user, &fleet_host, "echo", "by-name"])
            .output()
            .unwrap();
    ok(&out, "ssh");
    assert_eq!(text(&out.stdout), "by-name\n");
    // The host key is filed under the instance's own name, not its (reused) IP.
    assert!(
        known_hosts(&s.w).starts_with(&format!("[{fleet_host}]:{port} ")),
        "{}",
        known_hosts(&s.w)
    );
    assert!(s.agent.list().contains(&format!("instance={INSTANCE}")));

    // The same instance by alias name: the agent's key serves, no new access call.
    let alias_host = host(sample::LINUX_SDK4_ALIAS_NAME);
    let work = s.w.dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let local = work.join("up.txt");
    std::fs::write(&local, "uploaded through the proxy\n").unwrap();
    let remote = work.join("remote.txt");
    let out =
        s.w.tool("scp")
            .arg("-F")
            .arg(&s.config)
            .args(["-P", &port])
            .arg(&local)
            .arg(format!("{}@{alias_host}:{}", s.user, remote.display()))
            .output()
            .unwrap();
    ok(&out, "scp up");
    assert_eq!(
        std::fs::read_to_string(&remote).unwrap(),
        "uploaded through the proxy\n"
    );

    let back = work.join("down.txt");
    let out =
        s.w.tool("scp")
            .arg("-F")
            .arg(&s.config)
            .args(["-P", &port])
            .arg(format!("{}@{fleet_host}:{}", s.user, remote.display()))
            .arg(&back)
            .output()
            .unwrap();
    ok(&out, "scp down");
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "uploaded through the proxy\n");

    let batch = work.join("sftp-batch");
    let via_sftp = work.join("via-sftp.txt");
    std::fs::write(&batch, format!("put {} {}\n", local.display(), via_sftp.display())).unwrap();
    let out =
        s.w.tool("sftp")
            .arg("-F")
            .arg(&s.config)
            .args(["-P", &port, "-b"])
            .arg(&batch)
            .arg(format!("{}@{fleet_host}", s.user))
            .output()
            .unwrap();
    ok(&out, "sftp");
    assert_eq!(
        std::fs::read_to_string(&via_sftp).unwrap(),
        "uploaded through the proxy\n"
    );

    let tree = work.join("tree");
    std::fs::create_dir_all(tree.join("sub")).unwrap();
    std::fs::write(tree.join("sub/a.txt"), "a\n").unwrap();
    let synced = work.join("synced");
    let out =
        s.w.tool("rsync")
            .arg("-a")
            .arg("-e")
            .arg(format!("ssh -F {} -p {port}", s.config.display()))
            .arg(format!("{}/", tree.display()))
            .arg(format!("{}@{fleet_host}:{}/", s.user, synced.display()))
            .output()
            .unwrap();
    ok(&out, "rsync");
    assert_eq!(std::fs::read_to_string(synced.join("sub/a.txt")).unwrap(), "a\n");

    assert_eq!(
        s.w.emulator.calls_to("GetInstanceAccess").len(),
        1,
        "the agent's key served every later connection"
    );
    assert_eq!(s.agent.list().lines().count(), 1, "{}", s.agent.list());
}

#[test]
fn sdk5_and_windows_fleets_are_refused_with_what_to_use() {
    let w = World::without_sshd();
    for (host, says) in [
        (
            format!("{}.{}.gamelift", sample::LINUX_SDK5_INSTANCE, sample::LINUX_SDK5_FLEET),
            "SDK 5",
        ),
        (
            format!(
                "{}.{}.gamelift",
                sample::WINDOWS_SDK4_INSTANCE,
                sample::WINDOWS_SDK4_FLEET
            ),
            "Windows",
        ),
        ("not-a-gamelift-host".to_owned(), "<instance>.<fleet>.gamelift"),
    ] {
        let mut cmd = w.cmd();
        cmd.args(["proxy", &host, "22"]);
        let out = run(cmd);
        assert_eq!(code(out.status), 64, "{host}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
    assert!(w.emulator.calls_to("GetInstanceAccess").is_empty());
    assert!(w.emulator.calls_to("GetComputeAccess").is_empty());
}

fn install(w: &World) -> String {
    let mut cmd = w.cmd();
    cmd.args(["ssh-config", "--install"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
    std::fs::read_to_string(w.dir.path().join("home/.ssh/config")).unwrap()
}

#[test]
fn ssh_config_install_includes_the_block_once_and_keeps_the_rest() {
    let w = World::without_sshd();
    let ssh_dir = w.dir.path().join("home/.ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    std::fs::write(ssh_dir.join("config"), "Host work\n  User me\n").unwrap();

    let first = install(&w);
    let included: &Path = &w.dir.path().join("data/gamelift-access/ssh_config");
    assert!(
        first.starts_with("# >>> gamelift-access"),
        "the Include must come before any Host line: {first}"
    );
    assert_eq!(first.matches("Include ").count(), 1, "{first}");
    assert!(first.contains(&format!("Include {}", included.display())), "{first}");
    assert!(first.ends_with("Host work\n  User me\n"), "{first}");
    assert!(std::fs::read_to_string(included).unwrap().contains("Host *.gamelift"));

    let second = install(&w);
    assert_eq!(second, first, "a re-install replaces the block");

    // ssh reads it: the include applies to *.gamelift and to nothing else.
    // (ssh finds ~ through the password database, not HOME: name the file.)
    let config = ssh_dir.join("config");
    let out = w
        .tool("ssh")
        .arg("-F")
        .arg(&config)
        .args(["-G", &host(FLEET)])
        .output()
        .unwrap();
    ok(&out, "ssh -G");
    assert!(text(&out.stdout).contains("proxycommand "), "{}", text(&out.stdout));
    let out = w
        .tool("ssh")
        .arg("-F")
        .arg(&config)
        .args(["-G", "work"])
        .output()
        .unwrap();
    ok(&out, "ssh -G work");
    assert!(!text(&out.stdout).contains("proxycommand "), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("user me"), "{}", text(&out.stdout));
}

#[test]
fn a_refused_cached_key_is_dropped_and_the_rerun_gets_a_fresh_one() {
    let s = setup();
    let port = s.w.port().to_string();
    let ssh = |command: &str| {
        s.w.tool("ssh")
            .arg("-F")
            .arg(&s.config)
            .args(["-p", &port, "-l", &s.user, &host(FLEET), command])
            .output()
            .unwrap()
    };
    let out = ssh("echo first");
    ok(&out, "ssh");
    assert_eq!(s.w.emulator.calls_to("GetInstanceAccess").len(), 1);

    // A session that used the cached key leaves it alone.
    ok(&ssh("true"), "ssh");
    assert!(s.agent.list().contains(&format!("instance={INSTANCE}")));

    // The instance gets a new key: sshd's authorized key and GameLift's answer change.
    let new_key = s.w.dir.path().join("new_key");
    ssh_keygen(&new_key, None);
    std::fs::copy(
        new_key.with_extension("pub"),
        s.w.dir.path().join("sshd/authorized_keys"),
    )
    .unwrap();
    let pem = std::fs::read_to_string(&new_key).unwrap();
    s.w.emulator
        .with_fixture(|f| f.instance_mut(INSTANCE).unwrap().secret = pem.clone());

    // ssh, not the proxy, sees the refusal: this run fails, and says why.
    let out = ssh("true");
    assert_eq!(code(out.status), 255, "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("refused the agent's cached key"), "{stderr}");
    assert!(stderr.contains("run the command again"), "{stderr}");
    assert_eq!(s.agent.list().lines().filter(|l| l.contains(INSTANCE)).count(), 0);
    assert_eq!(s.w.emulator.calls_to("GetInstanceAccess").len(), 1);

    // The rerun fetches one fresh key and gets in.
    let out = ssh("echo recovered");
    ok(&out, "ssh after the refusal");
    assert_eq!(text(&out.stdout), "recovered\n");
    assert_eq!(
        s.w.emulator.calls_to("GetInstanceAccess").len(),
        2,
        "exactly one fresh call"
    );
}

#[test]
fn a_forwarded_agent_lists_and_signs_but_serves_nothing_else() {
    let s = setup();
    let port = s.w.port().to_string();
    let work = s.w.dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // A user's own config below the block asks to forward everywhere.
    let config = std::fs::read_to_string(&s.config).unwrap() + "Host *\n  ForwardAgent yes\n";
    std::fs::write(&s.config, config).unwrap();
    let ssh = |extra: &[&str], command: &str| {
        s.w.tool("ssh")
            .arg("-F")
            .arg(&s.config)
            .args(extra)
            .args(["-p", &port, "-l", &s.user, &host(FLEET), command])
            .output()
            .unwrap()
    };

    // The block turns forwarding off, whatever comes below it.
    let out =
        s.w.tool("ssh")
            .arg("-F")
            .arg(&s.config)
            .args(["-G", &host(FLEET)])
            .output()
            .unwrap();
    ok(&out, "ssh -G");
    assert!(
        text(&out.stdout).contains("\nforwardagent no\n"),
        "{}",
        text(&out.stdout)
    );
    let out = ssh(&[], "echo sock=${SSH_AUTH_SOCK:-none}");
    ok(&out, "ssh");
    assert_eq!(text(&out.stdout), "sock=none\n");

    // `ssh -A` forwards it all the same. On the instance (this machine),
    // whoever can reach the forwarded socket may list and sign: no more.
    let bin = env!("CARGO_BIN_EXE_gamelift-access");
    let w = work.display();
    let own = s.w.dir.path().join("own_key");
    ssh_keygen(&own, None);
    let script = format!(
        "echo data > {w}/data; \
         ssh-add -l >/dev/null; echo list=$?; \
         ssh-add -L > {w}/held.pub; ssh-keygen -Y sign -f {w}/held.pub -n test {w}/data >/dev/null 2>&1; echo sign=$?; \
         {bin} agent --socket \"$SSH_AUTH_SOCK\" status >/dev/null 2>{w}/status.err; echo status=$?; \
         {bin} agent --socket \"$SSH_AUTH_SOCK\" stop >/dev/null 2>&1; echo stop=$?; \
         ssh-add {own} >/dev/null 2>&1; echo add=$?; \
         ssh-add -D >/dev/null 2>&1; echo remove=$?",
        own = own.display()
    );
    let out = ssh(&["-A"], &script);
    ok(&out, "ssh -A");
    assert_eq!(
        text(&out.stdout),
        "list=0\nsign=0\nstatus=69\nstop=69\nadd=1\nremove=1\n",
        "status said: {}",
        std::fs::read_to_string(work.join("status.err")).unwrap_or_default()
    );
    assert!(work.join("data.sig").exists(), "nothing was signed");

    // The agent still runs and holds the instance's key, and only that.
    let listed = s.agent.list();
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains(&format!("instance={INSTANCE}")), "{listed}");
    let mut cmd = s.w.cmd();
    cmd.args(["agent", "status"]);
    let out = run(cmd);
    assert_eq!(code(out.status), 0, "{}", text(&out.stderr));
}
