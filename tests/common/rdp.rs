//! A real RDP server that checks passwords, on 127.0.0.1: FreeRDP's
//! `freerdp-shadow-cli` with NLA and a SAM file, sharing a private Xvfb
//! display. NLA (CredSSP/NTLM) is the only security mode in which the shadow
//! server checks the password itself, so the peer always runs `/sec:nla`.
//!
//! Debian packages: xvfb, freerdp2-shadow-x11, winpr-utils (winpr-hash),
//! freerdp2-x11 (the client under test). `.ci/run` installs them.

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gamelift_emulator::fixture::sample;

use super::World;

pub const WINDOWS_FLEET: &str = sample::WINDOWS_SDK4_FLEET;
pub const WINDOWS_INSTANCE: &str = sample::WINDOWS_SDK4_INSTANCE;
/// The user the peer knows, and GameLift hands out.
pub const RDP_USER: &str = "gl-user-remote";

/// How long the peer may take to start listening.
const STARTUP: Duration = Duration::from_secs(30);

/// A password no other test uses: tests that scan every process's argv for
/// it must not see another test's peer set-up (winpr-hash takes it in argv).
pub fn unique_password() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!(
        "Pw.{}-{nanos}-{}!x",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Xvfb plus freerdp-shadow-cli. Dropping it SIGTERMs and reaps both.
pub struct RdpPeer {
    shadow: Option<Child>,
    xvfb: Option<Child>,
    display: String,
    port: u16,
    home: PathBuf,
}

impl RdpPeer {
    /// A peer under `dir` that lets `user` in with `password` and nobody
    /// else. Returns once Xvfb has reported its display and the server
    /// accepts TCP connections.
    pub fn start(dir: &Path, user: &str, password: &str) -> RdpPeer {
        let home = dir.join("rdp-home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();

        // The SAM line, `USER:::<NT hash>:::`, as the shadow server reads it.
        let out = Command::new(super::peers::require("winpr-hash"))
            .args(["-u", user, "-p", password, "-f", "sam"])
            .stdin(Stdio::null())
            .output()
            .expect("run winpr-hash (apt-get install winpr-utils)");
        assert!(out.status.success(), "winpr-hash: {out:?}");
        let sam_line = String::from_utf8(out.stdout).unwrap();
        assert!(
            sam_line.starts_with(&format!("{user}:::")) && sam_line.trim_end().ends_with(":::"),
            "unexpected winpr-hash output: {sam_line:?}"
        );
        let sam = dir.join("rdp.sam");
        std::fs::write(&sam, sam_line).unwrap();

        let mut peer = RdpPeer {
            shadow: None,
            xvfb: None,
            display: String::new(),
            port: 0,
            home,
        };
        let (xvfb, number) = start_xvfb(dir);
        peer.xvfb = Some(xvfb);
        peer.display = format!(":{number}");

        peer.port = free_port();
        let log = std::fs::File::create(dir.join("shadow.log")).unwrap();
        let shadow = Command::new(super::peers::require("freerdp-shadow-cli"))
            .arg("/bind-address:127.0.0.1")
            .arg(format!("/port:{}", peer.port))
            .args(["+auth", "/sec:nla"])
            .arg(format!("/sam-file:{}", sam.display()))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DISPLAY", &peer.display)
            // Its generated certificate and key go here, not in the real HOME.
            .env("HOME", &peer.home)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("run freerdp-shadow-cli (apt-get install freerdp2-shadow-x11)");
        peer.shadow = Some(shadow);
        peer.wait_listening(dir);
        peer
    }

    /// Polls connect() until the listener answers, with a deadline, failing
    /// early if the server exits.
    fn wait_listening(&mut self, dir: &Path) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.shadow.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "freerdp-shadow-cli exited ({status}) before listening: {}\nXvfb: {}",
                    std::fs::read_to_string(dir.join("shadow.log")).unwrap_or_default(),
                    std::fs::read_to_string(dir.join("xvfb.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "freerdp-shadow-cli did not listen on 127.0.0.1:{} within {STARTUP:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The X display (`:N`) clients must use: xfreerdp will not start without one.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The real FreeRDP 2 client.
    pub fn xfreerdp() -> PathBuf {
        PathBuf::from("/usr/bin/xfreerdp")
    }

    /// `xfreerdp` with a private HOME (its certificate store) and our display.
    pub fn client(&self, home: &Path) -> Command {
        let mut cmd = Command::new(Self::xfreerdp());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::null());
        cmd
    }
}

impl Drop for RdpPeer {
    fn drop(&mut self) {
        for child in [self.shadow.take(), self.xvfb.take()].into_iter().flatten() {
            stop(child);
        }
    }
}

/// Starts Xvfb on a display no other peer in this run has used, and returns
/// once it reports (on -displayfd) that it accepts clients.
///
/// Display numbers are never reused within a run: a stopping Xvfb unlinks
/// its socket path, and would unlink a successor's if that had just taken
/// the same number. A number taken by another process makes Xvfb exit
/// without reporting; then the next one is tried.
fn start_xvfb(dir: &Path) -> (Child, u32) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    for _ in 0..20 {
        let number = 200 + (std::process::id() % 500) * 64 + NEXT.fetch_add(1, Ordering::Relaxed) % 64;
        if Path::new(&format!("/tmp/.X{number}-lock")).exists()
            || Path::new(&format!("/tmp/.X11-unix/X{number}")).exists()
        {
            continue;
        }
        let mut xvfb = Command::new(super::peers::require("Xvfb"))
            .arg(format!(":{number}"))
            // -noreset: the shadow server opens the display, closes it, and
            // opens it again; an X server that resets when its last client
            // leaves would refuse that second connection.
            .args(["-displayfd", "1", "-nolisten", "tcp", "-noreset"])
            .args(["-screen", "0", "1024x768x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("xvfb.log")).unwrap())
            .spawn()
            .expect("run Xvfb (apt-get install xvfb)");
        let line = read_line(xvfb.stdout.as_mut().unwrap());
        if line.trim() == number.to_string() {
            return (xvfb, number);
        }
        // It did not come up (display taken): reap it and try another.
        stop(xvfb);
    }
    panic!(
        "no Xvfb display could be started: {}",
        std::fs::read_to_string(dir.join("xvfb.log")).unwrap_or_default()
    );
}

/// SIGTERM, then wait: every process is reaped.
fn stop(mut child: Child) {
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn read_line(from: &mut impl Read) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while let Ok(1) = from.read(&mut byte) {
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
    }
    String::from_utf8_lossy(&line).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An emulator whose Windows SDK 4 instance is a real RDP server on
/// 127.0.0.1 that accepts `password` for [`RDP_USER`].
pub struct RdpWorld {
    pub world: World,
    pub peer: RdpPeer,
    /// What the peer accepts.
    pub password: String,
}

impl RdpWorld {
    /// GameLift hands out the password the peer accepts.
    pub fn start() -> RdpWorld {
        let password = unique_password();
        let w = RdpWorld::with_gamelift_password(&password, &password);
        assert_eq!(w.gamelift_password(), w.password);
        w
    }

    /// The peer accepts `peer_password`; GameLift hands out `gamelift_password`.
    pub fn with_gamelift_password(peer_password: &str, gamelift_password: &str) -> RdpWorld {
        let world = World::without_sshd();
        let peer = RdpPeer::start(world.dir.path(), RDP_USER, peer_password);
        world.emulator.with_fixture(|f| {
            let instance = f.instance_mut(WINDOWS_INSTANCE).unwrap();
            instance.ip_address = "127.0.0.1".into();
            instance.user_name = RDP_USER.into();
            instance.secret = gamelift_password.into();
        });
        RdpWorld {
            world,
            peer,
            password: peer_password.to_owned(),
        }
    }

    /// What GetInstanceAccess returns as the secret.
    pub fn gamelift_password(&self) -> String {
        self.world
            .emulator
            .with_fixture(|f| f.instance(WINDOWS_INSTANCE).unwrap().secret.clone())
    }

    /// `connect WINDOWS_FLEET WINDOWS_INSTANCE --port <peer> [extra…]`, with
    /// the peer's display (xfreerdp needs one even for +auth-only).
    pub fn connect(&self, extra: &[&str]) -> Command {
        let mut cmd = self.world.cmd();
        cmd.env("DISPLAY", self.peer.display())
            .args(["connect", WINDOWS_FLEET, WINDOWS_INSTANCE])
            .args(["--port", &self.peer.port().to_string()])
            .args(extra);
        cmd
    }

    /// A directory holding an `xfreerdp` (and `xfreerdp3`, `sdl-freerdp3`)
    /// that appends its argv and environment, NUL-separated, to `record`,
    /// then execs the real /usr/bin/xfreerdp with stdin passed through.
    pub fn recording_wrapper(&self) -> (PathBuf, PathBuf) {
        let bin = self.world.dir.path().join("wrapper-bin");
        std::fs::create_dir_all(&bin).unwrap();
        let record = self.world.dir.path().join("xfreerdp.record");
        let script = format!(
            "#!/bin/sh\n\
             {{ printf 'argv0=%s\\0' \"$0\"; for a in \"$@\"; do printf 'arg=%s\\0' \"$a\"; done; \
             env -0; }} >> '{record}'\n\
             exec {real} \"$@\"\n",
            record = record.display(),
            real = RdpPeer::xfreerdp().display(),
        );
        for name in ["xfreerdp", "xfreerdp3", "sdl-freerdp3"] {
            let path = bin.join(name);
            std::fs::write(&path, &script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        (bin, record)
    }
}
