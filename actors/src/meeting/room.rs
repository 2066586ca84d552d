//! Who is connected to a live meeting, and what each of its events tells them.
//!
//! The room lives in the meeting's actor, so what participants hear follows the order of the
//! meeting's log exactly. It is transport-neutral: a member is a bounded queue of
//! [`Delivery`]s; the realtime adapters turn them into Socket.IO packets or `/ws` frames, and
//! an [`Outbound`] caches each wire encoding, so a broadcast is encoded once per format however
//! many members receive it. A member whose queue is full is dropped from the room (its
//! connection sees its queue end) instead of letting the meeting's memory grow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use convene_events::catalog::meeting::{MeetingEvent, MeetingSettings};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

use super::aggregate::{Meeting, Participant};

/// The wire formats an [`Outbound`] caches an encoding for.
pub const WIRE_FORMATS: usize = 3;

/// One server → client event, e.g. `participant:joined` with its payload.
#[derive(Debug)]
pub struct Outbound {
    pub event: &'static str,
    pub data: Value,
    encoded: [OnceLock<Arc<[u8]>>; WIRE_FORMATS],
}

impl Outbound {
    pub fn new(event: &'static str, data: Value) -> Arc<Self> {
        Arc::new(Self {
            event,
            data,
            encoded: Default::default(),
        })
    }

    /// This event in wire format `format` (an index below [`WIRE_FORMATS`]), encoded by
    /// `encode` the first time any recipient asks.
    pub fn encoded(&self, format: usize, encode: impl FnOnce(&Self) -> Vec<u8>) -> Arc<[u8]> {
        self.encoded[format]
            .get_or_init(|| encode(self).into())
            .clone()
    }
}

#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<Outbound>),
    /// The answer to a client's request for acknowledgement (Socket.IO's ack id, `/ws`'s
    /// `ack`). It travels the same queue so that it reaches the client after what the request
    /// caused (its `joined`, its `error`).
    Ack {
        id: u64,
        data: Value,
    },
    /// The server ends this connection (kicked, meeting ended); the reason is for the log.
    Close(String),
}

/// Where the room delivers to one connection. Cloned into the room when the client joins.
#[derive(Clone, Debug)]
pub struct Mailbox {
    queue: mpsc::Sender<Delivery>,
    evicted: Arc<Eviction>,
}

/// The connection's end of its [`Mailbox`].
pub struct Inbox {
    queue: mpsc::Receiver<Delivery>,
    evicted: Arc<Eviction>,
}

#[derive(Debug, Default)]
struct Eviction {
    happened: AtomicBool,
    wake: Notify,
}

/// A mailbox holding at most `capacity` deliveries.
pub fn mailbox(capacity: usize) -> (Mailbox, Inbox) {
    let (queue, receiver) = mpsc::channel(capacity.max(1));
    let evicted = Arc::new(Eviction::default());
    (
        Mailbox {
            queue,
            evicted: evicted.clone(),
        },
        Inbox {
            queue: receiver,
            evicted,
        },
    )
}

impl Mailbox {
    /// Queues a delivery; false when the queue is full (or the connection gone).
    pub fn try_send(&self, delivery: Delivery) -> bool {
        self.queue.try_send(delivery).is_ok()
    }

    /// Tells the connection it has been dropped, even when its queue is full.
    fn evict(&self) {
        self.evicted.happened.store(true, Ordering::Release);
        self.evicted.wake.notify_one();
    }
}

impl Inbox {
    /// The next delivery; a `Close` once the room has dropped this connection; `None` when
    /// every mailbox is gone.
    pub async fn recv(&mut self) -> Option<Delivery> {
        let evicted = || {
            Some(Delivery::Close(
                "too slow: the outbound queue was full".into(),
            ))
        };
        tokio::select! {
            biased;
            delivery = self.queue.recv() => match delivery {
                None if self.evicted.happened.load(Ordering::Acquire) => evicted(),
                other => other,
            },
            _ = self.evicted.wake.notified() => evicted(),
        }
    }

