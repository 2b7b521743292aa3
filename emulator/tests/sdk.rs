//! End-to-end: the real aws-sdk-gamelift (RPC v2 CBOR) and the real Python
//! `aws` CLI (awsJson1_1) against the emulator.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::operation::describe_build::DescribeBuildError;
use aws_sdk_gamelift::operation::get_instance_access::GetInstanceAccessError;
use aws_sdk_gamelift::types::{ComputeType as SdkComputeType, FleetStatus, OperatingSystem};
use common::{aws_cli, cbor_error_type, client, raw_request};
use gamelift_emulator::fixture::sample;
use gamelift_emulator::{ComputeType, Emulator, Fault, Fleet, Protocol};
use serde_json::json;

const FAKE_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEemulatorTEST\n-----END RSA PRIVATE KEY-----\n";

/// The sample fixture, with a recognisable PEM as the Linux instance's secret.
fn emulator() -> Emulator {
    common::emulator_with(|fixture| {
        if let Some(instance) = fixture.instance_mut(sample::LINUX_SDK4_INSTANCE) {
            instance.secret = FAKE_PEM.to_owned();
        }
    })
}

#[tokio::test]
async fn get_instance_access_returns_fixture_credentials() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let out = gl
        .get_instance_access()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .instance_id(sample::LINUX_SDK4_INSTANCE)
        .send()
        .await
        .expect("GetInstanceAccess succeeds");
    let access = out.instance_access().expect("InstanceAccess present");
    assert_eq!(access.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
    assert_eq!(access.instance_id(), Some(sample::LINUX_SDK4_INSTANCE));
    assert_eq!(access.ip_address(), Some("127.0.0.1"));
    assert_eq!(access.operating_system(), Some(&OperatingSystem::AmazonLinux2023));
    let creds = access.credentials().expect("Credentials present");
    assert_eq!(creds.user_name(), Some("gl-user-remote"));
    assert_eq!(creds.secret(), Some(FAKE_PEM));

    let calls = emu.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call.operation, "GetInstanceAccess");
    assert_eq!(call.protocol, Protocol::Cbor);
    assert_eq!(call.region, "us-west-2");
    assert_eq!(call.access_key_id, "AKIDEXAMPLE");
    assert_eq!(call.status, 200);
    assert_eq!(
        call.body,
        json!({"FleetId": sample::LINUX_SDK4_FLEET, "InstanceId": sample::LINUX_SDK4_INSTANCE})
    );

    // Windows: the secret is a password, and a fleet ARN works as the id.
    let arn = emu
        .fixture()
        .fleet(sample::WINDOWS_SDK4_FLEET)
        .expect("windows fleet")
        .arn();
    let out = gl
        .get_instance_access()
        .fleet_id(arn)
        .instance_id(sample::WINDOWS_SDK4_INSTANCE)
        .send()
        .await
        .expect("Windows GetInstanceAccess succeeds");
    let access = out.instance_access().expect("InstanceAccess present");
    assert_eq!(access.fleet_id(), Some(sample::WINDOWS_SDK4_FLEET));
    assert_eq!(access.operating_system(), Some(&OperatingSystem::Windows2016));
    assert_eq!(
        access.credentials().and_then(|c| c.secret()),
        Some(sample::WINDOWS_PASSWORD)
    );
}

