//! Who is connected to a live meeting, and what each of its events tells them.
//!
//! The room lives in the meeting's actor, so what participants hear follows the order of the
//! meeting's log exactly. It is transport-neutral: the meeting decides what is said and to
//! whom, as a typed [`Announcement`]; the realtime layer alone names and encodes it
//! (`src/realtime/wire.rs`), and keeps its encodings with the [`Outbound`] every recipient
//! shares, so a broadcast is encoded once per wire format however many members receive it. A
//! member is a bounded queue of [`Delivery`]s; a member whose queue is full is dropped from the
//! room (its connection sees its queue end) instead of letting the meeting's memory grow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use convene_events::catalog::meeting::{MeetingEvent, MeetingSettings};
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

use super::aggregate::{Meeting, Participant};

/// A participant as the room describes them to the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantSnapshot {
    pub participant_id: String,
    pub name: String,
    pub muted: bool,
    pub video_off: bool,
    pub screen_sharing: bool,
    pub hand_raised: bool,
    pub is_host: bool,
}

impl ParticipantSnapshot {
    pub fn of(participant_id: &str, participant: &Participant) -> Self {
        Self {
            participant_id: participant_id.to_owned(),
            name: participant.name.clone(),
            muted: participant.muted,
            video_off: participant.video_off,
            screen_sharing: participant.screen_sharing,
            hand_raised: participant.hand_raised,
            is_host: participant.is_host,
        }
    }
}

/// Some of a participant's state changed; only the fields present did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipantChange {
    pub participant_id: String,
    pub muted: Option<bool>,
    pub video_off: Option<bool>,
    pub screen_sharing: Option<bool>,
    pub hand_raised: Option<bool>,
}

/// What a meeting tells its members. The realtime layer names and encodes each (onepizza
/// §10–§11's events, `src/realtime/wire.rs`); the meeting only decides what is said to whom.
#[derive(Debug, Clone, PartialEq)]
pub enum Announcement {
    /// To a participant who just joined: who else is here, the settings, the title.
    Joined {
        participant_id: String,
        others: Vec<ParticipantSnapshot>,
        settings: MeetingSettings,
        title: String,
        is_host: bool,
    },
    ParticipantJoined(ParticipantSnapshot),
    ParticipantLeft {
        participant_id: String,
        name: String,
    },
    /// To the participant a host removed.
    Kicked {
        reason: String,
    },
    /// To the participant a host muted.
    Muted,
    /// To the participant a host asked to unmute.
    UnmuteRequested,
    AllMuted,
    ParticipantUpdated(ParticipantChange),
    SettingsUpdated(MeetingSettings),
    Ended {
        reason: &'static str,
    },
    Chat {
        from: String,
        name: String,
        text: String,
        timestamp: i64,
    },
    RecordingStarted {
        host_name: String,
    },
    /// To a client the waiting room holds.
    Waiting,
    /// To the hosts: someone waits (`count`: the queue's length with them), or left the queue.
    ParticipantWaiting {
        client_id: String,
        name: String,
        count: usize,
        removed: bool,
    },
    /// To a waiting client a host let in.
    Admitted,
    /// To a waiting client a host turned away.
    Denied,
    /// A refusal of what the client asked.
    Error {
        message: String,
    },
    /// A client's message passed on as it came (signaling, reactions), named by the realtime
    /// layer that received it.
    Relayed {
        event: &'static str,
        data: Value,
    },
}

/// One announcement on its way to its recipients, with the encodings the realtime layer made
/// of it: every recipient holds the same `Arc`, so a broadcast is encoded once per format.
#[derive(Debug)]
pub struct Outbound {
    pub announcement: Announcement,
    encodings: OnceLock<Box<dyn std::any::Any + Send + Sync>>,
}

impl Outbound {
    pub fn new(announcement: Announcement) -> Arc<Self> {
        Arc::new(Self {
            announcement,
            encodings: OnceLock::new(),
        })
    }

