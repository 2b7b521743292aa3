//! `run`: one command on many instances. targets → access (throttling
//! absorbed) → deliver → transport (ssh batch mode or an SSM non-interactive
//! session) → clean up, for each instance, at most `parallel` at once.
//!
//! Every instance is its own task. A task never fails the others: whatever
//! goes wrong becomes its [`Record`]. Key files live exactly as long as
//! their instance's session; a signal cancels every task, each kills its
//! client, waits for it, and removes its key before the run ends.

mod backoff;
pub mod report;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;

use crate::aws::GameLift;
use crate::deliver::KeyDir;
use crate::launch::{self, ClientCommand, ssh::SshSession};
use crate::obtain::{self, Access, ObtainError, SessionParams};
use crate::resolve::{FleetInfo, Sdk, Target};
use crate::signals::Signals;
use report::{Record, Reporter, Stream};

/// One instance (or compute) to run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub instance_id: String,
    pub location: String,
}

/// How commands reach the instances, as plain values.
#[derive(Clone)]
pub enum Transport {
    /// SDK 4 Linux: GetInstanceAccess, a key file, ssh in batch mode.
    /// (When the ssh agent of issue 13 runs, the key goes to it instead of
    /// a file: that is the one place `Ssh` would change.)
    Ssh {
        ssh: PathBuf,
        keys: Arc<KeyDir>,
        known_hosts: PathBuf,
        port: u16,
        user: Option<String>,
        /// Batch-mode options and the user's checked `--ssh-flag`s.
        options: Vec<OsString>,
    },
    /// SDK 5 and containers: GetComputeAccess, then an
    /// `AWS-StartNonInteractiveCommand` session through the AWS CLI, or
    /// through session-manager-plugin with our own StartSession.
    Ssm {
        aws: Option<PathBuf>,
        plugin: PathBuf,
        /// `AWS_ENDPOINT_URL_SSM`, `--endpoint-url` or `AWS_ENDPOINT_URL`.
        endpoint: Option<String>,
        /// Our own StartSession's timeouts (`--cli-read-timeout`, …).
        timeouts: crate::aws::AwsOptions,
    },
}

/// Everything the tasks share.
pub struct Plan {
    pub gamelift: GameLift,
    pub fleet: FleetInfo,
    pub sdk: Sdk,
    pub transport: Transport,
    pub command: Vec<String>,
    pub parallel: usize,
    pub timeout: Duration,
}

/// Runs `plan.command` on every job, `plan.parallel` at a time, and returns
/// one record per job (in job order). A signal cancels the run: every
/// client is killed and waited for, every key removed, then the signal is
/// returned with the records of what finished.
pub async fn run(
    plan: Plan,
    jobs: Vec<Job>,
    reporter: Arc<Reporter>,
    signals: &mut Signals,
) -> (Vec<Record>, Option<crate::signals::Received>) {
    let plan = Arc::new(plan);
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let mut pending = jobs.into_iter().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let mut records: Vec<(usize, Record)> = vec![];
    let mut interrupted = None;
    loop {
        while interrupted.is_none() && running.len() < plan.parallel {
            let Some((index, job)) = pending.next() else { break };
            let (plan, reporter, cancel) = (Arc::clone(&plan), Arc::clone(&reporter), cancel_rx.clone());
            running.spawn(async move { (index, one(&plan, job, &reporter, cancel).await) });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            sig = signals.recv(), if interrupted.is_none() => {
                tracing::debug!(signal = sig.name, "cancelling every instance");
                interrupted = Some(sig);
                let _ = cancel_tx.send(true);
            }
            done = running.join_next() => match done {
                Some(Ok((index, record))) => {
                    reporter.finished(&record);
                    records.push((index, record));
                }
                Some(Err(e)) => tracing::error!("an instance's task failed: {e}"),
                None => break,
            },
        }
    }
    records.sort_by_key(|(index, _)| *index);
    (records.into_iter().map(|(_, r)| r).collect(), interrupted)
}

/// Why an instance did not finish normally.
enum Stop {
    TimedOut,
    Cancelled,
}

