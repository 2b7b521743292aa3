//! `gamelift-access cp [-r] SRC… DST`: scp to or from one instance, with
//! the instance's key handled as `connect` handles it.

use std::ffi::OsString;

use crate::aws::GameLift;
use crate::cli::{CpArgs, GlobalArgs};
use crate::commands::connect::known_hosts_file;
use crate::deliver::KeyDir;
use crate::error::{Error, Result};
use crate::launch::{
    self,
    ssh::{CopyPath, SshSession},
};
use crate::obtain::{self, Access};
use crate::resolve::{RemoteHost, Resolver, Sdk, parse_host};
use crate::signals::Signals;

pub async fn run(global: &GlobalArgs, args: CpArgs) -> Result<u8> {
    let mut signals = Signals::install().map_err(|e| Error::Other(format!("cannot install signal handlers: {e}")))?;
    let (host, sources, dest) = plan(&args.paths)?;
    let scp = launch::find("scp", launch::ssh::INSTALL_HINT)?;
    let keys = KeyDir::open()?;
    keys.sweep_stale();

    let (gamelift, target) = tokio::select! {
        result = async {
            let gamelift = GameLift::connect(&global.aws(), host.fleet.region()).await?;
            let resolver = Resolver::new(&gamelift, args.refresh);
            let info = resolver.fleet(&host.fleet).await?;
            let target = resolver.target(info, Some(&host.instance), None, false).await?;
            Ok::<_, Error>((gamelift, target))
        } => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    if target.sdk == Sdk::V5 {
        return Err(Error::Usage(format!(
            "cp needs ssh, and fleet {} is a server SDK 5 or container fleet: GameLift gives no ssh key for it \
             (only SSM access)\n  open a shell with `gamelift-access connect {} {}` instead",
            target.fleet.fleet_id, target.fleet.fleet_id, target.instance_id
        )));
    }
    if target.fleet.os.as_deref().is_some_and(|os| os.starts_with("WINDOWS")) {
        return Err(Error::Usage(format!(
            "cp needs ssh, and {} is a Windows instance (RDP only)\n  \
             use the RDP client's drive redirection: gamelift-access connect {} {} -- /drive:share,PATH",
            target.instance_id, target.fleet.fleet_id, target.instance_id
        )));
    }
    let access = tokio::select! {
        result = obtain::instance_access(&gamelift, &target) => result?,
        sig = signals.recv() => return Err(sig.into()),
    };
    let Access::Ssh(access) = access else {
        return Err(Error::Usage(format!(
            "cp needs ssh, and {} is not a Linux instance",
            target.instance_id
        )));
    };
    let known_hosts = known_hosts_file(&target.fleet.fleet_id)?;
    // deliver: the guard removes the key when it drops, on every path out.
    let key_file = keys.write_key(&target.instance_id, access.key.pem())?;
    let session = SshSession {
        ssh: scp.clone(),
        key_file: key_file.path(),
        known_hosts: &known_hosts,
        host_key_alias: &target.instance_id,
        port: args.port.unwrap_or(22),
        user: args.user.as_deref().unwrap_or(&access.user),
        host: &access.host,
        remote_command: &[],
    };
    let command = launch::ssh::scp_command(scp, &session, args.recursive, &sources, &dest);
    tracing::info!(%target, host = access.host, "copying with scp");
    let outcome = launch::run_grouped(&command, &mut signals, |_| {}).await?;
    drop(key_file);
    match outcome.interrupted {
        Some(sig) => Err(sig.into()),
        None => Ok(outcome.code),
    }
}

/// Splits SRC… DST into the instance and scp's paths: exactly one side is
/// remote, and every remote path names the same instance. Checked before
/// any API call.
fn plan(paths: &[String]) -> Result<(RemoteHost, Vec<CopyPath>, CopyPath)> {
    let mut host: Option<(String, RemoteHost)> = None;
    let mut parsed = vec![];
    for path in paths {
        let remote = match path.split_once(':') {
            Some((name, rest)) if !name.contains('/') => parse_host(name)?.map(|h| (name.to_owned(), h, rest)),
            _ => None,
        };
        match remote {
            Some((name, h, rest)) => {
                match &host {
                    Some((seen, _)) if *seen != name => {
                        return Err(Error::Usage(format!(
                            "cp copies to or from one instance; {seen} and {name} are two"
                        )));
                    }
                    Some(_) => {}
                    None => host = Some((name, h)),
                }
                parsed.push(CopyPath::Remote(if rest.is_empty() {
                    ".".to_owned()
                } else {
                    rest.to_owned()
                }));
            }
            None => parsed.push(CopyPath::Local(OsString::from(path))),
        }
    }
    let dest = parsed.pop().expect("clap requires at least two paths");
    let sources_remote = parsed.iter().filter(|p| matches!(p, CopyPath::Remote(_))).count();
    let dest_remote = matches!(dest, CopyPath::Remote(_));
    let usage = || {
        Error::Usage(
            "cp copies between this machine and one instance: either every SRC is \
             <instance>.<fleet>.gamelift:<path> and DST is local, or every SRC is local and DST is remote"
                .into(),
        )
    };
    match (sources_remote, dest_remote) {
        (0, true) => {}
        (n, false) if n == parsed.len() => {}
        _ => return Err(usage()),
    }
    let (_, host) = host.ok_or_else(usage)?;
    Ok((host, parsed, dest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLEET: &str = "fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_side_is_remote() {
        let remote = format!("i-0123456789abcdef0.{FLEET}.gamelift:/var/log");
        let (host, sources, dest) = plan(&paths(&[&remote, "./here"])).unwrap();
        assert_eq!(host.fleet, crate::resolve::FleetRef::Id(FLEET.into()));
        assert_eq!(sources, [CopyPath::Remote("/var/log".into())]);
        assert_eq!(dest, CopyPath::Local("./here".into()));

        let (_, sources, dest) = plan(&paths(&[
            "a",
            "b:c/d",
            &format!("i-0123456789abcdef0.{FLEET}.gamelift:"),
        ]))
        .unwrap();
        assert_eq!(sources, [CopyPath::Local("a".into()), CopyPath::Local("b:c/d".into())]);
        assert_eq!(dest, CopyPath::Remote(".".into()));

        for bad in [
            paths(&["a", "b"]),
            paths(&[&remote, &remote]),
            paths(&[&remote, "a", "b"]),
            paths(&[&remote, &format!("i-0123456789abcdef1.{FLEET}.gamelift:/x"), "b"]),
        ] {
            assert_eq!(plan(&bad).unwrap_err().exit_code(), 64, "{bad:?}");
        }
        assert_eq!(
            plan(&paths(&["i-XYZ.fleet-1.gamelift:/x", "b"]))
                .unwrap_err()
                .exit_code(),
            64
        );
    }
}
