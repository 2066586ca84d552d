//! A write overlay over one projection's tree.
//!
//! A projection folds a whole batch of events before anything is written; later events in the
//! batch must see earlier ones' writes, so reads look at the overlay first. `commit` writes every
//! change plus the new checkpoint in one atomic sled batch.

use std::collections::BTreeMap;

/// Where a projection keeps its checkpoint inside its own tree. Row keys start with a letter.
pub(crate) const CHECKPOINT_KEY: &[u8] = b"\0checkpoint";

/// A row's key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

pub struct Staged<'t> {
    tree: &'t sled::Tree,
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'t> Staged<'t> {
    pub fn new(tree: &'t sled::Tree) -> Self {
        Self {
            tree,
            overlay: BTreeMap::new(),
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, sled::Error> {
        match self.overlay.get(key) {
            Some(staged) => Ok(staged.clone()),
            None => Ok(self.tree.get(key)?.map(|v| v.to_vec())),
        }
    }

    /// Every live entry under `prefix`, the overlay's changes included, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>, sled::Error> {
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for entry in self.tree.scan_prefix(prefix) {
            let (key, value) = entry?;
            merged.insert(key.to_vec(), Some(value.to_vec()));
        }
        for (key, value) in self.overlay.range(prefix.to_vec()..) {
            if !key.starts_with(prefix) {
                break;
            }
            merged.insert(key.clone(), value.clone());
        }
        Ok(merged
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key, v)))
            .collect())
    }

    pub fn insert(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.overlay.insert(key.into(), Some(value.into()));
    }

    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.overlay.insert(key.into(), None);
    }

    /// Writes the staged changes and `checkpoint` atomically.
    pub fn commit(self, checkpoint: u64) -> Result<(), sled::Error> {
        let mut batch = sled::Batch::default();
        for (key, value) in self.overlay {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        batch.insert(CHECKPOINT_KEY, &checkpoint.to_be_bytes());
        self.tree.apply_batch(batch)
    }
}

pub(crate) fn read_checkpoint(tree: &sled::Tree) -> Result<u64, sled::Error> {
    Ok(tree
        .get(CHECKPOINT_KEY)?
        .map(|v| {
            let mut be = [0u8; 8];
            be.copy_from_slice(&v);
            u64::from_be_bytes(be)
        })
        .unwrap_or(0))
}
