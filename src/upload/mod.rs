//! Build uploads: walk → zip stream → S3 multipart, with credentials
//! refreshed underneath.
//!
//! 1. [`walk`] checks DIR before any API call, so bad input never leaves a
//!    build record behind.
//! 2. CreateBuild (or, for `--build-id`, DescribeBuild + RequestUploadCredentials).
//! 3. [`zipstream`] zips on a blocking thread into parts of `part_size`
//!    bytes, handed over a bounded channel;
//! 4. [`multipart`] uploads up to `concurrency` parts at once. Memory is
//!    bounded by (concurrency + 2) × part_size whatever the build's size.
//! 5. On an error or a signal, AbortMultipartUpload, and the error names
//!    the build and the command that re-uploads to it.

pub mod api;
pub mod multipart;
pub mod walk;
pub mod zipstream;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::aws::{AwsError, AwsOptions, GameLift};
use crate::signals::{Received, Signals};
use api::{BuildInfo, NewBuild, StorageLocation};
use multipart::{Multipart, S3Error};
use walk::WalkError;
use zipstream::{PartWriter, ZipProgress};

/// What to upload, and where.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub dir: PathBuf,
    pub target: Target,
    /// Bytes per S3 part (S3's minimum is 5 MiB).
    pub part_size: usize,
    /// Parts uploaded at once.
    pub concurrency: usize,
    /// Show a progress bar (stderr is a terminal).
    pub progress: bool,
}

/// A new build, or an existing INITIALIZED one (ID or ARN).
#[derive(Debug, Clone)]
pub enum Target {
    New(NewBuild),
    Existing(String),
}

/// What a finished upload reports (`--output json`).
#[derive(Debug, Clone, Serialize)]
pub struct UploadReport {
    pub build_id: String,
    pub build_arn: String,
    pub bucket: String,
    pub key: String,
    pub bytes_sent: u64,
    pub seconds: f64,
    /// The build's status after `--wait`, else its status at creation.
    pub status: String,
}

/// Why an upload did not finish.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "build {build_id} is {status}: GameLift accepts uploads only for INITIALIZED builds\n  \
         create a new build instead (build upload DIR --name … --build-version … --operating-system …)"
    )]
    NotInitialized { build_id: String, status: String },
    #[error("upload to build {build_id} failed: {source}\n  {aborted}\n  re-upload with: {reupload}")]
    Failed {
        build_id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
        aborted: &'static str,
        reupload: String,
    },
    #[error("upload to build {build_id} interrupted by {}\n  {aborted}\n  re-upload with: {reupload}", signal.name)]
    Interrupted {
        build_id: String,
        signal: Received,
        aborted: &'static str,
        reupload: String,
    },
    #[error(
        "build {build_id} is FAILED: GameLift could not use the uploaded zip\n  check the build directory and upload again as a new build"
    )]
    BuildFailed { build_id: String },
}

const ABORTED: &str = "the multipart upload was aborted: no parts are left behind";
const NOT_ABORTED: &str =
    "AbortMultipartUpload failed: parts may remain until the bucket's lifecycle rule removes them";

/// The command that re-uploads DIR to `build_id`.
fn reupload_command(dir: &std::path::Path, build_id: &str, region: &str, opts: &AwsOptions) -> String {
    let dir = dir.to_string_lossy();
    let mut words = vec![
        "gamelift-access".to_owned(),
        "build".to_owned(),
        "upload".to_owned(),
        shlex::try_quote(&dir).map_or_else(|_| dir.to_string(), |q| q.into_owned()),
        "--build-id".to_owned(),
        build_id.to_owned(),
        "--region".to_owned(),
        region.to_owned(),
    ];
    let quote = |v: &String| shlex::try_quote(v).map_or_else(|_| v.clone(), |q| q.into_owned());
    if let Some(p) = &opts.profile {
        words.push("--profile".to_owned());
        words.push(quote(p));
    }
    // Followed as printed, it must reach the same GameLift.
    if let Some(url) = &opts.endpoint_url {
        words.push("--endpoint-url".to_owned());
        words.push(quote(url));
    }
    words.join(" ")
}

/// Bytes zipped so far and the current file, for the progress bar.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    read: AtomicU64,
}

impl ZipProgress for Arc<Progress> {
    fn file(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_owned());
        }
    }

    fn read(&self, n: u64) {
        self.read.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }
}

