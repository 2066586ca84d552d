//! A webhook receiver for the tests: plain HTTP/1.1 on 127.0.0.1:0 that records every request
//! (id, timestamp, signature, body, what it answered) and misbehaves on purpose when scripted
//! to (an error status, a hang, a reset, a slow answer).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::poll_until;

/// What the receiver does with the next request.
#[derive(Clone, Copy)]
pub(crate) enum Behaviour {
    Answer(u16, Option<&'static str>),
    Hang(Duration),
    Reset,
    /// 200, after a while (a receiver that keeps a backlog building).
    Slow(Duration),
}

#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) id: String,
    pub(crate) timestamp: i64,
    pub(crate) signature: String,
    pub(crate) body: Vec<u8>,
    pub(crate) answered: u16,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A plain HTTP/1.1 receiver on 127.0.0.1:0 with a script; after it, every request gets 200.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    script: Arc<Mutex<VecDeque<Behaviour>>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Connections accepted and not yet done with.
    answering: Arc<AtomicUsize>,
    /// Connections accepted so far.
    connections: Arc<AtomicUsize>,
    address: std::net::SocketAddr,
}

impl Receiver {
    pub(crate) async fn start(script: Vec<Behaviour>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let receiver = Receiver {
            url: format!("http://{address}/hook"),
            address,
            connections: Arc::default(),
            script: Arc::new(Mutex::new(script.into())),
            received: Arc::default(),
            answering: Arc::default(),
        };
        let serving = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let serving = serving.clone();
                serving.answering.fetch_add(1, Ordering::SeqCst);
                serving.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    serving.clone().serve(stream).await;
                    serving.answering.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        receiver
    }

    async fn serve(self, mut stream: TcpStream) {
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        let (head, body_start) = loop {
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buffer[..n]);
            if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break (String::from_utf8_lossy(&request[..at]).to_string(), at + 4);
            }
        };
        let header = |name: &str| {
            head.lines()
                .find_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    key.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let length: usize = header("content-length").parse().unwrap_or(0);
        while request.len() < body_start + length {
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            if n == 0 {
                return;
            }
            request.extend_from_slice(&buffer[..n]);
        }
        let behaviour = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Behaviour::Answer(200, None));
        let answered = match behaviour {
            Behaviour::Answer(status, _) => status,
            Behaviour::Slow(_) => 200,
            Behaviour::Hang(_) => 0,
            Behaviour::Reset => 1,
        };
        // Recorded when the answer is about to be sent: a request cut off by a killed server
        // before its answer was written does not count as accepted.
        if let Behaviour::Slow(how_long) = behaviour {
            tokio::time::sleep(how_long).await;
        }
        self.received.lock().unwrap().push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp").parse().unwrap_or(0),
            signature: header("webhook-signature"),
            body: request[body_start..body_start + length].to_vec(),
            answered,
        });
        match behaviour {
            Behaviour::Answer(status, retry_after) => {
                let extra = retry_after
                    .map(|r| format!("retry-after: {r}\r\n"))
                    .unwrap_or_default();
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n{extra}\r\n"
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
            Behaviour::Slow(_) => {
                let response = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = stream.write_all(response.as_bytes()).await;
            }
            Behaviour::Hang(how_long) => tokio::time::sleep(how_long).await,
            Behaviour::Reset => {
                // A zero linger turns the close into a reset.
                let _ = stream.set_zero_linger();
            }
        }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The seqs the receiver accepted (answered 2xx), in the order it accepted them.
    pub(crate) fn accepted(&self) -> Vec<u64> {
        self.received()
            .iter()
            .filter(|r| (200..300).contains(&r.answered))
            .map(|r| r.json()["seq"].as_u64().unwrap())
            .collect()
    }

    /// Returns once every connection made to the receiver so far is done with (its request, if
    /// it sent one, recorded), including those still in the listen queue: a probe connection
    /// made now is accepted after them, and then everything before it has been taken.
    pub(crate) async fn settled(&self) {
        let before = self.connections.load(Ordering::SeqCst);
        let probe = TcpStream::connect(self.address).await.unwrap();
        poll_until("the receiver to take its queued connections", || async {
            (self.connections.load(Ordering::SeqCst) > before).then_some(())
        })
        .await;
        drop(probe);
        poll_until("the receiver to answer what it read", || async {
            (self.answering.load(Ordering::SeqCst) == 0).then_some(())
        })
        .await
    }

    /// The seqs accepted, once there are at least `count`.
    pub(crate) async fn wait_for_accepted(&self, count: usize) -> Vec<u64> {
        poll_until(&format!("{count} accepted deliveries"), || async {
            let accepted = self.accepted();
            (accepted.len() >= count).then_some(accepted)
        })
        .await
    }

    /// Every request received, once there are at least `count`.
    pub(crate) async fn wait_for_requests(&self, count: usize) -> Vec<Received> {
        poll_until(&format!("{count} webhook requests"), || async {
            let received = self.received();
            (received.len() >= count).then_some(received)
        })
        .await
    }
}
