//! A VideoSDK room's webhook: the room's sessions only, under VideoSDK's event names, in
//! VideoSDK's payload shape `{webhookType, data: {meetingId, sessionId, …}}` (`meetingId` is the
//! roomId, as VideoSDK calls rooms meetings). Signed like every delivery, with the secret of the
//! credential that created the room.

use std::time::Duration;

use convene_events::Envelope;
use convene_projections::Projections;
use serde_json::{json, Value};

/// The VideoSDK event a logged meeting event is delivered as, if any.
pub fn event_name(kind: &str) -> Option<&'static str> {
    match kind {
        "meeting.activated" => Some("session-started"),
        "meeting.ended" => Some("session-ended"),
        "meeting.participant_joined" => Some("participant-joined"),
        "meeting.participant_left" | "meeting.participant_kicked" => Some("participant-left"),
        _ => None,
    }
}

/// Whether `envelope` is an event of one of `room_id`'s sessions that the endpoint subscribed
/// to, and under which name.
pub async fn subscribed(
    projections: &Projections,
    room_id: &str,
    events: &[String],
    envelope: &Envelope,
) -> Option<&'static str> {
    let name = event_name(&envelope.kind).filter(|name| events.iter().any(|e| e == name))?;
    let meeting_id = envelope.stream.strip_prefix("meeting/")?;
    // The session row exists once the read model has folded the meeting's creation.
    let _ = projections
        .wait_for(envelope.seq, Duration::from_secs(5))
        .await;
    let session = projections.videosdk().session(meeting_id).ok()??;
    (session.room_id == room_id).then_some(name)
}

/// The delivery's body.
pub fn body(projections: &Projections, room_id: &str, envelope: &Envelope, name: &str) -> Value {
    let meeting_id = envelope.stream.trim_start_matches("meeting/");
    let session = projections.videosdk().session(meeting_id).ok().flatten();
    let at = crate::domain::format_iso_millis(envelope.at);
    let mut data = json!({
        "meetingId": room_id,
        "sessionId": meeting_id,
    });
    match name {
        "session-started" => data["start"] = at.into(),
        "session-ended" => {
            data["start"] = session
                .as_ref()
                .map(|s| crate::domain::format_iso_millis(s.start))
                .into();
            data["end"] = at.into();
        }
        _ => {
            let payload: Value = rmp_serde::from_slice(&envelope.payload).unwrap_or(Value::Null);
            let participant_id = payload["participant_id"].as_str().unwrap_or_default();
            let name = session.as_ref().and_then(|s| {
                s.participants
                    .iter()
                    .find(|p| p.participant_id == participant_id)
                    .map(|p| p.name.clone())
            });
            data["participantId"] = participant_id.into();
            data["participantName"] = name.into();
            data["timestamp"] = at.into();
        }
    }
    json!({ "webhookType": name, "data": data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_events_map_to_videosdk_names() {
        assert_eq!(event_name("meeting.activated"), Some("session-started"));
        assert_eq!(
            event_name("meeting.participant_kicked"),
            Some("participant-left")
        );
        assert_eq!(event_name("meeting.chat_message"), None);
    }
}
