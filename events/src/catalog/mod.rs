//! Every domain event Convene logs, one module per aggregate.
//!
//! Each event is a plain struct implementing [`DomainEvent`](crate::DomainEvent); each aggregate
//! gathers its events into a family enum (made by [`event_family!`]) that knows how to encode and
//! decode every member. Field names are part of the log's format: rename nothing, add fields
//! with `#[serde(default)]`, and bump `SCHEMA` (with an upcaster) for anything else.

pub mod account;
pub mod company;
pub mod ledger;
pub mod meeting;
pub mod meeting_end;
pub mod session;
pub mod telemetry;
pub mod videosdk;
pub mod webhook;

/// Declares an enum over a set of [`DomainEvent`](crate::DomainEvent) structs with `kind`,
/// `to_new_event` and `from_envelope`.
macro_rules! event_family {
    ($(#[$meta:meta])* $family:ident { $($variant:ident($event:ty)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(untagged)]
        pub enum $family { $($variant($event)),+ }

        impl $family {
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant(_) => <$event as $crate::DomainEvent>::KIND),+ }
            }

            pub fn to_new_event(&self, actor: $crate::Actor) -> $crate::NewEvent {
                use $crate::DomainEvent;
                match self { $(Self::$variant(event) => event.to_new_event(actor)),+ }
            }

            /// `Ok(None)` for a kind outside this family.
            pub fn from_envelope(
                envelope: &$crate::Envelope,
            ) -> Result<Option<Self>, $crate::CodecError> {
                use $crate::DomainEvent;
                $(
                    if envelope.kind == <$event>::KIND {
                        return <$event>::from_envelope(envelope).map(|e| Some(Self::$variant(e)));
                    }
                )+
                Ok(None)
            }
        }

        impl $crate::EventFamily for $family {
            fn from_envelope(
                envelope: &$crate::Envelope,
            ) -> Result<Option<Self>, $crate::CodecError> {
                $family::from_envelope(envelope)
            }

            fn to_new_event(&self, actor: $crate::Actor) -> $crate::NewEvent {
                $family::to_new_event(self, actor)
            }
        }

        $(
            impl From<$event> for $family {
                fn from(event: $event) -> Self { Self::$variant(event) }
            }
        )+
    };
}
pub(crate) use event_family;