    /// The next delivery if one is waiting.
    pub fn try_recv(&mut self) -> Option<Delivery> {
        self.queue.try_recv().ok()
    }
}

/// Who an announcement is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    EveryoneBut(String),
    Only(String),
}

#[derive(Default)]
pub struct Room {
    members: HashMap<String, Mailbox>,
}

impl Room {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, participant_id: &str) -> bool {
        self.members.contains_key(participant_id)
    }

    pub fn add(&mut self, participant_id: String, mailbox: Mailbox) {
        self.members.insert(participant_id, mailbox);
    }

    pub fn remove(&mut self, participant_id: &str) {
        self.members.remove(participant_id);
    }

    /// Delivers to `audience`; returns the members dropped because their queue was full or
    /// their connection gone.
    pub fn deliver(&mut self, audience: &Audience, delivery: Delivery) -> Vec<String> {
        let mut dropped = Vec::new();
        for (id, mailbox) in &self.members {
            let wanted = match audience {
                Audience::Everyone => true,
                Audience::EveryoneBut(except) => id != except,
                Audience::Only(only) => id == only,
            };
            if wanted && !mailbox.try_send(delivery.clone()) {
                dropped.push(id.clone());
            }
        }
        for id in &dropped {
            if let Some(mailbox) = self.members.remove(id) {
                mailbox.evict();
            }
        }
        dropped
    }

    /// Tells `participant_id` its connection ends, and forgets it.
    pub fn close(&mut self, participant_id: &str, reason: &str) {
        if let Some(mailbox) = self.members.remove(participant_id) {
            if !mailbox.try_send(Delivery::Close(reason.to_owned())) {
                mailbox.evict();
            }
        }
    }

    pub fn close_all(&mut self, reason: &str) {
        for (_, mailbox) in self.members.drain() {
            if !mailbox.try_send(Delivery::Close(reason.to_owned())) {
                mailbox.evict();
            }
        }
    }
}

/// A room dropped with members in it belongs to an actor that failed (or a server that is
/// stopping): its members are cut off, so each connection ends, its session logs the leave
/// through the next actor, and the client can join again, rather than sit in a room that no
/// longer exists and hear nothing.
impl Drop for Room {
    fn drop(&mut self) {
        self.close_all("meeting unavailable");
    }
}

/// onepizza §10's `meeting:settings-updated` and the settings of `joined`.
pub fn settings_json(settings: &MeetingSettings) -> Value {
    json!({
        "muteOnJoin": settings.mute_on_join,
        "videoOffOnJoin": settings.video_off_on_join,
        "maxParticipants": settings.max_participants,
        "locked": settings.locked,
        "waitingRoom": settings.waiting_room,
    })
}

/// A participant as `joined` lists them and `participant:joined` announces them.
pub fn participant_json(participant_id: &str, participant: &Participant) -> Value {
    json!({
        "participantId": participant_id,
        "name": participant.name,
        "isMuted": participant.muted,
        "isVideoOff": participant.video_off,
        "isScreenSharing": participant.screen_sharing,
        "isHandRaised": participant.hand_raised,
        "isAdmin": participant.is_host,
    })
}

