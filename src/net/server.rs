//! The HTTP server: accepts connections, hands WebSocket upgrades for the realtime endpoints to
//! their handlers, and everything else to the warp routes.
//!
//! Convene accepts its own connections rather than calling `warp::serve` because a WebSocket
//! upgraded by warp keeps tungstenite's default buffers (128 KiB to read, 128 KiB to write) for
//! its whole life, and warp offers no way to size them; here the realtime endpoints receive the
//! raw upgrade ([`crate::net::websocket`]) and size them themselves. The rest is what
//! `warp::serve` does: HTTP/1.1 and HTTP/2 on one port, graceful shutdown (stop accepting, let
//! requests in flight finish — and here also close the upgraded connections, see
//! [`crate::net::connections`]), and the peer's address for the rate limits ([`peer_addr`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower_service::Service;
use warp::filters::BoxedFilter;
use warp::http::Request;
use warp::reply::Response;
use warp::Filter;

use crate::net::connections::Connections;
use crate::net::websocket::Upgrade;

/// The address a request came from, for filters that need it ([`peer_addr`]).
#[derive(Debug, Clone, Copy)]
struct PeerAddr(SocketAddr);

/// The remote address of the request's connection (warp's `addr::remote` only works under
/// `warp::serve`).
pub fn peer_addr() -> impl Filter<Extract = (Option<SocketAddr>,), Error = Infallible> + Clone {
    warp::ext::optional::<PeerAddr>().map(|peer: Option<PeerAddr>| peer.map(|p| p.0))
}

/// Answers a WebSocket handshake to one path, given the request's raw query string.
pub type WebSocketEndpoint = Arc<dyn Fn(&str, Upgrade) -> Response + Send + Sync>;

/// The routes of one server: warp's, and the WebSocket endpoints that take upgrades themselves.
#[derive(Clone)]
pub struct Server {
    routes: BoxedFilter<(Response,)>,
    websockets: Arc<HashMap<&'static str, WebSocketEndpoint>>,
    connections: Connections,
    /// How long a stop waits for requests in flight and for connections to say goodbye.
    grace: Duration,
}

impl Server {
    /// Serves `routes`; `connections` are the long-lived connections the endpoints register,
    /// told to close when the server stops.
    pub fn new(routes: BoxedFilter<(Response,)>, connections: Connections) -> Self {
        Self {
            routes,
            websockets: Arc::default(),
            connections,
            grace: Duration::from_millis(1500),
        }
    }

    /// How long a stop waits for requests in flight and connections (1.5 s unless set).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// WebSocket handshakes to `path` go to `endpoint`; other requests to it still go to warp
    /// (long-polling at `/socket.io/`, a refusal at `/ws`).
    pub fn websocket(mut self, path: &'static str, endpoint: WebSocketEndpoint) -> Self {
        Arc::make_mut(&mut self.websockets).insert(path, endpoint);
        self
    }

    /// Serves `listener` until `shutdown` resolves. Then it stops accepting, tells every
    /// long-lived connection to close (each says so in its protocol), and waits — at most
    /// [`Server::grace`] — for requests in flight (a pending long-poll is answered) and for the
    /// connections to end.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) {
        let graceful = GracefulShutdown::new();
        let mut shutdown = pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        wait_after_accept_error(err).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            let service = hyper::service::service_fn(move |request| {
                let server = server.clone();
                async move { Ok::<_, Infallible>(server.answer(request, peer).await) }
            });
            let connection = auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(err) = connection.await {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
            });
        }
        drop(listener);
        self.connections.stop();
        let requests = tokio::time::timeout(self.grace, graceful.shutdown());
        let (requests, drained) = tokio::join!(requests, self.connections.drained(self.grace));
        if requests.is_err() || !drained {
            tracing::warn!(
                connections = self.connections.live(),
                "stopped before every request and connection ended"
            );
        }
    }

    async fn answer(&self, mut request: Request<Incoming>, peer: SocketAddr) -> Response {
        if let Some(endpoint) = self.websockets.get(request.uri().path()) {
            if Upgrade::is_requested(&request) {
                let query = request.uri().query().unwrap_or("").to_owned();
                return match Upgrade::take(&mut request, &self.connections) {
                    Ok(upgrade) => endpoint(&query, upgrade),
                    Err(why) => crate::net::websocket::bad_handshake(why),
                };
            }
        }
        request.extensions_mut().insert(PeerAddr(peer));
        let mut routes = warp::service(self.routes.clone());
        match routes.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Accepting fails when the process is out of file descriptors, say: wait a little rather than
/// spin (errors of a single connection are not worth a pause).
async fn wait_after_accept_error(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "cannot accept connections; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
