//! One file per subcommand.

pub mod agent;
pub mod bucket_key;
pub mod build;
pub mod connect;
pub mod cp;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod fleets;
pub mod generate;
pub mod instances;
pub mod logs;
pub mod ports;
pub mod proxy;
pub mod run;
pub mod sessions;
pub mod ssh_config;
