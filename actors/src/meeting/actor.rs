//! One ractor actor per live meeting.
//!
//! The actor owns the meeting's write path: it rehydrates the aggregate from the meeting's stream
//! when it starts, and for each command runs `decide`, appends the events with the stream version
//! it knows as the expected version, applies them, and replies — only after the log has made them
//! durable. Ended meetings, unknown ids and meetings idle for longer than `idle_after` stop their
//! actor (passivation); the next command simply rehydrates a new one.

use std::sync::Arc;

use convene_events::{
    Actor as EventActor, AppendError, Clock, EventLog, ExpectedVersion, MeetingId,
};
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort};

use convene_events::catalog::meeting::{
    LeaveReason, MeetingEvent, ReactionsCounted, WaitingRoomDecided,
};

use super::aggregate::{apply, fold, Meeting, MeetingStatus};
use super::decide::{decide, CommandOutcome, MeetingCommand, MeetingError, WaitingRule};
use super::room::{announcements, Announcement, Audience, Delivery, Mailbox, Outbound, Room};

pub enum MeetingMsg {
    Execute {
        command: MeetingCommand,
        actor: EventActor,
        reply: RpcReplyPort<Result<CommandOutcome, MeetingError>>,
    },
    /// A realtime client joins: `command` is its `Join`; on success `mailbox` joins the room
    /// before anyone is told, so the joiner hears its own `joined` first.
    ///
    /// With the waiting room on, a guest (no host token, no invite) who has not been admitted
    /// is queued instead and answered `InWaitingRoom`; `client_id` names them in the queue.
    Connect {
        client_id: String,
        command: MeetingCommand,
        actor: EventActor,
        mailbox: Mailbox,
        reply: RpcReplyPort<Result<CommandOutcome, MeetingError>>,
    },
    /// A host admits (`admit = true`) or denies a waiting client.
    Admit {
        host_participant_id: String,
        client_id: String,
        admit: bool,
        reply: RpcReplyPort<Result<(), MeetingError>>,
    },
    /// A waiting client went away.
    StopWaiting { client_id: String },
    /// A realtime client's connection ended: it leaves the room and, if still in the meeting,
    /// the meeting (logged as a disconnect).
    Disconnect {
        participant_id: String,
        reply: RpcReplyPort<()>,
    },
    /// Passes an ephemeral event (signaling) from a member to `to`, unlogged. An unknown
    /// target is reported to the sender as `error`.
    Relay {
        from: String,
        to: Audience,
        outbound: std::sync::Arc<Outbound>,
    },
    /// A floating emoji reaction: relayed to everyone, unlogged, and counted (the count is
    /// logged as `meeting.reactions_counted` when the sender leaves).
    React {
        from: String,
        outbound: std::sync::Arc<Outbound>,
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

/// What a meeting actor needs from whoever runs it (the registry): the log it appends to, the
/// clock, when to passivate, and a way out of the live map when it stops. The actor knows this
/// much of its host and no more, so the registry depends on the actor and not the reverse.
pub trait MeetingHost: Send + Sync + 'static {
    fn log(&self) -> &EventLog;
    fn clock(&self) -> &dyn Clock;
    /// A meeting with no command for this long (and nobody connected) passivates.
    fn idle_after_ms(&self) -> i64;
    /// Removes `actor` from the live meetings, if it is still the one registered for `id`.
    fn forget(&self, id: &MeetingId, actor: ActorId);
}

pub struct MeetingArgs {
    pub id: MeetingId,
    pub ctx: Arc<dyn MeetingHost>,
}

pub struct MeetingState {
    id: MeetingId,
    stream: String,
    meeting: Option<Meeting>,
    /// The stream's last version, the expected version of the next append.
    version: u64,
    last_activity: i64,
    /// Who is connected over the realtime channel.
    room: Room,
    /// Who waits to be let in (onepizza §11), in arrival order; nothing of it is logged.
    waiting: Vec<Waiter>,
    /// Clients a host admitted, whose next join passes the waiting room once.
    admitted: std::collections::HashSet<String>,
    /// Reactions relayed per participant and not yet logged as counted.
    reactions: std::collections::HashMap<String, u32>,
    ctx: Arc<dyn MeetingHost>,
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
        let (meeting, version) = rehydrate(args.ctx.log(), &stream)?;
        Ok(MeetingState {
            id: args.id,
            stream,
            meeting,
            version,
            last_activity: args.ctx.clock().now_ms(),
            room: Room::default(),
            waiting: Vec::new(),
            admitted: Default::default(),
            reactions: Default::default(),
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
                state.last_activity = state.ctx.clock().now_ms();
                let result = state.execute(&command, actor, None).await;
                let _ = reply.send(result);
            }
            MeetingMsg::Connect {
                client_id,
                command,
                actor,
                mailbox,
                reply,
            } => {
                state.last_activity = state.ctx.clock().now_ms();
                let result = if state.must_wait(&client_id, &command) {
                    state.enqueue(client_id, &command, mailbox);
                    Err(MeetingError::InWaitingRoom)
                } else {
                    let result = state.execute(&command, actor, Some(mailbox)).await;
                    if let (Ok(outcome), MeetingCommand::Join { participant_id, .. }) =
                        (&result, &command)
                    {
                        let host = outcome.meeting.participants.get(participant_id);
                        if host.is_some_and(|p| p.is_host) {
                            state.show_queue_to(participant_id);
                        }
                    }
                    result
                };
                let _ = reply.send(result);
            }
            MeetingMsg::Admit {
                host_participant_id,
                client_id,
                admit,
                reply,
            } => {
                let result = state
                    .decide_waiter(&host_participant_id, &client_id, admit)
                    .await;
                let _ = reply.send(result);
                return Ok(());
            }
            MeetingMsg::StopWaiting { client_id } => {
                if let Some(waiter) = state.take_waiter(&client_id) {
                    state.tell_hosts_removed(&waiter);
                }
                state.admitted.remove(&client_id);
                return Ok(());
            }
            MeetingMsg::Disconnect {
                participant_id,
                reply,
            } => {
                state.room.remove(&participant_id);
                state.leave_if_present(&participant_id).await;
                let _ = reply.send(());
            }
            MeetingMsg::Relay { from, to, outbound } => {
                state.relay(&from, &to, outbound);
                return Ok(());
            }
            MeetingMsg::React { from, outbound } => {
                if state.room.contains(&from) {
                    *state.reactions.entry(from.clone()).or_default() += 1;
                }
                state.relay(&from, &Audience::Everyone, outbound);
                return Ok(());
            }
            MeetingMsg::Snapshot(reply) => {
                let _ = reply.send(state.meeting.clone());
            }
            MeetingMsg::IdleCheck => {
                let idle_for = state.ctx.clock().now_ms() - state.last_activity;
                // A meeting with people connected or waiting is never idle, however quiet.
                let nobody = state.room.is_empty() && state.waiting.is_empty();
                if idle_for >= state.ctx.idle_after_ms() && nobody {
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
        joining: Option<Mailbox>,
    ) -> Result<CommandOutcome, MeetingError> {
        let outcome = self.decide_and_append(command, actor).await?;
        if let (Some(mailbox), MeetingCommand::Join { participant_id, .. }) = (joining, command) {
            self.room.add(participant_id.clone(), mailbox);
        }
        let (events, at) = outcome.1;
        let mut dropped = Vec::new();
        let mut departed_ids = Vec::new();
        for (event, departed) in events {
            dropped.extend(self.announce(&event, departed.as_deref(), at));
            match &event {
                MeetingEvent::ParticipantLeft(left) => {
                    departed_ids.push(left.participant_id.clone())
                }
                MeetingEvent::ParticipantKicked(kicked) => {
                    departed_ids.push(kicked.participant_id.clone())
                }
                MeetingEvent::Ended(_) => departed_ids.extend(self.reactions.keys().cloned()),
                _ => {}
            }
        }
        self.log_reaction_counts(&departed_ids).await;
        for participant_id in dropped {
            tracing::info!(meeting_id = %self.id, participant_id, "dropping a participant whose queue is full");
            Box::pin(self.leave_if_present(&participant_id)).await;
        }
        Ok(outcome.0)
    }

    /// Tells the room what `event` means to each member; returns members dropped on the way.
    fn announce(&mut self, event: &MeetingEvent, departed: Option<&str>, at: i64) -> Vec<String> {
        let Some(meeting) = &self.meeting else {
            return vec![];
        };
        let mut dropped = Vec::new();
        for (audience, outbound) in announcements(event, meeting, departed, at) {
            dropped.extend(self.room.deliver(&audience, Delivery::Event(outbound)));
        }
        match event {
            MeetingEvent::ParticipantKicked(kicked) => {
                self.room.close(&kicked.participant_id, "kicked")
            }
            MeetingEvent::ParticipantLeft(left) => self.room.remove(&left.participant_id),
            MeetingEvent::Ended(_) => self.room.close_all("meeting ended"),
            _ => {}
        }
        dropped
    }

    /// Logs a disconnect for a participant still in the meeting.
    async fn leave_if_present(&mut self, participant_id: &str) {
        let present = self
            .meeting
            .as_ref()
            .is_some_and(|m| m.participants.contains_key(participant_id));
        if present {
            let leave = MeetingCommand::Leave {
                participant_id: participant_id.to_owned(),
                reason: LeaveReason::Disconnected,
            };
            if let Err(err) = self.execute(&leave, EventActor::System, None).await {
                tracing::warn!(meeting_id = %self.id, participant_id, error = %err, "cannot log a disconnect");
            }
        }
    }

    /// Logs the reactions counted for participants who left. Best effort: a count is not an
    /// acknowledged fact, and failing to log it must not fail the departure that triggered it.
    async fn log_reaction_counts(&mut self, departed: &[String]) {
        let counts: Vec<MeetingEvent> = departed
            .iter()
            .filter_map(|id| self.reactions.remove_entry(id))
            .map(|(participant_id, reactions)| {
                ReactionsCounted {
                    participant_id,
                    reactions,
                }
                .into()
            })
            .collect();
        if counts.is_empty() {
            return;
        }
        if let Err(err) = self.append_and_apply(counts, EventActor::System).await {
            tracing::warn!(meeting_id = %self.id, error = %err, "cannot log reaction counts");
        }
    }

    fn relay(&mut self, from: &str, to: &Audience, outbound: std::sync::Arc<Outbound>) {
        if !self.room.contains(from) {
            return;
        }
        if let Audience::Only(target) = to {
            if !self.room.contains(target) {
                let error = Outbound::new(Announcement::Error {
                    message: format!("participant {target} is not in the meeting"),
                });
                self.room
                    .deliver(&Audience::Only(from.to_owned()), Delivery::Event(error));
                return;
            }
        }
        self.room.deliver(to, Delivery::Event(outbound));
    }

    /// Decide, append, apply; returns the outcome and each event with the name of the
    /// participant it removed (for `participant:left`), and the log's timestamp.
    #[allow(clippy::type_complexity)]
    async fn decide_and_append(
        &mut self,
        command: &MeetingCommand,
        actor: EventActor,
    ) -> Result<(CommandOutcome, (Vec<(MeetingEvent, Option<String>)>, i64)), MeetingError> {
        for _ in 0..2 {
            let events = decide(&self.meeting, command, self.ctx.clock().now_ms())?;
            if events.is_empty() {
                // Nothing changes (a toggle to the state it is in, a schedule not yet due): nothing
                // to log and nothing for a reader to wait for.
                let meeting = self.meeting.clone().ok_or_else(|| {
                    MeetingError::Unexpected(
                        "a command that changes nothing found no meeting".into(),
                    )
                })?;
                let done = CommandOutcome {
                    meeting,
                    last_seq: 0,
                };
                return Ok((done, (Vec::new(), self.ctx.clock().now_ms())));
            }
            match self.append_and_apply(events, actor.clone()).await {
                Ok((applied, at, last_seq)) => {
                    let meeting = self.meeting.clone().ok_or_else(|| {
                        MeetingError::Unexpected("a command left no meeting behind".into())
                    })?;
                    let done = CommandOutcome { meeting, last_seq };
                    return Ok((done, (applied, at)));
                }
                Err(AppendError::Conflict { .. }) => {
                    tracing::warn!(meeting_id = %self.id, "stream moved under its actor; reloading");
                    let (meeting, version) = rehydrate(self.ctx.log(), &self.stream)
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

    /// Appends `events` at the version this actor knows, then applies them. Returns each event
    /// with the name of the participant it removed, the log's timestamp and the last seq.
    #[allow(clippy::type_complexity)]
    async fn append_and_apply(
        &mut self,
        events: Vec<MeetingEvent>,
        actor: EventActor,
    ) -> Result<(Vec<(MeetingEvent, Option<String>)>, i64, u64), AppendError> {
        let expected = match self.version {
            0 => ExpectedVersion::NoStream,
            v => ExpectedVersion::Exact(v),
        };
        let new_events = events
            .iter()
            .map(|event| event.to_new_event(actor.clone()))
            .collect();
        let outcome = self
            .ctx
            .log()
            .append_to(&self.stream, expected, new_events)
            .await?;
        let mut applied = Vec::with_capacity(events.len());
        for event in events {
            let departed = self.departing_name(&event);
            apply(&mut self.meeting, &event, outcome.at);
            applied.push((event, departed));
        }
        self.version = outcome.stream_versions[0];
        Ok((applied, outcome.at, outcome.last_seq))
    }
}

/// A client in the waiting room.
struct Waiter {
    client_id: String,
    name: String,
    mailbox: Mailbox,
}

/// The waiting room (onepizza §11).
impl MeetingState {
    /// Whether this join must wait: the waiting room is on, and the joiner is neither the
    /// host, nor holding an invite, nor admitted already (admission is used up here).
    fn must_wait(&mut self, client_id: &str, command: &MeetingCommand) -> bool {
        let MeetingCommand::Join {
            invite_token,
            host_token,
            waiting,
            ..
        } = command
        else {
            return false;
        };
        let waiting_room = self.meeting.as_ref().is_some_and(|m| {
            let applies = match waiting {
                WaitingRule::AsSet => m.settings.waiting_room,
                WaitingRule::Skip => false,
                WaitingRule::Always => true,
            };
            applies && m.status == MeetingStatus::Active
        });
        waiting_room
            && invite_token.is_none()
            && host_token.is_none()
            && !self.admitted.remove(client_id)
    }

    fn enqueue(&mut self, client_id: String, command: &MeetingCommand, mailbox: Mailbox) {
        let MeetingCommand::Join { name, .. } = command else {
            return;
        };
        self.take_waiter(&client_id);
        let message = Outbound::new(Announcement::Waiting);
        mailbox.try_send(Delivery::Event(message));
        let waiter = Waiter {
            client_id,
            name: name.clone(),
            mailbox,
        };
        let notice = self.waiting_notice(&waiter, false);
        self.waiting.push(waiter);
        self.tell_hosts(notice);
    }

    fn take_waiter(&mut self, client_id: &str) -> Option<Waiter> {
        let at = self.waiting.iter().position(|w| w.client_id == client_id)?;
        Some(self.waiting.remove(at))
    }

    /// `waiting-room:participant-waiting` for hosts; `count` is the queue's length after.
    fn waiting_notice(&self, waiter: &Waiter, removed: bool) -> std::sync::Arc<Outbound> {
        Outbound::new(Announcement::ParticipantWaiting {
            client_id: waiter.client_id.clone(),
            name: waiter.name.clone(),
            count: self.waiting.len() + usize::from(!removed),
            removed,
        })
    }

    fn hosts(&self) -> Vec<String> {
        self.meeting.as_ref().map_or_else(Vec::new, |m| {
            m.participants
                .iter()
                .filter(|(id, p)| p.is_host && self.room.contains(id))
                .map(|(id, _)| id.clone())
                .collect()
        })
    }

    fn tell_hosts(&mut self, notice: std::sync::Arc<Outbound>) {
        for host in self.hosts() {
            self.room
                .deliver(&Audience::Only(host), Delivery::Event(notice.clone()));
        }
    }

    fn tell_hosts_removed(&mut self, waiter: &Waiter) {
        let notice = self.waiting_notice(waiter, true);
        self.tell_hosts(notice);
    }

    /// A host who joins later sees who is already waiting.
    fn show_queue_to(&mut self, host: &str) {
        let notices: Vec<_> = (0..self.waiting.len())
            .map(|i| {
                let waiter = &self.waiting[i];
                Outbound::new(Announcement::ParticipantWaiting {
                    client_id: waiter.client_id.clone(),
                    name: waiter.name.clone(),
                    count: i + 1,
                    removed: false,
                })
            })
            .collect();
        for notice in notices {
            self.room
                .deliver(&Audience::Only(host.to_owned()), Delivery::Event(notice));
        }
    }

    /// A host's decision is logged (who was let in, or turned away, by whom) before the waiting
    /// client hears it.
    async fn decide_waiter(
        &mut self,
        host: &str,
        client_id: &str,
        admit: bool,
    ) -> Result<(), MeetingError> {
        let is_host = self
            .meeting
            .as_ref()
            .and_then(|m| m.participants.get(host))
            .is_some_and(|p| p.is_host);
        if !is_host || !self.room.contains(host) {
            return Err(MeetingError::NotHost);
        }
        let name = self
            .waiting
            .iter()
            .find(|w| w.client_id == client_id)
            .map(|w| w.name.clone())
            .ok_or(MeetingError::NotWaiting)?;
        let decided = WaitingRoomDecided {
            client_id: client_id.to_owned(),
            name,
            admitted: admit,
        };
        let by = EventActor::Participant {
            meeting_id: self.id.to_string(),
            participant_id: host.to_owned(),
        };
        self.append_and_apply(vec![decided.into()], by)
            .await
            .map_err(|err| match err {
                AppendError::Closed => MeetingError::Unavailable,
                other => MeetingError::Unexpected(other.to_string()),
            })?;
        let waiter = self
            .take_waiter(client_id)
            .ok_or(MeetingError::NotWaiting)?;
        let answer = if admit {
            self.admitted.insert(waiter.client_id.clone());
            Outbound::new(Announcement::Admitted)
        } else {
            Outbound::new(Announcement::Denied)
        };
        waiter.mailbox.try_send(Delivery::Event(answer));
        self.tell_hosts_removed(&waiter);
        Ok(())
    }
}

impl MeetingState {
    /// The name of the participant `event` removes, before it does.
    fn departing_name(&self, event: &MeetingEvent) -> Option<String> {
        let id = match event {
            MeetingEvent::ParticipantLeft(left) => &left.participant_id,
            MeetingEvent::ParticipantKicked(kicked) => &kicked.participant_id,
            _ => return None,
        };
        self.meeting
            .as_ref()
            .and_then(|m| m.participants.get(id))
            .map(|p| p.name.clone())
    }
}

fn rehydrate(log: &EventLog, stream: &str) -> Result<(Option<Meeting>, u64), ActorProcessingErr> {
    let envelopes = log.read_stream(stream, 1)?;
    let version = envelopes.last().map_or(0, |e| e.version);
    Ok((fold(&envelopes)?, version))
}
