//! Meeting history: start, end and peak from the log's own timestamps, numbered per workspace,
//! and a rebuild from sequence 1 equal to the live rows.

use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::meeting::{
    Dialect, EndReason, LeaveReason, MeetingCreated, MeetingEnded, MeetingSettings,
    ParticipantJoined, ParticipantKicked, ParticipantLeft,
};
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, MeetingId, NewEvent,
    Workspace,
};
use convene_projections::{rebuild, History, Projections};

use crate::support::{activated, snapshot};

struct Fixture {
    log: EventLog,
    clock: ManualClock,
    projections: Projections,
}

impl Fixture {
    /// Appends `events` to the meeting's stream `at_ms` after the previous append.
    async fn append(&self, id: &MeetingId, after_ms: i64, events: Vec<NewEvent>) -> u64 {
        self.clock.advance(after_ms);
        let out = self
            .log
            .append_to(id.stream(), ExpectedVersion::Any, events)
            .await
            .unwrap();
        self.projections
            .wait_for(out.last_seq, Duration::from_secs(5))
            .await
            .unwrap();
        out.last_seq
    }
}

fn created(id: &MeetingId, workspace: Workspace, scheduled: bool) -> NewEvent {
    MeetingCreated {
        meeting_id: id.clone(),
        workspace,
        title: "Standup".into(),
        scheduled_at: scheduled.then_some(i64::MAX),
        settings: MeetingSettings::with_cap(50),
        admin_token_sha256: "00".repeat(32),
        via: Dialect::Native,
        ends_at: None,
    }
    .to_new_event(Actor::System)
}

fn joined(participant: &str) -> NewEvent {
    ParticipantJoined {
        participant_id: participant.into(),
        name: participant.into(),
        muted: false,
        video_off: false,
        invite_sha256: None,
        is_host: false,
    }
    .to_new_event(Actor::System)
}

fn left(participant: &str) -> NewEvent {
    ParticipantLeft {
        participant_id: participant.into(),
        reason: LeaveReason::Left,
    }
    .to_new_event(Actor::System)
}

fn ended() -> NewEvent {
    MeetingEnded {
        reason: EndReason::EndedByHost,
    }
    .to_new_event(Actor::System)
}

#[tokio::test]
async fn history_follows_start_end_and_peak_and_rebuilds_equal() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let log = EventLog::open(LogConfig::new(dir.path()), Arc::new(clock.clone())).unwrap();
    let projections = Projections::start(&log).unwrap();
    let f = Fixture {
        log,
        clock,
        projections,
    };
    let ada = Workspace::Account(1);

    // 30 minutes; three present at most (a fourth joins after one left).
    let standup = MeetingId::generate();
    f.append(
        &standup,
        0,
        vec![created(&standup, ada, false), activated()],
    )
    .await;
    f.append(&standup, 60_000, vec![joined("a"), joined("b")])
        .await;
    f.append(&standup, 1_000, vec![joined("c")]).await;
    f.append(&standup, 1_000, vec![left("a")]).await;
    let kick = ParticipantKicked {
        participant_id: "b".into(),
        reason: None,
    }
    .to_new_event(Actor::System);
    f.append(&standup, 1_000, vec![joined("d"), kick]).await;
    f.append(&standup, 30 * 60_000 - 63_000, vec![ended()])
        .await;

    // Cancelled before it started: no place in the history.
    let cancelled = MeetingId::generate();
    f.append(&cancelled, 1_000, vec![created(&cancelled, ada, true)])
        .await;
    f.append(&cancelled, 1_000, vec![ended()]).await;

    // Another workspace's meeting, and a guest meeting: not in Ada's history.
    let other = MeetingId::generate();
    f.append(
        &other,
        1_000,
        vec![created(&other, Workspace::Account(2), false), activated()],
    )
    .await;
    f.append(&other, 1_000, vec![ended()]).await;
    let guest = MeetingId::generate();
    f.append(
        &guest,
        1_000,
        vec![created(&guest, Workspace::Guest, false), activated()],
    )
    .await;
    f.append(&guest, 1_000, vec![ended()]).await;

    // A second meeting of Ada's, still running, then ended: newest first, numbered 2.
    let retro = MeetingId::generate();
    f.append(
        &retro,
        1_000,
        vec![created(&retro, ada, false), activated(), joined("x")],
    )
    .await;
    assert_eq!(f.projections.history().ended(ada, 10).unwrap().len(), 1);
    f.append(&retro, 90_000, vec![ended()]).await;

    let history = f.projections.history().ended(ada, 10).unwrap();
    let ids: Vec<&str> = history.iter().map(|r| r.meeting_id.as_str()).collect();
    assert_eq!(ids, [retro.as_str(), standup.as_str()]);
    let first = &history[1];
    assert_eq!(first.duration_ms(), 30 * 60_000);
    assert_eq!((first.peak, first.number, first.present), (3, 1, 0));
    assert_eq!((history[0].peak, history[0].number), (1, 2));
    assert_eq!(history[0].duration_ms(), 90_000);
    assert_eq!(f.projections.history().ended(ada, 1).unwrap().len(), 1);
    assert_eq!(
        f.projections
            .history()
            .ended(Workspace::Account(2), 10)
            .unwrap()
            .len(),
        1
    );
    assert!(f
        .projections
        .history()
        .row(guest.as_str())
        .unwrap()
        .is_none());

    f.projections.stop();
    let live = snapshot(&f.log.db().open_tree("proj/history").unwrap());
    assert_eq!(rebuild::<History>(&f.log).unwrap(), f.log.durable_head());
    assert_eq!(
        snapshot(&f.log.db().open_tree("proj/history").unwrap()),
        live
    );
    f.log.close().await;
}
