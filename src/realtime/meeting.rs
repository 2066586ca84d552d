//! One client's presence in a meeting, whatever wire it speaks (DESIGN §6): the events of
//! onepizza §10 and the host actions, turned into commands for the meeting's actor or relays
//! through its room. The Socket.IO and `/ws` adapters only decode frames into
//! `(event, data)` and encode what the room delivers.
//!
//! Durable things (joins, leaves, chat, media state, hands, host actions) are commands the
//! actor decides and logs; signaling and reactions are relayed, not logged (DESIGN §2).

use std::num::NonZeroU32;

use convene_actors::{
    Announcement, Audience, Delivery, HostAction, Mailbox, MeetingCommand, Outbound,
    ParticipantAction, WaitingRule,
};
use convene_events::catalog::meeting::SettingsChanged;
use convene_events::{Actor, MeetingId, Workspace};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::settings::SettingsPatch;
use crate::app::AppError;
use crate::app::AppState;

/// Where a client stands once it has joined.
struct Presence {
    meeting_id: MeetingId,
    participant_id: String,
    name: String,
    workspace: Workspace,
    /// The admin token it joined with, for host actions.
    admin_token: Option<String>,
}

pub struct ParticipantConnection {
    state: AppState,
    /// Names this client in a waiting room (the Socket.IO socket id).
    client_id: String,
    mailbox: Mailbox,
    presence: Option<Presence>,
    /// The meeting whose waiting room this client is in.
    waiting_in: Option<MeetingId>,
    rate: DefaultDirectRateLimiter,
}

/// A refusal, sent to the client as `error {message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

pub type Handled = Result<(), Refused>;

fn refuse(message: impl Into<String>) -> Refused {
    Refused(message.into())
}

impl From<convene_actors::MeetingError> for Refused {
    fn from(err: convene_actors::MeetingError) -> Self {
        Refused(AppError::from(err).message())
    }
}