#[tokio::test]
async fn fleet_attributes_and_builds_deserialize() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let out = gl
        .describe_fleet_attributes()
        .fleet_ids(sample::LINUX_SDK4_FLEET)
        .send()
        .await
        .expect("DescribeFleetAttributes succeeds");
    let [fleet] = out.fleet_attributes() else {
        panic!("expected exactly one fleet: {out:?}");
    };
    assert_eq!(fleet.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
    assert_eq!(fleet.name(), Some("sdk4-linux"));
    assert_eq!(fleet.status(), Some(&FleetStatus::Active));
    assert_eq!(fleet.compute_type(), Some(&SdkComputeType::Ec2));
    assert_eq!(fleet.build_id(), Some(sample::LINUX_SDK4_BUILD));
    assert_eq!(fleet.operating_system(), Some(&OperatingSystem::AmazonLinux2023));
    assert_eq!(
        fleet.fleet_arn(),
        Some(
            format!(
                "arn:aws:gamelift:us-west-2:123456789012:fleet/{}",
                sample::LINUX_SDK4_FLEET
            )
            .as_str()
        )
    );
    assert_eq!(
        fleet.creation_time().map(|t| t.secs()),
        Some(1_700_000_000),
        "CBOR tag-1 timestamp decodes"
    );

    for (build_id, sdk) in [
        (sample::LINUX_SDK4_BUILD, "4.0.2"),
        (sample::WINDOWS_SDK4_BUILD, "4.0.2"),
        (sample::LINUX_SDK5_BUILD, "5.1.0"),
    ] {
        let out = gl
            .describe_build()
            .build_id(build_id)
            .send()
            .await
            .expect("DescribeBuild succeeds");
        let build = out.build_value().expect("Build present");
        assert_eq!(build.build_id(), Some(build_id));
        assert_eq!(build.server_sdk_version(), Some(sdk));
        assert!(build.creation_time().is_some());
    }

    // Listing without ids paginates.
    let first = gl.describe_fleet_attributes().limit(2).send().await.expect("page 1");
    assert_eq!(first.fleet_attributes().len(), 2);
    let token = first.next_token().expect("more pages").to_owned();
    let second = gl
        .describe_fleet_attributes()
        .limit(2)
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(second.fleet_attributes().len(), 2);
    assert_eq!(second.next_token(), None);
    let mut all: Vec<_> = first
        .fleet_attributes()
        .iter()
        .chain(second.fleet_attributes())
        .filter_map(|f| f.name())
        .collect();
    all.sort_unstable();
    assert_eq!(all, ["containers", "sdk4-linux", "sdk4-windows", "sdk5-linux"]);
}

