//! The `gamelift-emulator` binary: announces its endpoint, serves, and exits
//! cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn binary_announces_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gamelift-emulator"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn emulator");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read banner");
    let endpoint = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
        .to_owned();
    assert!(endpoint.starts_with("127.0.0.1:"), "{endpoint}");

    // Unsigned request: must be answered (403), proving it serves.
    let mut stream = TcpStream::connect(&endpoint).expect("connect");
    stream
        .write_all(
            format!(
                "POST / HTTP/1.1\r\nHost: {endpoint}\r\nX-Amz-Target: GameLift.DescribeBuild\r\n\
                 Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            )
            .as_bytes(),
        )
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().expect("wait for emulator");
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn bad_arguments_exit_2() {
    let status = Command::new(env!("CARGO_BIN_EXE_gamelift-emulator"))
        .arg("--bogus")
        .stderr(Stdio::null())
        .status()
        .expect("run emulator");
    assert_eq!(status.code(), Some(2));
}

#[test]
fn the_sample_prints_as_a_fixture_that_loads_back() {
    let out = Command::new(env!("CARGO_BIN_EXE_gamelift-emulator"))
        .arg("--print-sample")
        .output()
        .expect("run emulator");
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let fixture = gamelift_emulator::Fixture::from_json_str(&printed).expect("the sample loads back");
    assert_eq!(fixture, gamelift_emulator::Fixture::sample());
}
