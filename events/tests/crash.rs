//! Crash safety: a child process appends under concurrency and reports each sequence only after
//! its append returned; it is killed with SIGKILL at random moments, 50 times. After each kill
//! the log is reopened: every reported sequence must be present, the chain must verify, and
//! appends must continue where the log stopped. The figure is acknowledged-but-lost events: 0.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use convene_events::log::verify_chain;
use convene_events::{EventLog, LogConfig, SystemClock};
use rand::Rng;

const CYCLES: usize = 50;

#[test]
fn acknowledged_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rng();
    let mut total_acked = 0u64;
    let mut lost = 0u64;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for cycle in 0..CYCLES {
        let mut child = Command::new(env!("CARGO_BIN_EXE_log-crash-child"))
            .arg(dir.path())
            .arg("16")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        // Read the child's reports on a thread, and start the random timer only once it has
        // acknowledged something, so every kill lands in the middle of appends.
        let mut stdout = child.stdout.take().unwrap();
        let (first_ack, first_ack_seen) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 8192];
            let mut signalled = false;
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
                if !signalled && out.contains(&b'\n') {
                    signalled = true;
                    let _ = first_ack.send(());
                }
            }
            String::from_utf8(out).expect("child prints ascii")
        });
        first_ack_seen
            .recv_timeout(Duration::from_secs(30))
            .expect("the child acknowledged nothing within 30 s");
        std::thread::sleep(Duration::from_millis(rng.random_range(1..60)));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let out = reader.join().unwrap();
        // A line cut by the kill has no newline and was never a complete report.
        let complete = match out.rfind('\n') {
            Some(end) => &out[..end],
            None => "",
        };
        let acked: Vec<(u64, String)> = complete
            .lines()
            .map(|line| {
                let mut parts = line.split(' ');
                assert_eq!(parts.next(), Some("ack"), "unexpected line {line:?}");
                let seq = parts.next().unwrap().parse().unwrap();
                (seq, parts.next().unwrap().to_owned())
            })
            .collect();
        total_acked += acked.len() as u64;

        let mut config = LogConfig::new(dir.path());
        config.cache_capacity_bytes = 16 * 1024 * 1024;
        let log = EventLog::open(config, Arc::new(SystemClock)).expect("reopen after kill");
        for (seq, stream) in &acked {
            match log.read_all(*seq, 1).unwrap().first() {
                Some(envelope) if envelope.seq == *seq && &envelope.stream == stream => {}
                _ => lost += 1,
            }
        }
        let report = verify_chain(log.db()).unwrap();
        assert_eq!(report.violation, None, "cycle {cycle}: chain broken");
        assert_eq!(report.checked, log.durable_head(), "cycle {cycle}");
        runtime.block_on(log.close());
    }
    eprintln!(
        "crash test: {CYCLES} SIGKILL cycles, {total_acked} acknowledged events, {lost} lost"
    );
    assert!(total_acked > 0, "the child never acknowledged anything");
    assert_eq!(lost, 0, "acknowledged events were lost");
}
