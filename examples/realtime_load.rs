//! Realtime fan-out load: `meetings` × `participants` WebSocket clients on `/ws` (JSON), one
//! sender per meeting sending `chat:message` at a fixed rate; every participant (the sender
//! included) receives each message. A meeting's participants join all at once (a join storm,
//! timed). Reports deliveries per second and the delivery latency
//! (send → receive, measured on this machine's monotonic clock) for each offered rate.
//!
//! Run against a release server with rate limits off and a high per-connection event rate:
//!
//! ```sh
//! CONVENE_RATE_LIMITS_ENABLED=false CONVENE_REALTIME_EVENTS_PER_SECOND=100000 \
//!   CONVENE_REALTIME_EVENT_BURST=100000 cargo run --release &
//! cargo run --release --example realtime_load -- http://127.0.0.1:3000 20 50 10000,50000,100000 10
//! ```
//! Arguments: base URL, meetings, participants per meeting, offered deliveries/s (comma
//! separated, one run each), seconds per run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Stats {
    delivered: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or("http://127.0.0.1:3000".into());
    let meetings: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let participants: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(50);
    let rates: Vec<u64> = args
        .get(4)
        .map(|a| a.split(',').filter_map(|r| r.parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 100_000]);
    let seconds: u64 = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(10);

    let http = reqwest::Client::new();
    let email = format!("load-{}@example.com", std::process::id());
    let key = http
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": "load-password"}))
        .send()
        .await
        .expect("register")
        .json::<Value>()
        .await
        .unwrap()["apiKey"]
        .as_str()
        .expect("an api key")
        .to_owned();
    let epoch = Instant::now();
    let stats = Arc::new(Stats {
        delivered: AtomicU64::new(0),
        latencies_us: Mutex::new(Vec::new()),
    });
    let ws_url = base.replace("http://", "ws://") + "/ws";
    let joined_at = Instant::now();
    let mut senders = Vec::new();
    for m in 0..meetings {
        let meeting: Value = http
            .post(format!("{base}/api/meetings"))
            .header("x-api-key", &key)
            .json(&json!({"title": format!("load {m}"), "maxParticipants": participants.max(1)}))
            .send()
            .await
            .expect("create meeting")
            .json()
            .await
            .unwrap();
        let meeting_id = meeting["meetingId"].as_str().expect("a meeting").to_owned();
        // All of a meeting's participants connect and join at once (a join storm).
        let joins: Vec<_> = (0..participants)
            .map(|p| {
                let (url, meeting_id) = (ws_url.clone(), meeting_id.clone());
                tokio::spawn(async move {
                    let (mut socket, _) = tokio_tungstenite::connect_async(&url)
                        .await
                        .expect("connect");
                    join(&mut socket, &meeting_id, &format!("p{p}")).await;
                    socket
                })
            })
            .collect();
        for (p, joined) in joins.into_iter().enumerate() {
            let (sink, stream) = joined.await.expect("a join").split();
            tokio::spawn(receive(stream, stats.clone(), epoch));
            if p == 0 {
                senders.push(sink);
            }
        }
    }
    println!(
        "{} connections joined {} meetings in {:.2} s",
        meetings * participants,
        meetings,
        joined_at.elapsed().as_secs_f64()
    );

    let senders: Vec<_> = senders
        .into_iter()
        .map(|sink| Arc::new(tokio::sync::Mutex::new(sink)))
        .collect();
    for rate in rates {
        // Each chat reaches `participants` clients.
        let chats_per_second = (rate as f64 / participants as f64 / meetings as f64).max(0.1);
        let interval = Duration::from_secs_f64(1.0 / chats_per_second);
        stats.delivered.store(0, Ordering::Relaxed);
        stats.latencies_us.lock().unwrap().clear();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for sink in &senders {
            let sink = sink.clone();
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                while Instant::now() < deadline {
                    tick.tick().await;
                    let sent_us = epoch.elapsed().as_micros() as u64;
                    let frame =
                        json!({"event": "chat:message", "data": {"text": sent_us.to_string()}});
                    if sink
                        .lock()
                        .await
                        .send(Message::text(frame.to_string()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        // Let in-flight deliveries land before counting.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let elapsed = started.elapsed().as_secs_f64() - 0.5;
        let delivered = stats.delivered.load(Ordering::Relaxed);
        let mut latencies = stats.latencies_us.lock().unwrap().clone();
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |us| *us as f64 / 1000.0)
        };
        println!(
            "offered {rate:>7} deliveries/s: delivered {:>9.0}/s, latency p50 {:.1} ms, p99 {:.1} ms",
            delivered as f64 / elapsed,
            pct(0.50),
            pct(0.99)
        );
    }
}

async fn join(socket: &mut Socket, meeting_id: &str, name: &str) {
    let frame = json!({"event": "join-meeting", "data": {"meetingId": meeting_id, "name": name}});
    socket.send(Message::text(frame.to_string())).await.unwrap();
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            match value["event"].as_str() {
                Some("joined") => return,
                Some("error") => panic!("join refused: {}", value["data"]),
                _ => {}
            }
        }
    }
    panic!("connection closed while joining");
}

async fn receive(
    mut stream: futures_util::stream::SplitStream<Socket>,
    stats: Arc<Stats>,
    epoch: Instant,
) {
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if value["event"] != "chat:message" {
            continue;
        }
        let Some(sent_us) = value["data"]["text"]
            .as_str()
            .and_then(|t| t.parse::<u64>().ok())
        else {
            continue;
        };
        let now_us = epoch.elapsed().as_micros() as u64;
        stats.delivered.fetch_add(1, Ordering::Relaxed);
        stats
            .latencies_us
            .lock()
            .unwrap()
            .push(now_us.saturating_sub(sent_us));
    }
}
