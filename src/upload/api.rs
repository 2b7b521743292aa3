//! The GameLift build calls: CreateBuild, RequestUploadCredentials,
//! DescribeBuild, ListBuilds. Upload credentials become [`UploadCredentials`]
//! (secrets in `secrecy` types) the moment they arrive; no SDK type that
//! holds one is ever formatted.

use std::fmt;

use secrecy::SecretString;
use serde::Serialize;

use crate::aws::{AwsError, GameLift};

/// `secs` since the Unix epoch as an RFC 3339 UTC timestamp
/// (`2026-12-02T07:00:00Z`), the form a `credential_process`'s
/// `Expiration` takes; the SDK's formatter keeps its types in this layer.
pub fn rfc3339(secs: i64) -> Result<String, String> {
    aws_sdk_gamelift::primitives::DateTime::from_secs(secs)
        .fmt(aws_sdk_gamelift::primitives::DateTimeFormat::DateTime)
        .map_err(|e| e.to_string())
}

/// Temporary credentials for one build's object.
#[derive(Clone)]
pub struct UploadCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
}

impl fmt::Debug for UploadCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where the build's zip goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageLocation {
    pub bucket: String,
    pub key: String,
}

/// A build, as `builds` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildInfo {
    pub build_id: String,
    pub build_arn: String,
    pub name: String,
    pub version: String,
    pub status: String,
    pub operating_system: String,
    pub server_sdk_version: String,
    pub size_on_disk: i64,
    /// Epoch seconds.
    pub creation_time: i64,
}

/// What a new build is.
#[derive(Debug, Clone)]
pub struct NewBuild {
    pub name: String,
    pub version: String,
    pub operating_system: String,
    pub server_sdk_version: Option<String>,
}

fn build_info(b: &aws_sdk_gamelift::types::Build) -> BuildInfo {
    BuildInfo {
        build_id: b.build_id().unwrap_or_default().to_owned(),
        build_arn: b.build_arn().unwrap_or_default().to_owned(),
        name: b.name().unwrap_or_default().to_owned(),
        version: b.version().unwrap_or_default().to_owned(),
        status: b.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        operating_system: b.operating_system().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        server_sdk_version: b.server_sdk_version().unwrap_or_default().to_owned(),
        size_on_disk: b.size_on_disk().unwrap_or(0),
        creation_time: b.creation_time().map_or(0, |t| t.secs()),
    }
}

fn bad(op: &'static str, gl: &GameLift, what: &str) -> AwsError {
    AwsError::BadResponse {
        service: crate::aws::Service::GameLift,
        op,
        endpoint: gl.endpoint(),
        detail: format!("the answer has no {what}"),
    }
}

fn take_credentials(
    op: &'static str,
    gl: &GameLift,
    creds: Option<&aws_sdk_gamelift::types::AwsCredentials>,
    location: Option<&aws_sdk_gamelift::types::S3Location>,
) -> Result<(UploadCredentials, StorageLocation), AwsError> {
    let c = creds.ok_or_else(|| bad(op, gl, "UploadCredentials"))?;
    let (Some(id), Some(secret), Some(token)) = (c.access_key_id(), c.secret_access_key(), c.session_token()) else {
        return Err(bad(op, gl, "complete UploadCredentials"));
    };
    let l = location.ok_or_else(|| bad(op, gl, "StorageLocation"))?;
    let (Some(bucket), Some(key)) = (l.bucket(), l.key()) else {
        return Err(bad(op, gl, "StorageLocation bucket and key"));
    };
    Ok((
        UploadCredentials {
            access_key_id: id.to_owned(),
            secret_access_key: SecretString::from(secret.to_owned()),
            session_token: SecretString::from(token.to_owned()),
        },
        StorageLocation {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        },
    ))
}

/// CreateBuild: the new build, its upload credentials and object.
pub async fn create_build(
    gl: &GameLift,
    new: &NewBuild,
) -> Result<(BuildInfo, UploadCredentials, StorageLocation), AwsError> {
    let out = gl
        .client()
        .await
        .create_build()
        .name(&new.name)
        .version(&new.version)
        .operating_system(aws_sdk_gamelift::types::OperatingSystem::from(
            new.operating_system.as_str(),
        ))
        .set_server_sdk_version(new.server_sdk_version.clone())
        .send()
        .await
        .map_err(|e| gl.classify("CreateBuild", e))?;
    let build = out
        .build_value()
        .map(build_info)
        .ok_or_else(|| bad("CreateBuild", gl, "Build"))?;
    let (creds, location) = take_credentials("CreateBuild", gl, out.upload_credentials(), out.storage_location())?;
    Ok((build, creds, location))
}

/// RequestUploadCredentials for an existing build (ID or ARN).
pub async fn request_upload_credentials(
    gl: &GameLift,
    build: &str,
) -> Result<(UploadCredentials, StorageLocation), AwsError> {
    let out = gl
        .client()
        .await
        .request_upload_credentials()
        .build_id(build)
        .send()
        .await
        .map_err(|e| gl.classify("RequestUploadCredentials", e))?;
    take_credentials(
        "RequestUploadCredentials",
        gl,
        out.upload_credentials(),
        out.storage_location(),
    )
}

/// DescribeBuild.
pub async fn describe_build(gl: &GameLift, build: &str) -> Result<BuildInfo, AwsError> {
    let out = gl
        .client()
        .await
        .describe_build()
        .build_id(build)
        .send()
        .await
        .map_err(|e| gl.classify("DescribeBuild", e))?;
    out.build_value()
        .map(build_info)
        .ok_or_else(|| bad("DescribeBuild", gl, "Build"))
}

/// Every build in the region, oldest first.
pub async fn list_builds(gl: &GameLift) -> Result<Vec<BuildInfo>, AwsError> {
    let mut builds = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = gl
            .client()
            .await
            .list_builds()
            .set_next_token(next.take())
            .send()
            .await
            .map_err(|e| gl.classify("ListBuilds", e))?;
        builds.extend(out.builds().iter().map(build_info));
        match out.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_owned()),
            _ => break,
        }
    }
    builds.sort_by_key(|b| b.creation_time);
    Ok(builds)
}

#[cfg(test)]
mod tests {
    #[test]
    fn expiry_timestamps_are_rfc3339_utc() {
        assert_eq!(super::rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_194_800).unwrap(), "2026-12-02T07:00:00Z");
    }
}
