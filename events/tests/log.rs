//! The log's contract: contiguous sequences, expected-version conflicts that write nothing,
//! gap-free subscriptions (also when the live channel lags), persistence and the hash chain.

use std::collections::HashSet;
use std::sync::Arc;

use convene_events::log::{verify_chain, ChainViolation};
use convene_events::{
    Actor, AppendError, EventLog, ExpectedVersion, LogConfig, LogError, ManualClock, NewEvent,
    StreamWrite,
};

fn event(n: u64) -> NewEvent {
    NewEvent {
        kind: "test.happened".into(),
        schema: 1,
        actor: Actor::System,
        payload: n.to_be_bytes().to_vec(),
    }
}

fn open(dir: &std::path::Path, tweak: impl FnOnce(&mut LogConfig)) -> EventLog {
    let mut config = LogConfig::new(dir);
    config.cache_capacity_bytes = 16 * 1024 * 1024;
    tweak(&mut config);
    EventLog::open(config, Arc::new(ManualClock::new(1_700_000_000_000))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appenders_get_contiguous_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |_| {});
    let mut tasks = Vec::new();
    for writer in 0..16u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..100u64 {
                let out = log
                    .append_to(
                        format!("w/{writer}"),
                        ExpectedVersion::Exact(i),
                        vec![event(i)],
                    )
                    .await
                    .unwrap();
                assert_eq!(out.first_seq, out.last_seq);
                assert_eq!(out.stream_versions, vec![i + 1]);
                seqs.push(out.first_seq);
            }
            seqs
        }));
    }
    let mut all = HashSet::new();
    for task in tasks {
        for seq in task.await.unwrap() {
            assert!(all.insert(seq), "seq {seq} handed out twice");
        }
    }
    assert_eq!(all.len(), 1600);
    assert_eq!(log.durable_head(), 1600);
    let events = log.read_all(1, 10_000).unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=1600).collect::<Vec<_>>());
    for writer in 0..16u64 {
        let stream = log.read_stream(&format!("w/{writer}"), 1).unwrap();
        let versions: Vec<u64> = stream.iter().map(|e| e.version).collect();
        assert_eq!(versions, (1..=100).collect::<Vec<_>>());
    }
    log.close().await;
}

#[tokio::test]
async fn a_conflicting_expected_version_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |_| {});
    log.append_to("a", ExpectedVersion::NoStream, vec![event(1), event(2)])
        .await
        .unwrap();

    let err = log
        .append_to("a", ExpectedVersion::Exact(1), vec![event(3)])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppendError::Conflict {
            stream: "a".into(),
            expected: ExpectedVersion::Exact(1),
            actual: 2
        }
    );
    // A multi-stream append is all or nothing: the good write to "b" must not land either.
    let err = log
        .append(vec![
            StreamWrite::new("b", ExpectedVersion::NoStream, vec![event(4)]),
            StreamWrite::new("a", ExpectedVersion::NoStream, vec![event(5)]),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, AppendError::Conflict { ref stream, actual: 2, .. } if stream == "a"));
    assert_eq!(log.durable_head(), 2);
    assert!(log.read_stream("b", 1).unwrap().is_empty());

    let ok = log
        .append(vec![
            StreamWrite::new("b", ExpectedVersion::NoStream, vec![event(4)]),
            StreamWrite::new("a", ExpectedVersion::Exact(2), vec![event(5)]),
        ])
        .await
        .unwrap();
    assert_eq!((ok.first_seq, ok.last_seq), (3, 4));
    assert_eq!(ok.stream_versions, vec![1, 3]);
    // A stream version's sequence, by point lookup.
    assert_eq!(log.seq_of("b", 1).unwrap(), Some(3));
    assert_eq!(log.seq_of("a", 3).unwrap(), Some(4));
    assert_eq!(log.seq_of("a", 4).unwrap(), None);
    assert_eq!(log.seq_of("c", 1).unwrap(), None);
    log.close().await;
}

#[tokio::test]
async fn invalid_appends_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |_| {});
    for writes in [
        vec![],
        vec![StreamWrite::new("a", ExpectedVersion::Any, vec![])],
        vec![StreamWrite::new("", ExpectedVersion::Any, vec![event(1)])],
        vec![StreamWrite::new(
            "a\0b",
            ExpectedVersion::Any,
            vec![event(1)],
        )],
    ] {
        assert!(matches!(
            log.append(writes).await,
            Err(AppendError::Invalid(_))
        ));
    }
    assert_eq!(log.durable_head(), 0);
    log.close().await;
    assert_eq!(
        log.append_to("a", ExpectedVersion::Any, vec![event(1)])
            .await,
        Err(AppendError::Closed)
    );
}