    /// The cache of encodings the realtime layer keeps with this announcement (its own type,
    /// `C`, made on first use; one process uses one such type).
    pub fn encodings<C: Default + Send + Sync + 'static>(&self) -> &C {
        self.encodings
            .get_or_init(|| Box::new(C::default()))
            .downcast_ref::<C>()
            .expect("one encodings type per process")
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

/// What `event` tells whom. `after` is the meeting with the event applied; `departed` the
/// name of the participant the event removed, if it removed one; `at` is when the log
/// accepted it.
pub fn announcements(
    event: &MeetingEvent,
    after: &Meeting,
    departed: Option<&str>,
    at: i64,
) -> Vec<(Audience, Arc<Outbound>)> {
    let name_before = || departed.unwrap_or_default().to_owned();
    let one = |audience, announcement| vec![(audience, Outbound::new(announcement))];
    let change_of = |participant_id: &str| ParticipantChange {
        participant_id: participant_id.to_owned(),
        ..ParticipantChange::default()
    };
    match event {
        MeetingEvent::ParticipantJoined(joined) => {
            let id = &joined.participant_id;
            let Some(participant) = after.participants.get(id) else {
                return vec![];
            };
            let others = after
                .participants
                .iter()
                .filter(|(other, _)| *other != id)
                .map(|(other, p)| ParticipantSnapshot::of(other, p))
                .collect();
            vec![
                (
                    Audience::Only(id.clone()),
                    Outbound::new(Announcement::Joined {
                        participant_id: id.clone(),
                        others,
                        settings: after.settings.clone(),
                        title: after.title.clone(),
                        is_host: participant.is_host,
                    }),
                ),
                (
                    Audience::EveryoneBut(id.clone()),
                    Outbound::new(Announcement::ParticipantJoined(ParticipantSnapshot::of(
                        id,
                        participant,
                    ))),
                ),
            ]
        }
        MeetingEvent::ParticipantLeft(left) => one(
            Audience::EveryoneBut(left.participant_id.clone()),
            Announcement::ParticipantLeft {
                participant_id: left.participant_id.clone(),
                name: name_before(),
            },
        ),
        MeetingEvent::ParticipantKicked(kicked) => vec![
            (
                Audience::Only(kicked.participant_id.clone()),
                Outbound::new(Announcement::Kicked {
                    reason: kicked.reason.clone().unwrap_or_default(),
                }),
            ),
            (
                Audience::EveryoneBut(kicked.participant_id.clone()),
                Outbound::new(Announcement::ParticipantLeft {
                    participant_id: kicked.participant_id.clone(),
                    name: name_before(),
                }),
            ),
        ],
        MeetingEvent::ParticipantMuted(muted) => vec![
            (
                Audience::Only(muted.participant_id.clone()),
                Outbound::new(Announcement::Muted),
            ),
            (
                Audience::Everyone,
                Outbound::new(Announcement::ParticipantUpdated(ParticipantChange {
                    muted: Some(true),
                    ..change_of(&muted.participant_id)
                })),
            ),
        ],
        MeetingEvent::UnmuteRequested(asked) => one(
            Audience::Only(asked.participant_id.clone()),
            Announcement::UnmuteRequested,
        ),
        MeetingEvent::AllMuted(_) => one(Audience::Everyone, Announcement::AllMuted),
        MeetingEvent::SettingsChanged(_) => one(
            Audience::Everyone,
            Announcement::SettingsUpdated(after.settings.clone()),
        ),
        MeetingEvent::Ended(ended) => one(
            Audience::Everyone,
            Announcement::Ended {
                reason: ended.reason.as_str(),
            },
        ),
        MeetingEvent::MediaChanged(change) => one(
            Audience::Everyone,
            Announcement::ParticipantUpdated(ParticipantChange {
                muted: change.muted,
                video_off: change.video_off,
                screen_sharing: change.screen_sharing,
                ..change_of(&change.participant_id)
            }),
        ),
        MeetingEvent::HandChanged(hand) => one(
            Audience::Everyone,
            Announcement::ParticipantUpdated(ParticipantChange {
                hand_raised: Some(hand.raised),
                ..change_of(&hand.participant_id)
            }),
        ),
        MeetingEvent::ChatMessageSent(chat) => one(
            Audience::Everyone,
            Announcement::Chat {
                from: chat.participant_id.clone(),
                name: chat.name.clone(),
                text: chat.text.clone(),
                timestamp: at,
            },
        ),
        MeetingEvent::RecordingAnnounced(notice) => one(
            Audience::Everyone,
            Announcement::RecordingStarted {
                host_name: notice.host_name.clone(),
            },
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
