//! The S3 front: a second loopback listener that checks every S3 request
//! the way S3 does and forwards the ones it accepts to a real `moto_server`.
//!
//! Checks, in S3's order: an `Authorization: AWS4-HMAC-SHA256` header
//! (anonymous and query-string-signed requests are refused); a known access
//! key (`InvalidAccessKeyId`); the session token and expiry of the
//! credential (`InvalidToken`, `ExpiredToken`); the payload hash
//! (`x-amz-content-sha256`: a hex SHA-256 that must match the body,
//! `UNSIGNED-PAYLOAD`, or an `aws-chunked` body with signed chunks or an
//! unsigned trailer, which is decoded and, if signed, verified chunk by
//! chunk); the SigV4 signature, recomputed with HMAC-SHA256 and the secret
//! the emulator knows (`SignatureDoesNotMatch`); and the credential's scope
//! (`AccessDenied`). Errors are S3's XML error documents with S3's status
//! codes. Only path-style addressing (`http://127.0.0.1:PORT/bucket/key`) is
//! served, which is what SDKs use for an IP-address endpoint.
//!
//! # Registering credentials
//!
//! Which keys S3 accepts is a registry of [`S3Credential`]s, each with a
//! [`S3Scope`], an optional expiry and an optional session token:
//!
//! * the long-term test identities ([`crate::TEST_IDENTITIES`],
//!   [`crate::Emulator::add_identity`]) may do anything (scope
//!   [`S3Scope::Everything`]), so tests can inspect buckets;
//! * CreateBuild / RequestUploadCredentials issue session credentials
//!   scoped to one build's object (kept with the GameLift state);
//! * other emulated services (or tests) register their own with
//!   [`crate::Emulator::register_s3_credential`], e.g. a Lightsail bucket
//!   access key as `S3Scope::Bucket(name)` with no token and no expiry.
//!
//! [`crate::Emulator::on_s3_access`] installs a hook called (outside every
//! lock) after each request S3 accepted — signature, token, expiry and scope
//! all good — with the access key that made it, e.g. to keep a "last used"
//! time. [`crate::Emulator::s3_requests`] lists every request, accepted or
//! not.
//!
//! [`crate::Emulator::inject`] takes S3 operation names too (`UploadPart`,
//! `CreateMultipartUpload`, `CompleteMultipartUpload`, `PutObject`,
//! `ListObjects`, …): a fault applies once the request is authenticated.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};

use crate::fault::Fault;
use crate::server::{Shared, lock};
use crate::sigv4::{self, SignedBy, SignedRequest};

/// What an [`S3Credential`] may touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum S3Scope {
    /// Every bucket and key (the long-term test identities).
    Everything,
    /// Every key of one bucket, and the bucket itself (listing, multipart
    /// listing).
    Bucket(String),
    /// Exactly one object (GameLift upload credentials).
    Object {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// The keys of one bucket that start with `prefix`.
    Prefix {
        /// The bucket.
        bucket: String,
        /// The key prefix.
        prefix: String,
    },
}

impl S3Scope {
    /// Whether a request on `bucket` (none: the service, e.g. ListBuckets)
    /// and `key` (none: the bucket itself) is inside the scope.
    pub fn allows(&self, bucket: Option<&str>, key: Option<&str>) -> bool {
        match self {
            S3Scope::Everything => true,
            S3Scope::Bucket(b) => bucket == Some(b.as_str()),
            S3Scope::Object { bucket: b, key: k } => bucket == Some(b.as_str()) && key == Some(k.as_str()),
            S3Scope::Prefix { bucket: b, prefix } => {
                bucket == Some(b.as_str()) && key.is_some_and(|k| k.starts_with(prefix.as_str()))
            }
        }
    }
}

/// A credential the S3 front accepts. `Debug` redacts the secret and token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Credential {
    /// The access key id (`AKIA…` long-term, `ASIA…` session).
    pub access_key_id: String,
    /// The secret the signature is checked with.
    pub secret_access_key: String,
    /// Required as `X-Amz-Security-Token` when set (session credentials).
    pub session_token: Option<String>,
    /// After this instant requests get `ExpiredToken`.
    pub expires_at: Option<SystemTime>,
    /// After this many accepted requests, further ones get `ExpiredToken`:
    /// a deterministic way for a test to expire credentials mid-upload.
    pub expires_after_requests: Option<u32>,
    /// What the credential may touch.
    pub scope: S3Scope,
}

