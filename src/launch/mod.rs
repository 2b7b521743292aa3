//! launch: find the client program, run it, pass its exit code through.
//!
//! Each client has its own file (ssh.rs, …) that only builds a command line
//! from plain values; nothing here sees an AWS type or a secret's contents.

pub mod forward;
pub mod group;
pub mod rdp;
pub mod ssh;
pub mod ssm;

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use crate::signals::{Received, Signals};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{tool} is not installed (not found on PATH)\n  {hint}")]
    ToolMissing { tool: &'static str, hint: &'static str },
    #[error("could not run {}: {source}", program.display())]
    Spawn { program: PathBuf, source: io::Error },
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

/// Finds `tool` on PATH, or says how to install it.
pub fn find(tool: &'static str, hint: &'static str) -> Result<PathBuf, LaunchError> {
    which::which(tool).map_err(|_| LaunchError::ToolMissing { tool, hint })
}

/// A client command line, built from plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl ClientCommand {
    /// The command as a shell would take it, for `--print` and `-v`. Holds no
    /// secret: secrets go through files, stdin or the environment.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|arg| {
                let arg = arg.to_string_lossy();
                shlex::try_quote(&arg)
                    .map(|q| q.into_owned())
                    .unwrap_or_else(|_| arg.into_owned())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "program": self.program.to_string_lossy(),
            "args": self.args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
        })
    }
}

/// How the client ended, and whether a signal made us end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The client's exit code, or 128 + signal if a signal killed it.
    pub code: u8,
    pub interrupted: Option<Received>,
}

/// Runs the client with our terminal, and waits for it. SIGINT, SIGTERM and
/// SIGHUP sent to us are passed on to the client, and we keep waiting: the
/// caller's cleanup runs only once the client has let go of the secret.
pub async fn run(command: &ClientCommand, signals: &mut Signals) -> Result<Outcome, LaunchError> {
    run_with(command, signals, |_| {}).await
}

/// [`run`], with a hook to adjust the child (environment, stdin) first.
pub async fn run_with(
    command: &ClientCommand,
    signals: &mut Signals,
    adjust: impl FnOnce(&mut tokio::process::Command),
) -> Result<Outcome, LaunchError> {
    run_inner(command, signals, adjust, false).await
}

/// [`run_with`] for a client that may leave helpers behind (the AWS CLI's
/// session-manager-plugin, scp's ssh): it runs in a [`group`] of its own.
/// A signal goes to the whole group; a second one ends the group outright
/// (a client that ignores the first must not hold us); and once the client
/// exits, whatever it left in its group is ended.
pub async fn run_grouped(
    command: &ClientCommand,
    signals: &mut Signals,
    adjust: impl FnOnce(&mut tokio::process::Command),
) -> Result<Outcome, LaunchError> {
    run_inner(command, signals, adjust, true).await
}

async fn run_inner(
    command: &ClientCommand,
    signals: &mut Signals,
    adjust: impl FnOnce(&mut tokio::process::Command),
    grouped: bool,
) -> Result<Outcome, LaunchError> {
    use std::io::IsTerminal;
    tracing::debug!(command = %command.display(), "launching");
    let mut cmd = tokio::process::Command::new(&command.program);
    cmd.args(&command.args);
    adjust(&mut cmd);
    let terminal = grouped && std::io::stdin().is_terminal();
    if grouped {
        group::prepare(&mut cmd, terminal);
    }
    let mut child = cmd.spawn().map_err(|source| LaunchError::Spawn {
        program: command.program.clone(),
        source,
    })?;
    // Dropped (ending what is left of the group) once the client is waited for.
    let group = grouped.then(|| group::Group::of(&child, terminal));
    #[cfg(windows)]
    if group.is_none()
        && let Some(handle) = child.raw_handle()
    {
        crate::winsec::adopt(handle);
    }
    let mut interrupted = None;
    let status = loop {
        // Signals first: when one arrives as the child exits, it is still
        // reported, so the caller exits 128+n rather than with a stray code.
        tokio::select! {
            biased;
            sig = signals.recv() => {
                tracing::debug!(signal = sig.name, "passing the signal to {}", command.program.display());
                match &group {
                    Some(group) if interrupted.is_some() => group.kill(),
                    Some(group) => group.signal(sig.number),
                    None => pass_on(&child, sig),
                }
                interrupted.get_or_insert(sig);
            }
            status = child.wait() => break status,
        }
    }
    .map_err(|source| LaunchError::Io {
        what: format!("waiting for {}", command.program.display()),
        source,
    })?;
    drop(group);
    Ok(Outcome {
        code: exit_code(status),
        interrupted,
    })
}

/// Sends the signal we received on to the client.
#[cfg(unix)]
fn pass_on(child: &tokio::process::Child, sig: Received) {
    if let Some(pid) = child.id() {
        // SAFETY: plain kill(2) on our own child's pid, not yet reaped.
        unsafe { libc::kill(pid as i32, sig.number) };
    }
}

/// On Windows a console event reaches every process on the console, the
/// client included, so there is nothing to pass on: we keep waiting for it.
/// Should we die first, the Job object ends it.
#[cfg(windows)]
fn pass_on(_child: &tokio::process::Child, _sig: Received) {}

/// A shell-style exit code: the code, or 128 + the signal that killed it.
#[cfg(unix)]
pub fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code as u8,
        (None, Some(sig)) => 128u8.saturating_add(sig as u8),
        (None, None) => 1,
    }
}

/// The exit code, as far as 8 bits carry it (Windows codes are 32 bits).
#[cfg(windows)]
pub fn exit_code(status: ExitStatus) -> u8 {
    status.code().map_or(1, |code| code as u8)
}
