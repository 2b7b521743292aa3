//! One file per subcommand.

pub mod build;
pub mod connect;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod fleets;
pub mod generate;
pub mod instances;
pub mod ports;
