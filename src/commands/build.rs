//! `gamelift-access build upload|credentials|exec` and `builds`.

use std::io::IsTerminal;

use secrecy::ExposeSecret;

use crate::cli::{BuildArgs, BuildCommand, BuildUploadArgs, CredentialsFormat, GlobalArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::output;
use crate::upload::api::{NewBuild, StorageLocation, UploadCredentials};
use crate::upload::{self, Target, UploadRequest};

/// The lifetime `credential-process` output states. GameLift does not
/// return an expiry; upload credentials are STS session credentials, whose
/// default lifetime is one hour, so 55 minutes makes SDKs refresh (run the
/// process again) before they can expire.
pub const CREDENTIAL_PROCESS_LIFETIME_SECS: i64 = 55 * 60;

/// Inherited variables that could make `build exec`'s child act as
/// someone else: the SSM path's list plus the other credential sources.
const SCRUBBED: &[&str] = &[
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

pub async fn run(global: &GlobalArgs, args: BuildArgs) -> Result<u8> {
    match args.command {
        BuildCommand::Upload(a) => upload_cmd(global, a).await,
        BuildCommand::Credentials { build, format } => credentials_cmd(global, &build, format).await,
        BuildCommand::Exec { build, command } => exec_cmd(global, &build, &command).await,
    }
}

async fn upload_cmd(global: &GlobalArgs, a: BuildUploadArgs) -> Result<u8> {
    let target = match a.build_id {
        Some(id) => Target::Existing(id),
        None => Target::New(NewBuild {
            // clap requires these without --build-id.
            name: a.name.unwrap_or_default(),
            version: a.build_version.unwrap_or_default(),
            operating_system: a.operating_system.unwrap_or_default(),
            server_sdk_version: a.server_sdk_version,
        }),
    };
    let tty = std::io::stderr().is_terminal();
    let req = UploadRequest {
        dir: a.dir,
        target,
        part_size: usize::try_from(a.part_size * 1024 * 1024)
            .map_err(|_| Error::Usage("--part-size too large".into()))?,
        concurrency: usize::try_from(a.concurrency).unwrap_or(4),
        progress: tty,
    };
    let aws = global.aws();
    let mut report = upload::upload(&aws, req).await?;
    if a.wait {
        report.status = upload::wait_for_build(&aws, &report.build_id, tty).await?.status;
    }
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report).expect("report serializes")),
        OutputFormat::Table => {
            let rate = report.bytes_sent as f64 / report.seconds.max(0.001);
            println!(
                "uploaded {} to build {} in {:.1}s ({}/s), status {}",
                indicatif::HumanBytes(report.bytes_sent),
                report.build_id,
                report.seconds,
                indicatif::HumanBytes(rate as u64),
                report.status
            );
        }
    }
    Ok(0)
}

fn quote(s: &str) -> String {
    shlex::try_quote(s).map_or_else(|_| format!("'{s}'"), |q| q.into_owned())
}

async fn credentials_cmd(global: &GlobalArgs, build: &str, format: CredentialsFormat) -> Result<u8> {
    let (creds, location) = upload::credentials(&global.aws(), build).await?;
    let text = match format {
        CredentialsFormat::Env => {
            let mut out = String::new();
            for (name, value) in env_pairs(&creds, &location) {
                out.push_str(&format!("export {name}={}\n", quote(&value)));
            }
            out
        }
        CredentialsFormat::Json => {
            let value = serde_json::json!({
                "upload_credentials": {
                    "access_key_id": creds.access_key_id,
                    "secret_access_key": creds.secret_access_key.expose_secret(),
                    "session_token": creds.session_token.expose_secret(),
                },
                "storage_location": { "bucket": location.bucket, "key": location.key },
            });
            format!("{}\n", serde_json::to_string_pretty(&value).expect("json"))
        }
        CredentialsFormat::CredentialProcess => {
            let expiration = crate::upload::api::rfc3339(output::now() + CREDENTIAL_PROCESS_LIFETIME_SECS)
                .map_err(|e| Error::Other(format!("cannot format the expiry: {e}")))?;
            let value = serde_json::json!({
                "Version": 1,
                "AccessKeyId": creds.access_key_id,
                "SecretAccessKey": creds.secret_access_key.expose_secret(),
                "SessionToken": creds.session_token.expose_secret(),
                "Expiration": expiration,
            });
            format!("{}\n", serde_json::to_string(&value).expect("json"))
        }
    };
    print!("{text}");
    Ok(0)
}

/// The child environment: credentials plus where the build goes.
fn env_pairs(creds: &UploadCredentials, location: &StorageLocation) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            creds.secret_access_key.expose_secret().to_owned(),
        ),
        ("AWS_SESSION_TOKEN", creds.session_token.expose_secret().to_owned()),
        ("GAMELIFT_BUILD_BUCKET", location.bucket.clone()),
        ("GAMELIFT_BUILD_KEY", location.key.clone()),
    ]
}

async fn exec_cmd(global: &GlobalArgs, build: &str, command: &[String]) -> Result<u8> {
    let Some((program, args)) = command.split_first() else {
        return Err(Error::Usage("build exec needs a command after --".into()));
    };
    let aws = global.aws();
    let (creds, location) = upload::credentials(&aws, build).await?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args);
    for var in crate::launch::ssm::SCRUBBED.iter().chain(SCRUBBED) {
        cmd.env_remove(var);
    }
    for (name, value) in env_pairs(&creds, &location) {
        cmd.env(name, value);
    }
    drop(creds);
    // Signals reach the child through the terminal's process group; we
    // outlive it so its exit code can be passed on.
    let _signals =
        crate::signals::Signals::install().map_err(|e| Error::Other(format!("cannot install signal handlers: {e}")))?;
    let mut child = cmd.spawn().map_err(|e| {
        Error::Usage(format!(
            "cannot run {program}: {e}\n  check the command after -- (is it on PATH?)"
        ))
    })?;
    let status = child
        .wait()
        .await
        .map_err(|e| Error::Other(format!("waiting for {program}: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ok(128u8.saturating_add(sig as u8));
        }
    }
    Ok(status.code().map_or(1, |c| c as u8))
}

/// `builds`.
pub async fn list(global: &GlobalArgs) -> Result<u8> {
    let builds = upload::list(&global.aws()).await?;
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&builds).expect("builds serialize")),
        OutputFormat::Table => {
            let now = output::now();
            output::print_table(
                &["ID", "NAME", "VERSION", "STATUS", "OS", "SDK", "SIZE", "AGE"],
                &builds
                    .iter()
                    .map(|b| {
                        vec![
                            b.build_id.clone(),
                            b.name.clone(),
                            b.version.clone(),
                            b.status.clone(),
                            b.operating_system.clone(),
                            b.server_sdk_version.clone(),
                            indicatif::HumanBytes(u64::try_from(b.size_on_disk).unwrap_or(0)).to_string(),
                            output::age(now - b.creation_time),
                        ]
                    })
                    .collect::<Vec<_>>(),
            );
        }
    }
    Ok(0)
}