/// What `event` tells whom. `after` is the meeting with the event applied; `departed` the
/// name of the participant the event removed, if it removed one; `at` is when the log
/// accepted it.
pub fn announcements(
    event: &MeetingEvent,
    after: &Meeting,
    departed: Option<&str>,
    at: i64,
) -> Vec<(Audience, Arc<Outbound>)> {
    let name_before = |_: &str| departed.unwrap_or_default().to_owned();
    let one = |audience, event, data| vec![(audience, Outbound::new(event, data))];
    match event {
        MeetingEvent::ParticipantJoined(joined) => {
            let id = &joined.participant_id;
            let Some(participant) = after.participants.get(id) else {
                return vec![];
            };
            let others: Vec<Value> = after
                .participants
                .iter()
                .filter(|(other, _)| *other != id)
                .map(|(other, p)| participant_json(other, p))
                .collect();
            vec![
                (
                    Audience::Only(id.clone()),
                    Outbound::new(
                        "joined",
                        json!({
                            "participantId": id,
                            "participants": others,
                            "settings": settings_json(&after.settings),
                            "title": after.title,
                            "isAdmin": participant.is_host,
                        }),
                    ),
                ),
                (
                    Audience::EveryoneBut(id.clone()),
                    Outbound::new("participant:joined", participant_json(id, participant)),
                ),
            ]
        }
        MeetingEvent::ParticipantLeft(left) => one(
            Audience::EveryoneBut(left.participant_id.clone()),
            "participant:left",
            json!({ "participantId": left.participant_id, "name": name_before(&left.participant_id) }),
        ),
        MeetingEvent::ParticipantKicked(kicked) => vec![
            (
                Audience::Only(kicked.participant_id.clone()),
                Outbound::new(
                    "admin:kick",
                    json!({ "reason": kicked.reason.clone().unwrap_or_default() }),
                ),
            ),
            (
                Audience::EveryoneBut(kicked.participant_id.clone()),
                Outbound::new(
                    "participant:left",
                    json!({
                        "participantId": kicked.participant_id,
                        "name": name_before(&kicked.participant_id),
                    }),
                ),
            ),
        ],
        MeetingEvent::ParticipantMuted(muted) => vec![
            (
                Audience::Only(muted.participant_id.clone()),
                Outbound::new("admin:mute", json!({})),
            ),
            (
                Audience::Everyone,
                Outbound::new(
                    "participant:updated",
                    json!({ "participantId": muted.participant_id, "isMuted": true }),
                ),
            ),
        ],
        MeetingEvent::UnmuteRequested(asked) => one(
            Audience::Only(asked.participant_id.clone()),
            "admin:unmute",
            json!({}),
        ),
        MeetingEvent::AllMuted(_) => one(Audience::Everyone, "meeting:all-muted", json!({})),
        MeetingEvent::SettingsChanged(_) => one(
            Audience::Everyone,
            "meeting:settings-updated",
            settings_json(&after.settings),
        ),
        MeetingEvent::Ended(ended) => one(
            Audience::Everyone,
            "meeting:ended",
            json!({ "reason": ended.reason.as_str() }),
        ),
        MeetingEvent::MediaChanged(change) => {
            let mut data = json!({ "participantId": change.participant_id });
            if let Some(muted) = change.muted {
                data["isMuted"] = muted.into();
            }
            if let Some(off) = change.video_off {
                data["isVideoOff"] = off.into();
            }
            if let Some(sharing) = change.screen_sharing {
                data["isScreenSharing"] = sharing.into();
            }
            one(Audience::Everyone, "participant:updated", data)
        }
        MeetingEvent::HandChanged(hand) => one(
            Audience::Everyone,
            "participant:updated",
            json!({ "participantId": hand.participant_id, "isHandRaised": hand.raised }),
        ),
        MeetingEvent::ChatMessageSent(chat) => one(
            Audience::Everyone,
            "chat:message",
            json!({
                "from": chat.participant_id,
                "name": chat.name,
                "text": chat.text,
                "timestamp": at,
            }),
        ),
        MeetingEvent::RecordingAnnounced(notice) => one(
            Audience::Everyone,
            "recording:started",
            json!({ "hostName": notice.host_name }),
        ),
        // The waiting room tells its own (the client is not in the room); counts are for
        // analytics only.
        MeetingEvent::Created(_)
        | MeetingEvent::Activated(_)
        | MeetingEvent::InviteIssued(_)
        | MeetingEvent::WaitingRoomDecided(_)
        | MeetingEvent::ReactionsCounted(_) => vec![],
    }
}
