//! The two wire protocols GameLift speaks, and conversion between them and
//! the emulator's protocol-neutral request/response values.
//!
//! * Smithy RPC v2 CBOR (what aws-sdk-gamelift ≥ 1.109 sends):
//!   `POST /service/GameLift/operation/<Op>`, `smithy-protocol: rpc-v2-cbor`,
//!   CBOR map bodies, timestamps as CBOR tag 1 around epoch seconds, errors as
//!   a map with a namespaced `__type` and `Message`.
//! * awsJson1_1 (what botocore, and so the `aws` CLI, sends because it ranks
//!   `json` above `smithy-rpc-v2-cbor`): `POST /` with
//!   `X-Amz-Target: GameLift.<Op>`, JSON bodies, epoch-second timestamps,
//!   errors as `{"__type": "<Name>", "message": "..."}`.
//!
//! Requests are decoded to `serde_json::Value` whatever the protocol, which is
//! also what the call log records, so tests can assert on one representation.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// Which wire protocol a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// Smithy RPC v2 CBOR (the Rust SDK).
    Cbor,
    /// awsJson1_1 (botocore / the `aws` CLI).
    Json,
}

impl Protocol {
    /// The `Content-Type` of bodies in this protocol.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Cbor => "application/cbor",
            Protocol::Json => "application/x-amz-json-1.1",
        }
    }
}

/// A response value. Kept separate from `serde_json::Value` because CBOR
/// needs to know which numbers are timestamps (tag 1) and JSON does not.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    Str(String),
    Int(i64),
    /// Epoch seconds.
    Time(f64),
    List(Vec<Out>),
    Map(Obj),
}

/// An ordered response structure; `None` members are omitted, as the
/// services omit unset members rather than sending nulls.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Obj(Vec<(&'static str, Out)>);

impl Obj {
    pub(crate) fn new() -> Obj {
        Obj::default()
    }

    pub(crate) fn put(mut self, key: &'static str, value: impl Into<Out>) -> Obj {
        self.0.push((key, value.into()));
        self
    }

    /// A member's value, for tests.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &str) -> Option<&Out> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub(crate) fn put_opt(self, key: &'static str, value: Option<impl Into<Out>>) -> Obj {
        match value {
            Some(v) => self.put(key, v),
            None => self,
        }
    }
}

impl From<String> for Out {
    fn from(s: String) -> Out {
        Out::Str(s)
    }
}
impl From<&str> for Out {
    fn from(s: &str) -> Out {
        Out::Str(s.to_owned())
    }
}
impl From<&String> for Out {
    fn from(s: &String) -> Out {
        Out::Str(s.clone())
    }
}
impl From<i64> for Out {
    fn from(n: i64) -> Out {
        Out::Int(n)
    }
}
impl From<Obj> for Out {
    fn from(o: Obj) -> Out {
        Out::Map(o)
    }
}
impl From<Vec<Out>> for Out {
    fn from(v: Vec<Out>) -> Out {
        Out::List(v)
    }
}

/// Decodes a request body. An empty body means "no members", which both
/// protocols allow for operations whose input is all optional.
pub(crate) fn decode_request(protocol: Protocol, body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    match protocol {
        Protocol::Json => serde_json::from_slice(body)
            .map_err(|e| ApiError::serialization(format!("request body is not valid JSON: {e}"))),
        Protocol::Cbor => {
            let mut cursor = std::io::Cursor::new(body);
            let value: ciborium::Value = ciborium::from_reader(&mut cursor)
                .map_err(|e| ApiError::serialization(format!("request body is not valid CBOR: {e}")))?;
            let used = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
            if used != body.len() {
                return Err(ApiError::serialization(format!(
                    "request body has {} trailing bytes after the CBOR item",
                    body.len().saturating_sub(used)
                )));
            }
            Ok(cbor_to_json(value))
        }
    }
}

/// Maps decoded CBOR onto JSON for uniform handling and logging. Tags are
/// dropped (a tag-1 timestamp becomes its epoch number) and byte strings
/// become arrays of numbers; GameLift inputs use neither in practice.
fn cbor_to_json(value: ciborium::Value) -> Value {
    use ciborium::Value as C;
    match value {
        C::Integer(i) => {
            let i = i128::from(i);
            if let Ok(n) = i64::try_from(i) {
                Value::from(n)
            } else if let Ok(n) = u64::try_from(i) {
                Value::from(n)
            } else {
                Value::from(i as f64)
            }
        }
        C::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        C::Text(s) => Value::String(s),
        C::Bool(b) => Value::Bool(b),
        C::Null => Value::Null,
        C::Bytes(b) => Value::Array(b.into_iter().map(Value::from).collect()),
        C::Tag(_, inner) => cbor_to_json(*inner),
        C::Array(items) => Value::Array(items.into_iter().map(cbor_to_json).collect()),
        C::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        C::Text(s) => s,
                        other => cbor_to_json(other).to_string(),
                    };
                    (key, cbor_to_json(v))
                })
                .collect(),
        ),
        // `ciborium::Value` is non-exhaustive; anything new is not something
        // a GameLift request can contain.
        _ => Value::Null,
    }
}

