//! The operations added for aliases, locations, computes, game sessions,
//! port settings, GetComputeAccess and SSM, driven by the real
//! aws-sdk-gamelift / aws-sdk-ssm (and the Python `aws` CLI).

mod common;

use aws_credential_types::Credentials;
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::{
    ComputeStatus, FleetStatus, GameSessionStatus, IpPermission as SdkIpPermission, IpProtocol, LocationUpdateStatus,
    RoutingStrategyType,
};
use common::{aws_cli_json, client, emulator, raw_request, sdk_config};
use gamelift_emulator::fixture::sample;
use gamelift_emulator::{Emulator, IpPermission, Protocol};
use serde_json::json;

async fn ssm_with(emu: &Emulator, creds: Credentials) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config(emu, "us-west-2", creds).await)
}

fn perm(from: i32, to: i32, range: &str, protocol: IpProtocol) -> SdkIpPermission {
    SdkIpPermission::builder()
        .from_port(from)
        .to_port(to)
        .ip_range(range)
        .protocol(protocol)
        .build()
}

#[tokio::test]
async fn list_fleets_is_regional_filters_and_paginates() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let all = gl.list_fleets().send().await.expect("ListFleets");
    assert_eq!(
        all.fleet_ids(),
        [
            sample::LINUX_SDK4_FLEET,
            sample::WINDOWS_SDK4_FLEET,
            sample::LINUX_SDK5_FLEET,
            sample::CONTAINER_FLEET
        ]
    );
    assert_eq!(all.next_token(), None);

    let page = gl.list_fleets().limit(3).send().await.expect("page 1");
    assert_eq!(page.fleet_ids().len(), 3);
    let rest = gl
        .list_fleets()
        .limit(3)
        .next_token(page.next_token().expect("more"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(rest.fleet_ids(), [sample::CONTAINER_FLEET]);

    let by_build = gl
        .list_fleets()
        .build_id(sample::LINUX_SDK5_BUILD)
        .send()
        .await
        .expect("by build");
    assert_eq!(by_build.fleet_ids(), [sample::LINUX_SDK5_FLEET]);

    let err = gl
        .list_fleets()
        .build_id("not-a-build")
        .send()
        .await
        .expect_err("bad build id")
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");

    let elsewhere = client(&emu, "eu-west-1").await;
    let none = elsewhere.list_fleets().send().await.expect("other region");
    assert!(none.fleet_ids().is_empty());

    let container = gl
        .describe_fleet_attributes()
        .fleet_ids(sample::CONTAINER_FLEET)
        .send()
        .await
        .expect("container fleet attributes");
    // The SDK's ComputeType enum has no CONTAINER variant: it arrives as
    // an unknown value that keeps its spelling.
    assert_eq!(
        container.fleet_attributes()[0].compute_type().map(|t| t.as_str()),
        Some("CONTAINER")
    );
}

#[tokio::test]
async fn aliases_list_and_resolve() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let all = gl.list_aliases().send().await.expect("ListAliases");
    assert_eq!(all.aliases().len(), 2);
    let live = &all.aliases()[0];
    assert_eq!(live.alias_id(), Some(sample::LINUX_SDK4_ALIAS));
    assert_eq!(live.name(), Some(sample::LINUX_SDK4_ALIAS_NAME));
    let live_arn = format!(
        "arn:aws:gamelift:us-west-2:123456789012:alias/{}",
        sample::LINUX_SDK4_ALIAS
    );
    assert_eq!(live.alias_arn(), Some(live_arn.as_str()));
    let routing = live.routing_strategy().expect("RoutingStrategy");
    assert_eq!(routing.r#type(), Some(&RoutingStrategyType::Simple));
    assert_eq!(routing.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
    assert!(live.creation_time().is_some() && live.last_updated_time().is_some());

    let by_name = gl
        .list_aliases()
        .name(sample::LINUX_SDK4_ALIAS_NAME)
        .send()
        .await
        .expect("by name");
    assert_eq!(by_name.aliases().len(), 1);
    let partial = gl.list_aliases().name("sdk4").send().await.expect("partial name");
    assert!(partial.aliases().is_empty(), "Name is an exact filter");
    let terminal = gl
        .list_aliases()
        .routing_strategy_type(RoutingStrategyType::Terminal)
        .send()
        .await
        .expect("by type");
    let [t] = terminal.aliases() else {
        panic!("one terminal alias: {terminal:?}");
    };
    assert_eq!(
        t.routing_strategy().and_then(|r| r.message()),
        Some(sample::TERMINAL_ALIAS_MESSAGE)
    );

    for alias in [sample::LINUX_SDK4_ALIAS, live_arn.as_str()] {
        let out = gl.resolve_alias().alias_id(alias).send().await.expect("ResolveAlias");
        assert_eq!(out.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
        assert!(out.fleet_arn().is_some_and(|a| a.ends_with(sample::LINUX_SDK4_FLEET)));
    }

    let err = gl
        .resolve_alias()
        .alias_id(sample::TERMINAL_ALIAS)
        .send()
        .await
        .expect_err("terminal")
        .into_service_error();
    assert!(err.is_terminal_routing_strategy_exception(), "{err:?}");
    assert_eq!(err.message(), Some(sample::TERMINAL_ALIAS_MESSAGE));

    let err = gl
        .resolve_alias()
        .alias_id("alias-00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .expect_err("unknown")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
    let err = gl
        .resolve_alias()
        .alias_id("sdk4-linux-live")
        .send()
        .await
        .expect_err("a name is not an id")
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
}

#[tokio::test]
async fn locations_computes_and_remote_instances() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let locs = gl
        .describe_fleet_location_attributes()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .send()
        .await
        .expect("DescribeFleetLocationAttributes");
    assert_eq!(locs.fleet_id(), Some(sample::LINUX_SDK5_FLEET));
    let names: Vec<_> = locs
        .location_attributes()
        .iter()
        .filter_map(|l| l.location_state().and_then(|s| s.location()))
        .collect();
    assert_eq!(names, ["us-west-2", "us-east-1"]);
    let state = locs.location_attributes()[1].location_state().expect("state");
    assert_eq!(state.status(), Some(&FleetStatus::Active));
    assert_eq!(locs.location_attributes()[1].update_status(), None);
    let filtered = gl
        .describe_fleet_location_attributes()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .locations("us-east-1")
        .send()
        .await
        .expect("filtered");
    assert_eq!(filtered.location_attributes().len(), 1);

    let computes = gl
        .list_compute()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .send()
        .await
        .expect("ListCompute");
    let names: Vec<_> = computes
        .compute_list()
        .iter()
        .filter_map(|c| c.compute_name())
        .collect();
    assert_eq!(names, [sample::LINUX_SDK5_INSTANCE, sample::LINUX_SDK5_REMOTE_INSTANCE]);
    let east = gl
        .list_compute()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .location(sample::SDK5_REMOTE_LOCATION)
        .send()
        .await
        .expect("ListCompute us-east-1");
    let [c] = east.compute_list() else {
        panic!("one compute in us-east-1: {east:?}");
    };
    assert_eq!(c.compute_name(), Some(sample::LINUX_SDK5_REMOTE_INSTANCE));
    assert_eq!(c.instance_id(), Some(sample::LINUX_SDK5_REMOTE_INSTANCE));
    assert_eq!(c.location(), Some("us-east-1"));
    assert_eq!(c.compute_status(), Some(&ComputeStatus::Active));
    assert_eq!(c.ip_address(), Some("127.0.0.1"));
    assert!(c.dns_name().is_some_and(|d| d.contains("us-east-1")));
    assert_eq!(c.r#type().map(|t| t.as_str()), Some("c5.large"));
    assert!(c.creation_time().is_some());
    assert!(
        c.compute_arn()
            .is_some_and(|a| a.ends_with(":compute/i-0a1b2c3d4e5f60719"))
    );

    let container = gl
        .describe_compute()
        .fleet_id(sample::CONTAINER_FLEET)
        .compute_name(sample::CONTAINER_COMPUTE)
        .send()
        .await
        .expect("DescribeCompute");
    let compute = container.compute().expect("Compute");
    assert_eq!(compute.instance_id(), Some(sample::CONTAINER_INSTANCE));
    let containers: Vec<_> = compute
        .container_attributes()
        .iter()
        .map(|a| (a.container_name(), a.container_runtime_id()))
        .collect();
    assert_eq!(
        containers,
        [
            (Some("game-server"), Some(sample::GAME_SERVER_CONTAINER_RUNTIME_ID)),
            (Some("sidecar"), Some(sample::SIDECAR_CONTAINER_RUNTIME_ID)),
        ]
    );
    let err = gl
        .describe_compute()
        .fleet_id(sample::CONTAINER_FLEET)
        .compute_name("compute-missing")
        .send()
        .await
        .expect_err("unknown compute")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");

    // DescribeInstances: home region by default, remote ones by Location.
    let home = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .send()
        .await
        .expect("home instances");
    let ids: Vec<_> = home.instances().iter().filter_map(|i| i.instance_id()).collect();
    assert_eq!(ids, [sample::LINUX_SDK5_INSTANCE]);
    let remote = gl
        .describe_instances()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .location(sample::SDK5_REMOTE_LOCATION)
        .send()
        .await
        .expect("remote instances");
    let ids: Vec<_> = remote.instances().iter().filter_map(|i| i.instance_id()).collect();
    assert_eq!(ids, [sample::LINUX_SDK5_REMOTE_INSTANCE]);
}

#[tokio::test]
async fn game_sessions_by_fleet_id_and_alias() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let by_fleet = gl
        .describe_game_sessions()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .send()
        .await
        .expect("by fleet");
    let [remote] = by_fleet.game_sessions() else {
        panic!("one SDK5 session: {by_fleet:?}");
    };
    assert_eq!(remote.game_session_id(), Some(sample::LINUX_SDK5_REMOTE_GAME_SESSION));
    assert_eq!(remote.compute_name(), Some(sample::LINUX_SDK5_REMOTE_INSTANCE));
    assert_eq!(remote.location(), Some("us-east-1"));
    assert_eq!(remote.ip_address(), Some("127.0.0.1"));
    assert_eq!(remote.port(), Some(7778));
    assert_eq!(remote.status(), Some(&GameSessionStatus::Active));
    assert!(remote.dns_name().is_some_and(|d| d.contains("us-east-1")));
    assert!(remote.creation_time().is_some());

    let by_id = gl
        .describe_game_sessions()
        .game_session_id(sample::LINUX_SDK4_GAME_SESSION)
        .send()
        .await
        .expect("by id");
    let [sdk4] = by_id.game_sessions() else {
        panic!("one session: {by_id:?}");
    };
    assert_eq!(sdk4.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
    assert_eq!(sdk4.compute_name(), None, "instance-hosted");
    assert_eq!(sdk4.port(), Some(7777));
    assert_eq!(sdk4.location(), Some("us-west-2"));

    let by_alias = gl
        .describe_game_sessions()
        .alias_id(sample::LINUX_SDK4_ALIAS)
        .send()
        .await
        .expect("by alias");
    // Two ACTIVE and two TERMINATED sessions on the SDK 4 fleet.
    assert_eq!(by_alias.game_sessions().len(), 4);
    let err = gl
        .describe_game_sessions()
        .alias_id(sample::TERMINAL_ALIAS)
        .send()
        .await
        .expect_err("terminal alias")
        .into_service_error();
    assert!(err.is_terminal_routing_strategy_exception(), "{err:?}");

    let home_only = gl
        .describe_game_sessions()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .location("us-west-2")
        .send()
        .await
        .expect("location filter");
    assert!(home_only.game_sessions().is_empty());
    let terminated = gl
        .describe_game_sessions()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .status_filter("TERMINATED")
        .send()
        .await
        .expect("status filter");
    assert_eq!(terminated.game_sessions().len(), 2);
    assert!(
        terminated
            .game_sessions()
            .iter()
            .all(|g| g.termination_time().is_some())
    );

    let err = gl
        .describe_game_sessions()
        .game_session_id(format!(
            "arn:aws:gamelift:us-west-2::gamesession/{}/gsess-missing",
            sample::LINUX_SDK4_FLEET
        ))
        .send()
        .await
        .expect_err("unknown session")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
    let err = gl
        .describe_game_sessions()
        .send()
        .await
        .expect_err("nothing to describe")
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
}

#[tokio::test]
async fn get_compute_access_issues_fresh_credentials() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let access = |fleet: &str, compute: &str| gl.get_compute_access().fleet_id(fleet).compute_name(compute).send();

    let ec2 = access(sample::LINUX_SDK5_FLEET, sample::LINUX_SDK5_REMOTE_INSTANCE)
        .await
        .expect("SDK5 EC2 GetComputeAccess");
    assert_eq!(ec2.fleet_id(), Some(sample::LINUX_SDK5_FLEET));
    assert_eq!(ec2.compute_name(), Some(sample::LINUX_SDK5_REMOTE_INSTANCE));
    assert_eq!(ec2.target(), Some(sample::LINUX_SDK5_REMOTE_INSTANCE));
    assert!(ec2.compute_arn().is_some() && ec2.fleet_arn().is_some());
    assert!(ec2.container_identifiers().is_empty());
    let creds = ec2.credentials().expect("Credentials");
    let key = creds.access_key_id().expect("AccessKeyId");
    assert!(key.starts_with("ASIA") && key.len() == 20, "{key}");
    assert_eq!(creds.secret_access_key().map(str::len), Some(40));
    assert!(creds.session_token().is_some_and(|t| t.len() > 300));

    let again = access(sample::LINUX_SDK5_FLEET, sample::LINUX_SDK5_REMOTE_INSTANCE)
        .await
        .expect("second call");
    let key2 = again.credentials().and_then(|c| c.access_key_id()).expect("key");
    assert_ne!(key, key2, "fresh credentials per call");

    let container = access(sample::CONTAINER_FLEET, sample::CONTAINER_COMPUTE)
        .await
        .expect("container GetComputeAccess");
    assert_eq!(container.target(), Some(sample::CONTAINER_INSTANCE));
    let ids: Vec<_> = container
        .container_identifiers()
        .iter()
        .map(|c| (c.container_name(), c.container_runtime_id()))
        .collect();
    assert_eq!(
        ids,
        [
            (Some("game-server"), Some(sample::GAME_SERVER_CONTAINER_RUNTIME_ID)),
            (Some("sidecar"), Some(sample::SIDECAR_CONTAINER_RUNTIME_ID)),
        ]
    );

    let issued = emu.issued_compute_credentials();
    assert_eq!(issued.len(), 3);
    assert_eq!(issued[0].access_key_id, key);
    assert_eq!(issued[0].fleet_id, sample::LINUX_SDK5_FLEET);
    assert_eq!(issued[0].compute_name, sample::LINUX_SDK5_REMOTE_INSTANCE);
    assert_eq!(Some(issued[0].secret_access_key.as_str()), creds.secret_access_key());
    assert_eq!(issued[2].target, sample::CONTAINER_INSTANCE);

    let err = access(sample::LINUX_SDK4_FLEET, sample::LINUX_SDK4_INSTANCE)
        .await
        .expect_err("SDK 4 fleet")
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(
        err.message().is_some_and(|m| m.contains("GetInstanceAccess")),
        "{err:?}"
    );
    let err = access(sample::LINUX_SDK5_FLEET, "i-00000000000000000")
        .await
        .expect_err("unknown compute")
        .into_service_error();
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(emu.issued_compute_credentials().len(), 3);

    // Secrets are in responses only: never in the call log.
    let log = serde_json::to_string(&emu.calls()).expect("calls serialize");
    for c in emu.issued_compute_credentials() {
        assert!(!log.contains(&c.secret_access_key));
        assert!(!log.contains(&c.session_token));
        assert!(!format!("{emu:?}").contains(&c.secret_access_key));
    }
}

#[tokio::test]
async fn port_settings_update_is_pending_then_applied() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let describe = || {
        gl.describe_fleet_port_settings()
            .fleet_id(sample::LINUX_SDK4_FLEET)
            .send()
    };
    let ssh = perm(22, 22, "203.0.113.0/24", IpProtocol::Tcp);

    let before = describe().await.expect("DescribeFleetPortSettings");
    assert_eq!(before.inbound_permissions(), std::slice::from_ref(&ssh));
    assert_eq!(before.update_status(), None);
    assert_eq!(before.location(), Some("us-west-2"));
    assert_eq!(before.fleet_id(), Some(sample::LINUX_SDK4_FLEET));

    let mine = perm(22, 22, "198.51.100.7/32", IpProtocol::Tcp);
    let out = gl
        .update_fleet_port_settings()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .inbound_permission_authorizations(mine.clone())
        .inbound_permission_revocations(ssh.clone())
        .send()
        .await
        .expect("UpdateFleetPortSettings");
    assert_eq!(out.fleet_id(), Some(sample::LINUX_SDK4_FLEET));
    assert!(out.fleet_arn().is_some());

    let pending = describe().await.expect("pending");
    assert_eq!(pending.update_status(), Some(&LocationUpdateStatus::PendingUpdate));
    assert_eq!(
        pending.inbound_permissions(),
        std::slice::from_ref(&ssh),
        "old until applied"
    );
    assert_eq!(
        emu.inbound_permissions(sample::LINUX_SDK4_FLEET),
        [IpPermission::new(22, 22, "203.0.113.0/24", "TCP")]
    );
    let applied = describe().await.expect("applied");
    assert_eq!(applied.update_status(), None);
    assert_eq!(applied.inbound_permissions(), std::slice::from_ref(&mine));
    assert_eq!(
        emu.inbound_permissions(sample::LINUX_SDK4_FLEET),
        [IpPermission::new(22, 22, "198.51.100.7/32", "TCP")]
    );

    // Configurable delay: 0 applies at once, 2 needs two pending polls.
    emu.set_port_update_delay(0);
    gl.update_fleet_port_settings()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .inbound_permission_authorizations(perm(7777, 7778, "2001:db8::/32", IpProtocol::Udp))
        .send()
        .await
        .expect("immediate update");
    assert_eq!(describe().await.expect("d").inbound_permissions().len(), 2);
    emu.set_port_update_delay(2);
    gl.update_fleet_port_settings()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .inbound_permission_revocations(mine.clone())
        .send()
        .await
        .expect("delayed update");
    let statuses: Vec<bool> = [describe().await, describe().await, describe().await]
        .into_iter()
        .map(|r| r.expect("describe").update_status().is_some())
        .collect();
    assert_eq!(statuses, [true, true, false]);
    assert_eq!(emu.inbound_permissions(sample::LINUX_SDK4_FLEET).len(), 1);

    // Validation.
    let bad = [
        perm(22, 22, "203.0.113.0", IpProtocol::Tcp),
        perm(22, 22, "203.0.113.0/33", IpProtocol::Tcp),
        perm(0, 22, "0.0.0.0/0", IpProtocol::Tcp),
        perm(22, 60001, "0.0.0.0/0", IpProtocol::Tcp),
        perm(30, 20, "0.0.0.0/0", IpProtocol::Tcp),
        perm(22, 22, "0.0.0.0/0", IpProtocol::from("ICMP")),
        // Duplicate of the permission now in effect.
        perm(7777, 7778, "2001:db8::/32", IpProtocol::Udp),
    ];
    for p in bad {
        let err = gl
            .update_fleet_port_settings()
            .fleet_id(sample::LINUX_SDK4_FLEET)
            .inbound_permission_authorizations(p.clone())
            .send()
            .await
            .expect_err("invalid permission")
            .into_service_error();
        assert!(err.is_invalid_request_exception(), "{p:?}: {err:?}");
    }
    let err = gl
        .update_fleet_port_settings()
        .fleet_id(sample::LINUX_SDK4_FLEET)
        .inbound_permission_revocations(perm(3389, 3389, "0.0.0.0/0", IpProtocol::Tcp))
        .send()
        .await
        .expect_err("revoke missing")
        .into_service_error();
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert_eq!(emu.pending_inbound_permissions(sample::LINUX_SDK4_FLEET), None);
}

#[tokio::test]
async fn ssm_start_session_needs_issued_compute_credentials() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;
    let access = gl
        .get_compute_access()
        .fleet_id(sample::LINUX_SDK5_FLEET)
        .compute_name(sample::LINUX_SDK5_INSTANCE)
        .send()
        .await
        .expect("GetComputeAccess");
    let c = access.credentials().expect("Credentials");
    let (key, secret, token) = (
        c.access_key_id().expect("key").to_owned(),
        c.secret_access_key().expect("secret").to_owned(),
        c.session_token().expect("token").to_owned(),
    );
    let target = access.target().expect("Target").to_owned();
    assert_eq!(target, sample::LINUX_SDK5_INSTANCE);

    let ssm = ssm_with(
        &emu,
        Credentials::new(&key, &secret, Some(token.clone()), None, "gamelift"),
    )
    .await;
    let started = ssm
        .start_session()
        .target(&target)
        .document_name("AWS-StartPortForwardingSession")
        .parameters("portNumber", vec!["22".to_owned()])
        .reason("gamelift-access test")
        .send()
        .await
        .expect("StartSession with issued credentials");
    let session_id = started.session_id().expect("SessionId").to_owned();
    assert!(started.token_value().is_some_and(|t| !t.is_empty()));
    let url = started.stream_url().expect("StreamUrl");
    assert!(
        url.starts_with(&format!(
            "wss://ssmmessages.us-west-2.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe&cell-number="
        )),
        "{url}"
    );

    let sessions = emu.ssm_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].session_id, session_id);
    assert_eq!(sessions[0].target, target);
    assert_eq!(sessions[0].document_name, "AWS-StartPortForwardingSession");
    assert_eq!(sessions[0].parameters, json!({"portNumber": ["22"]}));
    assert_eq!(sessions[0].access_key_id, key);
    assert!(!sessions[0].terminated);

    let call = emu.calls_to("StartSession").pop().expect("logged");
    assert_eq!(call.service, "ssm");
    assert_eq!(call.protocol, Protocol::Json);
    assert_eq!(call.access_key_id, key);
    assert_eq!(call.status, 200);
    assert_eq!(
        emu.calls_to("GetComputeAccess").pop().map(|c| c.service),
        Some("gamelift".to_owned())
    );

    let done = ssm
        .terminate_session()
        .session_id(&session_id)
        .send()
        .await
        .expect("TerminateSession");
    assert_eq!(done.session_id(), Some(session_id.as_str()));
    assert!(emu.ssm_sessions()[0].terminated);
    let err = ssm
        .terminate_session()
        .session_id("emulator-00000000000000000")
        .send()
        .await
        .expect_err("unknown session");
    assert_eq!(err.code(), Some("DoesNotExistException"));

    // Another target than the credentials were issued for.
    let err = ssm
        .start_session()
        .target(sample::LINUX_SDK5_REMOTE_INSTANCE)
        .send()
        .await
        .expect_err("other target");
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");

    // Credentials the emulator did not issue, or without the session token,
    // or with another one.
    let strangers = [
        Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        Credentials::new(&key, &secret, None, None, "no-token"),
        Credentials::new(&key, &secret, Some(format!("{token}x")), None, "bad-token"),
    ];
    for creds in strangers {
        let ssm = ssm_with(&emu, creds).await;
        let err = ssm
            .start_session()
            .target(&target)
            .send()
            .await
            .expect_err("not issued");
        assert_eq!(err.code(), Some("UnrecognizedClientException"), "{err:?}");
        assert_eq!(
            err.message(),
            Some("The security token included in the request is invalid.")
        );
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    }
    assert_eq!(emu.ssm_sessions().len(), 1);
}

