//! Realtime load generator (BENCHMARKS.md, issue 4). Two measurements:
//!
//! - `fanout`: `meetings` × `participants` WebSocket clients on `/ws` (JSON), one sender per
//!   meeting sending `chat:message` at a fixed rate; every participant (the sender included)
//!   receives each message. A meeting's participants join all at once (a join storm, timed).
//!   Reports deliveries per second and the delivery latency (send → receive, on this machine's
//!   monotonic clock) for each offered rate.
//! - `idle`: `connections` clients that connect, then join meetings of 50, then stay idle
//!   (answering pings); reports the server's RSS growth per connection after each step, read
//!   from `/proc/<server pid>/status`. `ws` uses `/ws`; `socketio` speaks Socket.IO v5 over
//!   Engine.IO's WebSocket transport at `/socket.io/`, as `socket.io-client` does with
//!   `transports: ["websocket"]`.
//!
//! The client is written to cost the server's two cores as little as possible: it does not parse
//! deliveries as JSON (it finds the timestamp in the text), keeps latencies in a lock-free
//! histogram, reads with small buffers, and disables Nagle's algorithm as browsers do for
//! WebSockets. Senders are spread evenly over their interval, so the figures are not those of
//! synchronized bursts.
//!
//! ```sh
//! CONVENE_RATE_LIMITS_ENABLED=false CONVENE_REALTIME_EVENTS_PER_SECOND=100000 \
//!   CONVENE_REALTIME_EVENT_BURST=100000 cargo run --release &
//! cargo run --release --example realtime_load -- fanout http://127.0.0.1:3000 20 50 10000,100000,300000 10
//! cargo run --release --example realtime_load -- idle http://127.0.0.1:3000 5000 <server pid> ws
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Latency histogram: 50 µs buckets up to 20 s (the last bucket holds everything slower).
const BUCKET_US: u64 = 50;
const BUCKETS: usize = 400_000;

struct Stats {
    delivered: AtomicU64,
    latency: Vec<AtomicU64>,
}

