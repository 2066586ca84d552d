//! The scheduler: activates scheduled meetings when their time comes, ends guest meetings that
//! stayed empty for `guest.expire_after_minutes` and VideoSDK sessions that stayed empty for
//! `videosdk.empty_session_grace_secs`, and ends meetings at their end time (an EdCast
//! `end_date`, a plan's duration cap) as their host, with the admin token the host key derives.
//!
//! It keeps no timers of its own: every `scheduler.tick_ms` it reads the time index (a
//! projection ordered by due time) up to the clock's "now" and sends each due meeting an
//! idempotent command. The server runs it once before it accepts connections, so a meeting
//! that came due while the server was down is handled before anyone can see it late; with
//! `tick_ms = 0` that start-up run is all the server does by itself, and tests move the
//! injected clock and run it themselves ([`Scheduler::run_due`]) instead of waiting for a tick.

use std::sync::Arc;
use std::time::Duration;

use convene_actors::{MeetingCommand, MeetingError, MeetingRegistry};
use convene_events::{Actor, Clock, MeetingId};
use convene_projections::Projections;
use tokio::task::JoinHandle;

pub struct Scheduler {
    registry: MeetingRegistry,
    projections: Projections,
    clock: Arc<dyn Clock>,
    guest_expiry_ms: i64,
    /// How long a VideoSDK session stays open after its last participant left.
    session_grace_ms: i64,
}

impl Scheduler {
    pub fn new(
        registry: MeetingRegistry,
        projections: Projections,
        clock: Arc<dyn Clock>,
        guest_expiry_ms: i64,
        session_grace_ms: i64,
    ) -> Self {
        Self {
            registry,
            projections,
            clock,
            guest_expiry_ms,
            session_grace_ms,
        }
    }

    /// Runs every `tick` from now on (the first run one tick from now).
    pub fn spawn(self, tick: Duration) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + tick, tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                self.run_due().await;
            }
        })
    }

    /// Handles everything due at the clock's current time; returns the log sequence of the last
    /// event it caused (0 when nothing was due), for a caller that must see its effects.
    pub async fn run_due(&self) -> u64 {
        let mut last_seq = 0;
        let now = self.clock.now_ms();
        let index = self.projections.time_index();
        match index.due_activations(now) {
            Ok(due) => {
                for meeting_id in due {
                    last_seq = last_seq.max(
                        self.send(&meeting_id, MeetingCommand::ActivateOnSchedule, "activate")
                            .await,
                    );
                }
            }
            Err(error) => tracing::error!(%error, "scheduler cannot read the time index"),
        }
        match index.empty_since(now - self.guest_expiry_ms) {
            Ok(due) => {
                let expire = MeetingCommand::ExpireIfEmpty {
                    empty_for_ms: self.guest_expiry_ms,
                };
                for meeting_id in due {
                    last_seq = last_seq.max(self.send(&meeting_id, expire.clone(), "expire").await);
                }
            }
            Err(error) => tracing::error!(%error, "scheduler cannot read the time index"),
        }
        match index.empty_sessions_since(now - self.session_grace_ms) {
            Ok(due) => {
                let end = MeetingCommand::ExpireIfEmpty {
                    empty_for_ms: self.session_grace_ms,
                };
                for meeting_id in due {
                    last_seq = last_seq.max(
                        self.send(&meeting_id, end.clone(), "end empty session")
                            .await,
                    );
                }
            }
            Err(error) => tracing::error!(%error, "scheduler cannot read the time index"),
        }
        match index.due_ends(now) {
            Ok(due) => {
                for meeting_id in due {
                    last_seq = last_seq.max(
                        self.send(&meeting_id, MeetingCommand::EndOnTimeLimit, "end")
                            .await,
                    );
                }
            }
            Err(error) => tracing::error!(%error, "scheduler cannot read the time index"),
        }
        last_seq
    }

    /// Sends one due command; the sequence of its last event, or 0.
    async fn send(
        &self,
        meeting_id: &MeetingId,
        command: MeetingCommand,
        duty: &'static str,
    ) -> u64 {
        match self
            .registry
            .execute(meeting_id, command, Actor::System)
            .await
        {
            Ok(outcome) if outcome.last_seq > 0 => {
                tracing::info!(meeting_id = %meeting_id, duty, "scheduler acted");
                outcome.last_seq
            }
            Ok(_) => 0,
            // Ended in the meantime: the index catches up with the event that ended it.
            Err(MeetingError::AlreadyEnded | MeetingError::NotFound) => 0,
            Err(error) => {
                tracing::warn!(meeting_id = %meeting_id, duty, %error, "scheduler command failed");
                0
            }
        }
    }
}
