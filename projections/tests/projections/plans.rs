//! Plans in the read models: the accounts directory folds plan assignments, deactivation and
//! each workspace's meetings per calendar month; the time index folds end times. Both equal
//! the live read model after a rebuild from sequence 1.

use std::sync::Arc;
use std::time::Duration;

use convene_events::catalog::account::{
    AccountDeactivated, AccountReactivated, AccountRegistered, AccountType, PlanAssigned,
};
use convene_events::catalog::meeting::{
    ActivationTrigger, Dialect, EndReason, MeetingActivated, MeetingCreated, MeetingEnded,
    MeetingSettings,
};
use convene_events::catalog::meeting_end::{meeting_end_stream, MeetingEndScheduled};
use convene_events::{
    Actor, Clock, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, MeetingId,
    NewEvent, Workspace,
};
use convene_projections::{calendar_month, rebuild, AccountsDirectory, Projections, TimeIndex};

use crate::support::snapshot;

/// 2026-02-28T23:00:00Z: an hour before March.
const FEB_28_23H: i64 = 1_772_319_600_000;
const HOUR: i64 = 3_600_000;

/// A meeting; its end time, if any, the way older logs hold it: `meeting_end.scheduled` in a
/// stream of its own, just before the creation.
async fn create_meeting(log: &EventLog, workspace: Workspace, ends_at: Option<i64>) -> MeetingId {
    create_meeting_with(log, workspace, ends_at, None).await
}

/// A meeting whose end time is part of its creation, as Convene logs it now.
async fn create_capped_meeting(log: &EventLog, workspace: Workspace, ends_at: i64) -> MeetingId {
    create_meeting_with(log, workspace, None, Some(ends_at)).await
}

async fn create_meeting_with(
    log: &EventLog,
    workspace: Workspace,
    logged_beside: Option<i64>,
    in_creation: Option<i64>,
) -> MeetingId {
    let id = MeetingId::generate();
    if let Some(ends_at) = logged_beside {
        let scheduled = MeetingEndScheduled {
            meeting_id: id.clone(),
            ends_at,
        };
        log.append_to(
            meeting_end_stream(&id),
            ExpectedVersion::NoStream,
            vec![scheduled.to_new_event(Actor::System)],
        )
        .await
        .unwrap();
    }
    let events = vec![
        MeetingCreated {
            meeting_id: id.clone(),
            workspace,
            title: "standup".into(),
            scheduled_at: None,
            settings: MeetingSettings::with_cap(50),
            admin_token_sha256: "00".repeat(32),
            via: Dialect::EdCast,
            ends_at: in_creation,
        }
        .to_new_event(Actor::System),
        MeetingActivated {
            trigger: ActivationTrigger::Instant,
        }
        .to_new_event(Actor::System),
    ];
    log.append_to(id.stream(), ExpectedVersion::NoStream, events)
        .await
        .unwrap();
    id
}

async fn account_event(log: &EventLog, account_id: u64, event: NewEvent) -> u64 {
    log.append_to(
        format!("account/{account_id}"),
        ExpectedVersion::Any,
        vec![event],
    )
    .await
    .unwrap()
    .last_seq
}

#[tokio::test]
async fn plans_usage_and_end_times_follow_the_log_and_rebuild_to_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(FEB_28_23H);
    let log = EventLog::open(LogConfig::new(dir.path()), Arc::new(clock.clone())).unwrap();
    let projections = Projections::start(&log).unwrap();
    let wait = Duration::from_secs(5);
    let workspace = Workspace::Account(7);

    account_event(
        &log,
        7,
        AccountRegistered {
            account_id: 7,
            email: "org@example.com".into(),
            password_hash: "h".into(),
            account_type: AccountType::Personal,
            company_name: None,
            is_admin: false,
        }
        .to_new_event(Actor::System),
    )
    .await;
    account_event(
        &log,
        7,
        PlanAssigned {
            plan: "free".into(),
        }
        .to_new_event(Actor::System),
    )
    .await;
    // Two meetings in February, one of them with an end time; a guest meeting counts nowhere.
    create_meeting(&log, workspace, None).await;
    let ending = create_meeting(&log, workspace, Some(FEB_28_23H + 10 * 60_000)).await;
    create_meeting(&log, Workspace::Guest, None).await;
    // An end time whose meeting never came (a crash between the two appends) stays inert.
    let orphan = MeetingId::generate();
    log.append_to(
        meeting_end_stream(&orphan),
        ExpectedVersion::NoStream,
        vec![MeetingEndScheduled {
            meeting_id: orphan.clone(),
            ends_at: FEB_28_23H,
        }
        .to_new_event(Actor::System)],
    )
    .await
    .unwrap();
    // March begins: a third meeting counts in the new month.
    clock.advance(2 * HOUR);
    let march = create_capped_meeting(&log, workspace, FEB_28_23H + 3 * HOUR).await;
    let seq = account_event(
        &log,
        7,
        AccountDeactivated {
            reason: Some("unpaid".into()),
        }
        .to_new_event(Actor::System),
    )
    .await;
    projections.wait_for(seq, wait).await.unwrap();

    let accounts = projections.accounts();
    let row = accounts.account(7).unwrap().unwrap();
    assert_eq!(row.plan.as_deref(), Some("free"));
    assert!(!row.active);
    let february = calendar_month(FEB_28_23H);
    assert_eq!(
        (february, calendar_month(clock.now_ms())),
        (202_602, 202_603)
    );
    assert_eq!(accounts.meetings_created(workspace, february).unwrap(), 2);
    assert_eq!(accounts.meetings_created(workspace, 202_603).unwrap(), 1);
    assert_eq!(
        accounts
            .meetings_created(Workspace::Account(8), 202_603)
            .unwrap(),
        0
    );

    let index = projections.time_index();
    assert_eq!(
        index.ends_at(ending.as_str()).unwrap(),
        Some(FEB_28_23H + 10 * 60_000)
    );
    assert_eq!(index.ends_at(orphan.as_str()).unwrap(), None);
    assert_eq!(
        index.due_ends(FEB_28_23H + 3 * HOUR).unwrap(),
        vec![ending.clone(), march.clone()]
    );
    assert_eq!(
        index.due_ends(FEB_28_23H + 3 * HOUR - 1).unwrap(),
        vec![ending.clone()]
    );

    // The first one ends: it leaves the index. The account is reactivated.
    log.append_to(
        ending.stream(),
        ExpectedVersion::Exact(2),
        vec![MeetingEnded {
            reason: EndReason::EndedByHost,
        }
        .to_new_event(Actor::System)],
    )
    .await
    .unwrap();
    let seq = account_event(&log, 7, AccountReactivated {}.to_new_event(Actor::System)).await;
    projections.wait_for(seq, wait).await.unwrap();
    assert_eq!(index.ends_at(ending.as_str()).unwrap(), None);
    assert_eq!(index.due_ends(i64::MAX - 1).unwrap(), vec![march]);
    assert!(projections.accounts().account(7).unwrap().unwrap().active);

    projections.stop();
    let live_accounts = snapshot(&log.db().open_tree("proj/accounts_directory").unwrap());
    let live_time_index = snapshot(&log.db().open_tree("proj/time_index").unwrap());
    assert_eq!(
        rebuild::<AccountsDirectory>(&log).unwrap(),
        log.durable_head()
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
