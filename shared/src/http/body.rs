//! The checks every JSON request goes through before its fields are read.

use lambda_http::http::header;
use lambda_http::{Body, Request};
use serde_json::{Map, Value};

use super::ApiError;

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request's JSON object, or the 413/415/400 that explains why there is none.
/// API Gateway base64-encodes some bodies; lambda_http has decoded them by now.
pub fn json_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if !is_json(request) {
        return Err(ApiError::UnsupportedMediaType);
    }
    match serde_json::from_slice::<Unambiguous>(bytes) {
        Ok(Unambiguous(Value::Object(object))) => Ok(object),
        Ok(_) => Err(ApiError::field("body", "must be a JSON object")),
        Err(e) => Err(ApiError::field("body", format!("is not valid JSON: {e}"))),
    }
}

fn is_json(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// JSON whose objects name each member once. RFC 8259 leaves a repeated name's meaning to
/// the reader, and readers differ (serde_json keeps the last, others the first), so a body
/// like `{"role":"employee","role":"owner"}` is refused as ambiguous, at any depth.
struct Unambiguous(Value);

impl<'de> serde::Deserialize<'de> for Unambiguous {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UnambiguousVisitor)
            .map(Unambiguous)
    }
}

struct UnambiguousVisitor;

impl<'de> serde::de::Visitor<'de> for UnambiguousVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let Unambiguous(value) = map.next_value()?;
            if object.contains_key(&name) {
                return Err(serde::de::Error::custom(format_args!(
                    "the member {name:?} appears twice"
                )));
            }
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unambiguous(value)) = seq.next_element()? {
            items.push(value);
        }
        Ok(Value::Array(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d).map(|Unambiguous(v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Value, String> {
        serde_json::from_str::<Unambiguous>(text)
            .map(|Unambiguous(v)| v)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_name_twice_is_refused_at_any_depth_and_everything_else_reads_as_serde_json_reads_it() {
        for text in [
            r#"{"name":"a","name":"b"}"#,
            r#"{"a":{"x":1,"x":1}}"#,
            r#"{"a":[{"y":true,"y":false}]}"#,
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains("appears twice"), "{text}: {error}");
        }
        for text in [
            r#"{"a":1,"b":-2,"c":1.5,"d":null,"e":[true,"x",{}],"f":{"a":1},"g":18446744073709551615}"#,
            r#"{"é":"é","é":"x"}"#,
            "[]",
            r#""text""#,
        ] {
            assert_eq!(
                parse(text).unwrap(),
                serde_json::from_str::<Value>(text).unwrap(),
                "{text}"
            );
        }
    }
}
