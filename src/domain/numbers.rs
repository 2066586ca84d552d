//! Whole numbers as JSON writes them: `167` or `167.0` (JSON Schema's `integer`, which the
//! OpenAPI document promises, admits both), for every dialect and wire that parses them.

use serde::Deserialize;

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