impl S3Credential {
    /// A credential with no token, no expiry.
    pub fn new(access_key_id: &str, secret_access_key: &str, scope: S3Scope) -> S3Credential {
        S3Credential {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            session_token: None,
            expires_at: None,
            expires_after_requests: None,
            scope,
        }
    }
}

impl fmt::Debug for S3Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("expires_after_requests", &self.expires_after_requests)
            .field("scope", &self.scope)
            .finish()
    }
}

/// One request the S3 front answered, for tests to assert on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Access {
    /// The signing access key id; empty if unsigned.
    pub access_key_id: String,
    /// `GET`, `PUT`, …
    pub method: String,
    /// The bucket addressed, if any.
    pub bucket: Option<String>,
    /// The (decoded) key addressed, if any.
    pub key: Option<String>,
    /// The raw query string (`partNumber=2&uploadId=…`).
    pub query: String,
    /// HTTP status answered.
    pub status: u16,
    /// The S3 error code, for requests the front or moto refused.
    pub error_code: Option<String>,
}

impl S3Access {
    /// The value of query parameter `name`, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k == name).then(|| percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    }
}

/// Called after every request S3 accepted.
pub type S3AccessHook = Arc<dyn Fn(&S3Access) + Send + Sync>;

/// The S3 front's mutable state.
#[derive(Default)]
pub(crate) struct S3State {
    pub(crate) moto: Option<SocketAddr>,
    pub(crate) credentials: HashMap<String, S3Credential>,
    /// Accepted requests per access key, for `expires_after_requests`.
    pub(crate) uses: HashMap<String, u32>,
    pub(crate) log: Vec<S3Access>,
    pub(crate) hooks: Vec<S3AccessHook>,
}

impl fmt::Debug for S3State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3State")
            .field("moto", &self.moto)
            .field("credentials", &self.credentials)
            .field("requests", &self.log.len())
            .field("hooks", &self.hooks.len())
            .finish()
    }
}

/// An S3 error: code, status, message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct S3Error {
    code: &'static str,
    status: u16,
    message: String,
}

impl S3Error {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> S3Error {
        S3Error {
            code,
            status,
            message: message.into(),
        }
    }

    fn access_denied() -> S3Error {
        S3Error::new("AccessDenied", 403, "Access Denied")
    }
}

/// S3's XML error document.
fn error_response(err: &S3Error, head_only: bool) -> Response<Full<Bytes>> {
    let body = if head_only {
        Bytes::new()
    } else {
        Bytes::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>\
             <RequestId>E1A1E1A1EMULATOR</RequestId><HostId>gamelift-emulator</HostId></Error>",
            err.code,
            xml_escape(&err.message)
        ))
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(err.status).unwrap_or(StatusCode::FORBIDDEN);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/xml"),
    );
    response
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Accepts S3 connections until `shutdown` resolves.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    crate::server::accept_loop(listener, shared, shutdown, "S3", |shared, req| async move {
        handle(&shared, req).await
    })
    .await;
}

