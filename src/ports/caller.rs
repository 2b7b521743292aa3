//! Who "the caller" is: the CIDR a port is opened to.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::PortError;

/// Where the caller's public IP is looked up by default: AWS's own service,
/// which answers with the bare address. `--ip-lookup-url` (or
/// `GAMELIFT_ACCESS_IP_LOOKUP_URL`) replaces it.
pub const DEFAULT_LOOKUP_URL: &str = "https://checkip.amazonaws.com/";

/// `--cidr`: a CIDR or a bare address (which becomes /32 or /128).
/// Host bits are cleared, as GameLift expects a network address.
pub fn parse_cidr(s: &str) -> Result<IpNet, PortError> {
    let net = match s.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => s
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| PortError::BadCidr(s.to_owned()))?,
    };
    Ok(net.trunc())
}

/// The caller's public address as one host: v4 → /32, v6 → /128.
pub async fn lookup(url: &str) -> Result<IpNet, PortError> {
    let failed = |reason: String| PortError::Lookup {
        url: url.to_owned(),
        reason,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("gamelift-access/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let response = client.get(url).send().await.map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("HTTP {status}")));
    }
    let body = response.text().await.map_err(|e| failed(e.to_string()))?;
    let ip: IpAddr = body
        .trim()
        .parse()
        .map_err(|_| failed(format!("the answer {:?} is not an IP address", body.trim())))?;
    tracing::debug!(%ip, url, "caller's public IP");
    Ok(IpNet::from(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(parse_cidr("198.51.100.7").unwrap().to_string(), "198.51.100.7/32");
        assert_eq!(parse_cidr("2001:db8::7").unwrap().to_string(), "2001:db8::7/128");
        assert_eq!(parse_cidr("198.51.100.7/24").unwrap().to_string(), "198.51.100.0/24");
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap().prefix_len(), 0);
        assert!(parse_cidr("198.51.100.7/33").is_err());
        assert!(parse_cidr("example.com").is_err());
    }
}
