//! The durable, append-only, tamper-evident event log.
//!
//! - [`writer`]: the one thread that appends. It drains every pending request, checks each
//!   request's expected stream versions, assigns sequences, writes one atomic batch, flushes once
//!   and only then answers (group commit).
//! - [`subscription`]: `subscribe(from)`: catch up from disk, then follow live appends, falling
//!   back to disk whenever the live channel lags, so no event is ever skipped or repeated.
//! - [`verify`]: walks the hash chain for auditors.
//! - [`keys`]: how sequences and stream versions are laid out in sled.
//!
//! Readers only ever see events at or below the durable head: an event that could still vanish
//! in a crash is invisible to projections, webhooks and the API alike.

mod keys;
mod subscription;
mod verify;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::clock::Clock;
use crate::codec_error::CodecError;
use crate::envelope::{decode_record, Envelope, NewEvent};

pub use subscription::Subscription;
pub use verify::{verify_chain, ChainReport, ChainViolation};

/// When appends are acknowledged relative to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// Flush (fsync) every group before answering: nothing acknowledged is ever lost.
    Always,
    /// Answer after the write reaches sled's memory and let a background flush run every
    /// `n` milliseconds. Faster, but a power failure or kill loses up to `n` ms of
    /// acknowledged events. For operators who accept that trade.
    Interval(u64),
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub path: PathBuf,
    pub sync: SyncMode,
    /// sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// How many committed groups the live channel holds before a slow subscriber lags (and
    /// falls back to reading from disk).
    pub live_capacity: usize,
    /// Append requests that may wait for the writer before callers wait to enqueue.
    pub queue_capacity: usize,
    /// Most events written in one group commit.
    pub max_group_events: usize,
}

impl LogConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            sync: SyncMode::Always,
            cache_capacity_bytes: 256 * 1024 * 1024,
            live_capacity: 1024,
            queue_capacity: 16 * 1024,
            max_group_events: 8 * 1024,
        }
    }
}

/// What a stream must look like for an append to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(u64),
}

impl ExpectedVersion {
    fn admits(&self, current: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == *v,
        }
    }
}

/// Events for one stream within an append.
#[derive(Debug, Clone)]
pub struct StreamWrite {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

impl StreamWrite {
    pub fn new(
        stream: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        Self {
            stream: stream.into(),
            expected,
            events,
        }
    }
}

/// Where an append landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendOutcome {
    pub first_seq: u64,
    pub last_seq: u64,
    /// The timestamp the log gave every event of this append.
    pub at: i64,
    /// Each write's stream version after the append, in request order.
    pub stream_versions: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("stream {stream} is at version {actual}, expected {expected:?}")]
    Conflict {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("invalid append: {0}")]
    Invalid(String),
    #[error("the log could not write: {0}")]
    Storage(String),
    #[error("the log is closed")]
    Closed,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("data directory {0} is in use by another Convene process (is a server running?)")]
    Locked(PathBuf),
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
    #[error("record at seq {seq} is unreadable: {source}")]
    Corrupt { seq: u64, source: CodecError },
    #[error("the log is closed")]
    Closed,
}

pub(crate) enum WriterMsg {
    Append {
        writes: Vec<StreamWrite>,
        reply: oneshot::Sender<Result<AppendOutcome, AppendError>>,
    },
    Close(oneshot::Sender<()>),
}

/// A cheap-to-clone handle on the log.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    log: sled::Tree,
    streams: sled::Tree,
    requests: mpsc::Sender<WriterMsg>,
    durable: watch::Receiver<u64>,
    /// `None` once closed, so that subscribers see the live channel close when the writer's
    /// sender goes.
    live: Mutex<Option<broadcast::Sender<LiveBatch>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

/// One committed group, as the live channel carries it.
pub(crate) type LiveBatch = Arc<[Arc<Envelope>]>;