/// Bucket and decoded key of a path-style request.
fn bucket_and_key(path: &str) -> (Option<String>, Option<String>) {
    let rest = path.trim_start_matches('/');
    if rest.is_empty() {
        return (None, None);
    }
    let (bucket, key) = match rest.split_once('/') {
        Some((b, k)) => (b, (!k.is_empty()).then_some(k)),
        None => (rest, None),
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    (Some(decode(bucket)), key.map(decode))
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let (bucket, key) = bucket_and_key(parts.uri.path());
    let mut access = S3Access {
        access_key_id: String::new(),
        method: parts.method.to_string(),
        bucket,
        key,
        query: parts.uri.query().unwrap_or("").to_owned(),
        status: 0,
        error_code: None,
    };
    let head_only = parts.method == Method::HEAD;
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let err = S3Error::new("IncompleteBody", 400, format!("could not read the request body: {e}"));
            return finish(shared, access, Err(err), head_only, false);
        }
    };
    let checked = admit(shared, &parts, &body, &mut access);
    let (forward_body, extra_headers) = match checked {
        Ok(ok) => ok,
        Err(err) => return finish(shared, access, Err(err), head_only, false),
    };
    // Faults, as on the API port: after authentication, before the work.
    let fault = lock(&shared.faults).next(operation(&parts.method, access.key.is_some(), &access.query));
    let mut slow_reply = None;
    match fault {
        Some(Fault::Throttle) => {
            let err = S3Error::new(
                "SlowDown",
                503,
                "Please reduce your request rate (injected by the emulator).",
            );
            return finish(shared, access, Err(err), head_only, false);
        }
        Some(Fault::ServerError(status)) => {
            let err = S3Error::new(
                "InternalError",
                status,
                "We encountered an internal error (injected by the emulator).",
            );
            return finish(shared, access, Err(err), head_only, false);
        }
        Some(Fault::Garbage) => {
            let garbage = Response::new(Full::new(Bytes::from_static(b"\x00\xffnot xml")));
            return finish(shared, access, Ok(garbage), head_only, false);
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::SlowReply(delay)) => slow_reply = Some(delay),
        None => {}
    }
    let response = forward(shared, &parts, forward_body, &extra_headers).await;
    if let Some(delay) = slow_reply {
        tokio::time::sleep(delay).await;
    }
    let written = matches!(&response, Ok(r) if r.status().is_success()).then(|| access.clone());
    let response = finish(shared, access, response, head_only, true);
    if let Some(access) = written {
        crate::ops::builds::object_written(shared, &access).await;
    }
    response
}

/// The S3 operation a request is, by method, whether it names a key, and
/// query: the name faults are injected under ([`crate::Emulator::inject`]).
fn operation(method: &Method, has_key: bool, query: &str) -> &'static str {
    let has = |name: &str| {
        query
            .split('&')
            .any(|p| p == name || p.strip_prefix(name).is_some_and(|rest| rest.starts_with('=')))
    };
    match (method.as_str(), has_key) {
        ("PUT", true) if has("partNumber") && has("uploadId") => "UploadPart",
        ("PUT", true) => "PutObject",
        ("POST", true) if has("uploads") => "CreateMultipartUpload",
        ("POST", true) if has("uploadId") => "CompleteMultipartUpload",
        ("DELETE", true) if has("uploadId") => "AbortMultipartUpload",
        ("DELETE", true) => "DeleteObject",
        ("GET", true) => "GetObject",
        ("HEAD", true) => "HeadObject",
        ("GET", false) if has("uploads") => "ListMultipartUploads",
        ("GET", false) => "ListObjects",
        ("PUT", false) => "CreateBucket",
        ("HEAD", false) => "HeadBucket",
        _ => "",
    }
}

/// Records the request, runs the hooks for accepted ones, and builds the
/// response.
fn finish(
    shared: &Shared,
    mut access: S3Access,
    response: Result<Response<Full<Bytes>>, S3Error>,
    head_only: bool,
    accepted: bool,
) -> Response<Full<Bytes>> {
    let response = match response {
        Ok(r) => r,
        Err(err) => {
            access.error_code = Some(err.code.to_owned());
            error_response(&err, head_only)
        }
    };
    access.status = response.status().as_u16();
    if accepted && access.status >= 400 && access.error_code.is_none() {
        access.error_code = Some(format!("HTTP {}", access.status));
    }
    if accepted {
        // GetBucketAccessKeys' lastUsed, as Lightsail reports S3's use of a key.
        crate::state::record_bucket_key_use(&mut lock(&shared.state), &access.access_key_id, "s3");
    }
    let hooks = {
        let mut s3 = lock(&shared.s3);
        s3.log.push(access.clone());
        if accepted { s3.hooks.clone() } else { Vec::new() }
    };
    for hook in hooks {
        hook(&access);
    }
    response
}

