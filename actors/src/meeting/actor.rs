//! One ractor actor per live meeting.
//!
//! The actor owns the meeting's write path: it rehydrates the aggregate from the meeting's stream
//! when it starts, and for each command runs `decide`, appends the events with the stream version
//! it knows as the expected version, applies them, and replies — only after the log has made them
//! durable. Ended meetings, unknown ids and meetings idle for longer than `idle_after` stop their
//! actor (passivation); the next command simply rehydrates a new one.

use std::sync::Arc;

use convene_events::{Actor as EventActor, AppendError, EventLog, ExpectedVersion, MeetingId};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::aggregate::{apply, fold, Meeting, MeetingStatus};
use super::decide::{decide, CommandOutcome, MeetingCommand, MeetingError};
use crate::registry::RegistryContext;

pub enum MeetingMsg {
    Execute {
        command: MeetingCommand,
        actor: EventActor,
        reply: RpcReplyPort<Result<CommandOutcome, MeetingError>>,
    },
    /// The current state (`None` for an id nobody created).
    Snapshot(RpcReplyPort<Option<Meeting>>),
    /// Sent by the registry's sweep: stop if idle for longer than `idle_after`.
    IdleCheck,
    /// Makes the actor fail, to exercise supervision in tests.
    #[cfg(test)]
    Crash,
}

pub struct MeetingActor;

pub struct MeetingArgs {
    pub id: MeetingId,
    pub ctx: Arc<RegistryContext>,
}

pub struct MeetingState {
    id: MeetingId,
    stream: String,
    meeting: Option<Meeting>,
    /// The stream's last version, the expected version of the next append.
    version: u64,
    last_activity: i64,
    ctx: Arc<RegistryContext>,
}

impl Actor for MeetingActor {
    type Msg = MeetingMsg;
    type State = MeetingState;
    type Arguments = MeetingArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<MeetingMsg>,
        args: MeetingArgs,
    ) -> Result<MeetingState, ActorProcessingErr> {
        let stream = args.id.stream();
        let (meeting, version) = rehydrate(&args.ctx.log, &stream)?;
        Ok(MeetingState {
            id: args.id,
            stream,
            meeting,
            version,
            last_activity: args.ctx.clock.now_ms(),
            ctx: args.ctx,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<MeetingMsg>,
        message: MeetingMsg,
        state: &mut MeetingState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            MeetingMsg::Execute {
                command,
                actor,
                reply,
            } => {
                state.last_activity = state.ctx.clock.now_ms();
                let result = state.execute(&command, actor).await;
                let _ = reply.send(result);
            }
            MeetingMsg::Snapshot(reply) => {
                let _ = reply.send(state.meeting.clone());
            }
            MeetingMsg::IdleCheck => {
                let idle_for = state.ctx.clock.now_ms() - state.last_activity;
                if idle_for >= state.ctx.config.idle_after_ms {
                    tracing::debug!(meeting_id = %state.id, idle_for, "passivating idle meeting");
                    state.ctx.forget(&state.id, myself.get_id());
                    myself.stop(Some("idle".into()));
                }
                return Ok(());
            }
            #[cfg(test)]
            MeetingMsg::Crash => panic!("crash requested by a test"),
        }
        // Nothing more will happen to an ended or never-created meeting: free the actor.
        let finished = match &state.meeting {
            None => true,
            Some(meeting) => meeting.status == MeetingStatus::Ended,
        };
        if finished {
            // New callers get a fresh actor from now on; the ones already queued here are still
            // answered (drain, not stop: a stop would drop them, and under concurrent callers
            // every fresh actor would answer one and drop the rest again).
            state.ctx.forget(&state.id, myself.get_id());
            let _ = myself.drain();
        }
        Ok(())
    }
}

impl MeetingState {
    /// Decide, append, apply. A version conflict means the stream moved under us (it should not,
    /// with one actor per meeting): reload it and decide again, once.
    async fn execute(
        &mut self,
        command: &MeetingCommand,
        actor: EventActor,
    ) -> Result<CommandOutcome, MeetingError> {
        for _ in 0..2 {
            let events = decide(&self.meeting, command, self.ctx.clock.now_ms())?;
            let expected = match self.version {
                0 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v),
            };
            let new_events = events
                .iter()
                .map(|event| event.to_new_event(actor.clone()))
                .collect();
            match self
                .ctx
                .log
                .append_to(&self.stream, expected, new_events)
                .await
            {
                Ok(outcome) => {
                    for event in &events {
                        apply(&mut self.meeting, event, outcome.at);
                    }
                    self.version = outcome.stream_versions[0];
                    let meeting = self.meeting.clone().ok_or_else(|| {
                        MeetingError::Unexpected("a command left no meeting behind".into())
                    })?;
                    return Ok(CommandOutcome {
                        meeting,
                        last_seq: outcome.last_seq,
                    });
                }
                Err(AppendError::Conflict { .. }) => {
                    tracing::warn!(meeting_id = %self.id, "stream moved under its actor; reloading");
                    let (meeting, version) = rehydrate(&self.ctx.log, &self.stream)
                        .map_err(|e| MeetingError::Unexpected(e.to_string()))?;
                    self.meeting = meeting;
                    self.version = version;
                }
                Err(AppendError::Closed) => return Err(MeetingError::Unavailable),
                Err(other) => return Err(MeetingError::Unexpected(other.to_string())),
            }
        }
        Err(MeetingError::Unavailable)
    }
}

fn rehydrate(log: &EventLog, stream: &str) -> Result<(Option<Meeting>, u64), ActorProcessingErr> {
    let envelopes = log.read_stream(stream, 1)?;
    let version = envelopes.last().map_or(0, |e| e.version);
    Ok((fold(&envelopes)?, version))
}
