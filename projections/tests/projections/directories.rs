//! The directories fold what the log says, are visible once `wait_for` returns, and a rebuild
//! from sequence 1 equals the live read model.

use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::account::{
    AccountRegistered, AccountType, ApiKeyIssued, ApiKeyRevoked, CompanyRole, JoinedCompany,
    PasswordChangeCause, PasswordChanged, PasswordResetRequested,
};
use convene_events::catalog::company::CompanyCreated;
use convene_events::catalog::meeting::{
    ActivationTrigger, Dialect, EndReason, MeetingActivated, MeetingCreated, MeetingEnded,
    MeetingSettings,
};
use convene_events::catalog::session::SessionStarted;
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, MeetingId, Workspace,
};
use convene_projections::{
    rebuild, AccountsDirectory, MeetingDirectory, Projections, RowStatus, TimeIndex,
};

use crate::support::snapshot;

fn settings() -> MeetingSettings {
    MeetingSettings::with_cap(50)
}

async fn create_meeting(
    log: &EventLog,
    clock: &ManualClock,
    owner: u64,
    scheduled: bool,
) -> (MeetingId, u64) {
    clock.advance(1000);
    let id = MeetingId::generate();
    let mut events = vec![MeetingCreated {
        meeting_id: id.clone(),
        workspace: Workspace::Account(owner),
        title: format!("meeting of {owner}"),
        scheduled_at: scheduled.then_some(i64::MAX),
        settings: settings(),
        admin_token_sha256: "00".repeat(32),
        via: Dialect::Native,
        ends_at: None,
    }
    .to_new_event(Actor::System)];
    if !scheduled {
        events.push(
            MeetingActivated {
                trigger: ActivationTrigger::Instant,
            }
            .to_new_event(Actor::System),
        );
    }
    let out = log
        .append_to(id.stream(), ExpectedVersion::NoStream, events)
        .await
        .unwrap();
    (id, out.last_seq)
}

