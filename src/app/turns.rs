//! Turns: one async lock per key, taken around a check-then-act that must not interleave with
//! itself for the same key (counting a plan's meetings of the month and creating one; finding a
//! VideoSDK room's ongoing session and opening one).
//!
//! One process writes the log, so an in-process lock is enough; with more than one node the
//! same rule needs an expected version on a stream of its own instead. Keys nobody is waiting
//! on are forgotten as new ones are taken, so memory follows the keys in use.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

pub struct Turns<K> {
    turns: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for Turns<K> {
    fn default() -> Self {
        Self {
            turns: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash> Turns<K> {
    /// Waits for `key`'s turn; the turn is held until the guard is dropped.
    pub async fn take(&self, key: K) -> OwnedMutexGuard<()> {
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
            turns.entry(key).or_default().clone()
        };
        turn.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_key_and_idle_keys_are_forgotten() {
        let turns = Turns::<u32>::default();
        let first = turns.take(1).await;
        // Another key is not held up by key 1.
        let other = turns.take(2).await;
        drop(other);
        let second = tokio::time::timeout(std::time::Duration::ZERO, turns.take(1)).await;
        assert!(second.is_err(), "key 1's turn is still held");
        drop(first);
        let _again = turns.take(1).await;
        assert_eq!(turns.turns.lock().unwrap().len(), 1, "key 2 was forgotten");
    }
}
