//! The S3 front against the real Python `aws` CLI (botocore's S3 signer,
//! s3transfer's multipart upload) and a real `moto_server` behind it.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use gamelift_emulator::{Emulator, Fixture, S3Credential, S3Scope};

const BUCKET: &str = "prod-gamescale-builds-us-west-2";
const KEY: &str = "123456789012/build-1111aaaa-1111-4111-8111-111111111111/build.zip";

fn emulator_with_s3() -> Emulator {
    Emulator::start_with_s3(Fixture::sample())
        .expect("emulator with S3 starts (needs moto_server: pip install 'moto[server]')")
}

/// Runs `aws ARGS` against the S3 front with these credentials; returns
/// (exit code, stdout, stderr).
fn aws_s3(emu: &Emulator, key_id: &str, secret: &str, token: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new("aws");
    cmd.args(args)
        .args(["--region", "us-west-2"])
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_ENDPOINT_URL_S3", emu.s3_endpoint().expect("S3 front"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL");
    match token {
        Some(t) => cmd.env("AWS_SESSION_TOKEN", t),
        None => cmd.env_remove("AWS_SESSION_TOKEN"),
    };
    let out = cmd.output().expect("the `aws` CLI runs (pip install awscli)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn upload_credential(key_id: &str) -> S3Credential {
    S3Credential {
        session_token: Some(format!("token-for-{key_id}")),
        ..S3Credential::new(
            key_id,
            "upload-secret-0123456789",
            S3Scope::Object {
                bucket: BUCKET.into(),
                key: KEY.into(),
            },
        )
    }
}

#[test]
fn scoped_session_credentials_upload_through_the_front_and_nowhere_else() {
    let emu = emulator_with_s3();
    let cred = upload_credential("ASIAUPLOADTEST000001");
    emu.register_s3_credential(cred.clone());
    let used = Arc::new(Mutex::new(Vec::new()));
    {
        let used = Arc::clone(&used);
        emu.on_s3_access(move |a| used.lock().expect("lock").push(a.access_key_id.clone()));
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let small = dir.path().join("small.bin");
    std::fs::write(&small, b"hello, moto").expect("write");
    // Above s3transfer's 8 MiB multipart threshold: CreateMultipartUpload,
    // UploadPart ×2, CompleteMultipartUpload.
    let big = dir.path().join("big.bin");
    let big_data: Vec<u8> = (0..12 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &big_data).expect("write");

    let token = cred.session_token.as_deref();
    let dest = format!("s3://{BUCKET}/{KEY}");
    for file in [&small, &big] {
        let (code, _, stderr) = aws_s3(
            &emu,
            &cred.access_key_id,
            &cred.secret_access_key,
            token,
            &["s3", "cp", file.to_str().expect("utf-8"), &dest],
        );
        assert_eq!(code, 0, "aws s3 cp failed: {stderr}");
    }
    let parts: Vec<_> = emu
        .s3_requests()
        .into_iter()
        .filter(|a| a.query_param("partNumber").is_some())
        .collect();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts.iter().all(|p| p.status == 200));

    // The object moto holds is the big file, byte for byte.
    let back = dir.path().join("back.bin");
    let (code, _, stderr) = aws_s3(
        &emu,
        "AKIDEXAMPLE",
        "secret",
        None,
        &["s3", "cp", &dest, back.to_str().expect("utf-8")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(std::fs::read(&back).expect("read") == big_data, "object differs");

    // Another key in the same bucket: AccessDenied.
    let (code, _, stderr) = aws_s3(
        &emu,
        &cred.access_key_id,
        &cred.secret_access_key,
        token,
        &[
            "s3",
            "cp",
            small.to_str().expect("utf-8"),
            &format!("s3://{BUCKET}/elsewhere.zip"),
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains("AccessDenied"), "{stderr}");

    let used = used.lock().expect("lock").clone();
    assert!(used.iter().any(|k| k == &cred.access_key_id), "{used:?}");
    assert!(used.iter().any(|k| k == "AKIDEXAMPLE"), "{used:?}");
    let denied = emu
        .s3_requests()
        .into_iter()
        .filter(|a| a.error_code.as_deref() == Some("AccessDenied"))
        .count();
    assert!(denied >= 1);
    // Denied requests are not reported to the hook.
    assert_eq!(used.len(), emu.s3_requests().len() - denied);
}

#[test]
fn the_front_answers_s3_error_codes() {
    let emu = emulator_with_s3();
    let cred = upload_credential("ASIAUPLOADTEST000002");
    emu.register_s3_credential(cred.clone());
    let expired = S3Credential {
        access_key_id: "ASIAUPLOADEXPIRED002".into(),
        expires_at: Some(SystemTime::now() - Duration::from_secs(1)),
        ..cred.clone()
    };
    emu.register_s3_credential(expired.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").expect("write");
    let file = file.to_str().expect("utf-8");
    let dest = format!("s3://{BUCKET}/{KEY}");
    let token = cred.session_token.as_deref();

    let cases: [(&str, &str, Option<&str>, &str); 5] = [
        (&cred.access_key_id, "wrong-secret", token, "SignatureDoesNotMatch"),
        (
            "ASIANOTISSUED0000000",
            &cred.secret_access_key,
            token,
            "InvalidAccessKeyId",
        ),
        (
            &expired.access_key_id,
            &expired.secret_access_key,
            token,
            "ExpiredToken",
        ),
        (
            &cred.access_key_id,
            &cred.secret_access_key,
            Some("forged"),
            "InvalidToken",
        ),
        (&cred.access_key_id, &cred.secret_access_key, None, "InvalidToken"),
    ];
    for (key_id, secret, token, want) in cases {
        let (code, _, stderr) = aws_s3(&emu, key_id, secret, token, &["s3", "cp", file, &dest]);
        assert_ne!(code, 0, "{want}");
        assert!(stderr.contains(want), "want {want}: {stderr}");
    }
    let codes: Vec<_> = emu
        .s3_requests()
        .into_iter()
        .map(|a| (a.status, a.error_code))
        .collect();
    assert_eq!(
        codes,
        [
            (403, Some("SignatureDoesNotMatch".to_owned())),
            (403, Some("InvalidAccessKeyId".to_owned())),
            (400, Some("ExpiredToken".to_owned())),
            (400, Some("InvalidToken".to_owned())),
            (400, Some("InvalidToken".to_owned())),
        ]
    );

    // Credentials that expire after two accepted requests.
    let counted = S3Credential {
        access_key_id: "ASIAUPLOADCOUNTED002".into(),
        expires_after_requests: Some(2),
        ..cred.clone()
    };
    emu.register_s3_credential(counted.clone());
    for want_ok in [true, true, false] {
        let (code, _, stderr) = aws_s3(
            &emu,
            &counted.access_key_id,
            &counted.secret_access_key,
            counted.session_token.as_deref(),
            &["s3", "cp", file, &dest],
        );
        assert_eq!(code == 0, want_ok, "{stderr}");
        if !want_ok {
            assert!(stderr.contains("ExpiredToken"), "{stderr}");
        }
    }
    assert!(emu.revoke_s3_credential(&counted.access_key_id));
    assert!(!format!("{:?}", emu.s3_credentials()).contains(&cred.secret_access_key));
}
