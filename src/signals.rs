//! clean up, part one: the signals that end a run.
//!
//! Handlers are installed before any secret exists, so SIGINT, SIGTERM and
//! SIGHUP can never kill us between writing a key and removing it: they are
//! turned into an orderly exit that runs every destructor.

use std::io;

use tokio::signal::unix::{Signal, SignalKind, signal};

pub struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

/// A signal we received: its number and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub number: i32,
    pub name: &'static str,
}

impl Signals {
    pub fn install() -> io::Result<Self> {
        Ok(Self {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Waits for the next of SIGINT, SIGTERM or SIGHUP.
    pub async fn recv(&mut self) -> Received {
        tokio::select! {
            _ = self.int.recv() => Received { number: libc::SIGINT, name: "SIGINT" },
            _ = self.term.recv() => Received { number: libc::SIGTERM, name: "SIGTERM" },
            _ = self.hup.recv() => Received { number: libc::SIGHUP, name: "SIGHUP" },
        }
    }

    /// A signal that has already arrived, without waiting for one.
    pub async fn pending(&mut self) -> Option<Received> {
        tokio::select! {
            biased;
            sig = self.recv() => Some(sig),
            () = std::future::ready(()) => None,
        }
    }
}
