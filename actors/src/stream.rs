//! Aggregates without an actor: a webhook endpoint, a VideoSDK room. Nothing keeps their state
//! in memory; each command reads the stream, folds it, decides, and appends what it decided
//! with the version it read as the expected version. When another writer got there first the
//! append is refused and the command is decided again on what that writer wrote — so two
//! requests that race are decided one after the other, never both on the same old state.

use convene_events::{Actor, AppendError, EventFamily, EventLog, ExpectedVersion};

/// An aggregate folded from its own stream.
pub trait StreamAggregate: Sized {
    type Event: EventFamily;

    fn apply(state: &mut Option<Self>, event: &Self::Event);
}

/// Why a command could not be written, beside the aggregate's own refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The log is closed, or other writers kept getting there first.
    #[error("busy, try again")]
    Unavailable,
    #[error("{0}")]
    Unexpected(String),
}

/// How often a command is decided again after losing a race. Every lost race is another
/// writer's won one, so a command loses at most once per writer racing it: this bounds the
/// writers that may race on one stream before a command answers "busy".
const ATTEMPTS: usize = 64;

/// Reads `stream`, decides with `decide` on its state, appends the events with the version read
/// as the expected version (decides again when another writer got there first). Returns the
/// state after the command and the sequence of its last event (0 when it decided nothing).
pub async fn execute<A, E>(
    log: &EventLog,
    stream: &str,
    actor: Actor,
    decide: impl Fn(&Option<A>) -> Result<Vec<A::Event>, E>,
) -> Result<(Option<A>, u64), E>
where
    A: StreamAggregate,
    E: From<StreamError>,
{
    for _ in 0..ATTEMPTS {
        let (mut state, version) = load::<A>(log, stream)?;
        let events = decide(&state)?;
        if events.is_empty() {
            return Ok((state, 0));
        }
        let new_events = events
            .iter()
            .map(|e| e.to_new_event(actor.clone()))
            .collect();
        let expected = match version {
            0 => ExpectedVersion::NoStream,
            v => ExpectedVersion::Exact(v),
        };
        match log.append_to(stream, expected, new_events).await {
            Ok(outcome) => {
                for event in &events {
                    A::apply(&mut state, event);
                }
                return Ok((state, outcome.last_seq));
            }
            Err(AppendError::Conflict { .. }) => continue,
            Err(AppendError::Closed) => return Err(StreamError::Unavailable.into()),
            Err(err) => return Err(StreamError::Unexpected(err.to_string()).into()),
        }
    }
    Err(StreamError::Unavailable.into())
}

/// The aggregate as its stream says now, and the stream's version.
pub fn load<A: StreamAggregate>(
    log: &EventLog,
    stream: &str,
) -> Result<(Option<A>, u64), StreamError> {
    let envelopes = log
        .read_stream(stream, 1)
        .map_err(|e| StreamError::Unexpected(e.to_string()))?;
    let version = envelopes.last().map_or(0, |e| e.version);
    let mut state = None;
    for envelope in &envelopes {
        let event = A::Event::from_envelope(envelope)
            .map_err(|e| StreamError::Unexpected(e.to_string()))?;
        if let Some(event) = event {
            A::apply(&mut state, &event);
        }
    }
    Ok((state, version))
}
