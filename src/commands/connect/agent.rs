//! connect through the agent: the instance key goes into the agent's memory,
//! never into a file, and ssh takes it from there; GetComputeAccess's
//! credentials are cached there too, so an SSM reconnect makes no call.
//!
//! ssh runs with `IdentityAgent` set to our socket and `IdentitiesOnly yes`,
//! with the instance's public key (no secret) as its `IdentityFile`, so it
//! offers that key and no other. A key the agent already holds for the
//! instance, with the host and user it was issued for, means no GameLift
//! call at all. If sshd refuses that cached key (ssh exits 255 and the agent
//! made no signature with it), a fresh key is fetched once and ssh runs again.

use std::path::{Path, PathBuf};

use ssh_key::public::KeyData;

use super::{finish, known_hosts_file};
use crate::agent::KeyMeta;
use crate::agent::client::{AgentClient, HeldKey};
use crate::aws::GameLift;
use crate::cli::{ConnectArgs, GlobalArgs};
use crate::deliver::{DeliverError, KeyDir};
use crate::dirs;
use crate::error::{Error, Result};
use crate::launch::{self, ssh::SshSession};
use crate::obtain::{self, Access, SshAccess, SsmAccess};
use crate::resolve::Target;
use crate::signals::Signals;

/// An agent that answers, and what it holds for the target.
pub(super) struct Found {
    socket: PathBuf,
    held: Option<HeldKey>,
}

impl Found {
    pub(super) fn holds_key(&self) -> bool {
        self.held.is_some()
    }
}

/// The agent on the usual socket, if one answers properly.
pub(super) async fn find(target: &Target) -> Option<Found> {
    let socket = crate::commands::agent::socket_path(None).ok()?;
    let mut client = usable(AgentClient::connect(&socket).await)?;
    match client.held_key(&target.fleet.fleet_id, &target.instance_id).await {
        Ok(held) => {
            tracing::debug!(socket = %socket.display(), cached = held.is_some(), "using the agent");
            Some(Found { socket, held })
        }
        Err(e) => {
            eprintln!("gamelift-access: not using the agent: {e}");
            None
        }
    }
}

/// The compute credentials a running agent caches for the target, if any.
pub(super) async fn cached_compute(target: &Target) -> Option<SsmAccess> {
    let socket = crate::commands::agent::socket_path(None).ok()?;
    let mut client = usable(AgentClient::connect(&socket).await)?;
    match client.get_compute(&target.fleet.fleet_id, &target.instance_id).await {
        Ok(Some((access, left))) => {
            tracing::info!(
                %target,
                access_key_id = access.credentials.access_key_id,
                secs_left = left.as_secs(),
                "using the agent's cached compute credentials: no GetComputeAccess call"
            );
            Some(access)
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!("gamelift-access: not using the agent: {e}");
            None
        }
    }
}

/// The client, if an agent answers; one that is not ours is said and skipped
/// (connect then works without the agent, as with none running).
fn usable(client: Result<Option<AgentClient>, crate::agent::AgentError>) -> Option<AgentClient> {
    match client {
        Ok(client) => client,
        Err(e) => {
            eprintln!("gamelift-access: not using the agent: {e}");
            None
        }
    }
}

/// Caches fresh compute credentials in a running agent, if one answers.
pub(super) async fn keep_compute(target: &Target, access: &SsmAccess) {
    let Ok(socket) = crate::commands::agent::socket_path(None) else {
        return;
    };
    let Some(mut client) = usable(AgentClient::connect(&socket).await) else {
        return;
    };
    match client
        .put_compute(&target.fleet.fleet_id, &target.instance_id, access)
        .await
    {
        Ok(()) => tracing::debug!(%target, "compute credentials cached in the agent"),
        Err(e) => eprintln!("gamelift-access: the agent did not take the compute credentials: {e}"),
    }
}

struct InAgent {
    host: String,
    user: String,
    public: KeyData,
    signatures: u32,
    fresh: bool,
}

/// Adds a fresh key to the agent. On failure the key is handed back, so the
/// caller can still use it the old way.
async fn add(socket: &Path, target: &Target, access: SshAccess) -> Result<InAgent, (SshAccess, String)> {
    let meta = KeyMeta {
        fleet_id: target.fleet.fleet_id.clone(),
        instance_id: target.instance_id.clone(),
        user: access.user.clone(),
        host: access.host.clone(),
    };
    let mut client = match AgentClient::connect(socket).await {
        Ok(Some(client)) => client,
        Ok(None) => return Err((access, "it no longer answers".into())),
        Err(e) => return Err((access, e.to_string())),
    };
    if let Err(e) = client.add_instance_key(&access.key, &meta, None).await {
        return Err((access, e.to_string()));
    }
    tracing::info!(fingerprint = access.key.fingerprint(), "key added to the agent");
    Ok(InAgent {
        public: access.key.public_key().key_data().clone(),
        host: access.host,
        user: access.user,
        signatures: 0,
        fresh: true,
    })
}