/// Appends from 8 tasks while two subscribers read: one keeps up, one is so slow (live channel
/// of capacity 1) that it lags again and again. Both must see 1..=N exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscriptions_never_skip_or_repeat_even_when_lagging() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |c| c.live_capacity = 1);
    // Some history before anyone subscribes.
    for i in 0..50 {
        log.append_to("pre", ExpectedVersion::Any, vec![event(i)])
            .await
            .unwrap();
    }
    const TOTAL: u64 = 50 + 8 * 250;
    let follow = |log: EventLog, slow: bool| {
        tokio::spawn(async move {
            let mut sub = log.subscribe(0);
            let mut seen = Vec::new();
            while (seen.len() as u64) < TOTAL {
                let batch = sub.next_batch().await.unwrap().expect("log still open");
                for envelope in batch {
                    seen.push(envelope.seq);
                }
                if slow {
                    for _ in 0..20 {
                        tokio::task::yield_now().await;
                    }
                }
            }
            seen
        })
    };
    let fast = follow(log.clone(), false);
    let slow = follow(log.clone(), true);
    let mut writers = Vec::new();
    for w in 0..8 {
        let log = log.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..250 {
                let events = if i % 10 == 0 {
                    vec![event(i), event(i + 1)]
                } else {
                    vec![event(i)]
                };
                log.append_to(format!("s/{w}"), ExpectedVersion::Any, events)
                    .await
                    .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let head = log.durable_head();
    let expected: Vec<u64> = (1..=head).collect();
    for (name, task) in [("fast", fast), ("slow", slow)] {
        let mut seen = task.await.unwrap();
        // The loop stops at TOTAL; the head is larger (some appends carry two events), so read
        // the rest through the same contract.
        seen.truncate(TOTAL as usize);
        assert_eq!(seen, expected[..TOTAL as usize], "{name} subscriber");
    }
    log.close().await;
}

#[tokio::test]
async fn a_subscription_from_the_middle_starts_there_and_ends_when_the_log_closes() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |_| {});
    for i in 0..10 {
        log.append_to("x", ExpectedVersion::Any, vec![event(i)])
            .await
            .unwrap();
    }
    let mut sub = log.subscribe(7);
    let mut seen = Vec::new();
    while seen.len() < 4 {
        seen.push(sub.next().await.unwrap().unwrap().seq);
    }
    assert_eq!(seen, vec![7, 8, 9, 10]);
    log.close().await;
    assert!(sub.next().await.unwrap().is_none());
}

#[tokio::test]
async fn events_survive_a_reopen_and_the_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), |_| {});
        for i in 0..20 {
            log.append_to(format!("s/{}", i % 3), ExpectedVersion::Any, vec![event(i)])
                .await
                .unwrap();
        }
        log.close().await;
    }
    let log = open(dir.path(), |_| {});
    assert_eq!(log.durable_head(), 20);
    let out = log
        .append_to("s/0", ExpectedVersion::Exact(7), vec![event(99)])
        .await
        .unwrap();
    assert_eq!(out.first_seq, 21);
    assert_eq!(out.stream_versions, vec![8]);
    let all = log.read_all(0, 100).unwrap();
    for pair in all.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
        assert!(pair[1].at >= pair[0].at);
    }
    let report = verify_chain(log.db()).unwrap();
    assert_eq!(report.checked, 21);
    assert_eq!(report.violation, None);
    log.close().await;
}

#[tokio::test]
async fn tampering_is_detected_at_the_first_broken_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |_| {});
    for i in 0..10 {
        log.append_to("t", ExpectedVersion::Any, vec![event(i)])
            .await
            .unwrap();
    }
    // Flip one payload byte of seq 6 behind the log's back.
    let tree = log.db().open_tree("log").unwrap();
    let key = 6u64.to_be_bytes();
    let mut record = tree.get(key).unwrap().unwrap().to_vec();
    let at = record.len() - 33; // the last payload byte sits just before the hash trailer
    let position = record[..at].iter().rposition(|_| true).unwrap();
    record[position] ^= 0x01;
    tree.insert(key, record).unwrap();
    let report = verify_chain(log.db()).unwrap();
    assert_eq!(report.checked, 5);
    assert_eq!(report.violation.as_ref().map(ChainViolation::seq), Some(6));

    // Removing a record is a gap.
    tree.remove(3u64.to_be_bytes()).unwrap();
    let report = verify_chain(log.db()).unwrap();
    assert_eq!(report.violation.as_ref().map(ChainViolation::seq), Some(3));
    log.close().await;
}

#[tokio::test]
async fn a_data_dir_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), |_| {});
    let second = EventLog::open(LogConfig::new(dir.path()), Arc::new(ManualClock::new(0)));
    match second {
        Err(LogError::Locked(path)) => assert_eq!(path, dir.path()),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("a second open of the same directory succeeded"),
    }
    log.close().await;
}
