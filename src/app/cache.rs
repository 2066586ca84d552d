//! Answers computed from a read model, kept until the read model moves on.
//!
//! A read model's position (the last log sequence it folded) only grows, and its content can
//! only change when the position does. So an answer built after reading position `p` is valid
//! for every later request that still sees position `p`: no invalidation messages, no
//! staleness — a write that must be visible has advanced the position before its request
//! answered (read-your-writes), and the next read rebuilds.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub struct VersionedCache<K, V> {
    entries: Mutex<HashMap<K, (u64, V)>>,
    capacity: usize,
}

impl<K: Eq + Hash + Copy, V: Clone> VersionedCache<K, V> {
    /// Holds at most `capacity` keys; when full, it starts over (a cache miss costs one
    /// rebuild, and tracking recency would cost every hit).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The answer for `key` at `position`, built by `build` when the cached one is older.
    /// `position` must be read before `build` reads the read model.
    pub fn get_or_build<E>(
        &self,
        key: K,
        position: u64,
        build: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some((at, value)) = self.lock().get(&key) {
            if *at == position {
                return Ok(value.clone());
            }
        }
        let value = build()?;
        if self.capacity > 0 {
            let mut entries = self.lock();
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                entries.clear();
            }
            match entries.get(&key) {
                // Another request built a newer answer meanwhile: keep it.
                Some((at, _)) if *at > position => {}
                _ => {
                    entries.insert(key, (position, value.clone()));
                }
            }
        }
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (u64, V)>> {
        // A panic while holding the lock cannot leave the map half-changed (inserts and clears
        // are single calls), so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_reused_until_the_position_moves() {
        let cache = VersionedCache::new(10);
        let mut builds = 0;
        let mut get = |position| {
            cache
                .get_or_build::<()>(1, position, || {
                    builds += 1;
                    Ok(format!("built at {position}"))
                })
                .unwrap()
        };
        assert_eq!(get(5), "built at 5");
        assert_eq!(get(5), "built at 5");
        assert_eq!(get(6), "built at 6");
        assert_eq!(builds, 2);
    }

    #[test]
    fn a_full_cache_starts_over_and_a_zero_capacity_caches_nothing() {
        let cache = VersionedCache::new(2);
        for key in 0..3 {
            cache.get_or_build::<()>(key, 1, || Ok(key)).unwrap();
        }
        assert_eq!(cache.lock().len(), 1);
        let off = VersionedCache::new(0);
        off.get_or_build::<()>(1, 1, || Ok(1)).unwrap();
        assert!(off.lock().is_empty());
    }
}
