//! Request bodies: JSON parsing whose errors name the offending field (the size limit is
//! [`crate::net::body::limited`], shared with the realtime endpoints).

use serde::de::DeserializeOwned;

use crate::app::AppError;

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
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Example {
        #[serde(default, deserialize_with = "crate::domain::whole_number")]
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
