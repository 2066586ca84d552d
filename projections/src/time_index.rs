//! What the scheduler has to do, ordered by time: scheduled meetings waiting to activate, and
//! active guest meetings that are empty (they expire a configured time after they emptied).
//!
//! Keys in tree `proj/time_index`:
//! - `A ‖ scheduled_at (u64 BE) ‖ meeting id` → empty: activations, earliest first
//! - `E ‖ empty since (u64 BE) ‖ meeting id` → empty: empty guest meetings, longest-empty first
//! - `r ‖ meeting id` → the meeting's current `A`/`E` key, so the next event can remove it
//! - `V ‖ empty since (u64 BE) ‖ meeting id` → empty: empty VideoSDK sessions (they end a grace
//!   period after their last participant left); `v ‖ meeting id` marks a session
//! - `n ‖ meeting id` → participants present (u32 BE), for guest meetings and VideoSDK sessions
//! - `X ‖ ends_at (u64 BE) ‖ meeting id` → empty: meetings that end by themselves, soonest
//!   first (from `meeting.created`'s `ends_at`); `x ‖ meeting id` → that key. `p ‖ meeting id`
//!   → ends_at (i64 BE) holds an end time of an older log, where `meeting_end.scheduled` came
//!   just before the `meeting.created` it belongs to, until that creation follows.
//!
//! The scheduler reads a prefix up to "now" and sends each meeting a command whose decision is
//! idempotent (activate if still scheduled and due, expire if still empty long enough), so an
//! entry seen twice before the index catches up does no harm.

use convene_events::catalog::meeting::{Dialect, MeetingEvent};
use convene_events::catalog::meeting_end::MeetingEndScheduled;
use convene_events::{DomainEvent, Envelope, MeetingId, Workspace};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;

#[derive(Clone)]
pub struct TimeIndex {
    tree: sled::Tree,
}

const ACTIVATE: u8 = b'A';
const EXPIRE: u8 = b'E';
const EMPTY_SESSION: u8 = b'V';
const END: u8 = b'X';

fn timed_key(tag: u8, at: i64, meeting_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(9 + meeting_id.len());
    key.push(tag);
    key.extend_from_slice(&(at.max(0) as u64).to_be_bytes());
    key.extend_from_slice(meeting_id.as_bytes());
    key
}

fn tagged(tag: u8, meeting_id: &str) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(meeting_id.as_bytes());
    key
}

impl TimeIndex {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Scheduled meetings whose time is at or before `now`.
    pub fn due_activations(&self, now: i64) -> Result<Vec<MeetingId>, ProjectionError> {
        self.up_to(ACTIVATE, now)
    }

    /// Guest meetings that have been empty since `cutoff` or earlier.
    pub fn empty_since(&self, cutoff: i64) -> Result<Vec<MeetingId>, ProjectionError> {
        self.up_to(EXPIRE, cutoff)
    }

    /// VideoSDK sessions that have been empty since `cutoff` or earlier.
    pub fn empty_sessions_since(&self, cutoff: i64) -> Result<Vec<MeetingId>, ProjectionError> {
        self.up_to(EMPTY_SESSION, cutoff)
    }

    /// Meetings whose end time is at or before `now` and that have not ended yet.
    pub fn due_ends(&self, now: i64) -> Result<Vec<MeetingId>, ProjectionError> {
        self.up_to(END, now)
    }

    /// When a meeting that has not ended yet ends by itself, if it has an end time.
    pub fn ends_at(&self, meeting_id: &str) -> Result<Option<i64>, ProjectionError> {
        self.tree
            .get(tagged(b'x', meeting_id))?
            .map(|key| {
                key.get(1..9)
                    .and_then(|bytes| bytes.try_into().ok())
                    .map(|bytes| u64::from_be_bytes(bytes) as i64)
                    .ok_or_else(|| ProjectionError::Corrupt("end time key".into()))
            })
            .transpose()
    }

    fn up_to(&self, tag: u8, at: i64) -> Result<Vec<MeetingId>, ProjectionError> {
        let start = vec![tag];
        let end = timed_key(tag, at.saturating_add(1), "");
        self.tree
            .range(start..end)
            .map(|entry| {
                let (key, _) = entry?;
                let id = std::str::from_utf8(&key[9..])
                    .ok()
                    .and_then(|raw| MeetingId::parse(raw).ok())
                    .ok_or_else(|| ProjectionError::Corrupt("time index key".into()))?;
                Ok(id)
            })
            .collect()
    }
}