/// A POST / head for `target`, really signed (HMAC) for `service` with the
/// test identity.
fn signed_head(emu: &gamelift_emulator::Emulator, target: &str, service: &str, body: &[u8]) -> String {
    let date = "20240102T030405Z";
    let host = emu.addr().to_string();
    let headers = [
        ("host", host.as_str()),
        ("x-amz-date", date),
        ("x-amz-target", target),
        ("content-type", "application/x-amz-json-1.1"),
    ];
    let auth = gamelift_emulator::sigv4::authorization(
        "POST",
        "/",
        &headers,
        body,
        "AKIDEXAMPLE",
        "secret",
        "us-west-2",
        service,
        date,
    );
    format!(
        "POST / HTTP/1.1\r\nX-Amz-Target: {target}\r\nX-Amz-Date: {date}\r\n\
         Content-Type: application/x-amz-json-1.1\r\nAuthorization: {auth}\r\n"
    )
}

#[test]
fn signing_service_must_match_the_target() {
    let emu = emulator();
    let cases = [
        ("AmazonSSM.TerminateSession", "gamelift", 403),
        ("GameLift.ListFleets", "ssm", 403),
        ("GameLift.ListFleets", "gamelift", 200),
        ("AmazonSSM.SendCommand", "ssm", 400),
    ];
    for (target, service, want) in cases {
        let head = signed_head(&emu, target, service, b"{}");
        let (status, _, body) = raw_request(&emu, &head, b"{}");
        assert_eq!(
            status,
            want,
            "{target} signed for {service}: {}",
            String::from_utf8_lossy(&body)
        );
        if want == 403 {
            let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
            assert_eq!(json["__type"], "InvalidSignatureException");
        }
    }
    let services: Vec<_> = emu.calls().into_iter().map(|c| c.service).collect();
    assert_eq!(services, ["ssm", "gamelift", "gamelift", "ssm"]);
}

