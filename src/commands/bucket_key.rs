//! `gamelift-access bucket-key`: Lightsail bucket access keys. Parsing and
//! printing only; the pipeline is in `bucketkeys/`.
//!
//! Only `credential-process`, `export` and `create --print-secret` (when the
//! store and its fallback both failed) ever print a secret, and only on stdout.

use std::io::IsTerminal;

use secrecy::ExposeSecret;
use serde_json::json;

use crate::bucketkeys::lightsail::rfc3339;
use crate::bucketkeys::store::Store;
use crate::bucketkeys::{self, BucketKeyError, Created, Keys, Listing, SecretPlace, describe_last_used, profile};
use crate::cli::{BucketKeyArgs, BucketKeyCommand, ExportFormat, GlobalArgs, OutputFormat};
use crate::error::Result;
use crate::output;

pub async fn run(global: &GlobalArgs, args: BucketKeyArgs) -> Result<u8> {
    match args.command {
        BucketKeyCommand::Create {
            bucket,
            write_profile,
            print_secret,
        } => create(global, &bucket, write_profile.as_deref(), print_secret).await,
        BucketKeyCommand::List { bucket } => list(global, &bucket).await,
        BucketKeyCommand::Delete { bucket, key_id, yes } => delete(global, &bucket, &key_id, yes).await,
        BucketKeyCommand::Rotate {
            bucket,
            finish,
            force,
            print_secret,
            verify_timeout,
        } => rotate(global, &bucket, finish, force, print_secret, verify_timeout).await,
        BucketKeyCommand::CredentialProcess { bucket, key_id } => credential_process(&bucket, key_id.as_deref()),
        BucketKeyCommand::Export { bucket, format, key_id } => export(&bucket, format, key_id.as_deref()),
    }
}

/// Checks what can be checked before any AWS set-up, so that a typo never
/// costs a credential lookup.
fn check_bucket(bucket: &str) -> Result<(), BucketKeyError> {
    bucketkeys::check_bucket_name(bucket)
}

async fn create(global: &GlobalArgs, bucket: &str, write_profile: Option<&str>, print_secret: bool) -> Result<u8> {
    check_bucket(bucket)?;
    let keys = Keys::connect(&global.aws()).await?;
    let (info, _) = keys.preflight(bucket).await?;
    let created = keys
        .create(&info, "create", print_secret, |c| report_created(global, c))
        .await?;
    report_stored(global, &created)?;
    if let Some(name) = write_profile {
        add_profile(name, &created)?;
    }
    Ok(0)
}

/// [`report_created`] for a key whose secret is stored (the pipeline has
/// printed one that went nowhere else already).
fn report_stored(global: &GlobalArgs, created: &Created) -> Result<(), crate::error::Error> {
    if matches!(created.place, SecretPlace::Print { .. }) {
        return Ok(());
    }
    report_created(global, created).map_err(|e| {
        crate::error::Error::Other(format!(
            "key {} was created and its secret stored, but the result could not be written to stdout: {e}\n  \
             see it with: gamelift-access bucket-key list {}",
            created.id, created.bucket.name
        ))
    })
}

/// Where the secret went; the secret itself only when it went nowhere else.
/// Written, not `println!`ed: a closed stdout is an error to handle (the
/// secret may be in it), never a panic.
fn report_created(global: &GlobalArgs, created: &Created) -> std::io::Result<()> {
    use std::io::Write;
    let (location, note) = match &created.place {
        SecretPlace::Store(path) => (path.display().to_string(), None),
        SecretPlace::Fallback { path, main_error } => (
            path.display().to_string(),
            Some(format!(
                "the store failed ({main_error}); the secret is in the fallback store instead"
            )),
        ),
        SecretPlace::Print {
            main_error,
            fallback_error,
            ..
        } => (
            "stdout only".into(),
            Some(format!(
                "the store failed ({main_error}) and so did the fallback ({fallback_error}); \
                 the secret is printed on stdout and kept nowhere else: save it now"
            )),
        ),
    };
    if let Some(note) = &note {
        eprintln!("gamelift-access: warning: {note}");
    }
    let mut stdout = std::io::stdout().lock();
    match global.output {
        OutputFormat::Json => {
            let mut out = json!({
                "bucket": created.bucket.name,
                "region": created.bucket.region,
                "access_key_id": created.id,
                "created_at": rfc3339(created.created),
                "secret_stored_at": location,
            });
            if let SecretPlace::Print { secret, .. } = &created.place {
                out["secret_access_key"] = json!(secret.expose_secret());
            }
            writeln!(stdout, "{}", serde_json::to_string_pretty(&out).unwrap_or_default())?;
        }
        OutputFormat::Table => {
            writeln!(
                stdout,
                "access key {} created for bucket {} ({})",
                created.id, created.bucket.name, created.bucket.region
            )?;
            match &created.place {
                SecretPlace::Print { secret, .. } => writeln!(stdout, "secret access key: {}", secret.expose_secret())?,
                _ => writeln!(stdout, "secret stored in {location}")?,
            }
        }
    }
    stdout.flush()
}

