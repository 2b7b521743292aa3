//! Lightsail bucket access keys through the real aws-sdk-lightsail and the
//! Python `aws` CLI: wire shapes, the two-key limit, secrets returned only
//! by Create, naming rules, region scoping and the slow-reply fault.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_lightsail::Client;
use aws_sdk_lightsail::error::ProvideErrorMetadata;
use common::{aws_cli_json, emulator, sdk_config, test_credentials};
use gamelift_emulator::Fault;
use gamelift_emulator::fixture::sample;

async fn lightsail(emu: &gamelift_emulator::Emulator, region: &'static str) -> Client {
    Client::new(&sdk_config(emu, region, test_credentials()).await)
}

#[tokio::test]
async fn keys_are_created_listed_limited_and_deleted() {
    let emu = emulator();
    let ls = lightsail(&emu, "us-west-2").await;

    let buckets = ls.get_buckets().send().await.expect("GetBuckets");
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [sample::BUILDS_BUCKET, sample::LOGS_BUCKET]);
    let b = &buckets.buckets()[0];
    assert_eq!(
        b.location().and_then(|l| l.region_name()).map(|r| r.as_str()),
        Some("us-west-2")
    );
    assert!(b.created_at().is_some());

    let mut ids = Vec::new();
    for _ in 0..2 {
        let out = ls
            .create_bucket_access_key()
            .bucket_name(sample::BUILDS_BUCKET)
            .send()
            .await
            .expect("CreateBucketAccessKey");
        let key = out.access_key().expect("accessKey");
        let id = key.access_key_id().expect("id").to_owned();
        let secret = key.secret_access_key().expect("secret on create");
        assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
        assert_eq!(secret.len(), 40);
        assert_eq!(key.status().map(|s| s.as_str()), Some("Active"));
        assert_eq!(out.operations().len(), 1);
        let stored = emu.bucket_key(&id).expect("the emulator has it");
        assert_eq!(stored.secret_access_key, secret);
        assert!(!format!("{stored:?}").contains(secret), "the emulator's Debug redacts");
        // The SDK's own Debug does print it: never `{:?}` an AccessKey.
        assert!(format!("{key:?}").contains(secret));
        ids.push(id);
    }

    let err = ls
        .create_bucket_access_key()
        .bucket_name(sample::BUILDS_BUCKET)
        .send()
        .await
        .expect_err("a third key is refused");
    assert_eq!(err.code(), Some("InvalidInputException"));
    assert!(err.as_service_error().is_some_and(|e| e.is_invalid_input_exception()));
    assert!(
        err.message()
            .unwrap_or("")
            .contains("maximum number of access keys (2)")
    );

    let listed = ls
        .get_bucket_access_keys()
        .bucket_name(sample::BUILDS_BUCKET)
        .send()
        .await
        .expect("GetBucketAccessKeys");
    let listed_ids: Vec<_> = listed.access_keys().iter().filter_map(|k| k.access_key_id()).collect();
    assert_eq!(listed_ids, ids);
    assert!(listed.access_keys().iter().all(|k| k.secret_access_key().is_none()));
    assert!(listed.access_keys().iter().all(|k| k.last_used().is_none()));

    assert!(emu.record_bucket_key_use(&ids[0], "s3"));
    let listed = ls
        .get_bucket_access_keys()
        .bucket_name(sample::BUILDS_BUCKET)
        .send()
        .await
        .expect("GetBucketAccessKeys");
    let used = listed.access_keys()[0].last_used().expect("lastUsed");
    assert_eq!(used.service_name(), Some("s3"));
    assert_eq!(used.region(), Some("us-west-2"));
    assert!(used.last_used_date().is_some());

    ls.delete_bucket_access_key()
        .bucket_name(sample::BUILDS_BUCKET)
        .access_key_id(&ids[0])
        .send()
        .await
        .expect("DeleteBucketAccessKey");
    assert_eq!(emu.bucket_access_keys(sample::BUILDS_BUCKET).len(), 1);
    let err = ls
        .delete_bucket_access_key()
        .bucket_name(sample::BUILDS_BUCKET)
        .access_key_id(&ids[0])
        .send()
        .await
        .expect_err("already gone");
    assert_eq!(err.code(), Some("NotFoundException"));
}

