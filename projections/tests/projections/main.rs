//! The read models against a real log in a temporary directory: each folds what it should,
//! and a rebuild from sequence 1 equals the live read model. One test binary, one module per
//! read model (or group of them).

mod directories;
mod event_feed;
mod history;
mod ledger;
mod plans;
mod support;
mod videosdk;