/// One instance, start to end. Never returns an error: it becomes the record's.
async fn one(plan: &Plan, job: Job, reporter: &Reporter, mut cancel: watch::Receiver<bool>) -> Record {
    let started = Instant::now();
    let mut record = Record::new(&job);
    let target = Target {
        fleet: plan.fleet.clone(),
        instance_id: job.instance_id.clone(),
        location: job.location.clone(),
        sdk: plan.sdk,
    };
    // access: throttling is waited out (with jitter), never a failure.
    let access = tokio::select! {
        access = backoff::retry_throttled(|| async {
            match plan.sdk {
                Sdk::V4 => obtain::instance_access(&plan.gamelift, &target).await,
                Sdk::V5 => obtain::compute_access(&plan.gamelift, &target).await,
            }
        }) => access,
        _ = cancel.wait_for(|c| *c) => {
            record.fail("cancelled before it started", started);
            return record;
        }
    };
    let (access, throttled) = access;
    record.throttled = throttled;
    let access = match access {
        Ok(access) => access,
        Err(e) => {
            record.fail(&first_line(&e.to_string()), started);
            return record;
        }
    };
    let result = match (&plan.transport, access) {
        (
            Transport::Ssh {
                ssh,
                keys,
                known_hosts,
                port,
                user,
                options,
            },
            Access::Ssh(access),
        ) => {
            // deliver: removed when `key_file` drops, on every path out of this block.
            let key_file = match keys.write_key(&job.instance_id, access.key.pem()) {
                Ok(file) => file,
                Err(e) => {
                    record.fail(&e.to_string(), started);
                    return record;
                }
            };
            let session = SshSession {
                ssh: ssh.clone(),
                key_file: key_file.path(),
                known_hosts,
                host_key_alias: &job.instance_id,
                port: *port,
                user: user.as_deref().unwrap_or(&access.user),
                host: &access.host,
                remote_command: &plan.command,
            };
            let command = launch::ssh::with_options(session.command(), options.iter().cloned());
            let result = supervise(&command, |_| {}, plan.timeout, &job, reporter, &mut record, &mut cancel).await;
            drop(key_file);
            result
        }
        (
            Transport::Ssm {
                aws,
                plugin,
                endpoint,
                timeouts,
            },
            Access::Ssm(access),
        ) => {
            let params = non_interactive(&access.target, &plan.command);
            let env = |cmd: &mut tokio::process::Command| launch::ssm::set_env(cmd, &access.credentials, &[]);
            match aws {
                Some(aws) => {
                    let command = launch::ssm::aws_cli(aws.clone(), &params, &access.region, endpoint.as_deref());
                    supervise(&command, env, plan.timeout, &job, reporter, &mut record, &mut cancel).await
                }
                None => {
                    let endpoint = endpoint
                        .clone()
                        .unwrap_or_else(|| obtain::ssm::default_endpoint(&access.region));
                    let session = tokio::select! {
                        session = obtain::ssm::start_session(&access.credentials, &access.region, &endpoint, &params, timeouts) => session,
                        // A session the service may have started meanwhile ends at its idle timeout.
                        _ = cancel.wait_for(|c| *c) => {
                            record.fail("cancelled while starting its SSM session", started);
                            return record;
                        }
                    };
                    match session {
                        Ok(session) => {
                            let command = launch::ssm::plugin(plugin.clone(), &params, &access.region, &endpoint);
                            let result = supervise(
                                &command,
                                |cmd| {
                                    launch::ssm::set_env(
                                        cmd,
                                        &access.credentials,
                                        &[(launch::ssm::RESPONSE_VAR, &session.response)],
                                    )
                                },
                                plan.timeout,
                                &job,
                                reporter,
                                &mut record,
                                &mut cancel,
                            )
                            .await;
                            session.terminate().await;
                            result
                        }
                        Err(e) => Err(first_line(&e.to_string())),
                    }
                }
            }
        }
        _ => Err("GameLift returned another kind of access than the fleet's transport takes (Windows?)".into()),
    };
    if let Err(e) = result {
        record.fail(&e, started);
    }
    record.duration = started.elapsed();
    record
}

/// `AWS-StartNonInteractiveCommand` with the command as one string, as the
/// SSM document takes it.
fn non_interactive(target: &str, command: &[String]) -> SessionParams {
    SessionParams {
        target: target.to_owned(),
        document_name: Some("AWS-StartNonInteractiveCommand".to_owned()),
        parameters: [("command".to_owned(), vec![command.join(" ")])].into(),
    }
}

