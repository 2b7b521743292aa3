//! Structural SigV4 checks.
//!
//! The emulator cannot verify signatures (it does not know callers' secret
//! keys), but it does insist on everything a real endpoint checks before it
//! gets to the HMAC: a complete `Authorization` header, a credential scope for
//! the addressed service (`gamelift`, or `ssm` for `AmazonSSM.*` targets), a
//! matching `X-Amz-Date`, and signed `host` and
//! `x-amz-date` headers. That catches clients that forget to sign, sign for
//! the wrong service, or resolve a different region than intended — the
//! region from the scope is what the emulator uses to choose which fleets the
//! caller can see.

use hyper::HeaderMap;

use crate::error::{ApiError, ErrorCode};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What a well-formed signature tells us about the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedBy {
    pub(crate) access_key_id: String,
    pub(crate) region: String,
}

/// The parts of a request that could be identified before the check failed,
/// so the call log can still show who tried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partial {
    pub(crate) access_key_id: String,
    pub(crate) region: String,
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::IncompleteSignature, message)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidSignature, message)
}

/// Checks the request's SigV4 headers. On failure, also returns whatever of
/// the credential scope could be parsed.
/// `service` is the signing name the scope must carry (`gamelift`, `ssm`).
pub(crate) fn check(headers: &HeaderMap, service: &str) -> Result<SignedBy, (ApiError, Partial)> {
    let mut partial = Partial::default();
    check_into(headers, service, &mut partial).map_err(|e| (e, partial))
}

fn check_into(headers: &HeaderMap, expected_service: &str, partial: &mut Partial) -> Result<SignedBy, ApiError> {
    let Some(auth) = headers.get(hyper::header::AUTHORIZATION) else {
        return Err(ApiError::new(
            ErrorCode::MissingAuthenticationToken,
            "Missing Authentication Token",
        ));
    };
    let auth = auth
        .to_str()
        .map_err(|_| incomplete("Authorization header is not valid ASCII"))?;

    let Some(params) = auth.strip_prefix(ALGORITHM).filter(|rest| rest.starts_with(' ')) else {
        let algorithm = auth.split_whitespace().next().unwrap_or("");
        return Err(incomplete(format!(
            "Unsupported Authorization Type: '{algorithm}'; only {ALGORITHM} is accepted"
        )));
    };

    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in params.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let amz_date = headers.get("x-amz-date").and_then(|v| v.to_str().ok());

    // Real endpoints list every missing element in one message; so do we.
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if amz_date.is_none() {
        missing.push("Authorization header requires existence of a 'X-Amz-Date' header.");
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) =
        (credential, signed_headers, signature, amz_date)
    else {
        return Err(incomplete(format!("{} Authorization={auth}", missing.join(" "))));
    };

    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope.as_slice() else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        )));
    };
    partial.access_key_id = (*access_key_id).to_owned();
    partial.region = (*region).to_owned();

    if access_key_id.is_empty() {
        return Err(incomplete("Credential has an empty access key id"));
    }
    if *terminator != "aws4_request" {
        return Err(invalid(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if *service != expected_service {
        return Err(invalid(format!(
            "Credential should be scoped to correct service: '{expected_service}'."
        )));
    }
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid(format!(
            "Credential should be scoped to a valid region, not '{region}'."
        )));
    }
    if !is_amz_date(amz_date) {
        return Err(invalid(format!(
            "X-Amz-Date must be in ISO-8601 basic format (yyyyMMdd'T'HHmmss'Z'), got '{amz_date}'."
        )));
    }
    if date.len() != 8 || !amz_date.starts_with(date) {
        return Err(invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{date}' != '{}', from '{amz_date}'.",
            amz_date.get(..8).unwrap_or(amz_date)
        )));
    }

    let signed: Vec<&str> = signed_headers.split(';').collect();
    if signed
        .iter()
        .any(|h| h.is_empty() || h.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err(invalid(format!(
            "SignedHeaders must be a ';'-separated list of lowercase header names, got '{signed_headers}'."
        )));
    }
    for required in ["host", "x-amz-date"] {
        if !signed.contains(&required) {
            return Err(invalid(format!(
                "'{required}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    if let Some(absent) = signed.iter().find(|h| !headers.contains_key(**h)) {
        return Err(invalid(format!(
            "Signed header '{absent}' is not present in the request."
        )));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid(
            "The request signature we calculated does not match the signature you provided. \
             Signature must be 64 lowercase hex digits.",
        ));
    }

    Ok(SignedBy {
        access_key_id: (*access_key_id).to_owned(),
        region: (*region).to_owned(),
    })
}

/// `yyyyMMddTHHmmssZ`.
fn is_amz_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const SIG: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn headers(auth: Option<&str>, date: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        if let Some(a) = auth {
            h.insert("authorization", HeaderValue::from_str(a).expect("ascii"));
        }
        if let Some(d) = date {
            h.insert("x-amz-date", HeaderValue::from_str(d).expect("ascii"));
        }
        h
    }

    fn auth(scope: &str, signed: &str, sig: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={signed}, Signature={sig}")
    }

    fn code(h: &HeaderMap) -> ErrorCode {
        check(h, "gamelift").expect_err("should be rejected").0.code
    }

    #[test]
    fn accepts_well_formed_and_reports_scope() {
        let h = headers(
            Some(&auth(
                "AKID/20240102/eu-west-1/gamelift/aws4_request",
                "host;x-amz-date",
                SIG,
            )),
            Some("20240102T030405Z"),
        );
        assert_eq!(
            check(&h, "gamelift").expect("accepted"),
            SignedBy {
                access_key_id: "AKID".into(),
                region: "eu-west-1".into()
            }
        );
    }

    #[test]
    fn picks_the_error_real_aws_would() {
        let good_scope = "AKID/20240102/us-west-2/gamelift/aws4_request";
        let date = Some("20240102T030405Z");
        assert_eq!(code(&headers(None, date)), ErrorCode::MissingAuthenticationToken);
        assert_eq!(
            code(&headers(Some(&auth(good_scope, "host;x-amz-date", SIG)), None)),
            ErrorCode::IncompleteSignature
        );
        assert_eq!(
            code(&headers(Some("AWS4-HMAC-SHA256 Credential=x"), date)),
            ErrorCode::IncompleteSignature
        );
        assert_eq!(code(&headers(Some("Bearer abc"), date)), ErrorCode::IncompleteSignature);
        let (err, partial) = check(
            &headers(
                Some(&auth(
                    "AKID/20240102/us-west-2/ec2/aws4_request",
                    "host;x-amz-date",
                    SIG,
                )),
                date,
            ),
            "gamelift",
        )
        .expect_err("wrong service");
        assert_eq!(err.code, ErrorCode::InvalidSignature);
        assert!(err.message.contains("'gamelift'"), "{}", err.message);
        assert_eq!(partial.region, "us-west-2");
        assert_eq!(
            code(&headers(Some(&auth(good_scope, "host;x-amz-date", "ABC")), date)),
            ErrorCode::InvalidSignature
        );
        assert_eq!(
            code(&headers(Some(&auth(good_scope, "x-amz-date", SIG)), date)),
            ErrorCode::InvalidSignature
        );
        assert_eq!(
            code(&headers(
                Some(&auth(good_scope, "host;x-amz-date", SIG)),
                Some("20240103T000000Z")
            )),
            ErrorCode::InvalidSignature
        );
        assert_eq!(
            code(&headers(
                Some(&auth(good_scope, "host;x-amz-date;x-amz-target", SIG)),
                date
            )),
            ErrorCode::InvalidSignature
        );
    }
}
