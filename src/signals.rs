//! clean up, part one: the signals that end a run.
//!
//! Handlers are installed before any secret exists, so SIGINT, SIGTERM and
//! SIGHUP (on Windows: Ctrl-C, Ctrl-Break and the console closing) can never
//! kill us between writing a key and removing it: they are turned into an
//! orderly exit that runs every destructor.

use std::io;

/// A signal we received: its number and name. On Windows the console
/// events get the numbers of their Unix counterparts, so that exit codes
/// (130 for Ctrl-C) mean the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub number: i32,
    pub name: &'static str,
}

#[cfg(unix)]
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    pub fn install() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
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
}

#[cfg(windows)]
pub struct Signals {
    ctrl_c: tokio::signal::windows::CtrlC,
    ctrl_break: tokio::signal::windows::CtrlBreak,
    close: tokio::signal::windows::CtrlClose,
}

#[cfg(windows)]
impl Signals {
    pub fn install() -> io::Result<Self> {
        use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
        Ok(Self {
            ctrl_c: ctrl_c()?,
            ctrl_break: ctrl_break()?,
            close: ctrl_close()?,
        })
    }

    /// Waits for the next of Ctrl-C, Ctrl-Break or the console closing
    /// (which leaves a few seconds to clean up before Windows ends us).
    pub async fn recv(&mut self) -> Received {
        tokio::select! {
            _ = self.ctrl_c.recv() => Received { number: 2, name: "Ctrl-C" },
            _ = self.ctrl_break.recv() => Received { number: 21, name: "Ctrl-Break" },
            _ = self.close.recv() => Received { number: 1, name: "console close" },
        }
    }
}

impl Signals {
    /// A signal that has already arrived, without waiting for one.
    pub async fn pending(&mut self) -> Option<Received> {
        tokio::select! {
            biased;
            sig = self.recv() => Some(sig),
            () = std::future::ready(()) => None,
        }
    }
}
