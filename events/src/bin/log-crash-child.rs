//! A child process for the crash test (`tests/crash.rs`): appends from many tasks as fast as it
//! can and prints `ack <seq> <stream> <version>` only after each append returned. The test kills
//! it with SIGKILL at a random moment and checks that every acknowledged event survived.
//!
//! Usage: `log-crash-child <data-dir> <writer-tasks>`

use std::io::Write;
use std::sync::Arc;

use convene_events::{Actor, EventLog, ExpectedVersion, LogConfig, NewEvent, SystemClock};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: log-crash-child <data-dir> <writers>");
    let writers: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(16);
    let mut config = LogConfig::new(&dir);
    config.cache_capacity_bytes = 16 * 1024 * 1024;
    let log = EventLog::open(config, Arc::new(SystemClock)).expect("open log");
    let (acks, mut printed) = tokio::sync::mpsc::unbounded_channel::<String>();
    let pid = std::process::id();
    for writer in 0..writers {
        let log = log.clone();
        let acks = acks.clone();
        tokio::spawn(async move {
            let stream = format!("crash/{pid}/{writer}");
            let mut version = 0;
            loop {
                let events = (0..1 + version % 3)
                    .map(|i| NewEvent {
                        kind: "test.crash".into(),
                        schema: 1,
                        actor: Actor::System,
                        payload: format!("{writer}:{version}:{i}").into_bytes(),
                    })
                    .collect::<Vec<_>>();
                let count = events.len() as u64;
                let out = log
                    .append_to(&stream, ExpectedVersion::Exact(version), events)
                    .await
                    .expect("append");
                version += count;
                for seq in out.first_seq..=out.last_seq {
                    let _ = acks.send(format!("ack {seq} {stream} {version}"));
                }
            }
        });
    }
    drop(acks);
    let mut stdout = std::io::stdout().lock();
    while let Some(line) = printed.recv().await {
        writeln!(stdout, "{line}").expect("stdout");
        stdout.flush().expect("flush");
    }
}