fn add_profile(name: &str, created: &Created) -> Result<(), BucketKeyError> {
    let path = profile::config_path().map_err(|source| BucketKeyError::Profile {
        path: "~/.aws/config".into(),
        source,
    })?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|source| BucketKeyError::Profile {
            path: path.clone(),
            source,
        })?;
    let line = profile::credential_process_line(&exe, &created.bucket.name);
    let written = profile::write_profile(&path, name, &line, &created.bucket.region).map_err(|source| {
        BucketKeyError::Profile {
            path: path.clone(),
            source,
        }
    })?;
    eprintln!(
        "profile {name} written to {}: aws s3 ls s3://{} --profile {name}",
        written.display(),
        created.bucket.name
    );
    Ok(())
}

async fn list(global: &GlobalArgs, bucket: &str) -> Result<u8> {
    check_bucket(bucket)?;
    let keys = Keys::connect(&global.aws()).await?;
    let listing = keys.list(bucket).await?;
    print_listing(global, &listing);
    Ok(0)
}

fn print_listing(global: &GlobalArgs, l: &Listing) {
    let bucket = &l.bucket.name;
    match global.output {
        OutputFormat::Json => {
            let keys: Vec<_> = l
                .rows
                .iter()
                .map(|r| {
                    json!({
                        "access_key_id": r.id,
                        "status": r.status.as_deref().unwrap_or("Gone"),
                        "created_at": r.created.map(rfc3339),
                        "last_used": r.last_used.as_ref().map(|u| json!({
                            "date": u.date.map(rfc3339),
                            "service_name": u.service,
                            "region": u.region,
                        })),
                        "stored_at": r.stored.as_ref().map(|p| p.display().to_string()),
                        "in_fallback_store": r.in_fallback,
                    })
                })
                .collect();
            let orphans: Vec<_> = l
                .orphans
                .iter()
                .map(|o| {
                    json!({
                        "access_key_id": o.key_id,
                        "created_at": o.created.map(rfc3339),
                        "run_started_at": rfc3339(o.entry.started_epoch),
                        "certain": o.certain,
                        "journal_entry": o.entry.path.display().to_string(),
                        "cleanup": format!("gamelift-access bucket-key delete {bucket} {}", o.key_id),
                    })
                })
                .collect();
            let out = json!({
                "bucket": bucket,
                "region": l.bucket.region,
                "access_keys": keys,
                "orphans": orphans,
                "rotation": l.rotation.as_ref().map(|r| json!({
                    "old_access_key_id": r.old_key_id,
                    "new_access_key_id": r.new_key_id,
                    "started_at": rfc3339(r.started_epoch),
                })),
            });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = l
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.status.clone().unwrap_or_else(|| "GONE".into()),
                        r.created.map(rfc3339).unwrap_or_else(|| "-".into()),
                        describe_last_used(r.last_used.as_ref()),
                        match (&r.stored, r.in_fallback) {
                            (Some(_), false) => "yes".into(),
                            (Some(_), true) => "yes (fallback)".into(),
                            (None, _) => "no".into(),
                        },
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("bucket {bucket} ({}) has no access keys", l.bucket.region);
            } else {
                output::print_table(
                    &["ACCESS KEY ID", "STATUS", "CREATED", "LAST USED", "STORED HERE"],
                    &rows,
                );
            }
        }
    }
    // Problems go to stderr in either format, each with its cleanup.
    for r in l.rows.iter().filter(|r| r.status.is_none()) {
        eprintln!(
            "gamelift-access: key {} is stored here but gone from Lightsail; remove the local copy: \
             gamelift-access bucket-key delete {bucket} {}",
            r.id, r.id
        );
    }
    for o in l.orphans.iter().filter(|o| o.certain) {
        eprintln!(
            "gamelift-access: orphan: key {} has no secret stored here and did not exist when a run that ended early \
             began at {}: that run created it and its secret is lost; delete it: gamelift-access bucket-key delete {bucket} {}",
            o.key_id,
            rfc3339(o.entry.started_epoch),
            o.key_id
        );
    }
    for o in l.orphans.iter().filter(|o| !o.certain) {
        eprintln!(
            "gamelift-access: possible orphan: key {} has no secret stored here, and a run of an older version that \
             ended early at {} may have created it (that version did not record which keys existed before); \
             if it is not someone else's key, delete it: gamelift-access bucket-key delete {bucket} {}; \
             if it is, remove the journal entry: rm {}",
            o.key_id,
            rfc3339(o.entry.started_epoch),
            o.key_id,
            o.entry.path.display()
        );
    }
    for e in &l.cleared {
        eprintln!(
            "gamelift-access: a run started at {} ended early, but left no key without a stored secret; its journal entry was removed",
            rfc3339(e.started_epoch)
        );
    }
    if let Some(r) = &l.rotation {
        eprintln!(
            "gamelift-access: rotation under way since {}: new key {}, old key {}; finish it: \
             gamelift-access bucket-key rotate {bucket} --finish",
            rfc3339(r.started_epoch),
            r.new_key_id,
            r.old_key_id
        );
    }
}

