//! The ledger under a random workload (seeded, so a failure replays): entries of random sign
//! and size, references that repeat (a repeated reference must count once), several workspaces
//! in one atomic append. Every balance equals the sum of its listed transactions and an
//! independent recomputation; a rebuild equals the live ledger.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::ledger::LedgerEntry;
use convene_events::ids::ledger_stream;
use convene_events::log::StreamWrite;
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, Workspace,
};
use convene_projections::{rebuild, Ledger, Projections};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::support::snapshot;

#[tokio::test]
async fn balances_are_the_sum_of_their_unique_entries() {
    let dir = tempfile::tempdir().unwrap();
    let log = EventLog::open(
        LogConfig::new(dir.path()),
        Arc::new(ManualClock::new(1_700_000_000_000)),
    )
    .unwrap();
    let projections = Projections::start(&log).unwrap();
    let workspaces = [
        Workspace::Account(1),
        Workspace::Account(2),
        Workspace::Company(3),
    ];
    let mut rng = StdRng::seed_from_u64(20261129);
    let mut expected: HashMap<Workspace, i64> = HashMap::new();
    let mut seen: HashSet<(Workspace, String)> = HashSet::new();
    for _ in 0..200 {
        // One append of 1 to 3 entries, possibly in different workspaces (as a company merge is).
        let mut writes = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let workspace = workspaces[rng.random_range(0..workspaces.len())];
            let entry = LedgerEntry {
                amount_micros: rng.random_range(-2_000_000..=2_000_000),
                kind: "test".into(),
                description: "random".into(),
                reference: format!("ref-{}", rng.random_range(0..120)),
            };
            if seen.insert((workspace, entry.reference.clone())) {
                *expected.entry(workspace).or_default() += entry.amount_micros;
            }
            writes.push(StreamWrite::new(
                ledger_stream(workspace),
                ExpectedVersion::Any,
                vec![entry.to_new_event(Actor::System)],
            ));
        }
        log.append(writes).await.unwrap();
    }
    projections
        .wait_for(log.durable_head(), Duration::from_secs(5))
        .await
        .unwrap();

    let ledger = projections.ledger();
    for workspace in workspaces {
        let balance = ledger.balance(workspace).unwrap();
        assert_eq!(balance, expected[&workspace], "{workspace:?}");
        let listed: i64 = ledger
            .transactions(workspace, usize::MAX)
            .unwrap()
            .iter()
            .map(|t| t.amount_micros)
            .sum();
        assert_eq!(listed, balance, "{workspace:?}: transactions add up");
    }

    projections.stop();
    let live = snapshot(&log.db().open_tree("proj/ledger").unwrap());
    assert_eq!(rebuild::<Ledger>(&log).unwrap(), log.durable_head());
    assert_eq!(snapshot(&log.db().open_tree("proj/ledger").unwrap()), live);
    log.close().await;
}
