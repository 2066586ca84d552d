//! The auditor's commands: verify the hash chain, and replay one meeting to a point in time.

use std::sync::Arc;

use convene_actors::meeting::aggregate::fold;
use convene_events::log::verify_chain;
use convene_events::{Envelope, EventLog, LogConfig, MeetingId, SystemClock};
use serde_json::{json, Value};

use crate::domain::format_iso_millis;

/// Where to stop replaying.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    End,
    /// Events accepted at or before this time (ms since epoch).
    At(i64),
    /// Events with a global sequence at or below this.
    Seq(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{0}")]
    Log(#[from] convene_events::LogError),
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
    #[error("chain broken at seq {seq}: {detail} ({checked} events before it verified)")]
    Broken {
        seq: u64,
        detail: String,
        checked: u64,
    },
    #[error("{0}")]
    Input(String),
    #[error("cannot decode the meeting's events: {0}")]
    Codec(#[from] convene_events::CodecError),
}

fn open(config: LogConfig) -> Result<EventLog, AuditError> {
    Ok(EventLog::open(config, Arc::new(SystemClock))?)
}

/// Walks the whole chain; `Ok(checked)` when intact.
pub async fn verify(config: LogConfig) -> Result<u64, AuditError> {
    let log = open(config)?;
    let report = verify_chain(log.db());
    log.close().await;
    let report = report?;
    match report.violation {
        None => Ok(report.checked),
        Some(violation) => Err(AuditError::Broken {
            seq: violation.seq(),
            detail: violation.to_string(),
            checked: report.checked,
        }),
    }
}

/// A meeting's events up to `until`, and the state they fold into, as JSON.
pub async fn meeting(config: LogConfig, raw_id: &str, until: Until) -> Result<Value, AuditError> {
    let id = MeetingId::parse(raw_id).map_err(|e| AuditError::Input(e.to_string()))?;
    let log = open(config)?;
    let envelopes = log.read_stream(&id.stream(), 1);
    log.close().await;
    let envelopes = envelopes?;
    if envelopes.is_empty() {
        return Err(AuditError::Input(format!("no events for meeting {id}")));
    }
    replay(&id, envelopes, until)
}

/// The meeting's events up to `until` and the state they fold into, as JSON: what the CLI
/// prints and `GET /api/meetings/:id/state` answers.
pub fn replay(id: &MeetingId, envelopes: Vec<Envelope>, until: Until) -> Result<Value, AuditError> {
    let envelopes: Vec<Envelope> = envelopes
        .into_iter()
        .filter(|e| match until {
            Until::End => true,
            Until::At(ms) => e.at <= ms,
            Until::Seq(seq) => e.seq <= seq,
        })
        .collect();
    let state = fold(&envelopes)?;
    Ok(json!({
        "meetingId": id.as_str(),
        "until": match until {
            Until::End => Value::Null,
            Until::At(ms) => json!({ "at": format_iso_millis(ms) }),
            Until::Seq(seq) => json!({ "seq": seq }),
        },
        "events": envelopes.iter().map(event_json).collect::<Vec<_>>(),
        "state": state,
    }))
}

/// One envelope for people: payload decoded from MessagePack as it was written.
pub fn event_json(envelope: &Envelope) -> Value {
    let data: Value = rmp_serde::from_slice(&envelope.payload)
        .unwrap_or_else(|e| json!({ "undecodable": e.to_string() }));
    json!({
        "seq": envelope.seq,
        "stream": envelope.stream,
        "version": envelope.version,
        "at": format_iso_millis(envelope.at),
        "kind": envelope.kind,
        "schema": envelope.schema,
        "actor": envelope.actor,
        "data": data,
        "prevHash": envelope.prev_hash.to_hex(),
        "hash": envelope.hash.to_hex(),
    })
}