/// Reads an event's payload, naming the field that is wrong.
fn payload<T: for<'de> Deserialize<'de>>(event: &str, data: Value) -> Result<T, Refused> {
    serde_json::from_value(data).map_err(|e| refuse(format!("invalid {event} payload: {e}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinMeeting {
    meeting_id: String,
    name: String,
    #[serde(default)]
    is_admin: bool,
    admin_token: Option<String>,
    /// Convene's name for the token of an invite link (`?invite=`); `invite` is accepted too.
    #[serde(alias = "invite")]
    invite_token: Option<String>,
    /// A VideoSDK token: `meetingId` is then the roomId or customRoomId
    /// (`crate::app::videosdk::join`).
    token: Option<String>,
    /// With a VideoSDK token: the participant id to join as.
    participant_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WaiterDecision {
    meeting_id: Option<String>,
    socket_id: String,
}

#[derive(Deserialize)]
struct Signal {
    to: String,
    #[serde(flatten)]
    body: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    participant_id: String,
    reason: Option<String>,
}

impl ParticipantConnection {
    /// `mailbox` is where this client's deliveries go: the room's announcements once joined,
    /// and this session's own errors.
    pub fn new(state: AppState, client_id: String, mailbox: Mailbox) -> Self {
        let config = &state.config.realtime;
        let per_second = NonZeroU32::new(config.events_per_second.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(config.event_burst.max(1)).expect("at least 1");
        let rate = RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst));
        Self {
            state,
            client_id,
            mailbox,
            presence: None,
            waiting_in: None,
            rate,
        }
    }

    pub fn participant_id(&self) -> Option<&str> {
        self.presence.as_ref().map(|p| p.participant_id.as_str())
    }

    /// Handles one client event. A refusal is also delivered to the client as `error`.
    pub async fn handle(&mut self, event: &str, data: Value) -> Handled {
        let result = if self.rate.check().is_err() {
            Err(refuse(format!(
                "too many events: the limit is {} per second",
                self.state.config.realtime.events_per_second
            )))
        } else {
            self.dispatch(event, data).await
        };
        if let Err(Refused(message)) = &result {
            let error = Outbound::new(Announcement::Error {
                message: message.clone(),
            });
            let _ = self.mailbox.try_send(Delivery::Event(error));
        }
        result
    }

    /// Answers a client's request for acknowledgement of the event it just had handled: after
    /// what that event caused, in the same queue (`{"ok": true}` or `{"ok": false, "error"}`).
    pub fn acknowledge(&self, id: u64, result: &Handled) {
        let data = match result {
            Ok(()) => json!({ "ok": true }),
            Err(Refused(message)) => json!({ "ok": false, "error": message }),
        };
        let _ = self.mailbox.try_send(Delivery::Ack { id, data });
    }

    /// The connection ended: leave the meeting (logged as a disconnect).
    pub async fn end(&mut self) {
        if let Some(meeting_id) = self.waiting_in.take() {
            self.state
                .registry
                .stop_waiting(&meeting_id, &self.client_id);
        }
        if let Some(presence) = self.presence.take() {
            self.state
                .registry
                .disconnect(&presence.meeting_id, &presence.participant_id)
                .await;
        }
    }

    async fn dispatch(&mut self, event: &str, data: Value) -> Handled {
        match event {
            "join-meeting" | "waiting-room:join" => return self.join(payload(event, data)?).await,
            "waiting-room:admit" | "waiting-room:deny" => {
                let decision: WaiterDecision = payload(event, data)?;
                return self
                    .decide_waiter(decision, event == "waiting-room:admit")
                    .await;
            }
            _ => {}
        }
        let Some(presence) = &self.presence else {
            return Err(refuse(format!("{event}: join a meeting first")));
        };
        let flag = |name: &str| -> Result<bool, Refused> {
            data.get(name)
                .and_then(Value::as_bool)
                .ok_or_else(|| refuse(format!("{event}: {name} must be a boolean")))
        };
        match event {
            "signal:offer" => self.signal("offer", payload(event, data)?),
            "signal:answer" => self.signal("answer", payload(event, data)?),
            "signal:ice-candidate" => self.signal("candidate", payload(event, data)?),
            "react" => self.react(&data),
            "media:toggle-audio" => {
                self.act(ParticipantAction::SetMuted(flag("isMuted")?))
                    .await
            }
            "media:toggle-video" => {
                self.act(ParticipantAction::SetVideoOff(flag("isVideoOff")?))
                    .await
            }
            "media:screen-share" => {
                self.act(ParticipantAction::SetScreenSharing(flag(
                    "isScreenSharing",
                )?))
                .await
            }
            "raise-hand" => {
                self.act(ParticipantAction::RaiseHand(flag("isHandRaised")?))
                    .await
            }
            "chat:message" => {
                let text = self.chat_text(&data)?;
                self.act(ParticipantAction::Chat(text)).await
            }
            "recording:broadcast-started" => {
                let host_name = data
                    .get("hostName")
                    .and_then(Value::as_str)
                    .map_or_else(|| presence.name.clone(), str::to_owned);
                self.act(ParticipantAction::AnnounceRecording { host_name })
                    .await
            }
            "leave-meeting" => {
                self.end().await;
                Ok(())
            }
            "host:mute" => {
                let target: Target = payload(event, data)?;
                self.host(HostAction::Mute {
                    participant_id: target.participant_id,
                })
                .await
            }
            "host:unmute" => {
                let target: Target = payload(event, data)?;
                self.host(HostAction::RequestUnmute {
                    participant_id: target.participant_id,
                })
                .await
            }
            "host:kick" => {
                let target: Target = payload(event, data)?;
                self.host(HostAction::Kick {
                    participant_id: target.participant_id,
                    reason: target.reason,
                })
                .await
            }
            "host:mute-all" => self.host(HostAction::MuteAll).await,
            "host:lock" | "host:unlock" => {
                let change = SettingsChanged {
                    locked: Some(event == "host:lock"),
                    ..SettingsChanged::default()
                };
                self.host(HostAction::UpdateSettings(change)).await
            }
            "host:settings" => {
                let change = self.settings_change(data)?;
                self.host(HostAction::UpdateSettings(change)).await
            }
            "host:end" => self.host(HostAction::End).await,
            other => Err(refuse(format!("unknown event {other}"))),
        }
    }

    async fn join(&mut self, request: JoinMeeting) -> Handled {
        if self.presence.is_some() {
            return Err(refuse("already in a meeting: leave it first"));
        }
        let name = self.display_name(&request.name)?;
        let (meeting_id, host_token, participant_id, waiting) = match &request.token {
            Some(token) => {
                let join = crate::app::videosdk::join::admit(
                    &self.state,
                    token,
                    &request.meeting_id,
                    request.participant_id.as_deref(),
                )
                .await
                .map_err(|err| refuse(err.message()))?;
                (
                    join.meeting_id,
                    join.host_token,
                    join.participant_id,
                    join.waiting,
                )
            }
            None => {
                let meeting_id = MeetingId::parse(&request.meeting_id)
                    .map_err(|_| refuse("meeting not found"))?;
                let host_token = match (request.is_admin, request.admin_token) {
                    (true, Some(token)) => Some(token),
                    (true, None) => return Err(refuse("adminToken is required to join as host")),
                    (false, _) => None,
                };
                let participant_id =
                    crate::domain::SecretToken::generate().expose()[..12].to_owned();
                (meeting_id, host_token, participant_id, WaitingRule::AsSet)
            }
        };
        // One meeting at a time, waiting rooms included: a client queued in another meeting
        // leaves that queue (its hosts are told) before it asks to join here. Asking again
        // where it waits keeps its place (and its admission, once a host has given it).
        if let Some(queued_in) = self
            .waiting_in
            .take_if(|queued_in| *queued_in != meeting_id)
        {
            self.state
                .registry
                .stop_waiting(&queued_in, &self.client_id);
        }
        let command = MeetingCommand::Join {
            participant_id: participant_id.clone(),
            name: name.clone(),
            invite_token: request.invite_token,
            host_token: host_token.clone(),
            waiting,
        };
        let actor = Actor::Participant {
            meeting_id: meeting_id.to_string(),
            participant_id: participant_id.clone(),
        };
        let connected = self
            .state
            .registry
            .connect(
                &meeting_id,
                &self.client_id,
                command,
                actor,
                self.mailbox.clone(),
            )
            .await;
        let outcome = match connected {
            Ok(outcome) => outcome,
            // Queued: the room has told the client `waiting-room:waiting`.
            Err(convene_actors::MeetingError::InWaitingRoom) => {
                self.waiting_in = Some(meeting_id);
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        };
        self.waiting_in = None;
        tracing::info!(meeting_id = %meeting_id, participant_id, host = host_token.is_some(), "participant joined");
        self.presence = Some(Presence {
            meeting_id,
            participant_id,
            name,
            workspace: outcome.meeting.workspace,
            admin_token: host_token,
        });
        Ok(())
    }

    async fn decide_waiter(&self, decision: WaiterDecision, admit: bool) -> Handled {
        let presence = self.presence()?;
        if decision
            .meeting_id
            .as_deref()
            .is_some_and(|id| id != presence.meeting_id.as_str())
        {
            return Err(refuse("meetingId is not the meeting you are in"));
        }
        self.state
            .registry
            .admit(
                &presence.meeting_id,
                &presence.participant_id,
                &decision.socket_id,
                admit,
            )
            .await?;
        Ok(())
    }

    fn display_name(&self, raw: &str) -> Result<String, Refused> {
        let max = self.state.config.realtime.name_max_chars;
        let name = raw.trim();
        if name.is_empty() {
            return Err(refuse("name is required"));
        }
        if raw.chars().count() > max || name.chars().any(char::is_control) {
            return Err(refuse(format!(
                "name must be at most {max} characters, without control characters"
            )));
        }
        Ok(name.to_owned())
    }

    fn chat_text(&self, data: &Value) -> Result<String, Refused> {
        let max = self.state.config.realtime.chat_max_chars;
        let text = data
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("chat:message: text must be a string"))?;
        if text.trim().is_empty() {
            return Err(refuse("chat:message: text is empty"));
        }
        if text.chars().count() > max {
            return Err(refuse(format!(
                "chat:message: text must be at most {max} characters"
            )));
        }
        Ok(text.to_owned())
    }

    fn presence(&self) -> Result<&Presence, Refused> {
        self.presence
            .as_ref()
            .ok_or_else(|| refuse("join a meeting first"))
    }

    /// `signal:*`: to one participant of the same meeting, with `from` set here.
    fn signal(&self, field: &str, signal: Signal) -> Handled {
        let presence = self.presence()?;
        let Some(body) = signal.body.get(field) else {
            return Err(refuse(format!("signal: {field} is required")));
        };
        let event = match field {
            "offer" => "signal:offer",
            "answer" => "signal:answer",
            _ => "signal:ice-candidate",
        };
        let outbound = Outbound::new(Announcement::Relayed {
            event,
            data: json!({ "from": presence.participant_id, field: body }),
        });
        self.state.registry.relay(
            &presence.meeting_id,
            &presence.participant_id,
            Audience::Only(signal.to),
            outbound,
        );
        Ok(())
    }

    fn react(&self, data: &Value) -> Handled {
        let presence = self.presence()?;
        let emoji = data
            .get("emoji")
            .and_then(Value::as_str)
            .filter(|e| {
                !e.is_empty() && e.chars().count() <= self.state.config.realtime.emoji_max_chars
            })
            .ok_or_else(|| {
                refuse(format!(
                    "react: emoji must be 1 to {} characters",
                    self.state.config.realtime.emoji_max_chars
                ))
            })?;
        let outbound = Outbound::new(Announcement::Relayed {
            event: "react",
            data: json!({ "participantId": presence.participant_id, "emoji": emoji }),
        });
        self.state
            .registry
            .react(&presence.meeting_id, &presence.participant_id, outbound);
        Ok(())
    }

    async fn act(&self, action: ParticipantAction) -> Handled {
        let presence = self.presence()?;
        let command = MeetingCommand::Participant {
            participant_id: presence.participant_id.clone(),
            action,
        };
        let actor = Actor::Participant {
            meeting_id: presence.meeting_id.to_string(),
            participant_id: presence.participant_id.clone(),
        };
        self.state
            .registry
            .execute(&presence.meeting_id, command, actor)
            .await?;
        Ok(())
    }

    /// A host action, with the admin token the host joined with.
    async fn host(&self, action: HostAction) -> Handled {
        let presence = self.presence()?;
        let Some(token) = &presence.admin_token else {
            return Err(refuse("only the host can do that"));
        };
        let command = MeetingCommand::host(presence.workspace, token.clone(), action);
        let actor = Actor::MeetingHost {
            meeting_id: presence.meeting_id.to_string(),
        };
        self.state
            .registry
            .execute(&presence.meeting_id, command, actor)
            .await?;
        Ok(())
    }

    fn settings_change(&self, data: Value) -> Result<SettingsChanged, Refused> {
        let patch: SettingsPatch = payload("host:settings", data)?;
        patch
            .parse(&self.state.config.limits)
            .map_err(|err| refuse(err.message()))
    }
}
