//! HTTP: one module per API area, all routes assembled in [`routes`].
//!
//! Handlers are plain async functions returning `Result<Response, ApiError>`; once a route's
//! path and method match, its handler's answer is final, and [`error::respond`] is the single
//! place that maps errors to statuses. A write answers only after the read models that the API
//! reads have caught up with it (read-your-writes).

pub mod accounts;
pub mod auth;
pub mod body;
pub mod error;
pub mod health;
pub mod meetings;

use std::sync::Arc;

use convene_actors::{AccountService, MeetingRegistry};
use convene_events::{Clock, EventLog};
use convene_projections::Projections;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::config::Config;
use error::ApiError;

/// Everything a handler may use.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub log: EventLog,
    pub registry: MeetingRegistry,
    pub accounts: AccountService,
    pub projections: Projections,
}

impl AppState {
    /// Waits until every read model shows the log up to `seq`.
    pub async fn caught_up(&self, seq: u64) -> Result<(), ApiError> {
        self.projections
            .wait_for(seq, self.config.read_your_writes_timeout())
            .await
            .map_err(ApiError::from)
    }
}

pub fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || state.clone())
}

pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    health::routes()
        .or(accounts::routes(state.clone()))
        .unify()
        .or(meetings::routes(state))
        .unify()
        .recover(error::recover)
        .unify()
        .with(warp::trace::request())
        .map(Reply::into_response)
        .boxed()
}
