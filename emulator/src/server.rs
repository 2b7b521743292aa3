//! HTTP plumbing: one hyper HTTP/1 server that answers both protocols.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::Call;
use crate::error::{ApiError, ErrorCode};
use crate::fault::{Fault, FaultPlan};
use crate::fixture::{ACCOUNT_ID, Fixture};
use crate::ops::{self, Operation, Service};
use crate::s3::S3State;
use crate::sigv4;
use crate::state::RuntimeState;
use crate::wire::{self, Out, Protocol};

/// GameLift requests are tiny; anything bigger is a client bug (or abuse).
const MAX_BODY_BYTES: usize = 1 << 20;

const CBOR_PATH_PREFIX: &str = "/service/GameLift/operation/";
const JSON_TARGET_PREFIX: &str = "GameLift.";
const SSM_TARGET_PREFIX: &str = "AmazonSSM.";
const LIGHTSAIL_TARGET_PREFIX: &str = "Lightsail_20161128.";
/// The unsigned "what is my public IP" endpoint.
pub(crate) const CHECKIP_PATH: &str = "/checkip";

/// State shared between the server task and the [`crate::Emulator`] handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) fixture: Mutex<Fixture>,
    pub(crate) faults: Mutex<FaultPlan>,
    pub(crate) calls: Mutex<Vec<Call>>,
    /// Locked after `fixture` when both are needed.
    pub(crate) state: Mutex<RuntimeState>,
    pub(crate) rate_limits: Mutex<crate::ratelimit::RateLimits>,
    /// The S3 front's credentials and log; locked after `state`.
    pub(crate) s3: Mutex<S3State>,
    request_seq: AtomicU64,
}

impl Shared {
    pub(crate) fn new(fixture: Fixture) -> Shared {
        Shared {
            fixture: Mutex::new(fixture),
            ..Shared::default()
        }
    }
}

/// Locks a mutex, ignoring poisoning: the state is plain data that stays
/// consistent even if a test's `with_fixture` closure panicked mid-edit, and
/// the server must keep answering rather than panic in turn.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts connections until `shutdown` resolves.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: impl Future<Output = ()>) {
    accept_loop(listener, shared, shutdown, "GameLift", |shared, req| async move {
        handle(&shared, req).await
    })
    .await;
}

/// The accept loop both listeners (GameLift's and the S3 front's) run:
/// one hyper HTTP/1 connection per accepted stream, each request answered
/// by `handler`, until `shutdown` resolves.
pub(crate) async fn accept_loop<H, F>(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
    what: &'static str,
    handler: H,
) where
    H: Fn(Arc<Shared>, Request<Incoming>) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send,
{
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Typically EMFILE; back off instead of spinning.
                tracing::warn!(error = %e, "{what} accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handler(shared, req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "{what} connection ended with an error");
            }
        });
    }
}

/// What to send back, before protocol encoding.
enum Reply {
    Ok(Out),
    Err(ApiError),
    Garbage,
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    if path == CHECKIP_PATH && parts.method == Method::GET {
        return checkip(shared);
    }
    if path.starts_with(ops::players::LOG_PATH_PREFIX) && parts.method == Method::GET {
        return game_session_logs(shared, &parts);
    }
    let protocol = if path.starts_with("/service/") {
        Protocol::Cbor
    } else {
        Protocol::Json
    };
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let (service, operation) = match protocol {
        Protocol::Cbor => (
            Service::GameLift,
            path.strip_prefix(CBOR_PATH_PREFIX).map(str::to_owned),
        ),
        Protocol::Json => match target.and_then(|t| t.strip_prefix(SSM_TARGET_PREFIX)) {
            Some(op) => (Service::Ssm, Some(op.to_owned())),
            None if target.is_some_and(|t| t.starts_with(LIGHTSAIL_TARGET_PREFIX)) => (
                Service::Lightsail,
                target
                    .and_then(|t| t.strip_prefix(LIGHTSAIL_TARGET_PREFIX))
                    .map(str::to_owned),
            ),
            None => (
                Service::GameLift,
                target
                    .and_then(|t| t.strip_prefix(JSON_TARGET_PREFIX))
                    .map(str::to_owned),
            ),
        },
    };
    let mut call = Call {
        service: service.signing_name().to_owned(),
        operation: operation.clone().unwrap_or_default(),
        protocol,
        region: String::new(),
        access_key_id: String::new(),
        body: Value::Null,
        status: 0,
    };

