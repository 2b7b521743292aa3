//! Helpers shared by the integration tests (`mod common;` in each test file).
//!
//! Every test file is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::Region;
use gamelift_emulator::{Emulator, Fixture};

/// An emulator serving the sample fixture.
pub fn emulator() -> Emulator {
    emulator_with(|_| {})
}

/// An emulator serving the sample fixture after `edit` has changed it.
pub fn emulator_with(edit: impl FnOnce(&mut Fixture)) -> Emulator {
    let mut fixture = Fixture::sample();
    edit(&mut fixture);
    Emulator::start(fixture).expect("emulator starts")
}

/// The credentials the SDK clients sign with unless a test says otherwise.
pub fn test_credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret", None, None, "test")
}

/// SDK configuration pointing at the emulator, configured the way the CLI
/// configures one, except for a tiny retry backoff so retry tests are fast.
pub async fn sdk_config(emu: &Emulator, region: &'static str, creds: Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(emu.endpoint())
        .region(Region::new(region))
        .credentials_provider(creds)
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(5)))
        .load()
        .await
}

/// A GameLift client for `region`, signing with [`test_credentials`].
pub async fn client(emu: &Emulator, region: &'static str) -> Client {
    Client::new(&sdk_config(emu, region, test_credentials()).await)
}

/// Sends a hand-written HTTP/1.1 request and returns (status, head, body).
pub fn raw_request(emu: &Emulator, head: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(emu.addr()).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let request = format!(
        "{head}Host: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        emu.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header terminator");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, head, response[split + 4..].to_vec())
}

/// The `__type` member of an RPC v2 CBOR error body.
pub fn cbor_error_type(body: &[u8]) -> String {
    let value: ciborium::Value = ciborium::from_reader(body).expect("error body is CBOR");
    value
        .as_map()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.as_text() == Some("__type"))
                .and_then(|(_, v)| v.as_text().map(str::to_owned))
        })
        .expect("__type member")
}

/// Runs the Python `aws` CLI against the emulator, returning (exit code,
/// stdout, stderr), or `None` if `aws` is not installed.
pub fn aws_cli(emu: &Emulator, args: &[&str]) -> Option<(i32, String, String)> {
    let output = Command::new("aws")
        .args(args)
        .args([
            "--endpoint-url",
            &emu.endpoint(),
            "--region",
            "us-west-2",
            "--output",
            "json",
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDCLI")
        .env("AWS_SECRET_ACCESS_KEY", "cli-secret")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_GAMELIFT")
        .output(); // waits for the child
    match output {
        Ok(out) => Some((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("cannot run aws: {e}"),
    }
}

/// Runs the Python `aws` CLI and returns the JSON it printed; panics if it
/// is missing or fails.
pub fn aws_cli_json(emu: &Emulator, args: &[&str]) -> serde_json::Value {
    let Some((code, stdout, stderr)) = aws_cli(emu, args) else {
        panic!("the `aws` CLI is not installed: pip install awscli (.ci/run does)");
    };
    assert!(code == 0, "aws {args:?} failed: {stderr}");
    serde_json::from_str(&stdout).expect("aws printed JSON")
}
