//! Projection rebuild speed (BENCHMARKS.md, issue 5): writes a log of `events` events shaped
//! like a busy server's — accounts registering with a key and a signup credit, meetings created,
//! activated, joined, chatted in, shared, reacted to, left and ended, each charged to its
//! workspace's ledger, now and then a client error report — then rebuilds every projection from
//! it in one pass and reports events per second. With `each`, it also rebuilds each projection
//! alone, to show where the time goes.
//!
//! The log is written through the real [`EventLog`] (the same catalog types, chained and
//! hashed), but directly rather than through the API: a million events through the HTTP path
//! take ~20 minutes on 2 cores, and the figure measured here is the rebuild, not the writing.
//!
//! ```sh
//! cargo run --release --example rebuild_load -- 1000000 [each] [--data DIR] [--only NAME]
//! ```

use std::sync::Arc;
use std::time::Instant;

use convene_events::catalog::account::{AccountRegistered, AccountType, ApiKeyIssued};
use convene_events::catalog::ledger::LedgerEntry;
use convene_events::catalog::meeting::{
    ActivationTrigger, ChatMessageSent, Dialect, EndReason, HandChanged, LeaveReason, MediaChanged,
    MeetingActivated, MeetingCreated, MeetingEnded, MeetingSettings, ParticipantJoined,
    ParticipantLeft, ReactionsCounted,
};
use convene_events::catalog::telemetry::{ErrorReported, ERRORS_STREAM};
use convene_events::ids::{account_stream, ledger_stream};
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, ManualClock, MeetingId, NewEvent,
    StreamWrite, SyncMode, Workspace,
};
use convene_projections::{all_folds, rebuild_all, Fold};

// The server's allocator (see src/main.rs), so the figure is the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 2026-03-01T00:00:00Z.
const START_MS: i64 = 1_772_323_200_000;
const MEETINGS_PER_ACCOUNT: u64 = 10;
const PARTICIPANTS: usize = 6;
const CHATS: usize = 20;

fn meeting_id(n: u64) -> MeetingId {
    let letter = |x: u64| (b'a' + (x % 26) as u8) as char;
    let digits: String = (0..10).map(|i| letter(n / 26u64.pow(i))).collect();
    MeetingId::parse(&format!(
        "{}-{}-{}",
        &digits[0..3],
        &digits[3..7],
        &digits[7..10]
    ))
    .expect("a well-formed id")
}