/// How long output is still read once the client has exited or its group
/// was ended: what is in the pipes, not what a process that left the group
/// (with setsid) may go on writing into them.
const DRAIN: Duration = Duration::from_millis(500);

/// Runs the client with its output captured line by line, bounded by
/// `timeout` and by cancellation; the client is always waited for.
///
/// The client runs in a process group (Job object) of its own. On timeout or
/// cancellation the whole group is ended, and reading its pipes stops soon
/// after, whoever still holds them: a grandchild that outlived the client
/// (the AWS CLI's session-manager-plugin) can hold us no longer than that.
/// Once the client exits, what it left in its group is ended too.
async fn supervise(
    command: &ClientCommand,
    adjust: impl FnOnce(&mut tokio::process::Command),
    timeout: Duration,
    job: &Job,
    reporter: &Reporter,
    record: &mut Record,
    cancel: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    tracing::debug!(instance = job.instance_id, command = %command.display(), "launching");
    let mut cmd = tokio::process::Command::new(&command.program);
    cmd.args(&command.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Only a last resort: every path below kills and waits itself.
        .kill_on_drop(true);
    adjust(&mut cmd);
    launch::group::prepare(&mut cmd, false);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", command.program.display()))?;
    let group = launch::group::Group::of(&child, false);
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let mut out = vec![];
    let mut err = vec![];
    let (status, stop) = {
        let reading = async {
            tokio::join!(
                lines(stdout, |line| {
                    reporter.line(&job.instance_id, Stream::Out, &line);
                    out.push(line);
                }),
                lines(stderr, |line| {
                    reporter.line(&job.instance_id, Stream::Err, &line);
                    err.push(line);
                }),
            )
        };
        let deadline = tokio::time::sleep(timeout);
        // Armed once the client has exited or its group was ended.
        let drain = tokio::time::sleep(Duration::MAX);
        tokio::pin!(reading, deadline, drain);
        let (mut status, mut stop, mut read) = (None, None, false);
        while status.is_none() || !read {
            let stopping = tokio::select! {
                exited = child.wait(), if status.is_none() => {
                    status = Some(exited);
                    // The client is done: nothing it left in its group goes on.
                    group.kill();
                    drain.as_mut().reset(tokio::time::Instant::now() + DRAIN);
                    None
                }
                _ = &mut reading, if !read => {
                    read = true;
                    None
                }
                () = &mut deadline, if stop.is_none() && status.is_none() => Some(Stop::TimedOut),
                _ = cancel.wait_for(|c| *c), if stop.is_none() && status.is_none() => Some(Stop::Cancelled),
                () = &mut drain, if !read => {
                    tracing::debug!(
                        instance = job.instance_id,
                        "the output pipes are still held after the client's group ended; no longer read"
                    );
                    read = true;
                    None
                }
            };
            if let Some(why) = stopping {
                stop = Some(why);
                group.kill();
                let _ = child.start_kill();
                drain.as_mut().reset(tokio::time::Instant::now() + DRAIN);
            }
        }
        (status, stop)
    };
    drop(group);
    record.keep_output(out, err);
    let status = status
        .expect("the loop ends once the client is waited for")
        .map_err(|e| format!("waiting for {}: {e}", command.program.display()))?;
    match stop {
        Some(Stop::TimedOut) => Err(format!("timed out after {}s", timeout.as_secs())),
        Some(Stop::Cancelled) => Err("cancelled".into()),
        None => {
            record.exit_code = Some(launch::exit_code(status));
            Ok(())
        }
    }
}

/// Calls `each` with every whole line of `pipe` (without its newline; bytes
/// that are not UTF-8 are replaced), the last one even without a newline.
async fn lines(pipe: Option<impl AsyncRead + Unpin>, mut each: impl FnMut(String)) {
    let Some(pipe) = pipe else { return };
    let mut reader = BufReader::new(pipe);
    let mut buf = vec![];
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if buf.ends_with(b"\n") {
                    buf.pop();
                }
                if buf.ends_with(b"\r") {
                    buf.pop();
                }
                each(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_owned()
}

/// Throttling, as the fan-out sees it (for [`backoff::retry_throttled`]).
fn is_throttled(e: &ObtainError) -> bool {
    matches!(e, ObtainError::Aws(crate::aws::AwsError::Throttled { .. }))
}