#[tokio::test]
async fn directories_follow_the_log_and_rebuild_to_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let log = EventLog::open(LogConfig::new(dir.path()), Arc::new(clock.clone())).unwrap();
    let projections = Projections::start(&log).unwrap();
    let wait = Duration::from_secs(5);

    let (first, _) = create_meeting(&log, &clock, 1, false).await;
    let (scheduled, _) = create_meeting(&log, &clock, 1, true).await;
    create_meeting(&log, &clock, 2, false).await;
    let (newest, seq) = create_meeting(&log, &clock, 1, false).await;
    projections.wait_for(seq, wait).await.unwrap();

    let live: Vec<String> = projections
        .meetings()
        .live(Workspace::Account(1))
        .unwrap()
        .into_iter()
        .map(|r| r.meeting_id)
        .collect();
    assert_eq!(
        live,
        vec![newest.to_string(), scheduled.to_string(), first.to_string()]
    );
    let row = projections
        .meetings()
        .get(scheduled.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(row.status, RowStatus::Scheduled);
    assert_eq!(
        projections
            .meetings()
            .live(Workspace::Account(2))
            .unwrap()
            .len(),
        1
    );

    let ended = log
        .append_to(
            first.stream(),
            ExpectedVersion::Exact(2),
            vec![MeetingEnded {
                reason: EndReason::EndedByHost,
            }
            .to_new_event(Actor::System)],
        )
        .await
        .unwrap();
    projections.wait_for(ended.last_seq, wait).await.unwrap();
    let row = projections.meetings().get(first.as_str()).unwrap().unwrap();
    assert_eq!(row.status, RowStatus::Ended);
    assert_eq!(
        projections
            .meetings()
            .live(Workspace::Account(1))
            .unwrap()
            .len(),
        2
    );

    let out = log
        .append_to(
            "account/9",
            ExpectedVersion::NoStream,
            vec![
                AccountRegistered {
                    account_id: 9,
                    email: "nine@example.com".into(),
                    password_hash: "h".into(),
                    account_type: AccountType::Personal,
                    company_name: None,
                    is_admin: false,
                }
                .to_new_event(Actor::System),
                ApiKeyIssued {
                    account_id: 9,
                    key_id: 1,
                    key_sha256: "ab".repeat(32),
                    preview: "mk_ab".into(),
                    label: None,
                }
                .to_new_event(Actor::System),
                ApiKeyIssued {
                    account_id: 9,
                    key_id: 2,
                    key_sha256: "cd".repeat(32),
                    preview: "mk_cd".into(),
                    label: Some("ci".into()),
                }
                .to_new_event(Actor::System),
                ApiKeyRevoked {
                    account_id: 9,
                    key_id: 1,
                }
                .to_new_event(Actor::System),
            ],
        )
        .await
        .unwrap();
    projections.wait_for(out.last_seq, wait).await.unwrap();
    let accounts = projections.accounts();
    assert_eq!(
        accounts
            .by_email("nine@example.com")
            .unwrap()
            .unwrap()
            .account_id,
        9
    );
    assert_eq!(accounts.key_by_hash(&"ab".repeat(32)).unwrap(), None);
    assert_eq!(
        accounts
            .key_by_hash(&"cd".repeat(32))
            .unwrap()
            .unwrap()
            .key_id,
        2
    );
    assert_eq!(accounts.keys_of(9).unwrap().len(), 1);

    // A session, a company the account joins, and a password reset that ends the session.
    let out = log
        .append(vec![
            convene_events::StreamWrite::new(
                "session/50",
                ExpectedVersion::NoStream,
                vec![SessionStarted {
                    session_id: 50,
                    account_id: 9,
                    token_hash: "5e".repeat(32),
                    expires_at: i64::MAX,
                }
                .to_new_event(Actor::System)],
            ),
            convene_events::StreamWrite::new(
                "company/60",
                ExpectedVersion::NoStream,
                vec![CompanyCreated {
                    company_id: 60,
                    name: "Acme".into(),
                    owner_account_id: 9,
                    invite_code_sha256: "1c".repeat(32),
                }
                .to_new_event(Actor::System)],
            ),
        ])
        .await
        .unwrap();
    projections.wait_for(out.last_seq, wait).await.unwrap();
    assert_eq!(
        projections
            .accounts()
            .session(&"5e".repeat(32))
            .unwrap()
            .unwrap()
            .account_id,
        9
    );
    let out = log
        .append_to(
            "account/9",
            ExpectedVersion::Any,
            vec![
                JoinedCompany {
                    company_id: 60,
                    role: CompanyRole::Owner,
                }
                .to_new_event(Actor::System),
                PasswordResetRequested {
                    token_sha256: "7e".repeat(32),
                    expires_at: i64::MAX,
                }
                .to_new_event(Actor::System),
                PasswordChanged {
                    password_hash: "new".into(),
                    cause: PasswordChangeCause::Reset {
                        token_sha256: "7e".repeat(32),
                    },
                }
                .to_new_event(Actor::System),
            ],
        )
        .await
        .unwrap();
    projections.wait_for(out.last_seq, wait).await.unwrap();
    let accounts = projections.accounts();
    assert_eq!(
        accounts.session(&"5e".repeat(32)).unwrap(),
        None,
        "a reset signs out"
    );
    assert_eq!(
        accounts.reset_token_owner(&"7e".repeat(32)).unwrap(),
        Some(9)
    );
    assert_eq!(
        accounts
            .company_by_invite(&"1c".repeat(32))
            .unwrap()
            .unwrap()
            .name,
        "Acme"
    );
    let members = accounts.members(60).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].email, "nine@example.com");
    let row = accounts.account(9).unwrap().unwrap();
    assert_eq!(row.company, Some((60, CompanyRole::Owner)));
    assert_eq!(row.password_hash, "new");

    // Rebuild each projection from seq 1 and compare every row with the live tree.
    projections.stop();
    let live_meetings = snapshot(&log.db().open_tree("proj/meeting_directory").unwrap());
    let live_accounts = snapshot(&log.db().open_tree("proj/accounts_directory").unwrap());
    let live_time_index = snapshot(&log.db().open_tree("proj/time_index").unwrap());
    assert!(
        !live_time_index.is_empty(),
        "scheduled meetings are in the time index"
    );
    assert_eq!(
        rebuild::<MeetingDirectory>(&log).unwrap(),
        log.durable_head()
    );
    assert_eq!(
        rebuild::<AccountsDirectory>(&log).unwrap(),
        log.durable_head()
    );
    assert_eq!(
        snapshot(&log.db().open_tree("proj/meeting_directory").unwrap()),
        live_meetings
    );
    assert_eq!(
        snapshot(&log.db().open_tree("proj/accounts_directory").unwrap()),
        live_accounts
    );
    rebuild::<TimeIndex>(&log).unwrap();
    assert_eq!(
        snapshot(&log.db().open_tree("proj/time_index").unwrap()),
        live_time_index
    );
    log.close().await;
}

/// A tree whose rows another version of the projection wrote is dropped at start-up and folded
/// again from sequence 1, so a changed row shape never meets old bytes.
#[tokio::test]
async fn a_read_model_of_another_version_is_folded_again() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_700_000_000_000);
    let log = EventLog::open(LogConfig::new(dir.path()), Arc::new(clock.clone())).unwrap();
    let (meeting, seq) = create_meeting(&log, &clock, 1, false).await;
    // What an older version left behind: a version-1 marker, a checkpoint past the meeting and
    // a row in a shape the current code cannot read.
    let tree = log.db().open_tree("proj/meeting_directory").unwrap();
    tree.insert(b"\0version", &1u32.to_be_bytes()).unwrap();
    tree.insert(b"\0checkpoint", &seq.to_be_bytes()).unwrap();
    let mut key = b"m".to_vec();
    key.extend_from_slice(meeting.as_str().as_bytes());
    tree.insert(key, b"old bytes".to_vec()).unwrap();

    let projections = Projections::start(&log).unwrap();
    projections
        .wait_for(seq, Duration::from_secs(5))
        .await
        .unwrap();
    let row = projections
        .meetings()
        .get(meeting.as_str())
        .unwrap()
        .unwrap();
    assert_eq!(row.status, RowStatus::Active);
    projections.stop();
}
