//! Durable appends (sync = always) against the raw fdatasync rate of the same disk, and replay
//! into the meeting directory. Run: `cargo bench --bench log`. Figures go to BENCHMARKS.md.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene_actors::meeting::aggregate::apply;
use convene_events::catalog::meeting::{
    ActivationTrigger, Dialect, EndReason, MeetingActivated, MeetingCreated, MeetingEnded,
    MeetingEvent, MeetingSettings,
};
use convene_events::{
    Actor, DomainEvent, EventLog, ExpectedVersion, LogConfig, MeetingId, NewEvent, SyncMode,
    SystemClock, Workspace,
};
use convene_projections::{rebuild, MeetingDirectory};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Where benchmark data lives: the same disk as the project (not a tmpfs), so fsync is real.
fn bench_dir() -> tempfile::TempDir {
    let root = std::env::current_dir()
        .unwrap()
        .join("target")
        .join("bench-data");
    std::fs::create_dir_all(&root).unwrap();
    tempfile::tempdir_in(root).unwrap()
}

fn open_log(dir: &std::path::Path, sync: SyncMode) -> EventLog {
    let mut config = LogConfig::new(dir);
    config.sync = sync;
    EventLog::open(config, Arc::new(SystemClock)).unwrap()
}

fn small_event() -> NewEvent {
    NewEvent {
        kind: "bench.happened".into(),
        schema: 1,
        actor: Actor::System,
        payload: vec![0xa5; 64],
    }
}

fn appends(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = bench_dir();
    let log = open_log(dir.path(), SyncMode::Always);
    let mut group = c.benchmark_group("append_durable");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));

    group.throughput(Throughput::Elements(1));
    group.bench_function("1_writer", |b| {
        b.to_async(&runtime).iter(|| async {
            log.append_to("bench/serial", ExpectedVersion::Any, vec![small_event()])
                .await
                .unwrap()
        })
    });

    group.throughput(Throughput::Elements(64));
    group.bench_function("64_writers", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let log = log.clone();
            async move {
                let start = Instant::now();
                let tasks: Vec<_> = (0..64)
                    .map(|w| {
                        let log = log.clone();
                        tokio::spawn(async move {
                            for _ in 0..iters {
                                log.append_to(
                                    format!("bench/{w}"),
                                    ExpectedVersion::Any,
                                    vec![small_event()],
                                )
                                .await
                                .unwrap();
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
                start.elapsed()
            }
        })
    });
    group.finish();
    runtime.block_on(log.close());
}

/// The disk's own limit: 64-byte records written to a file, each followed by fdatasync (serial),
/// or 64 records per fdatasync (what group commit can hope for).
fn raw_fdatasync(c: &mut Criterion) {
    let dir = bench_dir();
    let mut file = std::fs::File::create(dir.path().join("raw")).unwrap();
    let record = [0x5a; 64];
    let mut group = c.benchmark_group("raw_fdatasync");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(1));
    group.bench_function("serial", |b| {
        b.iter(|| {
            file.write_all(&record).unwrap();
            file.sync_data().unwrap();
        })
    });
    group.throughput(Throughput::Elements(64));
    group.bench_function("groups_of_64", |b| {
        b.iter(|| {
            for _ in 0..64 {
                file.write_all(&record).unwrap();
            }
            file.sync_data().unwrap();
        })
    });
    group.finish();
}

/// The ratio the issue asks for, measured side by side over the same two seconds each.
fn ratio_summary(_: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = bench_dir();
    let log = open_log(dir.path(), SyncMode::Always);
    let window = Duration::from_secs(3);
    let start = Instant::now();
    let mut appended = 0u64;
    while start.elapsed() < window {
        runtime
            .block_on(log.append_to("ratio", ExpectedVersion::Any, vec![small_event()]))
            .unwrap();
        appended += 1;
    }
    let append_rate = appended as f64 / start.elapsed().as_secs_f64();
    runtime.block_on(log.close());
    let mut file = std::fs::File::create(dir.path().join("raw")).unwrap();
    let start = Instant::now();
    let mut synced = 0u64;
    while start.elapsed() < window {
        file.write_all(&[0x5a; 64]).unwrap();
        file.sync_data().unwrap();
        synced += 1;
    }
    let raw_rate = synced as f64 / start.elapsed().as_secs_f64();
    println!(
        "ratio: 1 writer durable appends {append_rate:.0}/s vs raw fdatasync {raw_rate:.0}/s = {:.0}%",
        100.0 * append_rate / raw_rate
    );
}

const REPLAY_MEETINGS: usize = 70_000; // three events each: 210,000 events

fn meeting_events(id: &MeetingId, n: usize) -> Vec<NewEvent> {
    let created = MeetingCreated {
        meeting_id: id.clone(),
        workspace: Workspace::Account((n % 500) as u64 + 1),
        title: format!("Meeting {n}"),
        scheduled_at: None,
        settings: MeetingSettings::with_cap(50),
        admin_token_sha256: "ab".repeat(32),
        via: Dialect::Native,
        ends_at: None,
    };
    vec![
        created.to_new_event(Actor::System),
        MeetingActivated {
            trigger: ActivationTrigger::Instant,
        }
        .to_new_event(Actor::System),
        MeetingEnded {
            reason: EndReason::EndedByHost,
        }
        .to_new_event(Actor::System),
    ]
}

fn replay(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = bench_dir();
    // Filling the log is not what is measured: skip the per-group flush.
    let log = open_log(dir.path(), SyncMode::Interval(1000));
    runtime.block_on(async {
        for chunk in (0..REPLAY_MEETINGS).collect::<Vec<_>>().chunks(1000) {
            let writes = chunk
                .iter()
                .map(|n| {
                    let id = MeetingId::generate();
                    convene_events::StreamWrite::new(
                        id.stream(),
                        ExpectedVersion::NoStream,
                        meeting_events(&id, *n),
                    )
                })
                .collect();
            log.append(writes).await.unwrap();
        }
    });
    let total = log.durable_head();
    let mut group = c.benchmark_group("replay");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(total));
    group.bench_function("read_decode_fold_in_memory", |b| {
        b.iter(|| {
            let mut meetings = std::collections::HashMap::new();
            for envelope in log.iter_all(1) {
                let envelope = envelope.unwrap();
                if let Some(event) = MeetingEvent::from_envelope(&envelope).unwrap() {
                    let state = meetings.entry(envelope.stream.clone()).or_insert(None);
                    apply(state, &event, envelope.at);
                }
            }
            assert_eq!(meetings.len(), REPLAY_MEETINGS);
        })
    });
    group.bench_function("rebuild_meeting_directory_sled", |b| {
        b.iter(|| assert_eq!(rebuild::<MeetingDirectory>(&log).unwrap(), total))
    });
    group.finish();
    runtime.block_on(log.close());
}

criterion_group!(benches, appends, raw_fdatasync, ratio_summary, replay);
criterion_main!(benches);
