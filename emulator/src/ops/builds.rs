//! Build uploads: CreateBuild, RequestUploadCredentials and ListBuilds
//! (DescribeBuild lives with the other Describe operations), and the
//! INITIALIZED → READY / FAILED transition when the S3 front sees the
//! build's object written.
//!
//! Upload credentials are STS-style session credentials registered with the
//! S3 front, scoped to exactly the build's object, expiring after the
//! fixture's `upload_credentials_lifetime_secs` (default
//! [`DEFAULT_UPLOAD_LIFETIME_SECS`]) and, if a test asked for it, after a
//! number of accepted S3 requests.

use std::time::{Duration, SystemTime};

use super::{BUILD_ID_OR_ARN_PATTERN, Ctx, Input, build_out, is_build_id_or_arn, paginate, pattern_error};
use crate::error::ApiError;
use crate::fixture::{ACCOUNT_ID, Build};
use crate::s3::{S3Access, S3Credential, S3Scope};
use crate::server::{Shared, lock};
use crate::state::{self, new_credentials};
use crate::wire::{Obj, Out};

/// How long upload credentials live unless the fixture says otherwise.
/// GameLift does not document it; STS's default session length is used.
pub const DEFAULT_UPLOAD_LIFETIME_SECS: u64 = 3600;

const OPERATING_SYSTEMS: &[&str] = &[
    "WINDOWS_2012",
    "AMAZON_LINUX",
    "AMAZON_LINUX_2",
    "WINDOWS_2016",
    "WINDOWS_2022",
    "AMAZON_LINUX_2023",
];

/// Where a build's object goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadTarget {
    pub(crate) bucket: String,
    pub(crate) key: String,
}

fn length_error(name: &str, value: &str, max: usize) -> Option<ApiError> {
    let n = value.chars().count();
    (n == 0 || n > max).then(|| {
        ApiError::invalid(format!(
            "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: \
             Member must have length between 1 and {max}",
            super::member_path(name)
        ))
    })
}

pub(super) fn create_build(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let name = input.opt_str("Name")?;
    let version = input.opt_str("Version")?;
    for (member, value) in [("Name", name), ("Version", version)] {
        if let Some(err) = value.and_then(|v| length_error(member, v, 1024)) {
            return Err(err);
        }
    }
    let os = input.opt_str("OperatingSystem")?.unwrap_or("WINDOWS_2016");
    if !OPERATING_SYSTEMS.contains(&os) {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{os}' at 'operatingSystem' failed to satisfy \
             constraint: Member must satisfy enum value set: [{}]",
            OPERATING_SYSTEMS.join(", ")
        )));
    }
    let sdk = input.opt_str("ServerSdkVersion")?;
    if let Some(v) = sdk {
        let parts: Vec<&str> = v.split('.').collect();
        if parts.len() != 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(pattern_error(v, "ServerSdkVersion", r"^\d+\.\d+\.\d+$"));
        }
    }
    if input.get("StorageLocation").is_some() {
        return Err(ApiError::invalid(
            "The GameLift emulator does not import builds from your own S3 bucket; \
             omit StorageLocation and upload with the returned UploadCredentials.",
        ));
    }
    let build_id = format!(
        "build-{}-{}-4{}-8{}-{}",
        state::random_string(8, b"0123456789abcdef"),
        state::random_string(4, b"0123456789abcdef"),
        state::random_string(3, b"0123456789abcdef"),
        state::random_string(3, b"0123456789abcdef"),
        state::random_string(12, b"0123456789abcdef"),
    );
    let build = Build {
        build_id: build_id.clone(),
        build_arn: None,
        name: name.unwrap_or_default().to_owned(),
        version: version.map(str::to_owned),
        status: "INITIALIZED".to_owned(),
        size_on_disk: 0,
        operating_system: os.to_owned(),
        server_sdk_version: Some(sdk.unwrap_or("4.0.2").to_owned()),
        region: ctx.region.to_owned(),
        creation_time: now_secs(),
    };
    let out = build_out(&build);
    ctx.fx.builds.push(build);
    let target = UploadTarget {
        bucket: super::build_bucket(ctx.region),
        key: format!("{ACCOUNT_ID}/{build_id}"),
    };
    ctx.state.upload_targets.insert(build_id, target.clone());
    let (credentials, location) = issue(ctx, &target);
    Ok(Out::Map(
        Obj::new()
            .put("Build", out)
            .put("UploadCredentials", credentials)
            .put("StorageLocation", location),
    ))
}

