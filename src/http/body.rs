//! Request bodies: a size limit that holds with or without a Content-Length header, and JSON
//! parsing whose errors name the offending field.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use warp::{Filter, Rejection};

use super::error::ApiError;

/// The raw body, refused with 413 past `limit` bytes: at once when Content-Length says so,
/// otherwise as soon as a streamed (chunked) body crosses the limit.
pub fn limited(limit: u64) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(move |declared: Option<u64>, stream| collect(declared, stream, limit))
}

async fn collect<S, B>(declared: Option<u64>, stream: S, limit: u64) -> Result<Bytes, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let too_large = || warp::reject::custom(ApiError::PayloadTooLarge { limit });
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut stream = std::pin::pin!(stream);
    let mut body = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| {
            warp::reject::custom(ApiError::BadRequest(
                "request body could not be read".into(),
            ))
        })?;
        if body.len() as u64 + chunk.remaining() as u64 > limit {
            return Err(too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            body.extend_from_slice(part);
            chunk.advance(n);
        }
    }
    Ok(body.freeze())
}

/// Parses a JSON body; an empty body reads as `{}` (every field of the request is optional).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // No body and a JSON `null` both mean "nothing given", as they do in the OpenAPI
    // document, where optional bodies are nullable.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
        b"{}"
    } else {
        body
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // serde would read a JSON array as a struct's fields in order; refuse it plainly.
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Err(err) => ApiError::BadRequest(format!(
                    "malformed json: {}",
                    strip_position(&err.to_string())
                )),
                Ok(_) => ApiError::BadRequest("request body must be a json object".into()),
            },
        );
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let detail = strip_position(&inner.to_string());
        let message = match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                format!("invalid value for {path}: {detail}")
            }
            serde_json::error::Category::Data => format!("invalid request body: {detail}"),
            _ => format!("malformed json: {detail}"),
        };
        ApiError::BadRequest(message)
    })
}

/// serde_json ends messages with " at line 1 column 17"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Example {
        max_participants: Option<u32>,
        title: Option<String>,
    }

    fn error_of(body: &str) -> String {
        match parse_json::<Example>(body.as_bytes()) {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn type_errors_name_the_field() {
        let message = error_of(r#"{"maxParticipants": "ten"}"#);
        assert!(
            message.starts_with("invalid value for maxParticipants:"),
            "{message}"
        );
        assert!(!message.contains("line"), "{message}");
    }

    #[test]
    fn malformed_json_and_unknown_fields_are_explained() {
        assert!(error_of(r#"{"title": "#).starts_with("malformed json"));
        assert!(error_of("not json").starts_with("malformed json"));
        assert!(error_of(r#"{"titel": "x"}"#).contains("unknown field `titel`"));
        assert_eq!(error_of("[]"), "request body must be a json object");
    }

    #[test]
    fn an_empty_body_is_an_empty_object() {
        assert!(parse_json::<Example>(b"").is_ok());
        assert!(parse_json::<Example>(b"  \n").is_ok());
    }
}
