//! A `moto_server` child (pip `moto[server]`): the real S3 implementation
//! the emulator's S3 front forwards to once a request has passed its
//! SigV4, token, expiry and scope checks.
//!
//! Started on 127.0.0.1 on a free port, waited for by polling until it
//! answers HTTP, and killed and reaped on drop, the way [`crate::sshd`]
//! handles sshd: no orphan survives a test.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long moto_server may take to import its S3 backend and listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `moto_server`.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    addr: SocketAddr,
}

impl MotoServer {
    /// Starts `moto_server` from `PATH` on a free loopback port and waits
    /// until it answers.
    pub fn start() -> io::Result<MotoServer> {
        let mut last_err = None;
        // The port is free when picked but could be taken before moto binds
        // it; a second pick makes that race harmless.
        for _ in 0..3 {
            let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            let child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => io::Error::new(
                        io::ErrorKind::NotFound,
                        "moto_server not found: pip install 'moto[server]' (.ci/run does)",
                    ),
                    _ => e,
                })?;
            let mut moto = MotoServer { child, addr };
            match moto.wait_ready() {
                Ok(()) => return Ok(moto),
                Err(e) => last_err = Some(e), // dropping `moto` reaps it
            }
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("moto_server did not start")))
    }

    /// Polls `GET /moto-api/` until it answers 200, the child exits, or
    /// [`START_TIMEOUT`] passes.
    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "moto_server exited before it was ready ({status})"
                )));
            }
            if self.answers() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("moto_server did not answer on {} within {START_TIMEOUT:?}", self.addr),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!(
            "GET /moto-api/ HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return false;
        }
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
    }

    /// Where moto listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // SIGKILL: moto keeps nothing worth flushing, and a Werkzeug server
        // can linger on SIGTERM while a keep-alive connection is open.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
