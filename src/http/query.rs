//! Query-string parameters of the read endpoints, with 400s that name the parameter.

use std::ops::RangeInclusive;

use crate::app::AppError;

/// The largest sequence or version a request may name: the document's integers are int64.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// The value of parameter `name`, if present.
pub fn param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Parameter `name` as a whole number within `range`, if present.
pub fn number(
    query: &str,
    name: &str,
    range: RangeInclusive<u64>,
) -> Result<Option<u64>, AppError> {
    param(query, name)
        .map(|raw| {
            raw.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "{name} must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ))
                })
        })
        .transpose()
}