#[test]
fn signatures_are_checked_with_hmac() {
    let emu = emulator();
    let good = signed_head(&emu, "GameLift.ListFleets", "gamelift", b"{}");
    let (status, _, _) = raw_request(&emu, &good, b"{}");
    assert_eq!(status, 200);

    // The same signature over a different body.
    let (status, _, body) = raw_request(&emu, &good, b"{ }");
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
    assert_eq!(json["__type"], "InvalidSignatureException");
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The request signature we calculated does not match")),
        "{json}"
    );

    // A well-formed signature by a key the emulator does not know.
    let stranger = good.replace("Credential=AKIDEXAMPLE/", "Credential=AKIDSTRANGER/");
    let (status, _, body) = raw_request(&emu, &stranger, b"{}");
    assert_eq!(status, 400);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON error");
    assert_eq!(json["__type"], "UnrecognizedClientException");

    // A registered identity signs fine; the wrong secret for it does not.
    emu.add_identity("AKIDADDED", "added-secret");
    for (secret, want) in [("added-secret", 200), ("not-it", 403)] {
        let date = "20240102T030405Z";
        let host = emu.addr().to_string();
        let auth = gamelift_emulator::sigv4::authorization(
            "POST",
            "/",
            &[
                ("host", host.as_str()),
                ("x-amz-date", date),
                ("x-amz-target", "GameLift.ListFleets"),
            ],
            b"{}",
            "AKIDADDED",
            secret,
            "us-west-2",
            "gamelift",
            date,
        );
        let head = format!(
            "POST / HTTP/1.1\r\nX-Amz-Target: GameLift.ListFleets\r\nX-Amz-Date: {date}\r\n\
             Authorization: {auth}\r\n"
        );
        let (status, _, _) = raw_request(&emu, &head, b"{}");
        assert_eq!(status, want, "secret {secret}");
    }
}