/// The credential (with its secret) S3 knows for `access_key_id`.
fn credential_for(shared: &Shared, access_key_id: &str) -> Option<S3Credential> {
    {
        let state = lock(&shared.state);
        if let Some(secret) = state.identities.get(access_key_id) {
            return Some(S3Credential::new(access_key_id, secret, S3Scope::Everything));
        }
        if let Some(c) = state
            .upload_credentials
            .iter()
            .find(|c| c.access_key_id == access_key_id)
        {
            return Some(c.clone());
        }
        // A Lightsail bucket access key: its own bucket only, while Active.
        if let Some(k) = state
            .bucket_keys
            .iter()
            .find(|k| k.access_key_id == access_key_id && k.status == "Active")
        {
            return Some(S3Credential::new(
                access_key_id,
                &k.secret_access_key,
                S3Scope::Bucket(k.bucket.clone()),
            ));
        }
    }
    lock(&shared.s3).credentials.get(access_key_id).cloned()
}

/// All checks; on success the body to forward (aws-chunked decoded) and
/// headers to add (trailing checksums).
fn admit(
    shared: &Shared,
    parts: &Parts,
    body: &Bytes,
    access: &mut S3Access,
) -> Result<(Bytes, Vec<(String, String)>), S3Error> {
    let query = parts.uri.query().unwrap_or("");
    if query.split('&').any(|p| p.starts_with("X-Amz-Algorithm=")) {
        return Err(S3Error::new(
            "AccessDenied",
            403,
            "query-string (presigned) authentication is not supported by the emulator",
        ));
    }
    if !parts.headers.contains_key(hyper::header::AUTHORIZATION) {
        return Err(S3Error::access_denied());
    }
    let signed = sigv4::check(&parts.headers, "s3").map_err(|(e, partial)| {
        access.access_key_id = partial.access_key_id;
        S3Error::new("AuthorizationHeaderMalformed", 400, e.message)
    })?;
    access.access_key_id = signed.access_key_id.clone();
    let Some(cred) = credential_for(shared, &signed.access_key_id) else {
        return Err(S3Error::new(
            "InvalidAccessKeyId",
            403,
            "The AWS Access Key Id you provided does not exist in our records.",
        ));
    };
    let token = parts.headers.get("x-amz-security-token").map(|v| v.as_bytes());
    if let Some(expected) = &cred.session_token
        && token != Some(expected.as_bytes())
    {
        return Err(S3Error::new(
            "InvalidToken",
            400,
            "The provided token is malformed or otherwise invalid.",
        ));
    }
    let expired_by_time = cred.expires_at.is_some_and(|t| SystemTime::now() > t);
    let used = lock(&shared.s3).uses.get(&cred.access_key_id).copied().unwrap_or(0);
    let expired_by_use = cred.expires_after_requests.is_some_and(|n| used >= n);
    if expired_by_time || expired_by_use {
        return Err(S3Error::new("ExpiredToken", 400, "The provided token has expired."));
    }

    let Some(payload) = parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) else {
        return Err(S3Error::new(
            "InvalidRequest",
            400,
            "Missing required header for this request: x-amz-content-sha256",
        ));
    };
    let req = SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        payload_hash: payload,
    };
    if !sigv4::verify(&signed, &req, &cred.secret_access_key) {
        return Err(S3Error::new(
            "SignatureDoesNotMatch",
            403,
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        ));
    }
    let decoded = match payload {
        "UNSIGNED-PAYLOAD" => (body.clone(), Vec::new()),
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => decode_chunked(body, None)?,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" | "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => {
            decode_chunked(body, Some((&signed, cred.secret_access_key.as_str())))?
        }
        hash => {
            if sigv4::sha256_hex(body) != hash {
                return Err(S3Error::new(
                    "XAmzContentSHA256Mismatch",
                    400,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
            (body.clone(), Vec::new())
        }
    };
    if !cred.scope.allows(access.bucket.as_deref(), access.key.as_deref()) {
        return Err(S3Error::access_denied());
    }
    *lock(&shared.s3).uses.entry(cred.access_key_id.clone()).or_default() += 1;
    Ok(decoded)
}

/// Decodes an `aws-chunked` body; with `signing`, verifies every chunk's
/// chained signature. Returns the payload and the trailing headers.
fn decode_chunked(body: &[u8], signing: Option<(&SignedBy, &str)>) -> Result<(Bytes, Vec<(String, String)>), S3Error> {
    let bad = |what: &str| S3Error::new("IncompleteBody", 400, format!("malformed aws-chunked body: {what}"));
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    let mut previous = signing.map(|(s, _)| s.signature.clone());
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| bad("no chunk header"))?;
        let header = std::str::from_utf8(&rest[..line_end]).map_err(|_| bad("chunk header not UTF-8"))?;
        rest = &rest[line_end + 2..];
        let (size, ext) = header.split_once(';').unwrap_or((header, ""));
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| bad("chunk size"))?;
        if rest.len() < size {
            return Err(bad("chunk shorter than its size"));
        }
        let chunk = &rest[..size];
        rest = &rest[size..];
        if let (Some((signed, secret)), Some(prev)) = (signing, previous.as_mut()) {
            let sent = ext.strip_prefix("chunk-signature=").unwrap_or("");
            let want = sigv4::chunk_signature(signed, secret, prev, chunk);
            if sent != want {
                return Err(S3Error::new(
                    "SignatureDoesNotMatch",
                    403,
                    "The request signature we calculated does not match the signature you provided.",
                ));
            }
            *prev = want;
        }
        out.extend_from_slice(chunk);
        if size == 0 {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").ok_or_else(|| bad("no CRLF after chunk"))?;
    }
    let trailers = String::from_utf8_lossy(rest)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .filter(|(k, _)| k.starts_with("x-amz-checksum-"))
        .collect();
    Ok((Bytes::from(out), trailers))
}