impl Stats {
    fn new() -> Self {
        Self {
            delivered: AtomicU64::new(0),
            latency: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn record(&self, latency_us: u64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let bucket = ((latency_us / BUCKET_US) as usize).min(BUCKETS - 1);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
    }

    fn reset(&self) {
        self.delivered.store(0, Ordering::Relaxed);
        for bucket in &self.latency {
            bucket.store(0, Ordering::Relaxed);
        }
    }

    /// The latency at quantile `q`, in milliseconds.
    fn quantile_ms(&self, q: f64) -> f64 {
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let target = (total as f64 * q).ceil() as u64;
        let mut seen = 0;
        for (bucket, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= target.max(1) {
                return ((bucket as u64 + 1) * BUCKET_US) as f64 / 1000.0;
            }
        }
        0.0
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(0) {
        Some("fanout") => {
            let base = arg(1).unwrap_or("http://127.0.0.1:3000").to_owned();
            let meetings = arg(2).and_then(|a| a.parse().ok()).unwrap_or(20);
            let participants = arg(3).and_then(|a| a.parse().ok()).unwrap_or(50);
            let rates = arg(4)
                .map(|a| a.split(',').filter_map(|r| r.parse().ok()).collect())
                .unwrap_or_else(|| vec![10_000, 100_000, 300_000]);
            let seconds = arg(5).and_then(|a| a.parse().ok()).unwrap_or(10);
            let kind = match arg(6) {
                Some("react") => Kind::React,
                _ => Kind::Chat,
            };
            fanout(&base, meetings, participants, &rates, seconds, kind).await;
        }
        Some("idle") => {
            let base = arg(1).unwrap_or("http://127.0.0.1:3000").to_owned();
            let connections = arg(2).and_then(|a| a.parse().ok()).unwrap_or(5_000);
            let pid: u32 = arg(3)
                .and_then(|a| a.parse().ok())
                .expect("the server's pid");
            let socketio = arg(4) == Some("socketio");
            idle(&base, connections, pid, socketio).await;
        }
        _ => eprintln!(
            "usage: realtime_load fanout <base> <meetings> <participants> <rates> <seconds>\n       realtime_load idle <base> <connections> <server pid> [ws|socketio]"
        ),
    }
}

async fn register(http: &reqwest::Client, base: &str) -> String {
    let email = format!("load-{}@example.com", std::process::id());
    http.post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": "load-password"}))
        .send()
        .await
        .expect("register")
        .json::<Value>()
        .await
        .unwrap()["apiKey"]
        .as_str()
        .expect("an api key")
        .to_owned()
}

async fn create_meeting(http: &reqwest::Client, base: &str, key: &str, size: usize) -> String {
    let meeting: Value = http
        .post(format!("{base}/api/meetings"))
        .header("x-api-key", key)
        .json(&json!({"title": "load", "maxParticipants": size.max(1)}))
        .send()
        .await
        .expect("create meeting")
        .json()
        .await
        .unwrap();
    meeting["meetingId"].as_str().expect("a meeting").to_owned()
}

/// A WebSocket client without Nagle's algorithm (as browsers open them), reading in 4 KiB
/// chunks: tungstenite zero-fills its whole read buffer (128 KiB by default) before each read,
/// which would cost this process more than the server spends delivering.
async fn connect(url: &str) -> Socket {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .expect("connect");
    socket
}

/// What the senders send: `chat:message` (logged before it is delivered) or `react`
/// (relayed, never logged: the fan-out alone).
#[derive(Clone, Copy)]
enum Kind {
    Chat,
    React,
}

impl Kind {
    fn frame(self, sent_us: u64) -> String {
        match self {
            Kind::Chat => format!(r#"{{"event":"chat:message","data":{{"text":"{sent_us}"}}}}"#),
            // A reaction's emoji is at most 16 characters: the timestamp fits.
            Kind::React => format!(r#"{{"event":"react","data":{{"emoji":"{sent_us}"}}}}"#),
        }
    }
}

async fn fanout(
    base: &str,
    meetings: usize,
    participants: usize,
    rates: &[u64],
    seconds: u64,
    kind: Kind,
) {
    let http = reqwest::Client::new();
    let key = register(&http, base).await;
    let epoch = Instant::now();
    let stats = Arc::new(Stats::new());
    let ws_url = base.replace("http://", "ws://") + "/ws";
    let joined_at = Instant::now();
    let mut senders = Vec::new();
    for m in 0..meetings {
        let meeting_id = create_meeting(&http, base, &key, participants).await;
        // All of a meeting's participants connect and join at once (a join storm).
        let joins: Vec<_> = (0..participants)
            .map(|p| {
                let (url, meeting_id) = (ws_url.clone(), meeting_id.clone());
                tokio::spawn(async move {
                    let mut socket = connect(&url).await;
                    join_ws(&mut socket, &meeting_id, &format!("m{m}p{p}")).await;
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
    for &rate in rates {
        // Each chat reaches `participants` clients.
        let chats_per_second = (rate as f64 / participants as f64 / meetings as f64).max(0.1);
        let interval = Duration::from_secs_f64(1.0 / chats_per_second);
        stats.reset();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for (i, sink) in senders.iter().enumerate() {
            let sink = sink.clone();
            // Senders are spread over the interval: started together, every sender would send
            // in the same instant, and the figures would be those of bursts.
            let first =
                tokio::time::Instant::now() + interval.mul_f64(i as f64 / senders.len() as f64);
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval_at(first, interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                while Instant::now() < deadline {
                    tick.tick().await;
                    let sent_us = epoch.elapsed().as_micros() as u64;
                    let frame = kind.frame(sent_us);
                    if sink.lock().await.send(Message::text(frame)).await.is_err() {
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
        println!(
            "offered {rate:>7} deliveries/s: delivered {:>9.0}/s, latency p50 {:.1} ms, p99 {:.1} ms",
            delivered as f64 / elapsed,
            stats.quantile_ms(0.50),
            stats.quantile_ms(0.99)
        );
    }
}

async fn join_ws(socket: &mut Socket, meeting_id: &str, name: &str) {
    let frame = json!({"event": "join-meeting", "data": {"meetingId": meeting_id, "name": name}});
    socket.send(Message::text(frame.to_string())).await.unwrap();
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            if text.starts_with(r#"{"event":"joined""#) || text.contains(r#""event":"joined""#) {
                return;
            }
            if text.contains(r#""event":"error""#) {
                panic!("join refused: {text}");
            }
        }
    }
    panic!("connection closed while joining");
}

/// The send time a chat or reaction delivery carries, without parsing the JSON.
fn sent_at(text: &str) -> Option<u64> {
    let field = if text.contains(r#""event":"chat:message""#) {
        r#""text":""#
    } else if text.contains(r#""event":"react""#) {
        r#""emoji":""#
    } else {
        return None;
    };
    let start = text.find(field)? + field.len();
    let digits = text[start..].find('"')?;
    text[start..start + digits].parse().ok()
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
        if let Some(sent_us) = sent_at(&text) {
            let now_us = epoch.elapsed().as_micros() as u64;
            stats.record(now_us.saturating_sub(sent_us));
        }
    }
}

/// The server's resident set size, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("server pid");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Connects `connections` clients (200 at a time), then joins them to meetings of 50, and
/// reports the server's RSS growth per connection after each step. The clients stay connected
/// (answering pings) until the process is stopped.
async fn idle(base: &str, connections: usize, pid: u32, socketio: bool) {
    const MEETING_SIZE: usize = 50;
    const AT_ONCE: usize = 200;
    let http = reqwest::Client::new();
    let key = register(&http, base).await;
    let meeting_ids = {
        let mut ids = Vec::new();
        for _ in 0..connections.div_ceil(MEETING_SIZE) {
            ids.push(create_meeting(&http, base, &key, MEETING_SIZE).await);
        }
        ids
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib(pid);
    let url = if socketio {
        base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    } else {
        base.replace("http://", "ws://") + "/ws"
    };
    let mut sockets = Vec::with_capacity(connections);
    let started = Instant::now();
    for batch in (0..connections).collect::<Vec<_>>().chunks(AT_ONCE) {
        let opened: Vec<_> = batch
            .iter()
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move {
                    let mut socket = connect(&url).await;
                    if socketio {
                        socketio_connect(&mut socket).await;
                    }
                    socket
                })
            })
            .collect();
        for socket in opened {
            sockets.push(socket.await.expect("a connection"));
        }
    }
    let connected_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let connected = rss_kib(pid);
    report("connected", connections, before, connected, connected_in);

    let started = Instant::now();
    let mut joined_sockets = Vec::with_capacity(connections);
    let mut pending = sockets.into_iter().enumerate().collect::<Vec<_>>();
    while !pending.is_empty() {
        let batch: Vec<_> = pending.drain(..AT_ONCE.min(pending.len())).collect();
        let joins: Vec<_> = batch
            .into_iter()
            .map(|(i, mut socket)| {
                let meeting_id = meeting_ids[i / MEETING_SIZE].clone();
                tokio::spawn(async move {
                    let name = format!("idle{i}");
                    if socketio {
                        join_socketio(&mut socket, &meeting_id, &name).await;
                    } else {
                        join_ws(&mut socket, &meeting_id, &name).await;
                    }
                    socket
                })
            })
            .collect();
        for join in joins {
            joined_sockets.push(join.await.expect("a join"));
        }
    }
    let joined_in = started.elapsed();
    // Every client answers pings from here on, and reads what it is sent.
    for socket in joined_sockets {
        tokio::spawn(stay_idle(socket, socketio));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let joined = rss_kib(pid);
    report("joined", connections, before, joined, joined_in);
    println!("holding the connections; stop with ctrl-c");
    std::future::pending::<()>().await;
}

fn report(step: &str, connections: usize, before: u64, after: u64, took: Duration) {
    println!(
        "{connections} clients {step} in {:.2} s: server RSS {} KiB -> {} KiB, {:.1} KiB per connection",
        took.as_secs_f64(),
        before,
        after,
        after.saturating_sub(before) as f64 / connections as f64
    );
}

/// Engine.IO open, then the Socket.IO main namespace.
async fn socketio_connect(socket: &mut Socket) {
    let open = next_text(socket).await;
    assert!(open.starts_with('0'), "engine.io open: {open}");
    socket.send(Message::text("40")).await.unwrap();
    let connected = next_text(socket).await;
    assert!(
        connected.starts_with("40"),
        "socket.io connect: {connected}"
    );
}

async fn join_socketio(socket: &mut Socket, meeting_id: &str, name: &str) {
    let join = json!(["join-meeting", {"meetingId": meeting_id, "name": name}]);
    socket
        .send(Message::text(format!("42{join}")))
        .await
        .unwrap();
    loop {
        let text = next_text(socket).await;
        if text == "2" {
            socket.send(Message::text("3")).await.unwrap();
        } else if text.starts_with(r#"42["joined""#) {
            return;
        } else if text.starts_with(r#"42["error""#) {
            panic!("join refused: {text}");
        }
    }
}

async fn next_text(socket: &mut Socket) -> String {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(_)) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

/// Reads whatever comes (tungstenite answers WebSocket pings); answers Engine.IO pings.
async fn stay_idle(mut socket: Socket, socketio: bool) {
    while let Some(Ok(message)) = socket.next().await {
        let engine_ping = matches!(&message, Message::Text(t) if t.as_str() == "2");
        if socketio && engine_ping && socket.send(Message::text("3")).await.is_err() {
            return;
        }
    }
}