#[tokio::test]
async fn describe_instances_filters_and_paginates() {
    let emu = emulator();
    emu.with_fixture(|fx| {
        let mut extra = fx.instances[0].clone();
        extra.instance_id = "i-0bbbbbbbbbbbbbbbb".to_owned();
        extra.location = Some("us-east-1".to_owned());
        fx.instances.push(extra);
    });
    let gl = client(&emu, "us-west-2").await;

    // Without Location: home-region instances only, like the service.
    let all = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .send()
        .await
        .expect("DescribeInstances succeeds");
    let ids: Vec<_> = all.instances().iter().filter_map(|i| i.instance_id()).collect();
    assert_eq!(ids, [sample::LINUX_SDK4_INSTANCE]);
    assert_eq!(all.next_token(), None);
    let first = &all.instances()[0];
    assert_eq!(first.ip_address(), Some("127.0.0.1"));
    assert_eq!(first.location(), Some("us-west-2"));
    assert_eq!(first.r#type().map(|t| t.as_str()), Some("c5.large"));
    assert_eq!(first.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(first.creation_time().map(|t| t.secs()), Some(1_700_000_600));

    emu.with_fixture(|fx| {
        let mut extra = fx.instances[0].clone();
        extra.instance_id = "i-0cccccccccccccccc".to_owned();
        fx.instances.push(extra);
    });
    let paged = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .limit(1)
        .send()
        .await
        .expect("page 1");
    assert_eq!(paged.instances().len(), 1);
    let token = paged.next_token().expect("a second home-region page");
    let page2 = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .limit(1)
        .next_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(page2.instances()[0].instance_id(), Some("i-0cccccccccccccccc"));
    assert_eq!(page2.next_token(), None);

    // A remote instance asked for by id without its Location is not found.
    let err = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .instance_id("i-0bbbbbbbbbbbbbbbb")
        .send()
        .await
        .expect_err("remote instance needs Location")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");

    let by_location = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .location("us-east-1")
        .send()
        .await
        .expect("location filter");
    let ids: Vec<_> = by_location.instances().iter().filter_map(|i| i.instance_id()).collect();
    assert_eq!(ids, ["i-0bbbbbbbbbbbbbbbb"]);

    let one = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .instance_id(sample::LINUX_SDK4_INSTANCE)
        .send()
        .await
        .expect("instance filter");
    assert_eq!(one.instances().len(), 1);
}

#[tokio::test]
async fn errors_arrive_as_typed_sdk_errors() {
    let emu = emulator();
    emu.with_fixture(|fx| {
        fx.fleets.push(Fleet {
            fleet_id: "containerfleet-00000000-0000-4000-8000-000000000001".to_owned(),
            compute_type: ComputeType::Container,
            ..fx.fleets[0].clone()
        });
    });
    let gl = client(&emu, "us-west-2").await;
    let access = |fleet: &str, instance: &str| gl.get_instance_access().fleet_id(fleet).instance_id(instance).send();

    let err = access(
        "fleet-00000000-0000-4000-8000-000000000000",
        sample::LINUX_SDK4_INSTANCE,
    )
    .await
    .expect_err("unknown fleet")
    .into_service_error();
    assert!(matches!(err, GetInstanceAccessError::NotFoundException(_)), "{err:?}");
    assert!(err.message().is_some_and(|m| m.contains("not found")), "{err:?}");

    // An instance that exists, but in another fleet.
    let err = access(sample::LINUX_SDK4_FLEET, sample::WINDOWS_SDK4_INSTANCE)
        .await
        .expect_err("instance of another fleet")
        .into_service_error();
    assert!(matches!(err, GetInstanceAccessError::NotFoundException(_)), "{err:?}");

    let err = access("not-a-fleet-id!", sample::LINUX_SDK4_INSTANCE)
        .await
        .expect_err("malformed fleet id")
        .into_service_error();
    assert!(
        matches!(err, GetInstanceAccessError::InvalidRequestException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("'fleetId'")), "{err:?}");

    let err = gl
        .get_instance_access()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .send()
        .await
        .expect_err("missing instance id")
        .into_service_error();
    assert!(
        matches!(err, GetInstanceAccessError::InvalidRequestException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("'instanceId'")), "{err:?}");

    let err = access(
        "containerfleet-00000000-0000-4000-8000-000000000001",
        sample::LINUX_SDK4_INSTANCE,
    )
    .await
    .expect_err("container fleet")
    .into_service_error();
    assert!(
        matches!(err, GetInstanceAccessError::InvalidRequestException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| m.contains("GetComputeAccess")), "{err:?}");

    let err = gl
        .describe_build()
        .build_id("build-00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .expect_err("unknown build")
        .into_service_error();
    assert!(matches!(err, DescribeBuildError::NotFoundException(_)), "{err:?}");

    emu.with_fixture(|fx| fx.unauthorized_operations.push("GetInstanceAccess".to_owned()));
    let err = access(sample::LINUX_SDK4_FLEET, sample::LINUX_SDK4_INSTANCE)
        .await
        .expect_err("unauthorized")
        .into_service_error();
    assert!(
        matches!(err, GetInstanceAccessError::UnauthorizedException(_)),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some(
            "User: arn:aws:iam::123456789012:user/test is not authorized to perform: \
             gamelift:GetInstanceAccess"
        )
    );
    let statuses: Vec<u16> = emu.calls().iter().map(|c| c.status).collect();
    assert!(statuses.iter().all(|&s| s == 400), "{statuses:?}");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let access = || {
        gl.get_instance_access()
            .fleet_id(sample::LINUX_SDK4_FLEET)
            .instance_id(sample::LINUX_SDK4_INSTANCE)
            .send()
    };

    emu.inject("GetInstanceAccess", Fault::Throttle, 1);
    access().await.expect("succeeds after one throttle");
    let statuses: Vec<u16> = emu.calls_to("GetInstanceAccess").iter().map(|c| c.status).collect();
    assert_eq!(statuses, [400, 200]);
    assert_eq!(emu.pending_faults("GetInstanceAccess"), 0);

    emu.clear_calls();
    emu.inject("GetInstanceAccess", Fault::ServerError(500), 1);
    access().await.expect("succeeds after one 500");
    let statuses: Vec<u16> = emu.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [500, 200]);

    // Standard retry mode makes 3 attempts, then surfaces the throttle.
    emu.clear_calls();
    emu.inject("GetInstanceAccess", Fault::Throttle, 3);
    let err = access().await.expect_err("throttled three times");
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(emu.calls().len(), 3);

    // Other operations are unaffected by faults injected for one.
    emu.clear_calls();
    emu.inject("DescribeBuild", Fault::Throttle, 5);
    access().await.expect("GetInstanceAccess not throttled");
    assert_eq!(emu.calls().len(), 1);
}

#[tokio::test]
async fn garbage_and_delay_faults() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let build = || gl.describe_build().build_id(sample::LINUX_SDK5_BUILD).send();

    emu.inject("DescribeBuild", Fault::Garbage, 1);
    let err = build().await.expect_err("garbage body is a decode error");
    // The SDK surfaces an undecodable 200 as an unhandled service error with
    // no error code, keeping the raw response.
    assert_eq!(err.code(), None, "{err:?}");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(200), "{err:?}");
    assert_eq!(emu.calls().len(), 1, "a 200 with a bad body is not retried");

    emu.inject("DescribeBuild", Fault::Delay(Duration::from_millis(300)), 1);
    let started = Instant::now();
    let out = build().await.expect("delayed call succeeds");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(out.build_value().and_then(|b| b.server_sdk_version()), Some("5.1.0"));

    // Back to normal afterwards.
    build().await.expect("normal again");
}

