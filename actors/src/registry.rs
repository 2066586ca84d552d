//! The meeting registry: get-or-spawn, supervision, passivation.
//!
//! Live meetings sit in a map (`MeetingId → ActorRef`) that callers read directly, so routing a
//! command costs a lock and a lookup, not a trip through another mailbox. A supervisor actor is
//! linked to every meeting actor and overrides ractor's default (which would stop the supervisor
//! when a child dies): a meeting actor that panics is removed from the map and restarted, and
//! the new actor rehydrates from the log, so no acknowledged state is lost. One timer on the
//! supervisor sweeps live meetings for idleness, instead of one timer per meeting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use convene_events::{Actor as EventActor, Clock, EventLog, MeetingId};
use ractor::concurrency::JoinHandle;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::meeting::actor::{MeetingActor, MeetingArgs, MeetingHost, MeetingMsg};
use crate::meeting::aggregate::Meeting;
use crate::meeting::decide::{CommandOutcome, MeetingCommand, MeetingError};
use crate::meeting::room::{Audience, Mailbox, Outbound};

#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// A meeting with no command for this long is passivated.
    pub idle_after_ms: i64,
    /// How often the supervisor sweeps live meetings for idleness.
    pub sweep_every: Duration,
    /// How long a caller waits for a meeting actor's answer.
    pub call_timeout: Duration,
    /// Restarts allowed per meeting within `restart_window` before the supervisor stops
    /// restarting it eagerly (the next command still respawns it).
    pub max_restarts: u32,
    pub restart_window: Duration,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            idle_after_ms: 10 * 60 * 1000,
            sweep_every: Duration::from_secs(30),
            call_timeout: Duration::from_secs(10),
            max_restarts: 3,
            restart_window: Duration::from_secs(60),
        }
    }
}

/// What every meeting actor shares.
pub struct RegistryContext {
    pub(crate) log: EventLog,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: RegistryConfig,
    live: Mutex<Live>,
}

#[derive(Default)]
struct Live {
    by_meeting: HashMap<MeetingId, ActorRef<MeetingMsg>>,
    by_actor: HashMap<ActorId, MeetingId>,
}

impl MeetingHost for RegistryContext {
    fn log(&self) -> &EventLog {
        &self.log
    }

    fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    fn idle_after_ms(&self) -> i64 {
        self.config.idle_after_ms
    }

    fn forget(&self, id: &MeetingId, actor: ActorId) {
        let mut live = self.live.lock().expect("registry lock");
        if live.by_meeting.get(id).map(|r| r.get_id()) == Some(actor) {
            live.by_meeting.remove(id);
        }
        live.by_actor.remove(&actor);
    }
}

impl RegistryContext {
    fn lookup(&self, id: &MeetingId) -> Option<ActorRef<MeetingMsg>> {
        self.live
            .lock()
            .expect("registry lock")
            .by_meeting
            .get(id)
            .cloned()
    }
}

#[derive(Clone)]
pub struct MeetingRegistry {
    ctx: Arc<RegistryContext>,
    supervisor: ActorRef<SupervisorMsg>,
}

impl MeetingRegistry {
    pub async fn start(
        log: EventLog,
        clock: Arc<dyn Clock>,
        config: RegistryConfig,
    ) -> Result<Self, MeetingError> {
        let ctx = Arc::new(RegistryContext {
            log,
            clock,
            config,
            live: Mutex::new(Live::default()),
        });
        let (supervisor, _) = Actor::spawn(None, Supervisor, ctx.clone())
            .await
            .map_err(|e| MeetingError::Unexpected(format!("cannot start the registry: {e}")))?;
        Ok(Self { ctx, supervisor })
    }

    /// Runs a command on a meeting's actor, spawning (rehydrating) it if needed.
    pub async fn execute(
        &self,
        id: &MeetingId,
        command: MeetingCommand,
        actor: EventActor,
    ) -> Result<CommandOutcome, MeetingError> {
        self.call(id, |reply| MeetingMsg::Execute {
            command: command.clone(),
            actor: actor.clone(),
            reply,
        })
        .await?
    }

