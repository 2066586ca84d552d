//! Client errors by day (onepizza §18 `analytics/errors`): how often each (type, route,
//! message) was reported each day, and when last.
//!
//! Keys in tree `proj/analytics_errors`:
//! - `d ‖ day (u32 BE, days since the Unix epoch) ‖ first 16 bytes of SHA-256(type, route,
//!   message)` → [`ErrorRow`]

use convene_events::catalog::telemetry::TelemetryEvent;
use convene_events::Envelope;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

const DAY_MS: i64 = 86_400_000;

#[derive(Clone)]
pub struct AnalyticsErrors {
    tree: sled::Tree,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRow {
    pub event_type: String,
    pub route: String,
    pub message: String,
    pub count: u64,
    /// The last report's time (ms since epoch).
    pub last_seen: i64,
}

fn day_of(at_ms: i64) -> u32 {
    (at_ms.max(0) / DAY_MS) as u32
}

fn day_prefix(day: u32) -> Vec<u8> {
    let mut key = vec![b'd'];
    key.extend_from_slice(&day.to_be_bytes());
    key
}

fn row_key(day: u32, event_type: &str, route: &str, message: &str) -> Vec<u8> {
    let mut digest = sha2::Sha256::new();
    for part in [event_type, route, message] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    let mut key = day_prefix(day);
    key.extend_from_slice(&digest.finalize()[..16]);
    key
}

impl AnalyticsErrors {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Reports of the `days` days up to and including the day of `now_ms`, merged per (type,
    /// route, message), most frequent first.
    pub fn recent(&self, now_ms: i64, days: u32) -> Result<Vec<ErrorRow>, ProjectionError> {
        let first_day = day_of(now_ms).saturating_sub(days.saturating_sub(1));
        let mut merged: Vec<ErrorRow> = Vec::new();
        for entry in self.tree.range(day_prefix(first_day)..day_prefix(u32::MAX)) {
            let row: ErrorRow = decode_row(&entry?.1)?;
            match merged.iter_mut().find(|m| {
                m.event_type == row.event_type && m.route == row.route && m.message == row.message
            }) {
                Some(existing) => {
                    existing.count += row.count;
                    existing.last_seen = existing.last_seen.max(row.last_seen);
                }
                None => merged.push(row),
            }
        }
        merged.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen)));
        Ok(merged)
    }
}

impl Projection for AnalyticsErrors {
    const TREE: &'static str = "proj/analytics_errors";

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let Some(TelemetryEvent::ErrorReported(report)) =
            TelemetryEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?
        else {
            return Ok(());
        };
        let key = row_key(
            day_of(envelope.at),
            &report.event_type,
            &report.route,
            &report.message,
        );
        let row = match staged.get(&key)? {
            Some(bytes) => {
                let mut row: ErrorRow = decode_row(&bytes)?;
                row.count += 1;
                row.last_seen = row.last_seen.max(envelope.at);
                row
            }
            None => ErrorRow {
                event_type: report.event_type,
                route: report.route,
                message: report.message,
                count: 1,
                last_seen: envelope.at,
            },
        };
        staged.insert(key, encode_row(&row));
        Ok(())
    }
}