/// Connects with the key the agent holds, or with `fresh` (just obtained).
#[allow(clippy::too_many_arguments)]
pub(super) async fn connect(
    found: Found,
    fresh: Option<SshAccess>,
    gamelift: &GameLift,
    target: &Target,
    keys: &KeyDir,
    global: &GlobalArgs,
    args: &ConnectArgs,
    signals: &mut Signals,
) -> Result<u8> {
    let socket = found.socket;
    let mut key = match (fresh, found.held) {
        (Some(access), _) => match add(&socket, target, access).await {
            Ok(key) => key,
            Err((access, why)) => {
                eprintln!("gamelift-access: the agent did not take the key ({why}); using a key file");
                return super::connect_ssh(target, access, keys, global, args, signals).await;
            }
        },
        (None, Some(held)) => InAgent {
            host: held.meta.host,
            user: held.meta.user,
            public: held.public,
            signatures: held.signatures,
            fresh: false,
        },
        (None, None) => unreachable!("connect through the agent needs a key"),
    };
    let ssh = launch::find("ssh", launch::ssh::INSTALL_HINT)?;
    let known_hosts = known_hosts_file(&target.fleet.fleet_id)?;
    // The same options as without the agent: --ssh-flag, --forward, --forward-only.
    let extra = launch::ssh::session_options(
        &launch::ssh::user_flags(&args.ssh_flags)?,
        &super::forwards(args)?,
        args.forward_only,
    );
    loop {
        let public_file = write_public_key(target, &key.public)?;
        let user = args.user.as_deref().unwrap_or(&key.user);
        let session = SshSession {
            ssh: ssh.clone(),
            key_file: &public_file,
            known_hosts: &known_hosts,
            host_key_alias: &target.instance_id,
            port: args.port.unwrap_or(22),
            user,
            host: &key.host,
            remote_command: &args.remote_command,
        };
        let mut command = launch::ssh::with_options(session.command(), extra.clone());
        launch::ssh::use_agent(&mut command, &socket);
        tracing::info!(%target, host = key.host, user, cached = !key.fresh, "connecting with ssh through the agent");
        let outcome = launch::run(&command, signals).await?;
        if outcome.code == 255
            && outcome.interrupted.is_none()
            && !key.fresh
            && !key_was_used(&socket, target, &key).await
        {
            eprintln!("gamelift-access: the instance refused the agent's cached key; fetching a fresh one");
            if let Ok(Some(mut client)) = AgentClient::connect(&socket).await {
                let _ = client.remove(&key.public).await;
            }
            let access = tokio::select! {
                result = obtain::instance_access(gamelift, target) => result?,
                sig = signals.recv() => return Err(sig.into()),
            };
            let Access::Ssh(access) = access else {
                return Err(Error::Other("the instance no longer hands out an ssh key".into()));
            };
            key = match add(&socket, target, access).await {
                Ok(key) => key,
                Err((access, why)) => {
                    eprintln!("gamelift-access: the agent did not take the key ({why}); using a key file");
                    return super::connect_ssh(target, access, keys, global, args, signals).await;
                }
            };
            continue;
        }
        return finish(outcome);
    }
}

/// Whether the agent signed with the key during the last ssh run: if it did,
/// sshd accepted the key and the 255 came from elsewhere (the network, the
/// remote side); if not, sshd never took the key.
async fn key_was_used(socket: &Path, target: &Target, key: &InAgent) -> bool {
    let Ok(Some(mut client)) = AgentClient::connect(socket).await else {
        return false;
    };
    match client.held_key(&target.fleet.fleet_id, &target.instance_id).await {
        Ok(Some(held)) => held.public == key.public && held.signatures > key.signatures,
        _ => false,
    }
}

/// The instance's public key, for ssh's `IdentityFile`: with
/// `IdentitiesOnly yes` it picks that key, and only that key, from the
/// agent. A public key is no secret, so it may stay.
fn write_public_key(target: &Target, public: &KeyData) -> Result<PathBuf> {
    let dir = dirs::runtime_dir()
        .and_then(|d| {
            let dir = d.join("pub");
            dirs::ensure_private_dir(&dir).map(|()| dir)
        })
        .map_err(DeliverError::Dir)?;
    let path = dir.join(format!("{}.{}.pub", target.fleet.fleet_id, target.instance_id));
    let text = ssh_key::PublicKey::from(public.clone())
        .to_openssh()
        .map_err(|e| Error::Other(format!("cannot encode the public key: {e}")))?;
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        writeln!(tmp, "{text}")?;
        tmp.persist(&path)?;
        Ok(())
    };
    write().map_err(|source| DeliverError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
