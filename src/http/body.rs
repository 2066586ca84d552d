//! Request bodies: JSON parsing whose errors name the offending field (the size limit is
//! [`crate::net::body::limited`], shared with the realtime endpoints).

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::app::AppError;

/// An optional whole number that JSON may write as `167` or `167.0`: JSON Schema's `integer`
/// (what the OpenAPI document promises) admits both. A fraction or a value out of range is an
/// error naming the field. Use with `#[serde(default, deserialize_with = "whole_number")]`.
pub fn whole_number<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error;
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = match (number.as_u64(), number.as_f64()) {
        (Some(n), _) => Some(n),
        (None, Some(f)) if f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f) => {
            Some(f as u64)
        }
        _ => None,
    };
    whole
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("expected a whole number in range, got {number}")))
}

/// [`whole_number`] for a field that must be present.
pub fn whole_number_required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    use serde::de::Error;
    whole_number(deserializer)?.ok_or_else(|| D::Error::custom("expected a whole number, got null"))
}

/// Parses a JSON body; an empty body reads as `{}` (every field of the request is optional).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
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
                Err(err) => AppError::BadRequest(format!(
                    "malformed json: {}",
                    strip_position(&err.to_string())
                )),
                Ok(_) => AppError::BadRequest("request body must be a json object".into()),
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
        AppError::BadRequest(message)
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

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Example {
        #[serde(default, deserialize_with = "whole_number")]
        max_participants: Option<u32>,
        title: Option<String>,
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let parsed =
            |body: &str| parse_json::<Example>(body.as_bytes()).map(|e| e.max_participants);
        assert_eq!(parsed(r#"{"maxParticipants": 167}"#).unwrap(), Some(167));
        assert_eq!(parsed(r#"{"maxParticipants": 167.0}"#).unwrap(), Some(167));
        assert_eq!(parsed(r#"{"maxParticipants": null}"#).unwrap(), None);
        assert_eq!(parsed("{}").unwrap(), None);
        for bad in ["167.5", "-1", "4294967296", "1e30"] {
            let message = error_of(&format!(r#"{{"maxParticipants": {bad}}}"#));
            assert!(
                message.starts_with("invalid value for maxParticipants: expected a whole number"),
                "{bad}: {message}"
            );
        }
    }

    fn error_of(body: &str) -> String {
        match parse_json::<Example>(body.as_bytes()) {
            Err(AppError::BadRequest(message)) => message,
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
