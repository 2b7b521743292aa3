//! SSM sessions: `aws ssm start-session`, or session-manager-plugin driven
//! directly with the contract the AWS CLI uses.
//!
//! Credentials reach the child through its environment only, after the
//! inherited AWS identity is scrubbed (as aws-vault's exec does), so the
//! session runs as the compute's temporary role and nothing else.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use super::ClientCommand;
use crate::obtain::{SessionParams, TempCredentials};

pub const INSTALL_HINT: &str = "install the Session Manager plugin: \
https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html \
(and, optionally, the AWS CLI: https://aws.amazon.com/cli/)";

/// The environment variable that carries StartSession's response to the
/// plugin, so the session token never appears on a command line.
pub const RESPONSE_VAR: &str = "AWS_SSM_START_SESSION_RESPONSE";

/// Inherited variables that could make the child act as someone else.
pub const SCRUBBED: [&str; 6] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
];

/// `aws ssm start-session --target T --region R [--endpoint-url U]
/// [--document-name D --parameters JSON]`.
pub fn aws_cli(aws: PathBuf, params: &SessionParams, region: &str, endpoint: Option<&str>) -> ClientCommand {
    let mut args: Vec<std::ffi::OsString> = vec![
        "ssm".into(),
        "start-session".into(),
        "--target".into(),
        params.target.clone().into(),
    ];
    args.extend(["--region".into(), region.into()]);
    if let Some(url) = endpoint {
        args.extend(["--endpoint-url".into(), url.into()]);
    }
    if let Some(doc) = &params.document_name {
        args.extend(["--document-name".into(), doc.into()]);
    }
    if !params.parameters.is_empty() {
        let json = serde_json::to_string(&params.parameters).expect("strings serialize");
        args.extend(["--parameters".into(), json.into()]);
    }
    ClientCommand { program: aws, args }
}

/// `session-manager-plugin AWS_SSM_START_SESSION_RESPONSE <region>
/// StartSession "" <request JSON> <endpoint>`: the argv the AWS CLI uses
/// with plugins new enough to read the response from the environment.
pub fn plugin(plugin: PathBuf, params: &SessionParams, region: &str, endpoint: &str) -> ClientCommand {
    ClientCommand {
        program: plugin,
        args: vec![
            RESPONSE_VAR.into(),
            region.into(),
            "StartSession".into(),
            "".into(),
            params.to_json().to_string().into(),
            endpoint.into(),
        ],
    }
}

/// Scrubs the inherited AWS identity and sets the compute's credentials,
/// plus any extra secret variables (the plugin's session response).
pub fn set_env(cmd: &mut tokio::process::Command, creds: &TempCredentials, extra: &[(&str, &SecretString)]) {
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.expose_secret())
        .env("AWS_SESSION_TOKEN", creds.session_token.expose_secret());
    for (name, value) in extra {
        cmd.env(name, value.expose_secret());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::obtain::Container;

    #[test]
    fn aws_cli_command() {
        let params = SessionParams::shell("i-0123456789abcdef0");
        let cmd = aws_cli("/usr/bin/aws".into(), &params, "us-east-1", Some("http://127.0.0.1:9"));
        assert_eq!(
            cmd.args,
            [
                "ssm",
                "start-session",
                "--target",
                "i-0123456789abcdef0",
                "--region",
                "us-east-1",
                "--endpoint-url",
                "http://127.0.0.1:9"
            ]
        );
    }

    #[test]
    fn container_exec_through_aws_cli() {
        let c = Container {
            name: "game".into(),
            runtime_id: "abc123".into(),
        };
        let params = SessionParams::container_shell("ecs:cluster_task_abc", &c);
        let cmd = aws_cli("aws".into(), &params, "us-west-2", None);
        assert_eq!(
            cmd.args[6..],
            [
                "--document-name",
                "AWS-StartInteractiveCommand",
                "--parameters",
                r#"{"command":["sudo docker exec -it abc123 sh"]}"#
            ]
        );
    }

    #[test]
    fn plugin_argv_matches_the_aws_cli_contract() {
        let params = SessionParams::shell("i-1");
        let cmd = plugin(
            "session-manager-plugin".into(),
            &params,
            "eu-west-1",
            "https://ssm.eu-west-1.amazonaws.com",
        );
        assert_eq!(
            cmd.args,
            [
                "AWS_SSM_START_SESSION_RESPONSE",
                "eu-west-1",
                "StartSession",
                "",
                r#"{"Target":"i-1"}"#,
                "https://ssm.eu-west-1.amazonaws.com"
            ]
        );
    }
}