    let reply = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            process(
                shared,
                &parts,
                protocol,
                service,
                operation.as_deref(),
                &bytes,
                &mut call,
            )
            .await
        }
        Err(e) => Reply::Err(ApiError::serialization(format!("could not read request body: {e}"))),
    };

    let request_id = request_id(shared.request_seq.fetch_add(1, Ordering::Relaxed));
    let (status, body) = match &reply {
        Reply::Ok(out) => (200, wire::encode(protocol, out)),
        Reply::Err(err) => (err.code.status(), wire::encode_error(protocol, err)),
        Reply::Garbage => (200, wire::GARBAGE.to_vec()),
    };
    if let Reply::Err(err) = &reply {
        tracing::debug!(operation = %call.operation, %err, "request failed");
    }
    call.status = status;
    lock(&shared.calls).push(call);

    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(hyper::header::CONTENT_TYPE, protocol.content_type())
        .header("x-amzn-RequestId", request_id);
    if protocol == Protocol::Cbor {
        builder = builder.header("smithy-protocol", "rpc-v2-cbor");
    }
    builder.body(Full::new(Bytes::from(body))).unwrap_or_else(|_| {
        let mut fallback = Response::new(Full::new(Bytes::new()));
        *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// The request pipeline, in the order a real endpoint applies it:
/// authentication, routing, decoding, throttling/faults, authorization, then
/// the operation itself.
async fn process(
    shared: &Shared,
    parts: &Parts,
    protocol: Protocol,
    service: Service,
    operation: Option<&str>,
    body: &[u8],
    call: &mut Call,
) -> Reply {
    let signed = match sigv4::check(&parts.headers, service.signing_name()) {
        Ok(signed) => signed,
        Err((err, partial)) => {
            call.region = partial.region;
            call.access_key_id = partial.access_key_id;
            return Reply::Err(err);
        }
    };
    call.region = signed.region.clone();
    call.access_key_id = signed.access_key_id.clone();
    if let Err(err) = verify_signature(shared, parts, &signed, body) {
        return Reply::Err(err);
    }

    if parts.method != Method::POST {
        return Reply::Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("API operations are POST requests, not {}", parts.method),
        ));
    }
    if protocol == Protocol::Cbor && parts.headers.get("smithy-protocol").map(|v| v.as_bytes()) != Some(b"rpc-v2-cbor")
    {
        return Reply::Err(ApiError::serialization(
            "RPC v2 CBOR requests must carry the header 'smithy-protocol: rpc-v2-cbor'",
        ));
    }
    let Some(name) = operation else {
        return Reply::Err(ApiError::new(
            ErrorCode::UnknownOperation,
            match protocol {
                Protocol::Cbor => format!("expected a path like {CBOR_PATH_PREFIX}<Operation>"),
                Protocol::Json => {
                    format!("expected an X-Amz-Target header like {JSON_TARGET_PREFIX}<Operation>")
                }
            },
        ));
    };
    let Some(op) = Operation::from_name(service, name) else {
        return Reply::Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!(
                "{}:{name} is not implemented by the GameLift emulator",
                service.signing_name()
            ),
        ));
    };

    let input = match wire::decode_request(protocol, body) {
        Ok(input) => input,
        Err(err) => return Reply::Err(err),
    };
    call.body = input.clone();

    // Above its call rate, an operation is throttled as GameLift throttles it.
    if !lock(&shared.rate_limits).admit(name) {
        return Reply::Err(ApiError::new(ErrorCode::Throttling, "Rate exceeded"));
    }
    // Bind the fault first so the lock is released before any await.
    let fault = lock(&shared.faults).next(name);
    let mut slow_reply = None;
    match fault {
        Some(Fault::Throttle) => {
            return Reply::Err(ApiError::new(ErrorCode::Throttling, "Rate exceeded"));
        }
        Some(Fault::ServerError(status)) => {
            return Reply::Err(ApiError::new(
                ErrorCode::InternalService(status),
                "Internal service error (injected by the GameLift emulator)",
            ));
        }
        Some(Fault::Garbage) => return Reply::Garbage,
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::SlowReply(delay)) => slow_reply = Some(delay),
        None => {}
    }

    let reply = execute(shared, parts, service, op, name, &input, call);
    if let Some(delay) = slow_reply {
        tokio::time::sleep(delay).await;
    }
    reply
}