impl EventLog {
    /// Opens (or creates) the log at `config.path` and starts its writer thread.
    pub fn open(config: LogConfig, clock: Arc<dyn Clock>) -> Result<Self, LogError> {
        let db = open_db(&config)?;
        let log = db.open_tree(keys::LOG_TREE)?;
        let streams = db.open_tree(keys::STREAMS_TREE)?;
        let head = writer::Head::load(&log)?;
        let (durable_tx, durable) = watch::channel(head.seq);
        let (live, _) = broadcast::channel(config.live_capacity.max(1));
        let (requests, receiver) = mpsc::channel(config.queue_capacity.max(1));
        let writer = writer::Writer::new(
            db.clone(),
            log.clone(),
            streams.clone(),
            head,
            clock,
            &config,
            durable_tx,
            live.clone(),
        );
        let handle = std::thread::Builder::new()
            .name("convene-log-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| LogError::Storage(sled::Error::Io(e)))?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                log,
                streams,
                requests,
                durable,
                live: Mutex::new(Some(live)),
                writer: Mutex::new(Some(handle)),
                path: config.path,
            }),
        })
    }

    /// Appends atomically to one or more streams: every write's expected version must hold,
    /// or nothing is written. Returns once the events are durable (see [`SyncMode`]).
    pub async fn append(&self, writes: Vec<StreamWrite>) -> Result<AppendOutcome, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .requests
            .send(WriterMsg::Append { writes, reply })
            .await
            .map_err(|_| AppendError::Closed)?;
        answer.await.map_err(|_| AppendError::Closed)?
    }

    /// Appends to a single stream.
    pub async fn append_to(
        &self,
        stream: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, AppendError> {
        self.append(vec![StreamWrite::new(stream, expected, events)])
            .await
    }

    /// The highest durable sequence (0 when the log is empty).
    pub fn durable_head(&self) -> u64 {
        *self.inner.durable.borrow()
    }

    /// Events with `seq >= from_seq`, at most `limit` of them, in order.
    pub fn read_all(&self, from_seq: u64, limit: usize) -> Result<Vec<Envelope>, LogError> {
        let head = self.durable_head();
        let from = from_seq.max(1);
        if from > head || limit == 0 {
            return Ok(Vec::new());
        }
        let to = head.min(from.saturating_add(limit as u64 - 1));
        self.read_range(from, to)
    }

    /// Every durable event from `from_seq` on, lazily, up to the durable head at the call.
    pub fn iter_all(&self, from_seq: u64) -> impl Iterator<Item = Result<Envelope, LogError>> {
        let head = self.durable_head();
        self.inner
            .log
            .range(keys::seq_key(from_seq.max(1))..=keys::seq_key(head))
            .map(|entry| {
                let (key, record) = entry?;
                decode_record(&record).map_err(|source| LogError::Corrupt {
                    seq: keys::seq_of(&key),
                    source,
                })
            })
    }

    pub(crate) fn read_range(&self, from: u64, to: u64) -> Result<Vec<Envelope>, LogError> {
        let mut out = Vec::with_capacity((to.saturating_sub(from) + 1).min(4096) as usize);
        for entry in self
            .inner
            .log
            .range(keys::seq_key(from)..=keys::seq_key(to))
        {
            let (key, record) = entry?;
            let seq = keys::seq_of(&key);
            out.push(decode_record(&record).map_err(|source| LogError::Corrupt { seq, source })?);
        }
        Ok(out)
    }

    /// A stream's durable events with `version >= from_version`, in order.
    pub fn read_stream(&self, stream: &str, from_version: u64) -> Result<Vec<Envelope>, LogError> {
        let head = self.durable_head();
        let mut out = Vec::new();
        let start = keys::stream_key(stream, from_version.max(1));
        let end = keys::stream_key(stream, u64::MAX);
        for entry in self.inner.streams.range(start..=end) {
            let (_, seq_bytes) = entry?;
            let seq = keys::seq_of(&seq_bytes);
            if seq > head {
                break;
            }
            let record = self
                .inner
                .log
                .get(keys::seq_key(seq))?
                .ok_or(LogError::Corrupt {
                    seq,
                    source: CodecError::Decode("indexed by its stream but missing".into()),
                })?;
            out.push(decode_record(&record).map_err(|source| LogError::Corrupt { seq, source })?);
        }
        Ok(out)
    }

    /// The sequence of a stream's event at `version`, if it is durable: a point lookup, where
    /// [`EventLog::read_stream`] would read the whole stream.
    pub fn seq_of(&self, stream: &str, version: u64) -> Result<Option<u64>, LogError> {
        let head = self.durable_head();
        Ok(self
            .inner
            .streams
            .get(keys::stream_key(stream, version))?
            .map(|bytes| keys::seq_of(&bytes))
            .filter(|seq| *seq <= head))
    }

    /// Follows the log from `from_seq` (inclusive): past events from disk, then live ones.
    pub fn subscribe(&self, from_seq: u64) -> Subscription {
        let live = match self.inner.live.lock().expect("live lock").as_ref() {
            Some(sender) => sender.subscribe(),
            // Closed: a receiver whose sender is gone reports `Closed` at once.
            None => broadcast::channel(1).1,
        };
        Subscription::new(
            self.clone(),
            from_seq.max(1),
            live,
            self.inner.durable.clone(),
        )
    }

    /// A watch on the durable head, for waiting until the log reaches a position.
    pub fn durable_watch(&self) -> watch::Receiver<u64> {
        self.inner.durable.clone()
    }

    /// A fresh id, unique within this data directory (accounts, keys). Never reused; gaps are
    /// possible after a crash.
    pub fn next_id(&self) -> Result<u64, LogError> {
        Ok(self.inner.db.generate_id()? + 1)
    }

    /// The database, for read models that keep their trees beside the log.
    pub fn db(&self) -> &sled::Db {
        &self.inner.db
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Finishes pending appends, flushes and stops the writer. Later appends fail with
    /// [`AppendError::Closed`].
    pub async fn close(&self) {
        self.inner.live.lock().expect("live lock").take();
        let (done, closed) = oneshot::channel();
        if self
            .inner
            .requests
            .send(WriterMsg::Close(done))
            .await
            .is_ok()
        {
            let _ = closed.await;
        }
        let handle = self.inner.writer.lock().expect("writer handle lock").take();
        if let Some(handle) = handle {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
    }
}

fn open_db(config: &LogConfig) -> Result<sled::Db, LogError> {
    let flush_every = match config.sync {
        SyncMode::Always => None,
        SyncMode::Interval(ms) => Some(ms.max(1)),
    };
    sled::Config::new()
        .path(&config.path)
        .cache_capacity(config.cache_capacity_bytes)
        .flush_every_ms(flush_every)
        .open()
        .map_err(|err| match err {
            sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
                LogError::Locked(config.path.clone())
            }
            other => LogError::Storage(other),
        })
}
