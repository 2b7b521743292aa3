//! `gamelift-access completions <shell>` and `gamelift-access manpage`:
//! generated from the same clap definitions, so they never drift.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};

pub fn completions(shell: clap_complete::Shell) -> Result<u8> {
    clap_complete::generate(shell, &mut Cli::command(), "gamelift-access", &mut std::io::stdout());
    Ok(0)
}

pub fn manpage() -> Result<u8> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(|e| Error::Other(format!("cannot write the man page: {e}")))?;
    Ok(0)
}