/// Authorization, then the operation itself, under the state locks.
fn execute(
    shared: &Shared,
    parts: &Parts,
    service: Service,
    op: Operation,
    name: &str,
    input: &Value,
    call: &Call,
) -> Reply {
    let mut fixture = lock(&shared.fixture);
    if fixture.unauthorized_operations.iter().any(|o| o == name) {
        return Reply::Err(ApiError::new(
            ErrorCode::Unauthorized,
            format!(
                "User: arn:aws:iam::{ACCOUNT_ID}:user/test is not authorized to perform: {}:{name}",
                service.signing_name()
            ),
        ));
    }
    let mut state = lock(&shared.state);
    let session_token = parts.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
    let mut ctx = ops::Ctx {
        fx: &mut fixture,
        state: &mut state,
        region: &call.region,
        access_key_id: &call.access_key_id,
        session_token,
    };
    match ops::execute(op, &mut ctx, input) {
        Ok(out) => Reply::Ok(out),
        Err(err) => Reply::Err(err),
    }
}

/// The HMAC check: the key must be one the emulator knows the secret of,
/// and the signature must be the one that secret gives.
fn verify_signature(shared: &Shared, parts: &Parts, signed: &sigv4::SignedBy, body: &[u8]) -> Result<(), ApiError> {
    let Some(secret) = lock(&shared.state).api_secret(&signed.access_key_id) else {
        return Err(ApiError::new(
            ErrorCode::UnrecognizedClient,
            "The security token included in the request is invalid.",
        ));
    };
    let payload_hash = match parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) {
        Some(h) => h.to_owned(),
        None => sigv4::sha256_hex(body),
    };
    let req = sigv4::SignedRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        payload_hash: &payload_hash,
    };
    if sigv4::verify(signed, &req, &secret) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvalidSignature, sigv4::MISMATCH))
    }
}

/// `GET /checkip`: the configured public IP as plain text, or 503.
fn checkip(shared: &Shared) -> Response<Full<Bytes>> {
    let ip = {
        let mut state = lock(&shared.state);
        state.public_ip_lookups += 1;
        state.public_ip.clone()
    };
    let (status, body) = match ip {
        Some(ip) => (StatusCode::OK, format!("{ip}\n")),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no public IP configured (Emulator::set_public_ip)\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// `GET /game-session-logs/<token>/<name>.zip?…`: a pre-signed log URL.
/// Answered as S3 answers one: the archive, or an XML error for an
/// expired or unknown URL (403) or one that also carries credentials (400).
fn game_session_logs(shared: &Shared, parts: &Parts) -> Response<Full<Bytes>> {
    let token = parts
        .uri
        .path()
        .strip_prefix(ops::players::LOG_PATH_PREFIX)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let had_credentials =
        parts.headers.contains_key(hyper::header::AUTHORIZATION) || parts.headers.contains_key("x-amz-security-token");
    let url = lock(&shared.state).log_urls.get(token).cloned();
    let (status, body, content_type) = match url {
        _ if had_credentials => (
            StatusCode::BAD_REQUEST,
            s3_error(
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query \
                 string parameter or the Authorization header should be specified",
            ),
            "application/xml",
        ),
        None => (
            StatusCode::FORBIDDEN,
            s3_error("AccessDenied", "Access Denied"),
            "application/xml",
        ),
        Some(url) if url.expires_at <= std::time::Instant::now() => (
            StatusCode::FORBIDDEN,
            s3_error("AccessDenied", "Request has expired"),
            "application/xml",
        ),
        Some(url) => {
            let archive = lock(&shared.fixture)
                .game_session(&url.game_session_id)
                .map(ops::players::log_archive);
            match archive {
                Some(Ok(bytes)) => (StatusCode::OK, bytes, "application/zip"),
                _ => (
                    StatusCode::NOT_FOUND,
                    s3_error("NoSuchKey", "The specified key does not exist."),
                    "application/xml",
                ),
            }
        }
    };
    let game_session_id = lock(&shared.state)
        .log_urls
        .get(token)
        .map(|u| u.game_session_id.clone())
        .unwrap_or_default();
    lock(&shared.state).log_downloads.push(crate::state::LogDownload {
        game_session_id,
        status: status.as_u16(),
        had_credentials,
    });
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

fn s3_error(code: &str, message: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    .into_bytes()
}

/// UUID-shaped, unique per emulator, and deterministic for readable logs.
fn request_id(seq: u64) -> String {
    format!("e1a1e1a1-0000-4000-8000-{seq:012x}")
}
