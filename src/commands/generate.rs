//! `gamelift-access completions <shell>` and `gamelift-access manpage`:
//! generated from the same clap definitions, so they never drift.
//!
//! Both are rendered in memory, then written: clap_complete panics if its
//! writer fails, and `completions bash | head` closes the pipe early, which
//! is no error at all.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

pub fn completions(shell: clap_complete::Shell) -> Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gamelift-access", &mut out);
    emit(&out, "the completions")
}

pub fn manpage() -> Result<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Error::Other(format!("cannot render the man page: {e}")))?;
    emit(&out, "the man page")
}

/// Writes to stdout; a reader that stopped early (a closed pipe) is fine.
fn emit(bytes: &[u8], what: &str) -> Result<u8> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Error::Other(format!("cannot write {what}: {e}"))),
    }
}
