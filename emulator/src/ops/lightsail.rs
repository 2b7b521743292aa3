//! Lightsail object-storage bucket access keys (awsJson1_1,
//! `X-Amz-Target: Lightsail_20161128.<Op>`, signed for `lightsail`):
//! GetBuckets, CreateBucketAccessKey, GetBucketAccessKeys and
//! DeleteBucketAccessKey.
//!
//! As in Lightsail: a bucket holds at most two access keys, the secret is
//! returned by CreateBucketAccessKey only, bucket names follow
//! `^[a-z0-9][a-z0-9-]{1,52}[a-z0-9]$`, and errors are Lightsail's
//! `InvalidInputException` / `NotFoundException`. A bucket is visible only to
//! requests signed for its region.

use super::{Ctx, Input};
use crate::error::{ApiError, ErrorCode};
use crate::fixture::{ACCOUNT_ID, Bucket, is_valid_bucket_name};
use crate::state::{self, BucketAccessKey};
use crate::wire::{Obj, Out};

/// Lightsail's per-bucket limit on access keys.
pub(crate) const MAX_KEYS_PER_BUCKET: usize = 2;

const BUCKET_NAME_PATTERN: &str = "^[a-z0-9][a-z0-9-]{1,52}[a-z0-9]$";

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidInput, message)
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::LightsailNotFound, message)
}

fn required_str<'a>(input: &Input<'a>, name: &str) -> Result<&'a str, ApiError> {
    input.opt_str(name)?.ok_or_else(|| {
        invalid(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: \
             Member must not be null"
        ))
    })
}

fn bucket_name<'a>(input: &Input<'a>) -> Result<&'a str, ApiError> {
    let name = required_str(input, "bucketName")?;
    check_bucket_name(name)?;
    Ok(name)
}

fn check_bucket_name(name: &str) -> Result<(), ApiError> {
    if is_valid_bucket_name(name) {
        Ok(())
    } else {
        Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'bucketName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: {BUCKET_NAME_PATTERN}"
        )))
    }
}

fn find_bucket<'f>(ctx: &'f Ctx<'_>, name: &str) -> Result<&'f Bucket, ApiError> {
    ctx.fx
        .bucket(name, ctx.region)
        .ok_or_else(|| not_found(format!("The bucket does not exist ({name}) in {}.", ctx.region)))
}

fn location(region: &str) -> Obj {
    Obj::new().put("availabilityZone", "all").put("regionName", region)
}

fn bucket_out(b: &Bucket) -> Obj {
    Obj::new()
        .put("resourceType", "Bucket")
        .put("accessRules", Obj::new().put("getObject", "private"))
        .put(
            "arn",
            format!("arn:aws:lightsail:{}:{ACCOUNT_ID}:Bucket/{}", b.region, b.name),
        )
        .put("bundleId", &b.bundle_id)
        .put("createdAt", Out::Time(b.created_at))
        .put("url", format!("https://{}.s3.{}.amazonaws.com/", b.name, b.region))
        .put("location", location(&b.region))
        .put("name", &b.name)
        .put("supportCode", format!("{ACCOUNT_ID}/{}", b.name))
        .put("tags", Vec::<Out>::new())
        .put("objectVersioning", "NeverEnabled")
        .put("state", Obj::new().put("code", "OK"))
}

/// An access key as GetBucketAccessKeys shows it: never the secret.
fn key_out(k: &BucketAccessKey) -> Obj {
    let last_used = k.last_used.as_ref().map(|u| {
        Obj::new()
            .put("lastUsedDate", Out::Time(u.date))
            .put("region", &u.region)
            .put("serviceName", &u.service_name)
    });
    Obj::new()
        .put("accessKeyId", &k.access_key_id)
        .put("status", &k.status)
        .put("createdAt", Out::Time(k.created_at))
        .put_opt("lastUsed", last_used)
}

fn operation_out(b: &Bucket, operation_type: &str, details: &str) -> Out {
    let now = state::now_epoch();
    Out::List(vec![Out::Map(
        Obj::new()
            .put("id", format!("{}-0000-4000-8000-000000000000", state::random_hex(8)))
            .put("resourceName", &b.name)
            .put("resourceType", "Bucket")
            .put("createdAt", Out::Time(now))
            .put("location", location(&b.region))
            .put("operationDetails", details)
            .put("operationType", operation_type)
            .put("status", "Succeeded")
            .put("statusChangedAt", Out::Time(now)),
    )])
}

pub(super) fn get_buckets(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let buckets: Vec<Out> = match input.opt_str("bucketName")? {
        Some(name) => {
            check_bucket_name(name)?;
            vec![Out::Map(bucket_out(find_bucket(ctx, name)?))]
        }
        None => ctx
            .fx
            .buckets
            .iter()
            .filter(|b| b.region == ctx.region)
            .map(|b| Out::Map(bucket_out(b)))
            .collect(),
    };
    Ok(Out::Map(Obj::new().put("buckets", buckets)))
}

pub(super) fn create_bucket_access_key(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let name = bucket_name(input)?;
    let bucket = find_bucket(ctx, name)?.clone();
    let existing = ctx
        .state
        .bucket_keys
        .iter()
        .filter(|k| k.bucket == bucket.name && k.region == bucket.region)
        .count();
    if existing >= MAX_KEYS_PER_BUCKET {
        return Err(invalid(format!(
            "You have reached the maximum number of access keys ({MAX_KEYS_PER_BUCKET}) for bucket {name}. \
             Delete an access key before you create another one."
        )));
    }
    let now = state::now_epoch() + ctx.state.lightsail_clock_skew;
    let key = state::new_bucket_key(&bucket.name, &bucket.region, now);
    let out = key_out(&key).put("secretAccessKey", &key.secret_access_key);
    let operations = operation_out(&bucket, "CreateBucketAccessKey", &key.access_key_id);
    ctx.state.bucket_keys.push(key);
    Ok(Out::Map(Obj::new().put("accessKey", out).put("operations", operations)))
}

pub(super) fn get_bucket_access_keys(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let name = bucket_name(input)?;
    let bucket = find_bucket(ctx, name)?;
    let keys: Vec<Out> = ctx
        .state
        .bucket_keys
        .iter()
        .filter(|k| k.bucket == bucket.name && k.region == bucket.region)
        .map(|k| Out::Map(key_out(k)))
        .collect();
    Ok(Out::Map(Obj::new().put("accessKeys", keys)))
}

pub(super) fn delete_bucket_access_key(ctx: &mut Ctx<'_>, input: &Input) -> Result<Out, ApiError> {
    let name = bucket_name(input)?;
    let key_id = required_str(input, "accessKeyId")?;
    let bucket = find_bucket(ctx, name)?.clone();
    let before = ctx.state.bucket_keys.len();
    ctx.state
        .bucket_keys
        .retain(|k| !(k.access_key_id == key_id && k.bucket == bucket.name && k.region == bucket.region));
    if ctx.state.bucket_keys.len() == before {
        return Err(not_found(format!(
            "The access key does not exist ({key_id}) for bucket {name}."
        )));
    }
    Ok(Out::Map(Obj::new().put(
        "operations",
        operation_out(&bucket, "DeleteBucketAccessKey", key_id),
    )))
}