/// Runs the whole upload. Signals are handled here: the multipart upload
/// is aborted before the error returns.
pub async fn upload(opts: &AwsOptions, req: UploadRequest) -> Result<UploadReport, UploadError> {
    let entries = walk::walk(&req.dir)?;
    let total: u64 = entries.iter().map(|e| e.len).sum();
    let mut signals =
        Signals::install().map_err(|e| AwsError::Config(format!("cannot install signal handlers: {e}")))?;
    let gl = GameLift::connect(opts, None).await?;

    let (build, creds, location) = match &req.target {
        Target::New(new) => api::create_build(&gl, new).await?,
        Target::Existing(build) => {
            let info = api::describe_build(&gl, build).await?;
            if info.status != "INITIALIZED" {
                return Err(UploadError::NotInitialized {
                    build_id: info.build_id,
                    status: info.status,
                });
            }
            let (creds, location) = api::request_upload_credentials(&gl, build).await?;
            (info, creds, location)
        }
    };
    tracing::debug!(build = %build.build_id, bucket = %location.bucket, key = %location.key, "uploading");
    let reupload = reupload_command(&req.dir, &build.build_id, &gl.region, opts);
    let started = Instant::now();

    let mut mp = Multipart::new(opts, &gl, &build.build_id, creds, location.clone()).await;
    let fail = |source: Box<dyn std::error::Error + Send + Sync>, aborted: bool| UploadError::Failed {
        build_id: build.build_id.clone(),
        source,
        aborted: if aborted { ABORTED } else { NOT_ABORTED },
        reupload: reupload.clone(),
    };
    if let Err(e) = mp.start().await {
        return Err(fail(Box::new(e), true));
    }

    let progress = Arc::new(Progress {
        bar: req.progress.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bytes}/{total_bytes} {bytes_per_sec} eta {eta} [{wide_bar}] {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        }),
        read: AtomicU64::new(0),
    });

    let outcome = pump(&req, entries, &mut mp, &mut signals, Arc::clone(&progress)).await;
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    let bytes_sent = match outcome {
        Ok(bytes) => bytes,
        Err(Stop::Signal(signal)) => {
            let aborted = mp.abort().await;
            return Err(UploadError::Interrupted {
                build_id: build.build_id.clone(),
                signal,
                aborted: if aborted { ABORTED } else { NOT_ABORTED },
                reupload,
            });
        }
        Err(Stop::Error(e)) => {
            let aborted = mp.abort().await;
            return Err(fail(e, aborted));
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(UploadReport {
        build_id: build.build_id,
        build_arn: build.build_arn,
        bucket: location.bucket,
        key: location.key,
        bytes_sent,
        seconds,
        status: build.status,
    })
}

enum Stop {
    Signal(Received),
    Error(Box<dyn std::error::Error + Send + Sync>),
}

impl From<S3Error> for Stop {
    fn from(e: S3Error) -> Stop {
        Stop::Error(Box::new(e))
    }
}

/// Zips into the channel and uploads parts as they come, then completes.
async fn pump(
    req: &UploadRequest,
    entries: Vec<walk::Entry>,
    mp: &mut Multipart,
    signals: &mut Signals,
    progress: Arc<Progress>,
) -> Result<u64, Stop> {
    let (tx, mut rx) = mpsc::channel(1);
    let part_size = req.part_size;
    let zipper = tokio::task::spawn_blocking(move || {
        zipstream::zip_entries(
            &entries,
            PartWriter::new(tx, part_size),
            &progress,
            zipstream::UPLOAD_COMPRESSION,
        )
    });
    let uploader = mp.part_uploader();
    let mut inflight = JoinSet::new();
    let mut done = Vec::new();
    let mut sent = 0u64;
    let mut zipping = true;
    let result = loop {
        if !zipping && inflight.is_empty() {
            break Ok(());
        }
        tokio::select! {
            sig = signals.recv() => break Err(Stop::Signal(sig)),
            part = rx.recv(), if zipping && inflight.len() < req.concurrency => match part {
                Some(part) => {
                    inflight.spawn(uploader.clone().upload(part));
                }
                None => zipping = false,
            },
            joined = inflight.join_next(), if !inflight.is_empty() => match joined {
                Some(Ok(Ok((part, len)))) => {
                    sent += len as u64;
                    done.push(part);
                }
                Some(Ok(Err(e))) => break Err(e.into()),
                Some(Err(e)) => break Err(Stop::Error(Box::new(e))),
                None => {}
            },
        }
    };
    // Stop the zipper (its next send fails) and every part in flight.
    drop(rx);
    inflight.abort_all();
    while inflight.join_next().await.is_some() {}
    let zipped = zipper.await;
    result?;
    match zipped {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(Stop::Error(Box::new(e))),
        Err(e) => return Err(Stop::Error(Box::new(e))),
    }
    tokio::select! {
        sig = signals.recv() => return Err(Stop::Signal(sig)),
        res = mp.complete(done) => res?,
    }
    Ok(sent)
}

/// Polls DescribeBuild until READY or FAILED.
pub async fn wait_for_build(opts: &AwsOptions, build_id: &str, spinner: bool) -> Result<BuildInfo, UploadError> {
    let gl = GameLift::connect(opts, None).await?;
    let bar = spinner.then(|| {
        let bar = indicatif::ProgressBar::new_spinner().with_message(format!("waiting for {build_id} to be READY"));
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let info = loop {
        let info = api::describe_build(&gl, build_id).await?;
        if info.status == "READY" || info.status == "FAILED" {
            break info;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if info.status == "FAILED" {
        return Err(UploadError::BuildFailed {
            build_id: info.build_id,
        });
    }
    Ok(info)
}

/// Upload credentials for `build` (RequestUploadCredentials).
pub async fn credentials(
    opts: &AwsOptions,
    build: &str,
) -> Result<(api::UploadCredentials, StorageLocation), UploadError> {
    let gl = GameLift::connect(opts, None).await?;
    Ok(api::request_upload_credentials(&gl, build).await?)
}

/// Every build in the region.
pub async fn list(opts: &AwsOptions) -> Result<Vec<BuildInfo>, UploadError> {
    let gl = GameLift::connect(opts, None).await?;
    Ok(api::list_builds(&gl).await?)
}
