//! The single writer: group commit with expected-version checks.
//!
//! One OS thread owns every append. Each turn it takes every request waiting in its channel (up
//! to `max_group_events`), checks each request's expected versions against the stream versions
//! it knows (including those staged earlier in the same group), assigns contiguous sequences and
//! chain hashes, writes everything in one atomic sled transaction, flushes once, publishes the
//! new durable head and only then answers the callers.

use std::collections::HashMap;
use std::sync::Arc;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::keys;
use super::{
    AppendError, AppendOutcome, LiveBatch, LogConfig, LogError, StreamWrite, SyncMode, WriterMsg,
};
use crate::clock::Clock;
use crate::envelope::{decode_record, encode_record, Envelope, Hash, Position};

/// The end of the chain: the last sequence, its hash and its timestamp.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Head {
    pub seq: u64,
    pub hash: Hash,
    pub at: i64,
}

impl Head {
    pub(crate) fn load(log: &sled::Tree) -> Result<Self, LogError> {
        match log.last()? {
            None => Ok(Head {
                seq: 0,
                hash: Hash::GENESIS,
                at: 0,
            }),
            Some((key, record)) => {
                let seq = keys::seq_of(&key);
                let envelope =
                    decode_record(&record).map_err(|source| LogError::Corrupt { seq, source })?;
                Ok(Head {
                    seq,
                    hash: envelope.hash,
                    at: envelope.at,
                })
            }
        }
    }
}

type Reply = oneshot::Sender<Result<AppendOutcome, AppendError>>;

pub(crate) struct Writer {
    db: sled::Db,
    log: sled::Tree,
    streams: sled::Tree,
    head: Head,
    /// Last known version of every stream touched since start-up.
    versions: HashMap<String, u64>,
    clock: Arc<dyn Clock>,
    sync: SyncMode,
    max_group_events: usize,
    durable: watch::Sender<u64>,
    live: broadcast::Sender<LiveBatch>,
    /// Set when a write failed half-way: the on-disk state is then uncertain, so the writer
    /// refuses further appends rather than risk a gap or a fork in the chain.
    poisoned: Option<String>,
    /// What each commit is counted in, looked up once (the metrics facade; a no-op when no
    /// recorder is installed, as in the CLI).
    meters: Meters,
}

struct Meters {
    appended: metrics::Counter,
    group_events: metrics::Histogram,
    commit_seconds: metrics::Histogram,
    head_seq: metrics::Gauge,
}

impl Meters {
    fn new() -> Self {
        Self {
            appended: metrics::counter!("convene_log_appended_events_total"),
            group_events: metrics::histogram!("convene_log_group_events"),
            commit_seconds: metrics::histogram!("convene_log_commit_seconds"),
            head_seq: metrics::gauge!("convene_log_head_seq"),
        }
    }
}

/// A group being assembled.
struct Group {
    log: sled::Batch,
    streams: sled::Batch,
    /// Versions staged by this group, not yet durable.
    staged: HashMap<String, u64>,
    head: Head,
    live: Option<Vec<Arc<Envelope>>>,
    answers: Vec<(Reply, Result<AppendOutcome, AppendError>)>,
    written: usize,
}