pub(super) fn request_upload_credentials(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let build_ref = input.req_str("BuildId")?;
    if !is_build_id_or_arn(build_ref) {
        return Err(pattern_error(build_ref, "BuildId", BUILD_ID_OR_ARN_PATTERN));
    }
    let not_found = || ApiError::not_found(format!("Build {build_ref} not found."));
    let build_id = build_ref.rsplit('/').next().unwrap_or(build_ref);
    let build = ctx
        .fx
        .builds
        .iter()
        .find(|b| b.build_id == build_id && b.region == ctx.region)
        .ok_or_else(not_found)?;
    if build_ref.starts_with("arn:") && build.arn() != build_ref {
        return Err(not_found());
    }
    let target = ctx
        .state
        .upload_targets
        .entry(build.build_id.clone())
        .or_insert_with(|| UploadTarget {
            bucket: super::build_bucket(&build.region),
            key: format!("{ACCOUNT_ID}/{}", build.build_id),
        })
        .clone();
    let (credentials, location) = issue(ctx, &target);
    Ok(Out::Map(
        Obj::new()
            .put("UploadCredentials", credentials)
            .put("StorageLocation", location),
    ))
}

pub(super) fn list_builds(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let status = input.opt_str("Status")?;
    if let Some(s) = status
        && !["INITIALIZED", "READY", "FAILED"].contains(&s)
    {
        return Err(ApiError::invalid(format!(
            "1 validation error detected: Value '{s}' at 'status' failed to satisfy constraint: \
             Member must satisfy enum value set: [INITIALIZED, READY, FAILED]"
        )));
    }
    let limit = input.limit()?;
    let next_token = input.next_token()?;
    let matching: Vec<&Build> = ctx
        .fx
        .builds
        .iter()
        .filter(|b| b.region == ctx.region)
        .filter(|b| status.is_none_or(|s| b.status == s))
        .collect();
    let (page, next) = paginate(&matching, limit, next_token)?;
    let builds = page.iter().map(|b| Out::Map(build_out(b))).collect::<Vec<_>>();
    Ok(Out::Map(Obj::new().put("Builds", builds).put_opt("NextToken", next)))
}

/// Fresh session credentials for `target`, registered with the S3 front.
fn issue(ctx: &mut Ctx<'_>, target: &UploadTarget) -> (Obj, Obj) {
    let creds = new_credentials("", "", "");
    let lifetime = ctx
        .fx
        .upload_credentials_lifetime_secs
        .unwrap_or(DEFAULT_UPLOAD_LIFETIME_SECS);
    ctx.state.upload_credentials.push(S3Credential {
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: Some(creds.session_token.clone()),
        expires_at: Some(SystemTime::now() + Duration::from_secs(lifetime)),
        expires_after_requests: ctx.state.upload_credentials_max_requests.take(),
        scope: S3Scope::Object {
            bucket: target.bucket.clone(),
            key: target.key.clone(),
        },
    });
    let credentials = Obj::new()
        .put("AccessKeyId", creds.access_key_id)
        .put("SecretAccessKey", creds.secret_access_key)
        .put("SessionToken", creds.session_token);
    let location = Obj::new()
        .put("Bucket", &target.bucket)
        .put("Key", &target.key)
        .put("RoleArn", format!("arn:aws:iam::{ACCOUNT_ID}:role/GameLiftBuildUpload"));
    (credentials, location)
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs() as f64)
}

/// Whether `data` has a zip's local-header start and end-of-central-directory
/// record (plain or Zip64): what GameLift needs to unpack a build.
pub(crate) fn looks_like_zip(data: &[u8]) -> bool {
    let starts = data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06");
    let tail = &data[data.len().saturating_sub(65_557)..];
    let has_eocd = tail.windows(4).any(|w| w == b"PK\x05\x06");
    starts && has_eocd
}

/// After the S3 front relayed a successful PutObject or
/// CompleteMultipartUpload: if the object is a build's, fetch it and mark
/// the build READY (a zip) or FAILED (anything else).
pub(crate) async fn object_written(shared: &Shared, access: &S3Access) {
    let completes_object = (access.method == "PUT" && access.query_param("partNumber").is_none())
        || (access.method == "POST" && access.query_param("uploadId").is_some());
    let (Some(bucket), Some(key)) = (&access.bucket, &access.key) else {
        return;
    };
    if !completes_object {
        return;
    }
    let build_id = {
        let state = lock(&shared.state);
        state
            .upload_targets
            .iter()
            .find(|(_, t)| &t.bucket == bucket && &t.key == key)
            .map(|(id, _)| id.clone())
    };
    let Some(build_id) = build_id else {
        return;
    };
    let Some(moto) = lock(&shared.s3).moto else {
        return;
    };
    let Some(object) = crate::s3::get_object(moto, bucket, key).await else {
        return;
    };
    let ready = looks_like_zip(&object);
    let mut fixture = lock(&shared.fixture);
    if let Some(build) = fixture.builds.iter_mut().find(|b| b.build_id == build_id)
        && build.status == "INITIALIZED"
    {
        build.status = if ready { "READY" } else { "FAILED" }.to_owned();
        build.size_on_disk = i64::try_from(object.len()).unwrap_or(i64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_detection() {
        assert!(looks_like_zip(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"));
        let mut z = b"PK\x03\x04rest".to_vec();
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert!(looks_like_zip(&z));
        assert!(!looks_like_zip(b"not a zip"));
        assert!(!looks_like_zip(b"PK\x03\x04 truncated"));
    }
}