#[test]
fn checkip_serves_the_configured_public_ip() {
    let emu = emulator();
    assert_eq!(emu.checkip_url(), format!("{}/checkip", emu.endpoint()));
    let (status, _, _) = raw_request(&emu, "GET /checkip HTTP/1.1\r\n", b"");
    assert_eq!(status, 503);
    emu.set_public_ip(Some("198.51.100.7".to_owned()));
    let (status, head, body) = raw_request(&emu, "GET /checkip HTTP/1.1\r\n", b"");
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: text/plain"), "{head}");
    assert_eq!(String::from_utf8_lossy(&body).trim(), "198.51.100.7");
    assert_eq!(emu.public_ip_lookups(), 2);
    assert!(emu.calls().is_empty(), "not an API call");
}

#[tokio::test]
async fn aws_cli_agrees_on_list_fleets_and_get_compute_access() {
    let emu = emulator();
    let gl = client(&emu, "us-west-2").await;

    let sdk = gl.list_fleets().send().await.expect("SDK ListFleets");
    let cli = aws_cli_json(&emu, &["gamelift", "list-fleets"]);
    assert_eq!(cli, json!({"FleetIds": sdk.fleet_ids()}));

    let sdk = gl
        .get_compute_access()
        .fleet_id(sample::CONTAINER_FLEET)
        .compute_name(sample::CONTAINER_COMPUTE)
        .send()
        .await
        .expect("SDK GetComputeAccess");
    let mut cli = aws_cli_json(
        &emu,
        &[
            "gamelift",
            "get-compute-access",
            "--fleet-id",
            sample::CONTAINER_FLEET,
            "--compute-name",
            sample::CONTAINER_COMPUTE,
        ],
    );
    // Credentials differ per call; both sets must be ones the emulator issued.
    let cli_creds = cli
        .as_object_mut()
        .and_then(|o| o.remove("Credentials"))
        .expect("CLI got Credentials");
    let issued = emu.issued_compute_credentials();
    assert_eq!(issued.len(), 2);
    assert_eq!(
        cli_creds,
        json!({
            "AccessKeyId": issued[1].access_key_id,
            "SecretAccessKey": issued[1].secret_access_key,
            "SessionToken": issued[1].session_token,
        })
    );
    assert_eq!(
        sdk.credentials().and_then(|c| c.access_key_id()),
        Some(issued[0].access_key_id.as_str())
    );
    let from_sdk = json!({
        "FleetId": sdk.fleet_id(),
        "FleetArn": sdk.fleet_arn(),
        "ComputeName": sdk.compute_name(),
        "ComputeArn": sdk.compute_arn(),
        "Target": sdk.target(),
        "ContainerIdentifiers": sdk.container_identifiers().iter().map(|c| json!({
            "ContainerName": c.container_name(),
            "ContainerRuntimeId": c.container_runtime_id(),
        })).collect::<Vec<_>>(),
    });
    assert_eq!(cli, from_sdk);
    let protocols: Vec<_> = emu
        .calls_to("GetComputeAccess")
        .into_iter()
        .map(|c| c.protocol)
        .collect();
    assert_eq!(protocols, [Protocol::Cbor, Protocol::Json]);
}
