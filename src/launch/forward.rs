//! `connect --forward [BIND:]LOCAL_PORT:HOST:PORT`: a local port that leads
//! to a port on (or reachable from) the instance. ssh's `-L` on SDK 4 Linux
//! fleets; the SSM port-forwarding documents on SDK 5 fleets.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::TcpListener;

use crate::obtain::SessionParams;

/// Where the local end listens unless BIND says otherwise: this machine
/// only, never the network.
pub const DEFAULT_BIND: &str = "127.0.0.1";

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error(
        "--forward '{0}' is not [BIND:]LOCAL_PORT:HOST:PORT\n  \
         e.g. --forward 8080:localhost:80, or --forward 0.0.0.0:8080:10.0.0.5:80"
    )]
    Malformed(String),
    #[error(
        "local port {port} on {bind} is not free ({reason})\n  \
         pick another LOCAL_PORT, or stop what listens there"
    )]
    Busy { bind: String, port: u16, reason: String },
}

/// One `--forward`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub bind: String,
    pub local_port: u16,
    pub host: String,
    pub port: u16,
}

impl Forward {
    /// `[BIND:]LOCAL_PORT:HOST:PORT`, as ssh's `-L` takes it; an IPv6 BIND
    /// or HOST goes in brackets (`[::1]:8080:[::1]:80`).
    pub fn parse(spec: &str) -> Result<Forward, ForwardError> {
        let malformed = || ForwardError::Malformed(spec.to_owned());
        let parts = split_fields(spec).ok_or_else(malformed)?;
        let (bind, rest) = match parts.len() {
            3 => (DEFAULT_BIND.to_owned(), &parts[..]),
            4 => (parts[0].clone(), &parts[1..]),
            _ => return Err(malformed()),
        };
        let port = |s: &str| s.parse::<u16>().ok().filter(|p| *p != 0);
        let (local_port, host, remote_port) = (
            port(&rest[0]).ok_or_else(malformed)?,
            rest[1].clone(),
            port(&rest[2]).ok_or_else(malformed)?,
        );
        let host_ok = |h: &str| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'))
        };
        if !host_ok(&host) || !host_ok(&bind) {
            return Err(malformed());
        }
        Ok(Forward {
            bind,
            local_port,
            host,
            port: remote_port,
        })
    }

    /// Fails unless the local end can listen: checked before any API call,
    /// so a busy port costs no secret.
    pub fn check_free(&self) -> Result<(), ForwardError> {
        let busy = |reason: String| ForwardError::Busy {
            bind: self.bind.clone(),
            port: self.local_port,
            reason,
        };
        let bind = if self.bind == "localhost" {
            DEFAULT_BIND
        } else {
            &self.bind
        };
        let listener = TcpListener::bind((bind, self.local_port)).map_err(|e| busy(e.to_string()))?;
        drop(listener);
        Ok(())
    }

    /// Whether HOST is the instance itself.
    pub fn is_local_host(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1")
    }

    /// `-L BIND:LOCAL_PORT:HOST:PORT`.
    pub fn ssh_args(&self) -> [OsString; 2] {
        let bracket = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_owned()
            }
        };
        [
            "-L".into(),
            format!(
                "{}:{}:{}:{}",
                bracket(&self.bind),
                self.local_port,
                bracket(&self.host),
                self.port
            )
            .into(),
        ]
    }

    /// The SSM session that forwards this port:
    /// `AWS-StartPortForwardingSession` to a port on the instance, or
    /// `AWS-StartPortForwardingSessionToRemoteHost` to another host.
    pub fn ssm_params(&self, target: &str) -> SessionParams {
        let mut parameters = BTreeMap::from([
            ("portNumber".to_owned(), vec![self.port.to_string()]),
            ("localPortNumber".to_owned(), vec![self.local_port.to_string()]),
        ]);
        let document = if self.is_local_host() {
            "AWS-StartPortForwardingSession"
        } else {
            parameters.insert("host".to_owned(), vec![self.host.clone()]);
            "AWS-StartPortForwardingSessionToRemoteHost"
        };
        SessionParams {
            target: target.to_owned(),
            document_name: Some(document.to_owned()),
            parameters,
        }
    }
}

/// Splits on `:`, keeping `[…]` (IPv6) fields whole.
fn split_fields(spec: &str) -> Option<Vec<String>> {
    let mut fields = vec![];
    let mut rest = spec;
    loop {
        let (field, tail) = if let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            let after = &inner[close + 1..];
            (
                inner[..close].to_owned(),
                after.strip_prefix(':').or((after.is_empty()).then_some(""))?,
            )
        } else {
            match rest.split_once(':') {
                Some((f, t)) => (f.to_owned(), t),
                None => (rest.to_owned(), ""),
            }
        };
        fields.push(field);
        if tail.is_empty() {
            return (!rest.ends_with(':')).then_some(fields);
        }
        rest = tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            Forward::parse("8080:localhost:80").unwrap(),
            Forward {
                bind: "127.0.0.1".into(),
                local_port: 8080,
                host: "localhost".into(),
                port: 80
            }
        );
        let f = Forward::parse("0.0.0.0:9000:10.0.0.5:7777").unwrap();
        assert_eq!((f.bind.as_str(), f.host.as_str()), ("0.0.0.0", "10.0.0.5"));
        let f = Forward::parse("[::1]:8080:[fe80::1]:80").unwrap();
        assert_eq!((f.bind.as_str(), f.host.as_str()), ("::1", "fe80::1"));
        assert_eq!(f.ssh_args()[1], "[::1]:8080:[fe80::1]:80");
        for bad in [
            "",
            "8080",
            "8080:80",
            "x:localhost:80",
            "8080:localhost:0",
            "1:2:3:4:5",
            "8080::80",
            "8080:h;x:80",
            "8080:localhost:",
        ] {
            assert!(Forward::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssm_documents() {
        let local = Forward::parse("8080:localhost:80").unwrap().ssm_params("i-1");
        assert_eq!(
            local.to_json(),
            serde_json::json!({"Target": "i-1", "DocumentName": "AWS-StartPortForwardingSession",
                "Parameters": {"portNumber": ["80"], "localPortNumber": ["8080"]}})
        );
        let remote = Forward::parse("5432:db.internal:5432").unwrap().ssm_params("i-1");
        assert_eq!(
            remote.document_name.as_deref(),
            Some("AWS-StartPortForwardingSessionToRemoteHost")
        );
        assert_eq!(remote.parameters["host"], ["db.internal"]);
    }

    #[test]
    fn a_busy_port_is_caught() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let f = Forward::parse(&format!("{port}:localhost:80")).unwrap();
        assert!(f.check_free().unwrap_err().to_string().contains("not free"));
        drop(taken);
        assert!(f.check_free().is_ok());
    }
}
