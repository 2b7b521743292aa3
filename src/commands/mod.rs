//! One file per subcommand.

pub mod connect;
#[cfg(feature = "emulator")]
pub mod demo;