/// Encodes a successful response body.
pub(crate) fn encode(protocol: Protocol, out: &Out) -> Vec<u8> {
    match protocol {
        Protocol::Json => serde_json::to_vec(&to_json(out)).unwrap_or_default(),
        Protocol::Cbor => {
            let mut buf = Vec::new();
            // Writing to a Vec cannot fail for a Value tree; an empty body on
            // the impossible error still yields a decodable-or-not response
            // rather than a panic.
            if ciborium::into_writer(&to_cbor(out), &mut buf).is_err() {
                buf.clear();
            }
            buf
        }
    }
}

/// Encodes an error body the way each protocol's clients parse it.
///
/// The Rust SDK (`cbor_errors::parse_error_metadata`) reads `__type`,
/// strips anything before `#` and after `:`, and takes the message from
/// `message`, `Message` or `errorMessage`; the modeled GameLift exceptions
/// have a `Message` member, so CBOR uses that. botocore reads `__type` the
/// same way and `message` before `Message`.
pub(crate) fn encode_error(protocol: Protocol, err: &ApiError) -> Vec<u8> {
    match protocol {
        Protocol::Json => {
            let body = serde_json::json!({ "__type": err.code.name(), "message": err.message });
            serde_json::to_vec(&body).unwrap_or_default()
        }
        Protocol::Cbor => {
            let body = Obj::new()
                .put("__type", format!("{}#{}", err.code.namespace(), err.code.name()))
                .put("Message", err.message.as_str());
            encode(Protocol::Cbor, &Out::Map(body))
        }
    }
}

/// A 200 body that neither a CBOR nor a JSON parser accepts: `0xff` is a
/// stray CBOR "break" and not valid UTF-8, so it is not JSON either.
pub(crate) const GARBAGE: &[u8] = b"\xff\xfe<html>502 Bad Gateway (emulated garbage)</html>";

fn to_json(out: &Out) -> Value {
    match out {
        Out::Str(s) => Value::String(s.clone()),
        Out::Int(n) => Value::from(*n),
        Out::Time(t) => serde_json::Number::from_f64(*t).map_or(Value::Null, Value::Number),
        Out::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Out::Map(Obj(members)) => Value::Object(members.iter().map(|(k, v)| ((*k).to_owned(), to_json(v))).collect()),
    }
}

fn to_cbor(out: &Out) -> ciborium::Value {
    use ciborium::Value as C;
    match out {
        Out::Str(s) => C::Text(s.clone()),
        Out::Int(n) => C::Integer((*n).into()),
        Out::Time(t) => {
            // Whole seconds go out as integers, like the service does; both
            // forms are valid tag-1 content and the SDK accepts either.
            let inner = if t.fract() == 0.0 && t.abs() < 9.0e15 {
                C::Integer((*t as i64).into())
            } else {
                C::Float(*t)
            };
            C::Tag(1, Box::new(inner))
        }
        Out::List(items) => C::Array(items.iter().map(to_cbor).collect()),
        Out::Map(Obj(members)) => C::Map(
            members
                .iter()
                .map(|(k, v)| (C::Text((*k).to_owned()), to_cbor(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn cbor_round_trip_through_json_view() {
        let out = Out::Map(
            Obj::new()
                .put("Name", "x")
                .put("N", 3i64)
                .put("T", Out::Time(1.5))
                .put("L", vec![Out::from("a")]),
        );
        let bytes = encode(Protocol::Cbor, &out);
        let json = decode_request(Protocol::Cbor, &bytes).expect("decodes");
        assert_eq!(json, serde_json::json!({"Name": "x", "N": 3, "T": 1.5, "L": ["a"]}));
    }

    #[test]
    fn indefinite_length_map_as_the_sdk_sends_it() {
        // {_ "FleetId": "fleet-1"} with an indefinite-length map header (0xbf ... 0xff).
        let mut body = vec![0xbf, 0x67];
        body.extend_from_slice(b"FleetId");
        body.push(0x67);
        body.extend_from_slice(b"fleet-1");
        body.push(0xff);
        let json = decode_request(Protocol::Cbor, &body).expect("decodes");
        assert_eq!(json, serde_json::json!({"FleetId": "fleet-1"}));
    }

    #[test]
    fn garbage_and_trailing_bytes_are_serialization_errors() {
        for protocol in [Protocol::Cbor, Protocol::Json] {
            let err = decode_request(protocol, GARBAGE).expect_err("garbage");
            assert_eq!(err.code, ErrorCode::Serialization);
        }
        let mut two_items = encode(Protocol::Cbor, &Out::Int(1));
        two_items.push(0x01);
        assert!(decode_request(Protocol::Cbor, &two_items).is_err());
    }

    #[test]
    fn timestamps_are_tag_1() {
        let bytes = encode(Protocol::Cbor, &Out::Time(1_700_000_000.0));
        // 0xc1 = tag 1, 0x1a = uint32 follows.
        assert_eq!(&bytes[..2], &[0xc1, 0x1a]);
    }
}
