//! Webhook delivery load (BENCHMARKS.md, issue 5): `accounts` workspaces each register one
//! endpoint on a fast local receiver (this process, answering 204 at once) for
//! `meeting.created` and `meeting.started`; then `meetings` meetings are created across them, 32
//! requests at a time. Reports deliveries per second (first to last arrival) and the delay from
//! the event's log timestamp to its arrival (p50, p99).
//!
//! With `backlog` as a fourth argument the receiver answers 503 (Retry-After: 1) while the
//! meetings are created, then 204: the figure is then the rate at which a backlog drains, which
//! meeting creation (the REST path) cannot limit.
//!
//! ```sh
//! CONVENE_RATE_LIMITS_ENABLED=false CONVENE_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true cargo run --release &
//! cargo run --release --example webhook_load -- http://127.0.0.1:3000 8 5000
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use warp::{Filter, Reply};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[derive(Default)]
struct Arrivals {
    delays_ms: Vec<i64>,
    first: Option<Instant>,
    last: Option<Instant>,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args
        .first()
        .cloned()
        .unwrap_or("http://127.0.0.1:3000".into());
    let accounts: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let meetings: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let backlog = args.get(3).is_some_and(|a| a == "backlog");
    let open = Arc::new(std::sync::atomic::AtomicBool::new(!backlog));

    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let recording = arrivals.clone();
    let accepting = open.clone();
    let receiver = warp::post()
        .and(warp::body::json())
        .map(move |body: Value| {
            if !accepting.load(std::sync::atomic::Ordering::Relaxed) {
                let busy = warp::http::StatusCode::SERVICE_UNAVAILABLE;
                return warp::reply::with_header(busy, "retry-after", "1").into_response();
            }
            let delay = now_ms() - body["timestamp"].as_i64().unwrap_or(0);
            let mut arrivals = recording.lock().unwrap();
            let now = Instant::now();
            arrivals.first.get_or_insert(now);
            arrivals.last = Some(now);
            arrivals.delays_ms.push(delay);
            warp::http::StatusCode::NO_CONTENT.into_response()
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(warp::serve(receiver).incoming(listener).run());

    let http = reqwest::Client::new();
    let mut keys = Vec::new();
    for a in 0..accounts {
        let email = format!("hooks-{}-{a}@example.com", std::process::id());
        let registered: Value = http
            .post(format!("{base}/api/auth/register"))
            .json(&json!({"email": email, "password": "load-password"}))
            .send()
            .await
            .expect("register")
            .json()
            .await
            .unwrap();
        let key = registered["apiKey"]
            .as_str()
            .expect("an api key")
            .to_owned();
        let created = http
            .post(format!("{base}/api/webhooks"))
            .header("x-api-key", &key)
            .json(&json!({"url": hook_url, "events": ["meeting.created", "meeting.started"]}))
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "webhook: {}",
            created.text().await.unwrap()
        );
        keys.push(key);
    }

    let started = Instant::now();
    let keys = Arc::new(keys);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (http, base, keys, next) = (http.clone(), base.clone(), keys.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= meetings {
                        return;
                    }
                    let key = &keys[n % keys.len()];
                    let response = http
                        .post(format!("{base}/api/meetings"))
                        .header("x-api-key", key)
                        .json(&json!({"title": "hooked"}))
                        .send()
                        .await
                        .unwrap();
                    assert!(response.status().is_success(), "{}", response.status());
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let created_in = started.elapsed();
    let expected = meetings * 2;
    if backlog {
        // Every endpoint's retry is due within a second: the backlog drains from here.
        open.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    loop {
        if arrivals.lock().unwrap().delays_ms.len() >= expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let arrivals = arrivals.lock().unwrap();
    let mut delays = arrivals.delays_ms.clone();
    delays.sort_unstable();
    let pct = |p: f64| delays[((delays.len() as f64 * p) as usize).min(delays.len() - 1)];
    let span = arrivals.last.unwrap() - arrivals.first.unwrap();
    println!(
        "{meetings} meetings created over {accounts} workspaces in {:.2} s ({:.0}/s)",
        created_in.as_secs_f64(),
        meetings as f64 / created_in.as_secs_f64()
    );
    println!(
        "{} deliveries in {:.2} s: {:.0} deliveries/s; delay from event to arrival p50 {} ms, p99 {} ms, max {} ms",
        delays.len(),
        span.as_secs_f64(),
        delays.len() as f64 / span.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        delays[delays.len() - 1]
    );
}
