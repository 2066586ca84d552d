//! Integration tests: the real server on 127.0.0.1:0 with a temporary data directory, talked to
//! over HTTP with a real client.

mod accounts;
mod analytics;
mod audit;
mod billing;
mod cli;
mod companies;
mod controls;
mod edcast;
mod errors;
mod events;
mod helpers;
mod history;
mod meetings;
mod metrics;
mod openapi;
mod protection;
mod receiver;
mod restart;
mod scheduling;
mod sessions;
mod socketio;
mod socketio_client;
mod stop;
mod videosdk;
mod webhooks;
mod ws;
