//! Running projections: catch up, follow, publish positions, wait for them.

use std::sync::Arc;
use std::time::Duration;

use convene_events::{Envelope, EventLog};
use tokio::sync::watch;

use crate::staged::{read_checkpoint, Staged};
use crate::{
    AccountsDirectory, AnalyticsErrors, AnalyticsUsage, EventFeed, History, Ledger,
    MeetingDirectory, TimeIndex, VideoSdk, Webhooks,
};

/// A read model folded from the log into its own tree.
pub trait Projection: Send + Sync + 'static {
    /// The sled tree this projection owns.
    const TREE: &'static str;

    /// The shape of the rows it writes. Raise it when they change: at start-up a tree written
    /// by another version is dropped and folded again from the start of the log.
    const VERSION: u32 = 1;

    /// Folds one event. Unknown kinds must be skipped (they belong to other read models).
    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError>;
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProjectionError {
    #[error("storage: {0}")]
    Storage(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("event {seq} cannot be folded: {reason}")]
    BadEvent { seq: u64, reason: String },
    #[error("projection {name} stopped: {reason}")]
    Stopped { name: &'static str, reason: String },
    #[error("projection {name} did not reach seq {seq} within {timeout:?}")]
    Timeout {
        name: &'static str,
        seq: u64,
        timeout: Duration,
    },
}

impl From<sled::Error> for ProjectionError {
    fn from(err: sled::Error) -> Self {
        ProjectionError::Storage(err.to_string())
    }
}

/// A running projection's last folded sequence, or why it stopped.
pub type Position = Result<u64, String>;

struct Running {
    name: &'static str,
    position: watch::Receiver<Position>,
    task: tokio::task::JoinHandle<()>,
}

/// The one list of read models: each is opened, started, reachable by its accessor, folded in a
/// rebuild and waited for from this list alone.
macro_rules! read_models {
    ($($(#[$doc:meta])* $field:ident: $model:ty,)*) => {
        /// Every projection the server reads, running.
        #[derive(Clone)]
        pub struct Projections {
            running: Arc<Vec<Running>>,
            $($field: $model,)*
        }

        impl Projections {
            /// Opens every projection's tree and starts folding from its checkpoint.
            pub fn start(log: &EventLog) -> Result<Self, ProjectionError> {
                $(let $field = <$model>::open(log.db())?;)*
                let running = vec![$(spawn::<$model>(log, $field.tree().clone())?,)*];
                Ok(Self {
                    running: Arc::new(running),
                    $($field,)*
                })
            }

            $(
                $(#[$doc])*
                pub fn $field(&self) -> &$model {
                    &self.$field
                }
            )*
        }

        /// Every projection the server runs, in the order they start.
        pub fn all_folds() -> Vec<Fold> {
            vec![$(Fold::of::<$model>(),)*]
        }
    };
}

read_models! {
    /// Meetings by id and each workspace's live meetings.
    meetings: MeetingDirectory,
    /// Accounts, keys, sessions, companies, meetings created per month.
    accounts: AccountsDirectory,
    /// What the scheduler has to do, by time.
    time_index: TimeIndex,
    /// Meetings that took place.
    history: History,
    /// Each workspace's event sequences.
    event_feed: EventFeed,
    /// Webhook endpoints.
    webhooks: Webhooks,
    /// Balances and transactions.
    ledger: Ledger,
    /// Client error reports (administrators' analytics).
    analytics_errors: AnalyticsErrors,
    /// Feature use, peak hours, retention (administrators' analytics).
    analytics_usage: AnalyticsUsage,
    /// VideoSDK credentials, rooms, sessions.
    videosdk: VideoSdk,
}

/// Which read models a write must be visible in before it answers.
#[derive(Debug, Clone, Copy)]
pub enum Visibility<'a> {
    /// Every read model the API answers from with read-your-writes: all but the administrators'
    /// analytics, which are aggregates read on their own schedule.
    Api,
    /// Only these (by [`Projection::TREE`]): a write whose later reads come from them alone.
    Only(&'a [&'static str]),
}

impl Projections {
    /// Follows a projection's position (`TREE` names it); `None` for an unknown name.
    pub fn position_of(&self, tree: &str) -> Option<watch::Receiver<Position>> {
        self.running
            .iter()
            .find(|r| r.name == tree)
            .map(|r| r.position.clone())
    }

    /// Waits until every projection has folded `seq`.
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> Result<(), ProjectionError> {
        self.wait_for_each(seq, |_| true, timeout).await
    }

    /// Waits until the read models `visibility` names have folded `seq` (read-your-writes).
    pub async fn wait_visible(
        &self,
        seq: u64,
        visibility: Visibility<'_>,
        timeout: Duration,
    ) -> Result<(), ProjectionError> {
        match visibility {
            Visibility::Api => {
                let aggregates = [
                    <AnalyticsErrors as Projection>::TREE,
                    <AnalyticsUsage as Projection>::TREE,
                ];
                self.wait_for_each(seq, |name| !aggregates.contains(&name), timeout)
                    .await
            }
            Visibility::Only(names) => {
                self.wait_for_each(seq, |name| names.contains(&name), timeout)
                    .await
            }
        }
    }

    async fn wait_for_each(
        &self,
        seq: u64,
        wanted: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<(), ProjectionError> {
        for running in self.running.iter().filter(|r| wanted(r.name)) {
            let mut position = running.position.clone();
            let reached = tokio::time::timeout(
                timeout,
                position.wait_for(|p| !matches!(p, Ok(at) if *at < seq)),
            )
            .await
            .map_err(|_| ProjectionError::Timeout {
                name: running.name,
                seq,
                timeout,
            })?;
            let stopped = |reason: String| ProjectionError::Stopped {
                name: running.name,
                reason,
            };
            match reached {
                Ok(p) => p.as_ref().map(|_| ()).map_err(|r| stopped(r.clone()))?,
                Err(_) => return Err(stopped("its task ended".into())),
            }
        }
        Ok(())
    }

    /// The last sequence the meeting directory has folded; `None` if it has stopped. Its
    /// content can only change when this moves, so answers built from it can be cached
    /// against it.
    pub fn meetings_position(&self) -> Option<u64> {
        self.running
            .iter()
            .find(|r| r.name == <MeetingDirectory as Projection>::TREE)
            .and_then(|r| r.position.borrow().as_ref().ok().copied())
    }

    /// Every projection's name and position.
    pub fn positions(&self) -> Vec<(&'static str, Position)> {
        self.running
            .iter()
            .map(|r| (r.name, r.position.borrow().clone()))
            .collect()
    }

    /// Stops the folding tasks (the log's subscriptions end with it).
    pub fn stop(&self) {
        for running in self.running.iter() {
            running.task.abort();
        }
    }
}

fn spawn<P: Projection>(log: &EventLog, tree: sled::Tree) -> Result<Running, ProjectionError> {
    ensure_version::<P>(&tree)?;
    let checkpoint = read_checkpoint(&tree)?;
    let (publish, position) = watch::channel(Ok(checkpoint));
    let mut subscription = log.subscribe(checkpoint + 1);
    let task = tokio::spawn(async move {
        loop {
            let batch = match subscription.next_batch().await {
                Ok(Some(batch)) => batch,
                Ok(None) => return,
                Err(err) => {
                    tracing::error!(projection = P::TREE, error = %err, "projection cannot read the log");
                    let _ = publish.send_replace(Err(err.to_string()));
                    return;
                }
            };
            let last = batch.last().map(|e| e.seq).unwrap_or(0);
            if let Err(err) = Fold::of::<P>().fold_chunk(&tree, &batch) {
                // Skipping an event would make the read model silently wrong; stop instead and
                // let every waiter see why.
                tracing::error!(projection = P::TREE, error = %err, "projection stopped");
                let _ = publish.send_replace(Err(err.to_string()));
                return;
            }
            let _ = publish.send_replace(Ok(last));
        }
    });
    Ok(Running {
        name: P::TREE,
        position,
        task,
    })
}

/// Where a projection records the version of its rows, beside its checkpoint.
const VERSION_KEY: &[u8] = b"\0version";

/// Drops the tree if its rows were written by another version of the projection; it then
/// folds from sequence 1 like a new one.
fn ensure_version<P: Projection>(tree: &sled::Tree) -> Result<(), ProjectionError> {
    let stored = tree.get(VERSION_KEY)?.map(|v| {
        let mut be = [0u8; 4];
        be.copy_from_slice(&v[..4.min(v.len())]);
        u32::from_be_bytes(be)
    });
    // A tree without a version key but with rows is version 1 (it predates the key).
    let stored = stored.or_else(|| (!tree.is_empty()).then_some(1));
    if stored.is_some_and(|v| v != P::VERSION) {
        tracing::info!(
            projection = P::TREE,
            from = ?stored,
            to = P::VERSION,
            "read model changed shape: folding it again from the start of the log"
        );
        tree.clear()?;
    }
    tree.insert(VERSION_KEY, &P::VERSION.to_be_bytes())?;
    Ok(())
}

/// A projection's fold without its type: what a pass over the log needs to fold it.
#[derive(Clone, Copy)]
pub struct Fold {
    /// The projection's tree (its name).
    pub tree: &'static str,
    version: u32,
    apply: fn(&mut Staged<'_>, &Envelope) -> Result<(), ProjectionError>,
}

impl Fold {
    pub fn of<P: Projection>() -> Self {
        Self {
            tree: P::TREE,
            version: P::VERSION,
            apply: P::apply,
        }
    }

    /// The fold of the projection whose tree is `tree` (with or without the `proj/` prefix).
    pub fn named(tree: &str) -> Option<Self> {
        let wanted = tree.strip_prefix("proj/").unwrap_or(tree);
        all_folds()
            .into_iter()
            .find(|f| f.tree.strip_prefix("proj/") == Some(wanted))
    }

    /// Folds `chunk` into `tree` and moves its checkpoint to the chunk's last event, in one
    /// atomic batch (live followers and rebuilds alike).
    fn fold_chunk(
        &self,
        tree: &sled::Tree,
        chunk: &[Arc<Envelope>],
    ) -> Result<(), ProjectionError> {
        let mut staged = Staged::new(tree);
        for envelope in chunk {
            (self.apply)(&mut staged, envelope)?;
        }
        let last = chunk.last().map_or(0, |e| e.seq);
        staged.commit(last)?;
        Ok(())
    }
}

/// Events read from the log and folded per commit in a rebuild: large enough that a row
/// touched again and again within it is written once, small enough to keep memory bounded.
const REBUILD_CHUNK: usize = 16_384;

/// Drops a projection's rows and folds the whole log again, synchronously. Returns how many
/// events were folded.
pub fn rebuild<P: Projection>(log: &EventLog) -> Result<u64, ProjectionError> {
    rebuild_all(log, &[Fold::of::<P>()], &mut |_| {})
}

/// Drops the rows of every projection in `folds` and folds the whole log into them again in
/// one pass: each chunk of events is read and decoded once and folded into every projection,
/// the projections spread over the machine's cores. `progress` hears how many events have
/// been folded after each chunk. Returns that count.
pub fn rebuild_all(
    log: &EventLog,
    folds: &[Fold],
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ProjectionError> {
    let mut trees = Vec::with_capacity(folds.len());
    for fold in folds {
        let tree = log.db().open_tree(fold.tree)?;
        tree.clear()?;
        tree.insert(VERSION_KEY, &fold.version.to_be_bytes())?;
        trees.push(tree);
    }
    fold_log_from(log, 1, folds, &trees, progress)
}

/// Folds what `fold`'s tree has not folded yet, up to the log's durable head (what the server
/// would do first at its next start). Returns how many events that was.
pub fn catch_up(log: &EventLog, fold: Fold) -> Result<u64, ProjectionError> {
    let tree = log.db().open_tree(fold.tree)?;
    let stored = tree.get(VERSION_KEY)?;
    if stored.as_deref() != Some(&fold.version.to_be_bytes()[..]) {
        // Another version's rows: the server would drop them and fold from the start.
        return rebuild_all(log, &[fold], &mut |_| {});
    }
    let from = read_checkpoint(&tree)? + 1;
    fold_log_from(log, from, &[fold], &[tree], &mut |_| {})
}

fn fold_log_from(
    log: &EventLog,
    from: u64,
    folds: &[Fold],
    trees: &[sled::Tree],
    progress: &mut dyn FnMut(u64),
) -> Result<u64, ProjectionError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(folds.len())
        .max(1);
    let mut folded = 0;
    let mut chunk = Vec::with_capacity(REBUILD_CHUNK);
    let mut events = log.iter_all(from).peekable();
    while events.peek().is_some() {
        chunk.clear();
        for envelope in events.by_ref().take(REBUILD_CHUNK) {
            chunk.push(Arc::new(
                envelope.map_err(|e| ProjectionError::Storage(e.to_string()))?,
            ));
        }
        fold_chunk_everywhere(folds, trees, &chunk, workers)?;
        folded += chunk.len() as u64;
        progress(folded);
    }
    Ok(folded)
}

/// Folds one chunk into every projection, `workers` threads taking the projections in turn.
fn fold_chunk_everywhere(
    folds: &[Fold],
    trees: &[sled::Tree],
    chunk: &[Arc<Envelope>],
    workers: usize,
) -> Result<(), ProjectionError> {
    if workers <= 1 {
        for (fold, tree) in folds.iter().zip(trees) {
            fold.fold_chunk(tree, chunk)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                scope.spawn(move || {
                    for (fold, tree) in folds.iter().zip(trees).skip(worker).step_by(workers) {
                        fold.fold_chunk(tree, chunk)?;
                    }
                    Ok::<(), ProjectionError>(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|handle| {
            handle.join().map_err(|_| ProjectionError::Stopped {
                name: "rebuild",
                reason: "a folding thread panicked".into(),
            })?
        })
    })
}