impl Writer {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        db: sled::Db,
        log: sled::Tree,
        streams: sled::Tree,
        head: Head,
        clock: Arc<dyn Clock>,
        config: &LogConfig,
        durable: watch::Sender<u64>,
        live: broadcast::Sender<LiveBatch>,
    ) -> Self {
        Self {
            db,
            log,
            streams,
            head,
            versions: HashMap::new(),
            clock,
            sync: config.sync,
            max_group_events: config.max_group_events.max(1),
            durable,
            live,
            poisoned: None,
            meters: Meters::new(),
        }
    }

    pub(crate) fn run(mut self, mut requests: mpsc::Receiver<WriterMsg>) {
        while let Some(first) = requests.blocking_recv() {
            let mut pending = Vec::new();
            let mut pending_events = 0;
            let mut close = None;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    WriterMsg::Append { writes, reply } => {
                        pending_events += writes.iter().map(|w| w.events.len()).sum::<usize>();
                        pending.push((writes, reply));
                    }
                    WriterMsg::Close(done) => close = Some(done),
                }
                if pending_events < self.max_group_events && close.is_none() {
                    next = requests.try_recv().ok();
                }
            }
            self.commit(pending);
            if let Some(done) = close {
                if let Err(err) = self.db.flush() {
                    tracing::error!(error = %err, "final flush of the event log failed");
                }
                let _ = done.send(());
                return;
            }
        }
    }

    fn commit(&mut self, pending: Vec<(Vec<StreamWrite>, Reply)>) {
        if pending.is_empty() {
            return;
        }
        if let Some(reason) = &self.poisoned {
            for (_, reply) in pending {
                let _ = reply.send(Err(AppendError::Storage(reason.clone())));
            }
            return;
        }
        let mut group = Group {
            log: sled::Batch::default(),
            streams: sled::Batch::default(),
            staged: HashMap::new(),
            head: self.head,
            live: (self.live.receiver_count() > 0).then(Vec::new),
            answers: Vec::with_capacity(pending.len()),
            written: 0,
        };
        // One timestamp per group, never earlier than the previous event's.
        let at = self.clock.now_ms().max(self.head.at);
        for (writes, reply) in pending {
            let result = self.stage(&mut group, writes, at);
            group.answers.push((reply, result));
        }
        if group.written > 0 {
            let started = std::time::Instant::now();
            let written = self.write(&group);
            self.meters
                .commit_seconds
                .record(started.elapsed().as_secs_f64());
            if let Err(reason) = written {
                tracing::error!(error = %reason, "event log write failed; refusing further appends");
                self.poisoned = Some(reason.clone());
                for (reply, result) in group.answers {
                    let answer = match result {
                        Ok(_) => Err(AppendError::Storage(reason.clone())),
                        conflict => conflict,
                    };
                    let _ = reply.send(answer);
                }
                return;
            }
            self.meters.appended.increment(group.written as u64);
            self.meters.group_events.record(group.written as f64);
            self.meters.head_seq.set(group.head.seq as f64);
            self.head = group.head;
            self.versions.extend(group.staged);
            // The durable head moves before the live batch goes out, so a subscriber that sees a
            // gap in the live channel can always fill it from disk.
            self.durable.send_replace(self.head.seq);
            if let Some(envelopes) = group.live {
                let _ = self.live.send(envelopes.into());
            }
        }
        for (reply, result) in group.answers {
            let _ = reply.send(result);
        }
    }

    /// Checks one request and, if it may go ahead, adds its events to the group.
    fn stage(
        &mut self,
        group: &mut Group,
        writes: Vec<StreamWrite>,
        at: i64,
    ) -> Result<AppendOutcome, AppendError> {
        validate(&writes)?;
        // Versions as this request would leave them; dropped if any write conflicts.
        let mut versions: Vec<u64> = Vec::with_capacity(writes.len());
        let mut local: HashMap<&str, u64> = HashMap::new();
        for write in &writes {
            let current = match local.get(write.stream.as_str()) {
                Some(v) => *v,
                None => self.current_version(&group.staged, &write.stream)?,
            };
            if !write.expected.admits(current) {
                return Err(AppendError::Conflict {
                    stream: write.stream.clone(),
                    expected: write.expected,
                    actual: current,
                });
            }
            let next = current + write.events.len() as u64;
            local.insert(&write.stream, next);
            versions.push(next);
        }
        let first_seq = group.head.seq + 1;
        for (write, last_version) in writes.iter().zip(&versions) {
            let mut version = last_version - write.events.len() as u64;
            for event in &write.events {
                version += 1;
                let pos = Position {
                    seq: group.head.seq + 1,
                    stream: &write.stream,
                    version,
                    at,
                    prev_hash: group.head.hash,
                };
                let (record, hash) = encode_record(pos, event);
                if let Some(live) = group.live.as_mut() {
                    live.push(Arc::new(Envelope {
                        seq: pos.seq,
                        stream: write.stream.clone(),
                        version,
                        at,
                        kind: event.kind.to_string(),
                        schema: event.schema,
                        actor: event.actor.clone(),
                        payload: event.payload.clone(),
                        prev_hash: pos.prev_hash,
                        hash,
                    }));
                }
                group.log.insert(&keys::seq_key(pos.seq), record);
                group.streams.insert(
                    keys::stream_key(&write.stream, version),
                    &keys::seq_key(pos.seq),
                );
                group.head = Head {
                    seq: pos.seq,
                    hash,
                    at,
                };
                group.written += 1;
            }
            group.staged.insert(write.stream.clone(), *last_version);
        }
        Ok(AppendOutcome {
            first_seq,
            last_seq: group.head.seq,
            at,
            stream_versions: versions,
        })
    }

    fn current_version(
        &mut self,
        staged: &HashMap<String, u64>,
        stream: &str,
    ) -> Result<u64, AppendError> {
        if let Some(v) = staged.get(stream).or_else(|| self.versions.get(stream)) {
            return Ok(*v);
        }
        let version = self
            .streams
            .scan_prefix(keys::stream_prefix(stream))
            .next_back()
            .transpose()
            .map_err(|e| AppendError::Storage(e.to_string()))?
            .map(|(key, _)| keys::seq_of(&key))
            .unwrap_or(0);
        self.versions.insert(stream.to_owned(), version);
        Ok(version)
    }

    /// One atomic transaction over both trees, then (in `Always` mode) one flush.
    fn write(&self, group: &Group) -> Result<(), String> {
        let result: Result<(), TransactionError<()>> =
            (&self.log, &self.streams).transaction(|(log, streams)| {
                log.apply_batch(&group.log)?;
                streams.apply_batch(&group.streams)?;
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        result.map_err(|e| format!("{e:?}"))?;
        if self.sync == SyncMode::Always {
            self.db.flush().map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

const MAX_STREAM_NAME: usize = 512;

fn validate(writes: &[StreamWrite]) -> Result<(), AppendError> {
    if writes.is_empty() {
        return Err(AppendError::Invalid(
            "an append needs at least one write".into(),
        ));
    }
    for write in writes {
        if write.stream.is_empty()
            || write.stream.len() > MAX_STREAM_NAME
            || write.stream.contains('\0')
        {
            return Err(AppendError::Invalid(format!(
                "stream names are 1 to {MAX_STREAM_NAME} bytes without NUL"
            )));
        }
        if write.events.is_empty() {
            return Err(AppendError::Invalid(format!(
                "the write to {} has no events",
                write.stream
            )));
        }
    }
    Ok(())
}
