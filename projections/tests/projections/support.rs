//! What the read-model tests share: a tree's contents for comparing a live read model with its
//! rebuild, and the events most tests start a meeting with.

use convene_events::catalog::meeting::{ActivationTrigger, MeetingActivated};
use convene_events::{Actor, DomainEvent, NewEvent};

/// Every key and value of `tree`, in key order.
pub fn snapshot(tree: &sled::Tree) -> Vec<(Vec<u8>, Vec<u8>)> {
    tree.iter()
        .map(|e| {
            let (k, v) = e.unwrap();
            (k.to_vec(), v.to_vec())
        })
        .collect()
}

/// An instant meeting's activation.
pub fn activated() -> NewEvent {
    MeetingActivated {
        trigger: ActivationTrigger::Instant,
    }
    .to_new_event(Actor::System)
}
