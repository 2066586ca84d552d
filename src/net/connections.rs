//! The long-lived connections a server holds (upgraded WebSockets, Engine.IO sessions): the
//! server tells them all when it stops, and waits — for a bounded time — until each has said
//! goodbye in its own protocol and ended.
//!
//! A connection's task holds a [`ConnectionGuard`] while it runs and watches [`Stopping`];
//! when the server stops, it sends its close (a WebSocket close frame with a reason, Socket.IO's
//! namespace DISCONNECT) and returns, dropping the guard. [`Connections::drained`] resolves when
//! no guard is left, so the store the connections hold is released by the time the server's
//! `serve` returns.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

#[derive(Clone)]
pub struct Connections {
    inner: Arc<Inner>,
}

struct Inner {
    stopping: watch::Sender<bool>,
    live: watch::Sender<usize>,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                stopping: watch::channel(false).0,
                live: watch::channel(0).0,
            }),
        }
    }
}

impl Connections {
    /// Counts a connection until the guard is dropped.
    pub fn register(&self) -> ConnectionGuard {
        self.inner.live.send_modify(|live| *live += 1);
        ConnectionGuard {
            connections: self.clone(),
        }
    }

    /// What a connection watches to learn that the server stops.
    pub fn stopping(&self) -> Stopping {
        Stopping(self.inner.stopping.subscribe())
    }

    /// Tells every connection, present and future, that the server stops.
    pub fn stop(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// How many connections are open.
    pub fn live(&self) -> usize {
        *self.inner.live.borrow()
    }

    /// Waits until no connection is left, for at most `timeout`; whether none is.
    pub async fn drained(&self, timeout: Duration) -> bool {
        let mut live = self.inner.live.subscribe();
        let none_left = tokio::time::timeout(timeout, live.wait_for(|n| *n == 0)).await;
        none_left.is_ok()
    }
}

/// Held by a connection's task for as long as it runs.
pub struct ConnectionGuard {
    connections: Connections,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.connections
            .inner
            .live
            .send_modify(|live| *live = live.saturating_sub(1));
    }
}

/// A connection's view of the server stopping.
#[derive(Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Resolves once the server stops (at once if it has).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_hear_the_stop_and_are_waited_for() {
        let connections = Connections::default();
        let guard = connections.register();
        let mut stopping = connections.stopping();
        assert!(!stopping.is_stopping());
        assert!(!connections.drained(Duration::ZERO).await);
        let task = tokio::spawn(async move {
            stopping.wait().await;
            drop(guard);
        });
        connections.stop();
        assert!(connections.drained(Duration::from_secs(5)).await);
        task.await.unwrap();
        // A connection that comes after the stop hears it at once.
        connections.stopping().wait().await;
    }
}
