use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

/// Parses an ISO 8601 / RFC 3339 timestamp with an offset (`2026-04-01T14:00:00Z`,
/// `2026-04-01T16:00:00+02:00`) into milliseconds since the epoch.
pub fn parse_iso8601(raw: &str) -> Result<i64, String> {
    let parsed = OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| {
        "must be an ISO 8601 date-time with a timezone, e.g. 2026-04-01T14:00:00Z".to_string()
    })?;
    Ok((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-04-01T14:00:00.000Z`, as the seed shows `scheduledAt`.
pub fn format_iso_millis(ms: i64) -> String {
    utc(ms)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// `2026-03-01T12:00:00Z`, as the seed shows `created_at`.
pub fn format_iso_seconds(ms: i64) -> String {
    utc(ms)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_the_seed_format() {
        let ms = parse_iso8601("2026-04-01T14:00:00Z").unwrap();
        assert_eq!(format_iso_millis(ms), "2026-04-01T14:00:00.000Z");
        assert_eq!(format_iso_seconds(ms), "2026-04-01T14:00:00Z");
        assert_eq!(parse_iso8601("2026-04-01T16:00:00+02:00").unwrap(), ms);
    }

    #[test]
    fn timestamps_without_a_zone_or_garbage_are_refused() {
        for bad in [
            "2026-04-01T14:00:00",
            "tomorrow",
            "",
            "2026-13-01T00:00:00Z",
        ] {
            assert!(parse_iso8601(bad).is_err(), "{bad:?}");
        }
    }
}