    /// Joins a realtime client: `command` must be a `Join`; on success `mailbox` receives the
    /// meeting's announcements from `joined` on.
    pub async fn connect(
        &self,
        id: &MeetingId,
        client_id: &str,
        command: MeetingCommand,
        actor: EventActor,
        mailbox: Mailbox,
    ) -> Result<CommandOutcome, MeetingError> {
        let result = self
            .call(id, |reply| MeetingMsg::Connect {
                client_id: client_id.to_owned(),
                command: command.clone(),
                actor: actor.clone(),
                mailbox: mailbox.clone(),
                reply,
            })
            .await;
        if let (Err(MeetingError::Unavailable), MeetingCommand::Join { participant_id, .. }) =
            (&result, &command)
        {
            // The actor may still take the join after we stopped waiting for it: queue the
            // undoing behind it, so no participant is left in the meeting that nobody drives.
            self.abandon(id, participant_id, client_id);
        }
        result?
    }

    /// Undoes a connect whose answer never came: leaves the room and the meeting, and the
    /// waiting room, whichever it reached.
    fn abandon(&self, id: &MeetingId, participant_id: &str, client_id: &str) {
        let Some(actor) = self.ctx.lookup(id) else {
            return;
        };
        let (reply, _) = ractor::concurrency::oneshot();
        let _ = actor.cast(MeetingMsg::Disconnect {
            participant_id: participant_id.to_owned(),
            reply: reply.into(),
        });
        let _ = actor.cast(MeetingMsg::StopWaiting {
            client_id: client_id.to_owned(),
        });
    }

    /// A host admits or denies a client in the waiting room.
    pub async fn admit(
        &self,
        id: &MeetingId,
        host_participant_id: &str,
        client_id: &str,
        admit: bool,
    ) -> Result<(), MeetingError> {
        self.call(id, |reply| MeetingMsg::Admit {
            host_participant_id: host_participant_id.to_owned(),
            client_id: client_id.to_owned(),
            admit,
            reply,
        })
        .await?
    }

    /// A waiting client went away.
    pub fn stop_waiting(&self, id: &MeetingId, client_id: &str) {
        if let Some(actor) = self.ctx.lookup(id) {
            let _ = actor.cast(MeetingMsg::StopWaiting {
                client_id: client_id.to_owned(),
            });
        }
    }

    /// A realtime client's connection ended.
    pub async fn disconnect(&self, id: &MeetingId, participant_id: &str) {
        let _ = self
            .call(id, |reply| MeetingMsg::Disconnect {
                participant_id: participant_id.to_owned(),
                reply,
            })
            .await;
    }

    /// Passes an unlogged event from a connected participant; dropped if the meeting has no
    /// live actor (then the sender is in no room either).
    pub fn relay(&self, id: &MeetingId, from: &str, to: Audience, outbound: Arc<Outbound>) {
        if let Some(actor) = self.ctx.lookup(id) {
            let _ = actor.cast(MeetingMsg::Relay {
                from: from.to_owned(),
                to,
                outbound,
            });
        }
    }

    /// Passes a floating emoji reaction from a connected participant to everyone (counted for
    /// analytics); dropped if the meeting has no live actor.
    pub fn react(&self, id: &MeetingId, from: &str, outbound: Arc<Outbound>) {
        if let Some(actor) = self.ctx.lookup(id) {
            let _ = actor.cast(MeetingMsg::React {
                from: from.to_owned(),
                outbound,
            });
        }
    }

    /// The meeting as its actor holds it (`None` for an unknown id).
    pub async fn snapshot(&self, id: &MeetingId) -> Result<Option<Meeting>, MeetingError> {
        self.call(id, MeetingMsg::Snapshot).await
    }

