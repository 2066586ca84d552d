//! The auditor's commands: verify the hash chain, and replay one meeting to a point in time.

use std::sync::Arc;

use convene_actors::meeting::aggregate::fold;
use convene_events::log::verify_chain;
use convene_events::{Envelope, EventLog, LogConfig, MeetingId, SystemClock};
use convene_projections::{all_folds, catch_up, rebuild_all, Fold};
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

/// What an export says it is; `check` refuses anything else.
const EXPORT_FORMAT: &str = "convene-audit-export/1";

/// The server's audit key: `audit.key` from the config, or else the key in `audit.key` in the
/// data directory, created (32 random bytes, hex) the first time it is needed.
pub fn audit_key(config: &crate::config::Config) -> Result<String, AuditError> {
    if !config.audit.key.is_empty() {
        return Ok(config.audit.key.clone());
    }
    let path = config.storage.path.join("audit.key");
    match std::fs::read_to_string(&path) {
        Ok(key) if !key.trim().is_empty() => return Ok(key.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(AuditError::Input(format!(
                "cannot read {}: {err}",
                path.display()
            )))
        }
    }
    std::fs::create_dir_all(&config.storage.path)
        .map_err(|e| AuditError::Input(format!("cannot create the data directory: {e}")))?;
    let key = crate::domain::SecretToken::generate().expose().to_owned();
    write_private(&path, &key)
        .map_err(|e| AuditError::Input(format!("cannot write {}: {e}", path.display())))?;
    Ok(key)
}

/// Writes a file only its owner can read.
pub(crate) fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

fn export_mac(key: &str, export: &Value) -> hmac::Hmac<sha2::Sha256> {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
        .expect("hmac accepts any key length");
    mac.update(&serde_json::to_vec(export).expect("json values serialize"));
    mac
}

/// A meeting's events, signed with the audit key: `{"export": {format, meetingId,
/// exportedAt, events}, "hmacSha256": hex}`, the HMAC taken over the `export` object's JSON.
pub async fn export(
    config: LogConfig,
    key: &str,
    raw_id: &str,
    now_ms: i64,
) -> Result<Value, AuditError> {
    use hmac::Mac;
    let id = MeetingId::parse(raw_id).map_err(|e| AuditError::Input(e.to_string()))?;
    let log = open(config)?;
    let envelopes = log.read_stream(&id.stream(), 1);
    log.close().await;
    let envelopes = envelopes?;
    if envelopes.is_empty() {
        return Err(AuditError::Input(format!("no events for meeting {id}")));
    }
    let export = json!({
        "format": EXPORT_FORMAT,
        "meetingId": id.as_str(),
        "exportedAt": format_iso_millis(now_ms),
        "events": envelopes.iter().map(event_json).collect::<Vec<_>>(),
    });
    let mac = export_mac(key, &export).finalize().into_bytes();
    Ok(json!({ "export": export, "hmacSha256": crate::domain::to_hex(&mac) }))
}

/// Verifies an export made with the same audit key; `Ok(events)` when it is intact.
pub fn check(key: &str, file: &Value) -> Result<usize, AuditError> {
    use hmac::Mac;
    let export = file
        .get("export")
        .ok_or_else(|| AuditError::Input("not an audit export: no export object".into()))?;
    if export.get("format").and_then(Value::as_str) != Some(EXPORT_FORMAT) {
        return Err(AuditError::Input(format!(
            "not an audit export: format is not {EXPORT_FORMAT}"
        )));
    }
    let claimed = file
        .get("hmacSha256")
        .and_then(Value::as_str)
        .and_then(crate::domain::decode_hex)
        .ok_or_else(|| AuditError::Input("not an audit export: no hmacSha256".into()))?;
    export_mac(key, export)
        .verify_slice(&claimed)
        .map_err(|_| {
            AuditError::Input(
                "the export does not verify: it was changed, or signed with another key".into(),
            )
        })?;
    Ok(export
        .get("events")
        .and_then(Value::as_array)
        .map_or(0, Vec::len))
}

/// One projection rebuilt from sequence 1.
#[derive(Debug)]
pub struct Rebuilt {
    pub name: String,
    pub events: u64,
    /// Whether the rebuilt rows equal what the live read model held.
    pub equal: bool,
    /// How long the one pass that rebuilt every projection asked for took.
    pub took: std::time::Duration,
}

/// Rebuilds `only` (a projection's name, `meeting_directory` or `proj/meeting_directory`) or
/// every projection, and says for each whether the result equals the live read model (which
/// it replaces). `progress(name, folded, total)` is called as events are folded.
pub async fn rebuild_projections(
    config: LogConfig,
    only: Option<&str>,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Vec<Rebuilt>, AuditError> {
    let folds: Vec<Fold> = match only {
        None => all_folds(),
        Some(name) => vec![Fold::named(name).ok_or_else(|| {
            let known: Vec<&str> = all_folds()
                .iter()
                .map(|f| f.tree.trim_start_matches("proj/"))
                .collect();
            AuditError::Input(format!(
                "no projection named {name}; known: {}",
                known.join(", ")
            ))
        })?],
    };
    let log = open(config)?;
    let result = rebuild_and_compare(&log, &folds, progress);
    log.close().await;
    result
}

/// Brings each live read model up to the log's head (as the server would at its next start),
/// digests it, rebuilds them all in one pass and digests them again.
fn rebuild_and_compare(
    log: &EventLog,
    folds: &[Fold],
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<Vec<Rebuilt>, AuditError> {
    let failed = |e: convene_projections::ProjectionError| AuditError::Input(e.to_string());
    let total = log.durable_head();
    let mut before = Vec::with_capacity(folds.len());
    for fold in folds {
        catch_up(log, *fold).map_err(failed)?;
        before.push(tree_digest(&log.db().open_tree(fold.tree)?)?);
    }
    let label = match folds {
        [one] => one.tree.trim_start_matches("proj/"),
        _ => "all",
    };
    let started = std::time::Instant::now();
    let events =
        rebuild_all(log, folds, &mut |folded| progress(label, folded, total)).map_err(failed)?;
    let took = started.elapsed();
    let mut reports = Vec::with_capacity(folds.len());
    for (fold, before) in folds.iter().zip(before) {
        let after = tree_digest(&log.db().open_tree(fold.tree)?)?;
        reports.push(Rebuilt {
            name: fold.tree.trim_start_matches("proj/").to_owned(),
            events,
            equal: before == after,
            took,
        });
    }
    Ok(reports)
}

/// SHA-256 over every (key, value) of a tree, lengths included, in key order.
fn tree_digest(tree: &sled::Tree) -> Result<[u8; 32], AuditError> {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    for entry in tree.iter() {
        let (key, value) = entry?;
        digest.update((key.len() as u64).to_be_bytes());
        digest.update(&key);
        digest.update((value.len() as u64).to_be_bytes());
        digest.update(&value);
    }
    Ok(digest.finalize().into())
}
