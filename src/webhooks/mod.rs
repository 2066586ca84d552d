//! Webhooks (onepizza §9): endpoints a workspace registers, signed per Standard Webhooks, and
//! the delivery engine that posts the workspace's meeting events to them in log order.
//!
//! - [`signing`]: secrets and `webhook-signature`.
//! - [`target`]: which URLs an endpoint may have (no private networks unless allowed).
//! - [`dispatcher`]: [`dispatcher::WebhookDispatcher`], the engine: one task per endpoint,
//!   cursor and attempts in sled.
//!
//! An endpoint is an aggregate of its own (`webhook/<id>`: created, secret rotated, disabled,
//! deleted); its read model is `convene_projections::Webhooks`.

pub mod dispatcher;
pub mod signing;
pub mod target;
pub mod videosdk;

/// The events an endpoint can subscribe to, and the log kinds they stand for.
pub const EVENTS: [(&str, &[&str]); 6] = [
    ("meeting.created", &["meeting.created"]),
    ("meeting.started", &["meeting.activated"]),
    ("meeting.ended", &["meeting.ended"]),
    ("participant.joined", &["meeting.participant_joined"]),
    (
        "participant.left",
        &["meeting.participant_left", "meeting.participant_kicked"],
    ),
    // Opt-in: only sent to endpoints that name it.
    ("chat.message", &["meeting.chat_message"]),
];

/// The webhook event a logged event kind is delivered as, if any.
pub fn event_name(kind: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .find(|(_, kinds)| kinds.contains(&kind))
        .map(|(name, _)| *name)
}

/// Checks a subscription list: known names, at least one, no repeats (order kept).
pub fn parse_events(requested: &[String]) -> Result<Vec<String>, String> {
    if requested.is_empty() {
        return Err("events must name at least one event".into());
    }
    let mut events: Vec<String> = Vec::new();
    for name in requested {
        if !EVENTS.iter().any(|(known, _)| known == name) {
            let known: Vec<&str> = EVENTS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "events: unknown event {name:?}; known: {}",
                known.join(", ")
            ));
        }
        if !events.contains(name) {
            events.push(name.clone());
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_kinds_map_to_webhook_events() {
        assert_eq!(event_name("meeting.activated"), Some("meeting.started"));
        assert_eq!(
            event_name("meeting.participant_kicked"),
            Some("participant.left")
        );
        assert_eq!(event_name("meeting.settings_changed"), None);
        assert_eq!(
            parse_events(&["meeting.ended".into(), "meeting.ended".into()]).unwrap(),
            ["meeting.ended"]
        );
        assert!(parse_events(&[]).is_err());
        assert!(parse_events(&["meeting.exploded".into()])
            .unwrap_err()
            .contains("unknown event"));
    }
}