async fn delete(global: &GlobalArgs, bucket: &str, key_id: &str, yes: bool) -> Result<u8> {
    check_bucket(bucket)?;
    bucketkeys::check_key_id(key_id)?;
    let keys = Keys::connect(&global.aws()).await?;
    let plan = keys.plan_delete(bucket, key_id).await?;
    if let Some(used) = plan.used_recently() {
        eprintln!(
            "gamelift-access: warning: key {key_id} was used in the last 24 hours: {}",
            describe_last_used(Some(used))
        );
    }
    if !yes {
        let what = match (&plan.remote, plan.stored_here) {
            (Some(_), true) => "on Lightsail and its stored secret here",
            (Some(_), false) => "on Lightsail (its secret is not stored here)",
            (None, _) => "stored here (it is already gone from Lightsail)",
        };
        if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Err(BucketKeyError::Confirm(format!(
                "not deleting key {key_id} of bucket {bucket} without confirmation\n  \
                 not on a terminal: pass --yes to delete it {what}"
            ))
            .into());
        }
        let confirmed = dialoguer::Confirm::new()
            .with_prompt(format!("Delete access key {key_id} of bucket {bucket}, {what}?"))
            .default(false)
            .interact()
            .unwrap_or(false);
        if !confirmed {
            return Err(BucketKeyError::Declined.into());
        }
    }
    let deleted = keys.delete(&plan).await?;
    match (deleted.remote, deleted.local.is_empty()) {
        (true, false) => println!("deleted key {key_id} from bucket {bucket} and its stored secret"),
        (true, true) => println!("deleted key {key_id} from bucket {bucket} (no secret was stored here)"),
        (false, false) => println!("key {key_id} was already gone from Lightsail; removed its stored secret"),
        (false, true) => println!("key {key_id} is gone"),
    }
    Ok(0)
}

async fn rotate(
    global: &GlobalArgs,
    bucket: &str,
    finish: bool,
    force: bool,
    print_secret: bool,
    verify_secs: u64,
) -> Result<u8> {
    check_bucket(bucket)?;
    let keys = Keys::connect(&global.aws()).await?;
    if finish {
        let rot = keys.finish(bucket, force).await?;
        println!(
            "rotation of bucket {bucket} finished: old key {} deleted; key {} stays",
            rot.old_key_id, rot.new_key_id
        );
        return Ok(0);
    }
    let verifier = crate::bucketkeys::verify::S3Verify::new(&global.aws(), verify_secs).await?;
    let rotated = keys
        .rotate(bucket, print_secret, |c| report_created(global, c), &verifier)
        .await?;
    report_stored(global, &rotated.created)?;
    match &rotated.old_key_id {
        Some(old) => eprintln!(
            "the new key works with S3; credential-process and profiles for {bucket} now use it.\n\
             old key {old} still works: once nothing uses it, run gamelift-access bucket-key rotate {bucket} --finish"
        ),
        None => eprintln!(
            "the new key works with S3; no earlier key of {bucket} was stored here, so there is nothing to finish"
        ),
    }
    Ok(0)
}

/// The AWS CLI's credential_process protocol (version 1).
fn credential_process(bucket: &str, key_id: Option<&str>) -> Result<u8> {
    let key = bucketkeys::credential(&Store::open().map_err(BucketKeyError::from)?, bucket, key_id)?;
    let out = json!({
        "Version": 1,
        "AccessKeyId": key.id,
        "SecretAccessKey": key.secret.expose_secret(),
    });
    println!("{out}");
    Ok(0)
}

fn export(bucket: &str, format: ExportFormat, key_id: Option<&str>) -> Result<u8> {
    let key = bucketkeys::credential(&Store::open().map_err(BucketKeyError::from)?, bucket, key_id)?;
    match format {
        ExportFormat::Env => {
            println!("export AWS_ACCESS_KEY_ID={}", key.id);
            println!(
                "export AWS_SECRET_ACCESS_KEY={}",
                shlex::try_quote(key.secret.expose_secret()).unwrap_or_default()
            );
            println!("export AWS_REGION={}", key.region);
            println!("unset AWS_SESSION_TOKEN AWS_PROFILE");
        }
        ExportFormat::Json => println!(
            "{}",
            json!({
                "access_key_id": key.id,
                "secret_access_key": key.secret.expose_secret(),
                "region": key.region,
            })
        ),
    }
    Ok(0)
}