#[tokio::test]
async fn bad_names_unknown_buckets_and_other_regions_are_refused() {
    let emu = emulator();
    let ls = lightsail(&emu, "us-west-2").await;
    for bad in [
        "Game-Builds",
        "-builds",
        "ab",
        "builds-",
        "game_builds",
        &"a".repeat(55),
    ] {
        let err = ls
            .create_bucket_access_key()
            .bucket_name(bad)
            .send()
            .await
            .expect_err(bad);
        assert_eq!(err.code(), Some("InvalidInputException"), "{bad}");
        assert!(err.message().unwrap_or("").contains("bucketName"), "{bad}");
    }
    let err = ls
        .get_buckets()
        .bucket_name("no-such-bucket")
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), Some("NotFoundException"));
    // A bucket in us-east-1 is not found through us-west-2.
    let err = ls
        .get_bucket_access_keys()
        .bucket_name(sample::REMOTE_BUCKET)
        .send()
        .await
        .expect_err("other region");
    assert_eq!(err.code(), Some("NotFoundException"));
    let east = lightsail(&emu, "us-east-1").await;
    east.get_bucket_access_keys()
        .bucket_name(sample::REMOTE_BUCKET)
        .send()
        .await
        .expect("its own region");
    assert!(emu.bucket_access_keys(sample::BUILDS_BUCKET).is_empty());
    assert!(emu.calls().iter().all(|c| c.service == "lightsail"));
}

#[tokio::test]
async fn slow_reply_creates_first_and_answers_late() {
    let emu = emulator();
    let ls = lightsail(&emu, "us-west-2").await;
    emu.inject("CreateBucketAccessKey", Fault::SlowReply(Duration::from_millis(800)), 1);
    let started = Instant::now();
    let call = tokio::spawn(async move {
        ls.create_bucket_access_key()
            .bucket_name(sample::LOGS_BUCKET)
            .send()
            .await
            .map(|o| o.access_key().and_then(|k| k.access_key_id()).map(str::to_owned))
    });
    // The key exists while the reply is still held back.
    while emu.bucket_access_keys(sample::LOGS_BUCKET).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5), "the key was never created");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started.elapsed() < Duration::from_millis(800));
    assert!(!call.is_finished());
    let id = call.await.expect("task").expect("Create answers in the end");
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert_eq!(
        id.as_deref(),
        Some(emu.bucket_access_keys(sample::LOGS_BUCKET)[0].access_key_id.as_str())
    );
}

#[test]
fn aws_cli_speaks_lightsail_json() {
    let emu = emulator();
    let created = aws_cli_json(
        &emu,
        &[
            "lightsail",
            "create-bucket-access-key",
            "--bucket-name",
            sample::BUILDS_BUCKET,
        ],
    );
    let id = created["accessKey"]["accessKeyId"].as_str().expect("id");
    assert_eq!(created["accessKey"]["secretAccessKey"].as_str().map(str::len), Some(40));
    let listed = aws_cli_json(
        &emu,
        &[
            "lightsail",
            "get-bucket-access-keys",
            "--bucket-name",
            sample::BUILDS_BUCKET,
        ],
    );
    assert_eq!(listed["accessKeys"][0]["accessKeyId"], id);
    assert!(listed["accessKeys"][0].get("secretAccessKey").is_none());
    let buckets = aws_cli_json(&emu, &["lightsail", "get-buckets"]);
    assert_eq!(buckets["buckets"].as_array().map(Vec::len), Some(2));
    let call = emu.calls_to("CreateBucketAccessKey").remove(0);
    assert_eq!(call.service, "lightsail");
    assert_eq!(call.body, serde_json::json!({"bucketName": sample::BUILDS_BUCKET}));
}

#[tokio::test]
async fn a_skewed_lightsail_clock_shifts_created_at() {
    let emu = emulator();
    let ls = lightsail(&emu, "us-west-2").await;
    for skew in [30.0, -30.0] {
        emu.set_lightsail_clock_skew(skew);
        let before = std::time::SystemTime::now();
        let out = ls
            .create_bucket_access_key()
            .bucket_name(sample::BUILDS_BUCKET)
            .send()
            .await
            .expect("CreateBucketAccessKey");
        let key = out.access_key().expect("accessKey");
        let created = key.created_at().expect("createdAt").as_secs_f64();
        let now = before.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!((created - now - skew).abs() < 5.0, "{skew}: {created} vs {now}");
        ls.delete_bucket_access_key()
            .bucket_name(sample::BUILDS_BUCKET)
            .access_key_id(key.access_key_id().unwrap())
            .send()
            .await
            .expect("DeleteBucketAccessKey");
    }
}