    /// Sends to the meeting's actor. An actor that stopped (passivated, or failed) before taking
    /// the message drops it unprocessed; the message then goes to a freshly spawned actor, once.
    async fn call<R: Send + 'static>(
        &self,
        id: &MeetingId,
        message: impl Fn(ractor::RpcReplyPort<R>) -> MeetingMsg,
    ) -> Result<R, MeetingError> {
        for _ in 0..2 {
            let actor = spawn_or_get(&self.ctx, &self.supervisor, id).await?;
            match actor
                .call(&message, Some(self.ctx.config.call_timeout))
                .await
            {
                Ok(CallResult::Success(answer)) => return Ok(answer),
                Ok(CallResult::Timeout) => return Err(MeetingError::Unavailable),
                Ok(CallResult::SenderError) | Err(_) => self.ctx.forget(id, actor.get_id()),
            }
        }
        Err(MeetingError::Unavailable)
    }

    /// Every live meeting as its actor holds it, asked concurrently; nothing is read from disk
    /// and no actor is spawned. A meeting whose actor does not answer within the call timeout
    /// (or stops meanwhile) is left out.
    pub async fn live_meetings(&self) -> Vec<Meeting> {
        let actors: Vec<ActorRef<MeetingMsg>> = self
            .ctx
            .live
            .lock()
            .expect("registry lock")
            .by_meeting
            .values()
            .cloned()
            .collect();
        let timeout = self.ctx.config.call_timeout;
        let mut asks = tokio::task::JoinSet::new();
        for actor in actors {
            asks.spawn(async move { actor.call(MeetingMsg::Snapshot, Some(timeout)).await });
        }
        let mut meetings = Vec::new();
        while let Some(answer) = asks.join_next().await {
            if let Ok(Ok(CallResult::Success(Some(meeting)))) = answer {
                meetings.push(meeting);
            }
        }
        meetings
    }

    /// How many meeting actors are alive.
    pub fn live_count(&self) -> usize {
        self.ctx
            .live
            .lock()
            .expect("registry lock")
            .by_meeting
            .len()
    }

    /// Asks every live meeting to passivate if idle (the supervisor's timer does this too).
    pub fn sweep(&self) {
        let _ = self.supervisor.cast(SupervisorMsg::Sweep);
    }

    /// Stops every meeting actor and the supervisor.
    pub async fn shutdown(&self) {
        self.supervisor
            .stop_children_and_wait(None, Some(Duration::from_secs(5)))
            .await;
        let _ = self
            .supervisor
            .stop_and_wait(None, Some(Duration::from_secs(5)))
            .await;
    }

    /// Sweeps, and returns once every live meeting has handled its idle check: the supervisor
    /// has sent them (it answered a ping queued after the sweep), and each actor has answered a
    /// snapshot queued after its check. A witness, so tests need not wait and see.
    #[cfg(test)]
    pub(crate) async fn sweep_and_settle(&self) {
        self.sweep();
        let _ = ractor::call!(self.supervisor, SupervisorMsg::Ping);
        let live: Vec<ActorRef<MeetingMsg>> = {
            let live = self.ctx.live.lock().expect("registry lock");
            live.by_meeting.values().cloned().collect()
        };
        for actor in live {
            let _ = ractor::call!(actor, MeetingMsg::Snapshot);
        }
    }

    #[cfg(test)]
    pub(crate) fn live_actor(&self, id: &MeetingId) -> Option<ActorRef<MeetingMsg>> {
        self.ctx.lookup(id)
    }
}

/// The registered actor for `id`, spawning one if there is none.
async fn spawn_or_get(
    ctx: &Arc<RegistryContext>,
    supervisor: &ActorRef<SupervisorMsg>,
    id: &MeetingId,
) -> Result<ActorRef<MeetingMsg>, MeetingError> {
    if let Some(actor) = ctx.lookup(id) {
        return Ok(actor);
    }
    let args = MeetingArgs {
        id: id.clone(),
        ctx: ctx.clone() as Arc<dyn MeetingHost>,
    };
    let (actor, _) = Actor::spawn_linked(None, MeetingActor, args, supervisor.get_cell())
        .await
        .map_err(|e| MeetingError::Unexpected(format!("cannot load meeting {id}: {e}")))?;
    let mut live = ctx.live.lock().expect("registry lock");
    if let Some(winner) = live.by_meeting.get(id) {
        // Someone spawned the same meeting meanwhile; ours has written nothing, drop it.
        actor.stop(None);
        return Ok(winner.clone());
    }
    live.by_meeting.insert(id.clone(), actor.clone());
    live.by_actor.insert(actor.get_id(), id.clone());
    Ok(actor)
}

