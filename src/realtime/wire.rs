//! The meeting events on the wire: the one place that names each [`Announcement`] (onepizza
//! §10–§11's `joined`, `participant:left`, …, listed in docs/realtime.md) and writes its
//! payload, and that encodes it per [`WireFormat`].
//!
//! An announcement is encoded at most once per format, however many recipients it has: the
//! encoding is cached with the [`Outbound`] they all share, as [`Bytes`] that every recipient's
//! writer sends without copying (a WebSocket frame takes the bytes as they are; a long-poll
//! response still copies them into its body).

use std::sync::OnceLock;

use bytes::Bytes;
use convene_actors::{Announcement, Outbound, ParticipantChange, ParticipantSnapshot};
use serde_json::{json, Value};

use super::socketio::encode_event;
use crate::app::settings::SettingsView;
use crate::net::websocket::Utf8Bytes;

/// The formats a meeting event is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// A Socket.IO event packet in the main namespace, as an Engine.IO message packet (`42[…]`).
    SocketIo,
    /// `/ws`: `{"event", "data"}` as JSON text.
    Json,
    /// `/ws?format=msgpack`: the same object as MessagePack.
    MessagePack,
}

impl WireFormat {
    const COUNT: usize = 3;

    fn slot(self) -> usize {
        match self {
            WireFormat::SocketIo => 0,
            WireFormat::Json => 1,
            WireFormat::MessagePack => 2,
        }
    }
}

/// One encoding of an announcement: text (known to be UTF-8 from the `String` it was built
/// from, so no recipient checks it again) or binary.
#[derive(Debug, Clone)]
pub enum Encoded {
    Text(Utf8Bytes),
    Binary(Bytes),
}

/// The encodings kept with an [`Outbound`].
#[derive(Default)]
struct Encodings([OnceLock<Encoded>; WireFormat::COUNT]);

/// The announcement in `format`, encoded by the first recipient that needed it; every other
/// recipient gets the same bytes (a reference count, not a copy).
pub fn encoded(outbound: &Outbound, format: WireFormat) -> Encoded {
    outbound.encodings::<Encodings>().0[format.slot()]
        .get_or_init(|| encode(&outbound.announcement, format))
        .clone()
}

fn encode(announcement: &Announcement, format: WireFormat) -> Encoded {
    let (event, data) = (name(announcement), payload(announcement));
    match format {
        WireFormat::SocketIo => {
            Encoded::Text(format!("4{}", encode_event("/", event, &data)).into())
        }
        WireFormat::Json => {
            Encoded::Text(json!({ "event": event, "data": data }).to_string().into())
        }
        WireFormat::MessagePack => Encoded::Binary(
            rmp_serde::to_vec_named(&json!({ "event": event, "data": data }))
                .expect("a JSON value always encodes")
                .into(),
        ),
    }
}

/// The event's name on the wire.
fn name(announcement: &Announcement) -> &'static str {
    match announcement {
        Announcement::Joined { .. } => "joined",
        Announcement::ParticipantJoined(_) => "participant:joined",
        Announcement::ParticipantLeft { .. } => "participant:left",
        Announcement::Kicked { .. } => "admin:kick",
        Announcement::Muted => "admin:mute",
        Announcement::UnmuteRequested => "admin:unmute",
        Announcement::AllMuted => "meeting:all-muted",
        Announcement::ParticipantUpdated(_) => "participant:updated",
        Announcement::SettingsUpdated(_) => "meeting:settings-updated",
        Announcement::Ended { .. } => "meeting:ended",
        Announcement::Chat { .. } => "chat:message",
        Announcement::RecordingStarted { .. } => "recording:started",
        Announcement::Waiting => "waiting-room:waiting",
        Announcement::ParticipantWaiting { .. } => "waiting-room:participant-waiting",
        Announcement::Admitted => "waiting-room:admitted",
        Announcement::Denied => "waiting-room:denied",
        Announcement::Error { .. } => "error",
        Announcement::Relayed { event, .. } => event,
    }
}

