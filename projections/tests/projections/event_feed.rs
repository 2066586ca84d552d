//! The event feed's index: each workspace's events, in log order, under concurrent writers;
//! guest meetings in nobody's feed; a rebuild equal to the live index.

use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::meeting::{
    ActivationTrigger, Dialect, MeetingActivated, MeetingCreated, MeetingSettings,
};
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, MeetingId, Workspace,
};
use convene_projections::{rebuild, EventFeed, Projections};

use crate::support::snapshot;

#[tokio::test]
async fn each_workspace_sees_its_own_events_in_log_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let log = Arc::new(EventLog::open(LogConfig::new(dir.path()), Arc::new(clock)).unwrap());
    let projections = Projections::start(&log).unwrap();
    let workspaces = [
        Workspace::Account(1),
        Workspace::Account(2),
        Workspace::Guest,
    ];

    let writers: Vec<_> = (0..9)
        .map(|i| {
            let log = log.clone();
            let workspace = workspaces[i % 3];
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for _ in 0..10 {
                    let id = MeetingId::generate();
                    let events = vec![
                        MeetingCreated {
                            meeting_id: id.clone(),
                            workspace,
                            title: "Feed".into(),
                            scheduled_at: None,
                            settings: MeetingSettings::with_cap(50),
                            admin_token_sha256: "00".repeat(32),
                            via: Dialect::Native,
                            ends_at: None,
                        }
                        .to_new_event(Actor::System),
                        MeetingActivated {
                            trigger: ActivationTrigger::Instant,
                        }
                        .to_new_event(Actor::System),
                    ];
                    let out = log
                        .append_to(id.stream(), ExpectedVersion::NoStream, events)
                        .await
                        .unwrap();
                    seqs.extend([out.last_seq - 1, out.last_seq]);
                }
                (workspace, seqs)
            })
        })
        .collect();
    let mut expected: Vec<(Workspace, Vec<u64>)> = Vec::new();
    for writer in writers {
        let (workspace, seqs) = writer.await.unwrap();
        match expected.iter_mut().find(|(w, _)| *w == workspace) {
            Some((_, all)) => all.extend(seqs),
            None => expected.push((workspace, seqs)),
        }
    }
    projections
        .wait_for(log.durable_head(), Duration::from_secs(5))
        .await
        .unwrap();

    let feed = projections.event_feed();
    for (workspace, mut seqs) in expected {
        seqs.sort_unstable();
        let indexed = feed.after(workspace, 0, 1000).unwrap();
        if workspace == Workspace::Guest {
            assert!(indexed.is_empty(), "guest meetings belong to no feed");
            continue;
        }
        assert_eq!(indexed, seqs, "{workspace:?}");
        // Paging from the middle continues exactly after it.
        assert_eq!(feed.after(workspace, seqs[9], 5).unwrap(), seqs[10..15]);
    }

    projections.stop();
    let live = snapshot(&log.db().open_tree("proj/event_feed").unwrap());
    assert_eq!(rebuild::<EventFeed>(&log).unwrap(), log.durable_head());
    assert_eq!(
        snapshot(&log.db().open_tree("proj/event_feed").unwrap()),
        live
    );
    log.close().await;
}
