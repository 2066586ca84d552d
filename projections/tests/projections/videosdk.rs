//! The VideoSDK read model: credentials, rooms, sessions opened before their meetings, and the
//! participants' presence and media timelogs; a rebuild from sequence 1 equals the live rows.

use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::meeting::{
    Dialect, EndReason, LeaveReason, MediaChanged, MeetingCreated, MeetingEnded, MeetingSettings,
    ParticipantJoined, ParticipantLeft, ParticipantMuted,
};
use convene_events::catalog::videosdk::{
    room_stream, AutoClose, AutoCloseConfig, CredentialCreated, RoomCreated, SessionOpened,
};
use convene_events::ids::account_stream;
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, MeetingId, NewEvent,
    Workspace,
};
use convene_projections::videosdk::Span;
use convene_projections::{rebuild, Projections, VideoSdk};

use crate::support::{activated, snapshot};

const T: i64 = 1_700_000_000_000;

struct Fixture {
    log: EventLog,
    clock: ManualClock,
    projections: Projections,
}

impl Fixture {
    async fn append(&self, stream: String, after_ms: i64, events: Vec<NewEvent>) {
        self.clock.advance(after_ms);
        let out = self
            .log
            .append_to(stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
        self.projections
            .wait_for(out.last_seq, Duration::from_secs(5))
            .await
            .unwrap();
    }
}

fn created(id: &MeetingId, workspace: Workspace, via: Dialect) -> NewEvent {
    MeetingCreated {
        meeting_id: id.clone(),
        workspace,
        title: "room".into(),
        scheduled_at: None,
        settings: MeetingSettings::with_cap(50),
        admin_token_sha256: "00".repeat(32),
        via,
        ends_at: None,
    }
    .to_new_event(Actor::System)
}

fn joined(participant: &str, muted: bool) -> NewEvent {
    ParticipantJoined {
        participant_id: participant.into(),
        name: participant.to_uppercase(),
        muted,
        video_off: false,
        invite_sha256: None,
        is_host: false,
    }
    .to_new_event(Actor::System)
}

fn opened(id: &MeetingId) -> NewEvent {
    SessionOpened {
        meeting_id: id.clone(),
        admin_token: "token".into(),
    }
    .to_new_event(Actor::System)
}

fn span(start: i64, end: Option<i64>) -> Span {
    Span { start, end }
}

#[tokio::test]
async fn sessions_and_timelogs_fold_and_rebuild_equal() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T);
    let log = EventLog::open(LogConfig::new(dir.path()), Arc::new(clock.clone())).unwrap();
    let projections = Projections::start(&log).unwrap();
    let f = Fixture {
        log,
        clock,
        projections,
    };
    let ada = Workspace::Account(1);
    f.append(
        account_stream(1),
        0,
        vec![CredentialCreated {
            api_key: "key-1".into(),
            secret: "s3cret".into(),
        }
        .to_new_event(Actor::System)],
    )
    .await;
    let room = "abcd-efgh-ijkl";
    f.append(
        room_stream(room),
        0,
        vec![RoomCreated {
            room_id: room.into(),
            workspace: ada,
            custom_room_id: Some("daily".into()),
            webhook: None,
            auto_close: Some(AutoCloseConfig {
                kind: AutoClose::SessionEndAndDeactivate,
                duration_minutes: 1,
            }),
        }
        .to_new_event(Actor::System)],
    )
    .await;
    let sdk = f.projections.videosdk();
    assert_eq!(sdk.credential("key-1").unwrap().unwrap().account_id, 1);
    assert_eq!(
        sdk.room_by_custom_id(ada, "daily")
            .unwrap()
            .unwrap()
            .room_id,
        room
    );
    assert!(sdk
        .room_by_custom_id(Workspace::Account(2), "daily")
        .unwrap()
        .is_none());

    // An opening whose meeting belongs to another workspace stays inert; so does a native
    // meeting that happens to carry an opened id.
    let stray = MeetingId::generate();
    f.append(room_stream(room), 0, vec![opened(&stray)]).await;
    f.append(
        stray.stream(),
        0,
        vec![created(&stray, Workspace::Account(2), Dialect::VideoSdk)],
    )
    .await;
    assert!(sdk.session(stray.as_str()).unwrap().is_none());

    let session = MeetingId::generate();
    f.append(room_stream(room), 1_000, vec![opened(&session)])
        .await;
    f.append(
        session.stream(),
        0,
        vec![
            created(&session, ada, Dialect::VideoSdk),
            activated(),
            joined("p1", false),
        ],
    )
    .await;
    f.append(session.stream(), 1_000, vec![joined("p2", true)])
        .await;
    f.append(
        session.stream(),
        1_000,
        vec![
            MediaChanged {
                participant_id: "p2".into(),
                muted: Some(false),
                screen_sharing: Some(true),
                ..MediaChanged::default()
            }
            .to_new_event(Actor::System),
            ParticipantMuted {
                participant_id: "p1".into(),
            }
            .to_new_event(Actor::System),
        ],
    )
    .await;
    f.append(
        session.stream(),
        1_000,
        vec![ParticipantLeft {
            participant_id: "p1".into(),
            reason: LeaveReason::Left,
        }
        .to_new_event(Actor::System)],
    )
    .await;
    f.append(session.stream(), 1_000, vec![joined("p1", true)])
        .await;
    let start = T + 1_000;
    let row = sdk.session(session.as_str()).unwrap().unwrap();
    assert_eq!(
        (row.start, row.end, row.room_id.as_str()),
        (start, None, room)
    );
    let p1 = &row.participants[0];
    assert_eq!(
        p1.timelog,
        [span(start, Some(start + 3_000)), span(start + 4_000, None)]
    );
    assert_eq!(p1.mic, [span(start, Some(start + 2_000))]);
    assert!(p1.present);
    let p2 = &row.participants[1];
    assert_eq!(p2.mic, [span(start + 2_000, None)]);
    assert_eq!(p2.screen_share, [span(start + 2_000, None)]);
    assert_eq!(
        sdk.room(room).unwrap().unwrap().ongoing_session.as_deref(),
        Some(session.as_str())
    );

    // Its time limit ends it: everything closes and the room deactivates (its autoCloseConfig).
    f.append(
        session.stream(),
        1_000,
        vec![MeetingEnded {
            reason: EndReason::TimeLimit,
        }
        .to_new_event(Actor::System)],
    )
    .await;
    let row = sdk.session(session.as_str()).unwrap().unwrap();
    let end = start + 5_000;
    assert_eq!(row.end, Some(end));
    assert!(row
        .participants
        .iter()
        .all(|p| !p.present && p.timelog.last().unwrap().end == Some(end)));
    assert_eq!(row.participants[1].mic.last().unwrap().end, Some(end));
    let room_row = sdk.room(room).unwrap().unwrap();
    assert!(room_row.disabled);
    assert_eq!(room_row.ongoing_session, None);
    let page = sdk.sessions(room, 0, 10).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(sdk.rooms(ada, 0, 10).unwrap().total, 1);

    f.projections.stop();
    let live = snapshot(&f.log.db().open_tree("proj/videosdk").unwrap());
    assert_eq!(rebuild::<VideoSdk>(&f.log).unwrap(), f.log.durable_head());
    assert_eq!(
        snapshot(&f.log.db().open_tree("proj/videosdk").unwrap()),
        live
    );
    f.log.close().await;
}