impl Projection for TimeIndex {
    const TREE: &'static str = "proj/time_index";
    // 2: empty VideoSDK sessions (`V`, `v`).
    const VERSION: u32 = 2;

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        if envelope.kind == MeetingEndScheduled::KIND {
            let scheduled = MeetingEndScheduled::from_envelope(envelope).map_err(|e| {
                ProjectionError::BadEvent {
                    seq: envelope.seq,
                    reason: e.to_string(),
                }
            })?;
            staged.insert(
                tagged(b'p', scheduled.meeting_id.as_str()),
                scheduled.ends_at.to_be_bytes().to_vec(),
            );
            return Ok(());
        }
        let Some(event) =
            MeetingEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?
        else {
            return Ok(());
        };
        let meeting_id = envelope.stream.trim_start_matches("meeting/");
        match event {
            MeetingEvent::Created(created) => {
                if let Some(at) = created.scheduled_at {
                    replace_entry(
                        staged,
                        meeting_id,
                        Some(timed_key(ACTIVATE, at, meeting_id)),
                    )?;
                }
                // Guest meetings expire when empty, VideoSDK sessions end when empty: both are
                // counted; `v` tells a session from a guest meeting.
                if created.workspace == Workspace::Guest || created.via == Dialect::VideoSdk {
                    staged.insert(tagged(b'n', meeting_id), 0u32.to_be_bytes().to_vec());
                }
                if created.via == Dialect::VideoSdk {
                    staged.insert(tagged(b'v', meeting_id), Vec::new());
                }
                // The end time is in the creation now; an older log held it beside it.
                let pending = tagged(b'p', meeting_id);
                let logged_beside = match staged.get(&pending)? {
                    Some(bytes) => {
                        staged.remove(pending);
                        Some(
                            bytes
                                .as_slice()
                                .try_into()
                                .map(i64::from_be_bytes)
                                .map_err(|_| ProjectionError::Corrupt("pending end time".into()))?,
                        )
                    }
                    None => None,
                };
                if let Some(ends_at) = created.ends_at.or(logged_beside) {
                    let key = timed_key(END, ends_at, meeting_id);
                    staged.insert(key.clone(), Vec::new());
                    staged.insert(tagged(b'x', meeting_id), key);
                }
            }
            MeetingEvent::Activated(_) => {
                let next = match is_guest(staged, meeting_id)? {
                    true => Some(timed_key(
                        empty_tag(staged, meeting_id)?,
                        envelope.at,
                        meeting_id,
                    )),
                    false => None,
                };
                replace_entry(staged, meeting_id, next)?;
            }
            MeetingEvent::Ended(_) => {
                replace_entry(staged, meeting_id, None)?;
                staged.remove(tagged(b'n', meeting_id));
                staged.remove(tagged(b'v', meeting_id));
                if let Some(key) = staged.get(&tagged(b'x', meeting_id))? {
                    staged.remove(key);
                    staged.remove(tagged(b'x', meeting_id));
                }
            }
            MeetingEvent::ParticipantJoined(_) => {
                if let Some(count) = guest_count(staged, meeting_id)? {
                    set_count(staged, meeting_id, count + 1);
                    replace_entry(staged, meeting_id, None)?;
                }
            }
            MeetingEvent::ParticipantLeft(_) | MeetingEvent::ParticipantKicked(_) => {
                if let Some(count) = guest_count(staged, meeting_id)? {
                    let count = count.saturating_sub(1);
                    set_count(staged, meeting_id, count);
                    if count == 0 {
                        let key =
                            timed_key(empty_tag(staged, meeting_id)?, envelope.at, meeting_id);
                        replace_entry(staged, meeting_id, Some(key))?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Where an empty counted meeting waits: a VideoSDK session's own list, or the guests'.
fn empty_tag(staged: &Staged<'_>, meeting_id: &str) -> Result<u8, ProjectionError> {
    Ok(match staged.get(&tagged(b'v', meeting_id))? {
        Some(_) => EMPTY_SESSION,
        None => EXPIRE,
    })
}

/// Whether the meeting's participants are counted (a guest meeting or a VideoSDK session).
fn is_guest(staged: &Staged<'_>, meeting_id: &str) -> Result<bool, ProjectionError> {
    Ok(staged.get(&tagged(b'n', meeting_id))?.is_some())
}

fn guest_count(staged: &Staged<'_>, meeting_id: &str) -> Result<Option<u32>, ProjectionError> {
    staged
        .get(&tagged(b'n', meeting_id))?
        .map(|bytes| {
            bytes
                .as_slice()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| ProjectionError::Corrupt("participant count".into()))
        })
        .transpose()
}

fn set_count(staged: &mut Staged<'_>, meeting_id: &str, count: u32) {
    staged.insert(tagged(b'n', meeting_id), count.to_be_bytes().to_vec());
}

/// Removes the meeting's current entry, if any, and records `next` in its place.
fn replace_entry(
    staged: &mut Staged<'_>,
    meeting_id: &str,
    next: Option<Vec<u8>>,
) -> Result<(), ProjectionError> {
    let reverse = tagged(b'r', meeting_id);
    if let Some(current) = staged.get(&reverse)? {
        staged.remove(current);
    }
    match next {
        Some(key) => {
            staged.insert(key.clone(), Vec::new());
            staged.insert(reverse, key);
        }
        None => staged.remove(reverse),
    }
    Ok(())
}