/// The event's payload.
fn payload(announcement: &Announcement) -> Value {
    match announcement {
        Announcement::Joined {
            participant_id,
            others,
            settings,
            title,
            is_host,
        } => json!({
            "participantId": participant_id,
            "participants": others.iter().map(participant).collect::<Vec<_>>(),
            "settings": SettingsView::from(settings),
            "title": title,
            "isAdmin": is_host,
        }),
        Announcement::ParticipantJoined(joined) => participant(joined),
        Announcement::ParticipantLeft {
            participant_id,
            name,
        } => json!({ "participantId": participant_id, "name": name }),
        Announcement::Kicked { reason } => json!({ "reason": reason }),
        Announcement::Muted | Announcement::UnmuteRequested | Announcement::AllMuted => json!({}),
        Announcement::ParticipantUpdated(change) => participant_change(change),
        Announcement::SettingsUpdated(settings) => json!(SettingsView::from(settings)),
        Announcement::Ended { reason } => json!({ "reason": reason }),
        Announcement::Chat {
            from,
            name,
            text,
            timestamp,
        } => json!({ "from": from, "name": name, "text": text, "timestamp": timestamp }),
        Announcement::RecordingStarted { host_name } => json!({ "hostName": host_name }),
        Announcement::Waiting => json!({ "message": "Waiting for the host to let you in" }),
        Announcement::ParticipantWaiting {
            client_id,
            name,
            count,
            removed,
        } => {
            let mut data = json!({ "socketId": client_id, "name": name, "count": count });
            if *removed {
                data["removed"] = true.into();
            }
            data
        }
        Announcement::Admitted => json!({}),
        Announcement::Denied => json!({ "message": "The host declined your entry" }),
        Announcement::Error { message } => json!({ "message": message }),
        Announcement::Relayed { data, .. } => data.clone(),
    }
}

/// A participant as `joined` lists them and `participant:joined` announces them.
fn participant(snapshot: &ParticipantSnapshot) -> Value {
    json!({
        "participantId": snapshot.participant_id,
        "name": snapshot.name,
        "isMuted": snapshot.muted,
        "isVideoOff": snapshot.video_off,
        "isScreenSharing": snapshot.screen_sharing,
        "isHandRaised": snapshot.hand_raised,
        "isAdmin": snapshot.is_host,
    })
}

fn participant_change(change: &ParticipantChange) -> Value {
    let mut data = json!({ "participantId": change.participant_id });
    for (field, value) in [
        ("isMuted", change.muted),
        ("isVideoOff", change.video_off),
        ("isScreenSharing", change.screen_sharing),
        ("isHandRaised", change.hand_raised),
    ] {
        if let Some(value) = value {
            data[field] = value.into();
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broadcast_is_encoded_once_per_format_and_shared() {
        let outbound = Outbound::new(Announcement::Chat {
            from: "p1".into(),
            name: "Ada".into(),
            text: "hi".into(),
            timestamp: 7,
        });
        let text = |encoded| match encoded {
            Encoded::Text(text) => text,
            Encoded::Binary(_) => panic!("a text format"),
        };
        let first = text(encoded(&outbound, WireFormat::Json));
        let second = text(encoded(&outbound, WireFormat::Json));
        assert_eq!(
            first.as_str().as_ptr(),
            second.as_str().as_ptr(),
            "the same bytes, not a copy"
        );
        assert_eq!(
            serde_json::from_str::<Value>(first.as_str()).unwrap(),
            json!({"event": "chat:message", "data": {"from": "p1", "name": "Ada", "text": "hi", "timestamp": 7}})
        );
        let packet = text(encoded(&outbound, WireFormat::SocketIo));
        assert!(
            packet.as_str().starts_with("42[\"chat:message\","),
            "{packet:?}"
        );
    }
}