#[tokio::test]
async fn wrong_region_scope_is_not_found() {
    let emu = emulator();
    let gl = client(&emu, "eu-west-1").await;
    let err = gl
        .get_instance_access()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .instance_id(sample::LINUX_SDK4_INSTANCE)
        .send()
        .await
        .expect_err("fleet lives in us-west-2")
        .into_service_error();
    assert!(matches!(err, GetInstanceAccessError::NotFoundException(_)), "{err:?}");
    assert_eq!(emu.calls()[0].region, "eu-west-1");

    // Move the fleet and the same client finds it.
    emu.with_fixture(|fx| {
        if let Some(fleet) = fx.fleet_mut(sample::LINUX_SDK4_FLEET) {
            fleet.region = "eu-west-1".to_owned();
        }
    });
    gl.get_instance_access()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .instance_id(sample::LINUX_SDK4_INSTANCE)
        .send()
        .await
        .expect("fleet now in eu-west-1");
}

#[test]
fn unsigned_requests_are_rejected_with_403() {
    let emu = emulator();
    let mut cbor_body = Vec::new();
    ciborium::into_writer(
        &ciborium::Value::Map(vec![(
            ciborium::Value::Text("BuildId".into()),
            ciborium::Value::Text(sample::LINUX_SDK4_BUILD.into()),
        )]),
        &mut cbor_body,
    )
    .expect("encode");

    let (status, _, body) = raw_request(
        &emu,
        "POST /service/GameLift/operation/DescribeBuild HTTP/1.1\r\n\
         smithy-protocol: rpc-v2-cbor\r\nContent-Type: application/cbor\r\n",
        &cbor_body,
    );
    assert_eq!(status, 403);
    assert_eq!(
        cbor_error_type(&body),
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );

    let (status, _, body) = raw_request(
        &emu,
        "POST / HTTP/1.1\r\nX-Amz-Target: GameLift.DescribeBuild\r\n\
         Content-Type: application/x-amz-json-1.1\r\n",
        b"{}",
    );
    assert_eq!(status, 403);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
    assert_eq!(json["__type"], "MissingAuthenticationTokenException");
    assert_eq!(json["message"], "Missing Authentication Token");

    // Signed for the wrong service.
    let (status, _, body) = raw_request(
        &emu,
        "POST /service/GameLift/operation/DescribeBuild HTTP/1.1\r\n\
         smithy-protocol: rpc-v2-cbor\r\nX-Amz-Date: 20240102T030405Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-west-2/ec2/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n",
        &cbor_body,
    );
    assert_eq!(status, 403);
    assert!(
        cbor_error_type(&body).ends_with("#InvalidSignatureException"),
        "{body:?}"
    );

    // Signed but without X-Amz-Date.
    let (status, _, body) = raw_request(
        &emu,
        "POST /service/GameLift/operation/DescribeBuild HTTP/1.1\r\n\
         smithy-protocol: rpc-v2-cbor\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/us-west-2/gamelift/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n",
        &cbor_body,
    );
    assert_eq!(status, 403);
    assert!(
        cbor_error_type(&body).ends_with("#IncompleteSignatureException"),
        "{body:?}"
    );

    let calls = emu.calls();
    assert_eq!(calls.len(), 4);
    assert!(calls.iter().all(|c| c.status == 403 && c.operation == "DescribeBuild"));
    assert_eq!(calls[2].region, "us-west-2", "scope parsed even when rejected");
}