enum SupervisorMsg {
    Sweep,
    /// Answers once every message before it has been handled (tests' witness of a sweep).
    #[cfg(test)]
    Ping(ractor::RpcReplyPort<()>),
}

struct Supervisor;

struct SupervisorState {
    ctx: Arc<RegistryContext>,
    restarts: HashMap<MeetingId, (u32, std::time::Instant)>,
    _sweeper: JoinHandle<()>,
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = Arc<RegistryContext>;

    async fn pre_start(
        &self,
        myself: ActorRef<SupervisorMsg>,
        ctx: Arc<RegistryContext>,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let sweeper = myself.send_interval(ctx.config.sweep_every, || SupervisorMsg::Sweep);
        Ok(SupervisorState {
            ctx,
            restarts: HashMap::new(),
            _sweeper: sweeper,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        state._sweeper.abort();
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<SupervisorMsg>,
        message: SupervisorMsg,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupervisorMsg::Sweep => {
                let live: Vec<_> = {
                    let live = state.ctx.live.lock().expect("registry lock");
                    live.by_meeting.values().cloned().collect()
                };
                for actor in live {
                    let _ = actor.cast(MeetingMsg::IdleCheck);
                }
            }
            #[cfg(test)]
            SupervisorMsg::Ping(reply) => {
                let _ = reply.send(());
            }
        }
        Ok(())
    }

    /// Overrides ractor's default, which would stop this supervisor when a child stops.
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupervisorMsg>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                let id = state
                    .ctx
                    .live
                    .lock()
                    .expect("registry lock")
                    .by_actor
                    .get(&cell.get_id())
                    .cloned();
                if let Some(id) = id {
                    state.ctx.forget(&id, cell.get_id());
                }
            }
            SupervisionEvent::ActorFailed(cell, error) => {
                let id = state
                    .ctx
                    .live
                    .lock()
                    .expect("registry lock")
                    .by_actor
                    .get(&cell.get_id())
                    .cloned();
                let Some(id) = id else { return Ok(()) };
                state.ctx.forget(&id, cell.get_id());
                tracing::error!(meeting_id = %id, %error, "meeting actor failed");
                if state.may_restart(&id) {
                    match spawn_or_get(&state.ctx, &myself, &id).await {
                        Ok(_) => {
                            tracing::info!(meeting_id = %id, "meeting actor restarted from the log")
                        }
                        Err(err) => {
                            tracing::error!(meeting_id = %id, %err, "meeting actor could not restart")
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl SupervisorState {
    fn may_restart(&mut self, id: &MeetingId) -> bool {
        let now = std::time::Instant::now();
        let window = self.ctx.config.restart_window;
        let entry = self.restarts.entry(id.clone()).or_insert((0, now));
        if now.duration_since(entry.1) > window {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0 <= self.ctx.config.max_restarts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::aggregate::MeetingStatus;
    use crate::meeting::decide::{CreateMeeting, HostAction, WaitingRule};
    use crate::sha256_hex;
    use convene_events::catalog::meeting::{Dialect, MeetingSettings, SettingsChanged};
    use convene_events::{LogConfig, ManualClock, Workspace};

    const OWNER: Workspace = Workspace::Account(1);

    struct Fixture {
        _dir: tempfile::TempDir,
        log: EventLog,
        clock: ManualClock,
        registry: MeetingRegistry,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(1_700_000_000_000);
        let log = EventLog::open(LogConfig::new(dir.path()), Arc::new(clock.clone())).unwrap();
        let config = RegistryConfig {
            idle_after_ms: 60_000,
            sweep_every: Duration::from_secs(3600),
            ..RegistryConfig::default()
        };
        let registry = MeetingRegistry::start(log.clone(), Arc::new(clock.clone()), config)
            .await
            .unwrap();
        Fixture {
            _dir: dir,
            log,
            clock,
            registry,
        }
    }

    fn create(id: &MeetingId) -> MeetingCommand {
        MeetingCommand::Create(CreateMeeting {
            meeting_id: id.clone(),
            workspace: OWNER,
            title: "Standup".into(),
            scheduled_at: None,
            settings: MeetingSettings::with_cap(50),
            admin_token_sha256: sha256_hex("token"),
            via: Dialect::Native,
            ends_at: None,
        })
    }

    async fn wait_until(mut condition: impl FnMut() -> bool) {
        for _ in 0..500 {
            if condition() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("condition not reached");
    }

    #[tokio::test]
    async fn a_failed_actor_restarts_from_the_log_without_losing_state() {
        let f = fixture().await;
        let id = MeetingId::generate();
        let created = f
            .registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let before = f.registry.live_actor(&id).unwrap();
        before.cast(MeetingMsg::Crash).unwrap();
        // The supervisor replaces the failed actor with a new one rehydrated from the log.
        wait_until(|| {
            f.registry
                .live_actor(&id)
                .is_some_and(|now| now.get_id() != before.get_id())
        })
        .await;
        let after = f.registry.snapshot(&id).await.unwrap().unwrap();
        assert_eq!(after, created.meeting);
        // And it keeps working: the expected version it rehydrated is right.
        let ended = f
            .registry
            .execute(
                &id,
                MeetingCommand::host(OWNER, "token", HostAction::End),
                EventActor::System,
            )
            .await
            .unwrap();
        assert_eq!(ended.meeting.status, MeetingStatus::Ended);
        assert_eq!(f.log.read_stream(&id.stream(), 1).unwrap().len(), 3);
        f.registry.shutdown().await;
        f.log.close().await;
    }

    #[tokio::test]
    async fn the_members_of_a_failed_actors_room_are_cut_off() {
        let f = fixture().await;
        let id = MeetingId::generate();
        f.registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let (ada_box, mut ada) = crate::mailbox(16);
        f.registry
            .connect(&id, "c-ada", join("ada"), EventActor::System, ada_box)
            .await
            .unwrap();
        assert_eq!(received(&mut ada), ["Joined"]);
        f.registry
            .live_actor(&id)
            .unwrap()
            .cast(MeetingMsg::Crash)
            .unwrap();
        assert!(
            matches!(ada.recv().await, Some(crate::Delivery::Close(reason)) if reason == "meeting unavailable"),
            "a member is not left in a room that is gone"
        );
        f.registry.shutdown().await;
        f.log.close().await;
    }

    #[tokio::test]
    async fn idle_and_ended_meetings_are_passivated_and_come_back_on_demand() {
        let f = fixture().await;
        let idle = MeetingId::generate();
        let finished = MeetingId::generate();
        for id in [&idle, &finished] {
            f.registry
                .execute(id, create(id), EventActor::System)
                .await
                .unwrap();
        }
        f.registry
            .execute(
                &finished,
                MeetingCommand::host(OWNER, "token", HostAction::End),
                EventActor::System,
            )
            .await
            .unwrap();
        // The ended meeting's actor stops by itself.
        wait_until(|| f.registry.live_actor(&finished).is_none()).await;
        assert_eq!(f.registry.live_count(), 1);

        // Not idle long enough yet: stays.
        f.clock.advance(59_000);
        f.registry.sweep_and_settle().await;
        assert_eq!(f.registry.live_count(), 1);
        // Past the idle limit: passivated.
        f.clock.advance(2_000);
        f.registry.sweep();
        wait_until(|| f.registry.live_count() == 0).await;

        // A command rehydrates it, state intact.
        let state = f.registry.snapshot(&idle).await.unwrap().unwrap();
        assert_eq!(state.status, MeetingStatus::Active);
        // An unknown id answers None and leaves no actor behind.
        assert_eq!(
            f.registry.snapshot(&MeetingId::generate()).await.unwrap(),
            None
        );
        wait_until(|| f.registry.live_count() == 1).await;
        f.registry.shutdown().await;
        f.log.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_commands_on_one_meeting_are_serialized() {
        let f = fixture().await;
        let id = MeetingId::generate();
        f.registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let registry = f.registry.clone();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                registry
                    .execute(
                        &id,
                        MeetingCommand::host(OWNER, "token", HostAction::End),
                        EventActor::System,
                    )
                    .await
            }));
        }
        let mut ended = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ended += 1,
                Err(MeetingError::AlreadyEnded) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(ended, 1, "exactly one End wins");
        f.registry.shutdown().await;
        f.log.close().await;
    }

    fn join(participant_id: &str) -> MeetingCommand {
        MeetingCommand::Join {
            participant_id: participant_id.into(),
            name: format!("name of {participant_id}"),
            invite_token: None,
            host_token: None,
            waiting: WaitingRule::AsSet,
        }
    }

    /// An announcement by its variant's name (a relayed message by the name it came with).
    fn announced(announcement: &crate::Announcement) -> String {
        match announcement {
            crate::Announcement::Relayed { event, .. } => (*event).to_owned(),
            other => {
                let debug = format!("{other:?}");
                debug
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            }
        }
    }

    /// The announcements a mailbox has received so far, by name (`close:<reason>` for a close).
    fn received(mailbox: &mut crate::Inbox) -> Vec<String> {
        let mut names = Vec::new();
        while let Some(delivery) = mailbox.try_recv() {
            names.push(match delivery {
                crate::Delivery::Event(out) => announced(&out.announcement),
                crate::Delivery::Ack { id, .. } => format!("ack:{id}"),
                crate::Delivery::Close(reason) => format!("close:{reason}"),
            });
        }
        names
    }

    #[tokio::test]
    async fn a_joins_waiting_rule_overrides_the_setting() {
        let f = fixture().await;
        let id = MeetingId::generate();
        f.registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let with = |participant_id: &str, waiting| MeetingCommand::Join {
            participant_id: participant_id.into(),
            name: participant_id.into(),
            invite_token: None,
            host_token: None,
            waiting,
        };
        // The waiting room is off: `Always` still waits, `AsSet` goes in.
        let (asker_box, mut asker) = crate::mailbox(16);
        let asked = f
            .registry
            .connect(
                &id,
                "c-asker",
                with("asker", WaitingRule::Always),
                EventActor::System,
                asker_box,
            )
            .await;
        assert_eq!(asked.unwrap_err(), MeetingError::InWaitingRoom);
        assert_eq!(received(&mut asker), ["Waiting"]);
        let (plain_box, _plain) = crate::mailbox(16);
        f.registry
            .connect(&id, "c-plain", join("plain"), EventActor::System, plain_box)
            .await
            .unwrap();

        // The waiting room is on: `Skip` goes in, `AsSet` waits.
        let on = MeetingCommand::host(
            OWNER,
            "token",
            HostAction::UpdateSettings(SettingsChanged {
                waiting_room: Some(true),
                ..SettingsChanged::default()
            }),
        );
        f.registry
            .execute(&id, on, EventActor::System)
            .await
            .unwrap();
        let (direct_box, _direct) = crate::mailbox(16);
        f.registry
            .connect(
                &id,
                "c-direct",
                with("direct", WaitingRule::Skip),
                EventActor::System,
                direct_box,
            )
            .await
            .unwrap();
        let (late_box, _late) = crate::mailbox(16);
        let late = f
            .registry
            .connect(&id, "c-late", join("late"), EventActor::System, late_box)
            .await;
        assert_eq!(late.unwrap_err(), MeetingError::InWaitingRoom);
        let meeting = f.registry.snapshot(&id).await.unwrap().unwrap();
        let mut present: Vec<&str> = meeting.participants.keys().map(String::as_str).collect();
        present.sort_unstable();
        assert_eq!(present, ["direct", "plain"]);
    }

    #[tokio::test]
    async fn the_room_hears_the_meeting_in_log_order() {
        let f = fixture().await;
        let id = MeetingId::generate();
        f.registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let (ada_box, mut ada) = crate::mailbox(16);
        let (bob_box, mut bob) = crate::mailbox(16);
        f.registry
            .connect(&id, "c-ada", join("ada"), EventActor::System, ada_box)
            .await
            .unwrap();
        f.registry
            .connect(&id, "c-bob", join("bob"), EventActor::System, bob_box)
            .await
            .unwrap();
        assert_eq!(received(&mut ada), ["Joined", "ParticipantJoined"]);
        assert_eq!(received(&mut bob), ["Joined"]);

        let offer = Outbound::new(crate::Announcement::Relayed {
            event: "signal:offer",
            data: serde_json::json!({"from": "ada"}),
        });
        f.registry
            .relay(&id, "ada", Audience::Only("bob".into()), offer);
        let stranger = Outbound::new(crate::Announcement::Relayed {
            event: "signal:offer",
            data: serde_json::json!({}),
        });
        f.registry
            .relay(&id, "ada", Audience::Only("nobody".into()), stranger);
        let chat = MeetingCommand::Participant {
            participant_id: "bob".into(),
            action: crate::ParticipantAction::Chat("hi".into()),
        };
        f.registry
            .execute(&id, chat, EventActor::System)
            .await
            .unwrap();
        assert_eq!(received(&mut bob), ["signal:offer", "Chat"]);
        assert_eq!(received(&mut ada), ["Error", "Chat"]);

        let kick = MeetingCommand::host(
            OWNER,
            "token",
            HostAction::Kick {
                participant_id: "bob".into(),
                reason: None,
            },
        );
        f.registry
            .execute(&id, kick, EventActor::System)
            .await
            .unwrap();
        assert_eq!(received(&mut bob), ["Kicked", "close:kicked"]);
        assert_eq!(received(&mut ada), ["ParticipantLeft"]);

        f.registry.disconnect(&id, "ada").await;
        let meeting = f.registry.snapshot(&id).await.unwrap().unwrap();
        assert!(
            meeting.participants.is_empty(),
            "a disconnect is a logged leave"
        );
        f.registry.shutdown().await;
        f.log.close().await;
    }

    #[tokio::test]
    async fn a_command_that_changes_nothing_succeeds_and_logs_nothing() {
        let f = fixture().await;
        let id = MeetingId::generate();
        f.registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let (ada_box, _ada) = crate::mailbox(16);
        f.registry
            .connect(&id, "c-ada", join("ada"), EventActor::System, ada_box)
            .await
            .unwrap();
        let head = f.log.durable_head();
        let lower_hand = MeetingCommand::Participant {
            participant_id: "ada".into(),
            action: crate::ParticipantAction::RaiseHand(false),
        };
        let outcome = f
            .registry
            .execute(&id, lower_hand, EventActor::System)
            .await
            .expect("a hand already down is lowered without error");
        assert_eq!(outcome.last_seq, 0, "nothing to wait for");
        let not_due = MeetingCommand::ExpireIfEmpty { empty_for_ms: 1 };
        f.registry
            .execute(&id, not_due, EventActor::System)
            .await
            .expect("an occupied meeting does not expire, without error");
        assert_eq!(f.log.durable_head(), head, "nothing was logged");
        f.registry.shutdown().await;
        f.log.close().await;
    }

    #[tokio::test]
    async fn a_member_whose_queue_is_full_is_dropped_and_leaves() {
        let f = fixture().await;
        let id = MeetingId::generate();
        f.registry
            .execute(&id, create(&id), EventActor::System)
            .await
            .unwrap();
        let (slow_box, mut slow) = crate::mailbox(1);
        f.registry
            .connect(&id, "c-slow", join("slow"), EventActor::System, slow_box)
            .await
            .unwrap();
        // `joined` fills the slow member's queue; the next announcement cannot be delivered.
        let (fast_box, mut fast) = crate::mailbox(16);
        f.registry
            .connect(&id, "c-fast", join("fast"), EventActor::System, fast_box)
            .await
            .unwrap();
        assert_eq!(received(&mut fast), ["Joined", "ParticipantLeft"]);
        let meeting = f.registry.snapshot(&id).await.unwrap().unwrap();
        assert_eq!(meeting.participants.keys().collect::<Vec<_>>(), ["fast"]);
        // The slow connection gets what was queued, then learns it was dropped.
        assert!(
            matches!(slow.recv().await, Some(crate::Delivery::Event(e)) if matches!(e.announcement, crate::Announcement::Joined { .. }))
        );
        assert!(matches!(slow.recv().await, Some(crate::Delivery::Close(_))));
        f.registry.shutdown().await;
        f.log.close().await;
    }
}
