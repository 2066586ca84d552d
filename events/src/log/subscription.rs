//! `subscribe(from)`: every event from `from` on, exactly once, in order.
//!
//! A subscription is either *catching up* (reading from disk up to the durable head) or *live*
//! (taking committed groups from the broadcast channel). It registers on the live channel before
//! its first disk read, so nothing committed in between is missed. In live mode it drops
//! anything it has already delivered, and whenever it sees a gap — the channel lagged and
//! dropped groups, or a group arrived past its position — it goes back to catching up from disk.
//! The writer moves the durable head before it broadcasts, so the disk always covers a gap.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::{EventLog, LiveBatch, LogError};
use crate::envelope::Envelope;

/// Most events one catch-up read returns.
const CATCH_UP_CHUNK: u64 = 1024;

pub struct Subscription {
    log: EventLog,
    next: u64,
    catching_up: bool,
    live: broadcast::Receiver<LiveBatch>,
    durable: watch::Receiver<u64>,
    /// Events taken by `next_batch` for `next` but not yet handed out.
    buffered: VecDeque<Arc<Envelope>>,
}

impl Subscription {
    pub(crate) fn new(
        log: EventLog,
        from: u64,
        live: broadcast::Receiver<LiveBatch>,
        durable: watch::Receiver<u64>,
    ) -> Self {
        Self {
            log,
            next: from,
            catching_up: true,
            live,
            durable,
            buffered: VecDeque::new(),
        }
    }

    /// The sequence the next delivered event will have.
    pub fn position(&self) -> u64 {
        self.buffered.front().map_or(self.next, |e| e.seq)
    }

    /// The next events in order (at least one), or `Ok(None)` once the log has closed and
    /// everything durable was delivered.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Arc<Envelope>>>, LogError> {
        if !self.buffered.is_empty() {
            return Ok(Some(self.buffered.drain(..).collect()));
        }
        loop {
            if self.catching_up {
                let head = *self.durable.borrow_and_update();
                if self.next <= head {
                    let to = head.min(self.next + CATCH_UP_CHUNK - 1);
                    let events = self.log.read_range(self.next, to)?;
                    self.next = to + 1;
                    return Ok(Some(events.into_iter().map(Arc::new).collect()));
                }
                self.catching_up = false;
            }
            match self.live.recv().await {
                Ok(batch) => {
                    let fresh = batch.iter().skip_while(|e| e.seq < self.next);
                    let fresh: Vec<Arc<Envelope>> = fresh.cloned().collect();
                    match fresh.first() {
                        None => continue,
                        Some(first) if first.seq > self.next => self.catching_up = true,
                        Some(_) => {
                            self.next = fresh[fresh.len() - 1].seq + 1;
                            return Ok(Some(fresh));
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        missed,
                        next = self.next,
                        "subscriber lagged; reading from disk"
                    );
                    self.catching_up = true;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    // The writer is gone: deliver whatever is durable, then end.
                    let head = *self.durable.borrow();
                    if self.next <= head {
                        self.catching_up = true;
                        continue;
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// The next single event, or `Ok(None)` once the log has closed and everything durable was
    /// delivered.
    pub async fn next(&mut self) -> Result<Option<Arc<Envelope>>, LogError> {
        if self.buffered.is_empty() {
            match self.next_batch().await? {
                Some(batch) => self.buffered.extend(batch),
                None => return Ok(None),
            }
        }
        Ok(self.buffered.pop_front())
    }
}