fn account_writes(account_id: u64) -> Vec<StreamWrite> {
    let actor = Actor::Account { account_id };
    let registered = AccountRegistered {
        account_id,
        email: format!("user{account_id}@example.com"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        account_type: AccountType::Personal,
        company_name: None,
        is_admin: false,
    };
    let key = ApiKeyIssued {
        account_id,
        key_id: account_id,
        key_sha256: format!("{account_id:064x}"),
        preview: "mk_AbC123".into(),
        label: None,
    };
    let signup = LedgerEntry {
        amount_micros: 5_000_000,
        kind: "signup_credit".into(),
        description: "Signup credit".into(),
        reference: "signup".into(),
    };
    vec![
        StreamWrite::new(
            account_stream(account_id),
            ExpectedVersion::NoStream,
            vec![
                registered.to_new_event(actor.clone()),
                key.to_new_event(actor.clone()),
            ],
        ),
        StreamWrite::new(
            ledger_stream(Workspace::Account(account_id)),
            ExpectedVersion::Any,
            vec![signup.to_new_event(Actor::System)],
        ),
    ]
}

/// One meeting's whole life: ~60 events.
fn meeting_writes(n: u64) -> Vec<StreamWrite> {
    let account_id = n / MEETINGS_PER_ACCOUNT + 1;
    let id = meeting_id(n);
    let owner = Actor::ApiKey {
        account_id,
        key_id: account_id,
    };
    let as_participant = |p: &str| Actor::Participant {
        meeting_id: id.to_string(),
        participant_id: p.to_owned(),
    };
    let mut events: Vec<NewEvent> = vec![
        MeetingCreated {
            meeting_id: id.clone(),
            workspace: Workspace::Account(account_id),
            title: format!("Meeting {n}"),
            scheduled_at: None,
            settings: MeetingSettings::with_cap(50),
            admin_token_sha256: format!("{n:064x}"),
            via: Dialect::Native,
            ends_at: None,
        }
        .to_new_event(owner.clone()),
        MeetingActivated {
            trigger: ActivationTrigger::Instant,
        }
        .to_new_event(owner.clone()),
    ];
    let people: Vec<String> = (0..PARTICIPANTS).map(|p| format!("p{n}x{p}")).collect();
    for (i, p) in people.iter().enumerate() {
        events.push(
            ParticipantJoined {
                participant_id: p.clone(),
                name: format!("Person {i}"),
                muted: false,
                video_off: false,
                invite_sha256: None,
                is_host: i == 0,
            }
            .to_new_event(as_participant(p)),
        );
    }
    for c in 0..CHATS {
        let p = &people[c % PARTICIPANTS];
        events.push(
            ChatMessageSent {
                participant_id: p.clone(),
                name: "Person".into(),
                text: format!("message {c} about the agenda"),
            }
            .to_new_event(as_participant(p)),
        );
    }
    for p in &people[..2] {
        for sharing in [true, false] {
            events.push(
                MediaChanged {
                    participant_id: p.clone(),
                    screen_sharing: Some(sharing),
                    ..MediaChanged::default()
                }
                .to_new_event(as_participant(p)),
            );
        }
        events.push(
            HandChanged {
                participant_id: p.clone(),
                raised: true,
            }
            .to_new_event(as_participant(p)),
        );
    }
    for p in &people {
        events.push(
            ParticipantLeft {
                participant_id: p.clone(),
                reason: LeaveReason::Left,
            }
            .to_new_event(as_participant(p)),
        );
        events.push(
            ReactionsCounted {
                participant_id: p.clone(),
                reactions: 3,
            }
            .to_new_event(Actor::System),
        );
    }
    events.push(
        MeetingEnded {
            reason: EndReason::EndedByHost,
        }
        .to_new_event(owner),
    );
    let charge = LedgerEntry {
        amount_micros: -720_000,
        kind: "meeting_charge".into(),
        description: format!("Meeting {id} (30m, {PARTICIPANTS} participants)"),
        reference: format!("meeting:{id}"),
    };
    let mut writes = vec![
        StreamWrite::new(id.stream(), ExpectedVersion::NoStream, events),
        StreamWrite::new(
            ledger_stream(Workspace::Account(account_id)),
            ExpectedVersion::Any,
            vec![charge.to_new_event(Actor::System)],
        ),
    ];
    if n.is_multiple_of(50) {
        let report = ErrorReported {
            event_type: "error.webrtc".into(),
            route: "/join".into(),
            message: format!("ICE connection failed ({})", n % 7),
            account_id: None,
        };
        writes.push(StreamWrite::new(
            ERRORS_STREAM,
            ExpectedVersion::Any,
            vec![report.to_new_event(Actor::System)],
        ));
    }
    writes
}

async fn write_log(log: &EventLog, clock: &ManualClock, target: u64) {
    let started = Instant::now();
    let mut next_meeting = 0u64;
    while log.durable_head() < target {
        // 64 meetings per append, 4 appends in flight; the clock moves 10 minutes per round so
        // the log spans weeks (analytics fold by day, hour and week).
        let mut appends = Vec::new();
        for _ in 0..4 {
            let mut writes = Vec::new();
            for _ in 0..64 {
                if next_meeting.is_multiple_of(MEETINGS_PER_ACCOUNT) {
                    writes.extend(account_writes(next_meeting / MEETINGS_PER_ACCOUNT + 1));
                }
                writes.extend(meeting_writes(next_meeting));
                next_meeting += 1;
            }
            appends.push(log.append(writes));
        }
        for outcome in futures_util::future::join_all(appends).await {
            outcome.expect("append");
        }
        clock.advance(10 * 60_000);
    }
    let head = log.durable_head();
    println!(
        "wrote {head} events ({next_meeting} meetings) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn rebuild(log: &EventLog, folds: &[Fold], label: &str) {
    let started = Instant::now();
    let events = rebuild_all(log, folds, &mut |_| {}).expect("rebuild");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{label:>24}: {events} events in {seconds:.2} s = {:.0} events/s",
        events as f64 / seconds
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let target: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let each = args.iter().any(|a| a == "each");
    let owned = tempfile::tempdir().expect("a temp dir");
    let path = args
        .iter()
        .position(|a| a == "--data")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| owned.path().to_owned(), std::path::PathBuf::from);
    let clock = ManualClock::new(START_MS);
    let mut config = LogConfig::new(&path);
    config.sync = SyncMode::Interval(1000);
    let log = EventLog::open(config, Arc::new(clock.clone())).expect("open the log");
    if log.durable_head() < target {
        write_log(&log, &clock, target).await;
    }
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    if let Some(name) = only {
        let fold = Fold::named(name).expect("a projection's name");
        rebuild(&log, &[fold], fold.tree);
        log.close().await;
        return;
    }
    let folds = all_folds();
    rebuild(&log, &folds, "all, one pass");
    if each {
        for fold in folds {
            rebuild(&log, &[fold], fold.tree);
        }
    }
    log.close().await;
}