#[tokio::test]
async fn aws_cli_json_protocol_agrees_with_rust_sdk() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let sdk = gl
        .get_instance_access()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .instance_id(sample::LINUX_SDK4_INSTANCE)
        .send()
        .await
        .expect("SDK call");
    let sdk = sdk.instance_access().expect("InstanceAccess");
    let creds = sdk.credentials().expect("Credentials");
    let from_sdk = json!({
        "InstanceAccess": {
            "FleetId": sdk.fleet_id(),
            "InstanceId": sdk.instance_id(),
            "IpAddress": sdk.ip_address(),
            "OperatingSystem": sdk.operating_system().map(|o| o.as_str()),
            "Credentials": {"UserName": creds.user_name(), "Secret": creds.secret()},
        }
    });

    let Some((code, stdout, stderr)) = aws_cli(
        &emu,
        &[
            "gamelift",
            "get-instance-access",
            "--fleet-id",
            sample::LINUX_SDK4_FLEET,
            "--instance-id",
            sample::LINUX_SDK4_INSTANCE,
        ],
    ) else {
        panic!("the `aws` CLI is not installed: pip install awscli (.ci/run does)");
    };
    assert_eq!(code, 0, "aws failed: {stderr}");
    let from_cli: serde_json::Value = serde_json::from_str(&stdout).expect("aws printed JSON");
    assert_eq!(from_cli, from_sdk);
    assert_eq!(from_cli["InstanceAccess"]["Credentials"]["Secret"], FAKE_PEM);

    let cli_call = emu
        .calls()
        .into_iter()
        .find(|c| c.protocol == Protocol::Json)
        .expect("the CLI's call was logged");
    assert_eq!(cli_call.operation, "GetInstanceAccess");
    assert_eq!(cli_call.access_key_id, "AKIDCLI");
    assert_eq!(cli_call.region, "us-west-2");
    assert_eq!(
        cli_call.body,
        json!({"FleetId": sample::LINUX_SDK4_FLEET, "InstanceId": sample::LINUX_SDK4_INSTANCE})
    );

    // Timestamps and errors over JSON too.
    let (code, stdout, stderr) = aws_cli(
        &emu,
        &["gamelift", "describe-build", "--build-id", sample::LINUX_SDK5_BUILD],
    )
    .expect("aws ran before");
    assert_eq!(code, 0, "aws failed: {stderr}");
    let build: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(build["Build"]["ServerSdkVersion"], "5.1.0");
    // aws-cli v1 prints JSON-protocol timestamps as the epoch number it got.
    assert_eq!(build["Build"]["CreationTime"], json!(1_699_996_400.0), "{build}");

    let (code, _, stderr) = aws_cli(
        &emu,
        &[
            "gamelift",
            "get-instance-access",
            "--fleet-id",
            "fleet-00000000-0000-4000-8000-000000000000",
            "--instance-id",
            sample::LINUX_SDK4_INSTANCE,
        ],
    )
    .expect("aws ran before");
    assert_ne!(code, 0);
    assert!(stderr.contains("(NotFoundException)"), "{stderr}");
}