/// Headers that describe the client's connection or its aws-chunked
/// framing, not the object: dropped before forwarding.
const DROPPED: &[&str] = &[
    "host",
    "connection",
    "expect",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "x-amz-decoded-content-length",
    "x-amz-trailer",
    "x-amz-content-sha256",
];

/// Sends the request to moto and relays its answer.
async fn forward(
    shared: &Shared,
    parts: &Parts,
    body: Bytes,
    extra: &[(String, String)],
) -> Result<Response<Full<Bytes>>, S3Error> {
    let Some(moto) = lock(&shared.s3).moto else {
        return Err(S3Error::new(
            "ServiceUnavailable",
            503,
            "no moto_server behind the S3 front",
        ));
    };
    let mut builder = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(hyper::header::HOST, moto.to_string())
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header(hyper::header::CONTENT_LENGTH, body.len());
    for (name, value) in &parts.headers {
        if !DROPPED.contains(&name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    if let Some(enc) = parts
        .headers
        .get(hyper::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
    {
        let rest: Vec<&str> = enc.split(',').map(str::trim).filter(|e| *e != "aws-chunked").collect();
        if !rest.is_empty() {
            builder = builder.header(hyper::header::CONTENT_ENCODING, rest.join(","));
        }
    }
    for (name, value) in extra {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request = builder
        .body(Full::new(body))
        .map_err(|e| S3Error::new("InternalError", 500, format!("cannot build the request to moto: {e}")))?;
    let unavailable = |e: &dyn fmt::Display| S3Error::new("ServiceUnavailable", 503, format!("moto_server: {e}"));
    let stream = TcpStream::connect(moto).await.map_err(|e| unavailable(&e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unavailable(&e))?;
    let conn = tokio::spawn(conn);
    let answer = sender.send_request(request).await.map_err(|e| unavailable(&e))?;
    let (mut head, body) = answer.into_parts();
    let mut body = body.collect().await.map_err(|e| unavailable(&e))?.to_bytes();
    drop(sender);
    let _ = conn.await;
    // moto names CompleteMultipartUpload's root element
    // `CompleteMultipartUploadResponse`; S3 (and so the Rust SDK, which
    // checks it) uses `CompleteMultipartUploadResult`.
    if parts.method == Method::POST && parts.uri.query().is_some_and(|q| q.contains("uploadId=")) {
        let text = String::from_utf8_lossy(&body);
        if text.contains("CompleteMultipartUploadResponse") {
            body = Bytes::from(text.replace("CompleteMultipartUploadResponse", "CompleteMultipartUploadResult"));
            head.headers.remove(hyper::header::CONTENT_LENGTH);
        }
    }
    head.headers.remove(hyper::header::TRANSFER_ENCODING);
    head.headers.remove(hyper::header::CONNECTION);
    Ok(Response::from_parts(head, Full::new(body)))
}

/// Fetches an object straight from moto (no checks): for the emulator's own
/// use, e.g. to see whether an uploaded build is a zip.
pub(crate) async fn get_object(moto: SocketAddr, bucket: &str, key: &str) -> Option<Bytes> {
    let path = format!(
        "/{}/{}",
        percent_encoding::utf8_percent_encode(bucket, percent_encoding::NON_ALPHANUMERIC),
        key.split('/')
            .map(|s| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string())
            .collect::<Vec<_>>()
            .join("/")
    );
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(hyper::header::HOST, moto.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let stream = TcpStream::connect(moto).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    let conn = tokio::spawn(conn);
    let answer = sender.send_request(request).await.ok()?;
    let ok = answer.status().is_success();
    let body = answer.into_body().collect().await.ok()?.to_bytes();
    drop(sender);
    let _ = conn.await;
    ok.then_some(body)
}

/// Creates `bucket` in moto in `region` (no checks; idempotent).
pub(crate) fn create_bucket_blocking(moto: SocketAddr, bucket: &str, region: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let body = if region == "us-east-1" {
        String::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
    };
    let mut stream = std::net::TcpStream::connect(moto)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {moto}\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let ok = response.starts_with("HTTP/1.1 200") || response.contains("BucketAlreadyOwnedByYou");
    if ok {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "moto_server did not create bucket {bucket}: {}",
            response.lines().next().unwrap_or("")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_named_as_s3_names_them() {
        assert_eq!(operation(&Method::PUT, true, "partNumber=2&uploadId=abc"), "UploadPart");
        assert_eq!(operation(&Method::PUT, true, ""), "PutObject");
        assert_eq!(operation(&Method::POST, true, "uploads"), "CreateMultipartUpload");
        assert_eq!(operation(&Method::POST, true, "uploads="), "CreateMultipartUpload");
        assert_eq!(
            operation(&Method::POST, true, "uploadId=abc"),
            "CompleteMultipartUpload"
        );
        assert_eq!(operation(&Method::DELETE, true, "uploadId=abc"), "AbortMultipartUpload");
        assert_eq!(operation(&Method::GET, false, "list-type=2"), "ListObjects");
        assert_eq!(operation(&Method::GET, false, "uploads"), "ListMultipartUploads");
        assert_eq!(operation(&Method::PUT, true, "xpartNumber=1&uploadId=a"), "PutObject");
    }

    #[test]
    fn scopes() {
        let obj = S3Scope::Object {
            bucket: "b".into(),
            key: "k/1.zip".into(),
        };
        assert!(obj.allows(Some("b"), Some("k/1.zip")));
        assert!(!obj.allows(Some("b"), Some("k/2.zip")));
        assert!(!obj.allows(Some("b"), None));
        assert!(!obj.allows(Some("c"), Some("k/1.zip")));
        let bucket = S3Scope::Bucket("b".into());
        assert!(bucket.allows(Some("b"), None) && bucket.allows(Some("b"), Some("x")));
        assert!(!bucket.allows(None, None));
        let prefix = S3Scope::Prefix {
            bucket: "b".into(),
            prefix: "p/".into(),
        };
        assert!(prefix.allows(Some("b"), Some("p/x")) && !prefix.allows(Some("b"), Some("q/x")));
        assert!(S3Scope::Everything.allows(None, None));
    }

    #[test]
    fn path_style_addressing() {
        assert_eq!(bucket_and_key("/"), (None, None));
        assert_eq!(bucket_and_key("/b"), (Some("b".into()), None));
        assert_eq!(bucket_and_key("/b/"), (Some("b".into()), None));
        assert_eq!(
            bucket_and_key("/b/a/%C3%A9.zip"),
            (Some("b".into()), Some("a/é.zip".into()))
        );
    }

    #[test]
    fn unsigned_trailer_chunks_decode() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
        let (data, trailers) = decode_chunked(body, None).expect("decodes");
        assert_eq!(&data[..], b"hello world");
        assert_eq!(trailers, [("x-amz-checksum-crc32".to_owned(), "AAAAAA==".to_owned())]);
        assert!(decode_chunked(b"5\r\nhel", None).is_err());
    }
}
