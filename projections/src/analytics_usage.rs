//! Usage analytics (onepizza §18): feature use by day, meetings started by hour, and the
//! accounts active each week. Everything is folded from events the meetings and accounts log
//! anyway; nothing is tracked beside the log.
//!
//! Keys in tree `proj/analytics_usage` (days and weeks count from the Unix epoch, UTC; weeks
//! start on Monday):
//! - `f ‖ feature (u8) ‖ day (u32 BE)` → uses that day (u64 BE)
//! - `u ‖ feature (u8) ‖ day (u32 BE) ‖ user (16 bytes)` → empty: who used it that day, a user
//!   being a participant of a meeting (SHA-256 of stream and participant id, truncated)
//! - `p ‖ day (u32 BE) ‖ hour (u8)` → meetings that became active in that hour (u64 BE)
//! - `w ‖ week (u32 BE) ‖ account id (u64 BE)` → empty: the account acted that week (signed in,
//!   or did anything else as itself or through one of its API keys)

use std::collections::{BTreeMap, BTreeSet};

use convene_events::catalog::meeting::MeetingEvent;
use convene_events::{Actor, Envelope};
use sha2::Digest;

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;

const DAY_MS: i64 = 86_400_000;

/// The features whose use is counted; the seed's `feature.*` event types without the prefix.
/// Captions and chat-message reactions are not features Convene has, so they are not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Feature {
    /// A participant started sharing their screen.
    ScreenShare,
    /// The host announced a recording (the consent notice).
    Recording,
    /// A chat message.
    Chat,
    /// A floating emoji reaction.
    Reaction,
    /// A hand raised.
    HandRaise,
    /// A host admitted or denied someone in the waiting room.
    WaitingRoom,
}

impl Feature {
    pub const ALL: [Feature; 6] = [
        Feature::ScreenShare,
        Feature::Recording,
        Feature::Chat,
        Feature::Reaction,
        Feature::HandRaise,
        Feature::WaitingRoom,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Feature::ScreenShare => "screen_share",
            Feature::Recording => "recording",
            Feature::Chat => "chat",
            Feature::Reaction => "reaction",
            Feature::HandRaise => "hand_raise",
            Feature::WaitingRoom => "waiting_room",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }
}

/// One feature's use over a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureUse {
    pub feature: Feature,
    pub total_uses: u64,
    pub unique_users: u64,
    pub active_days: u64,
}

/// Meetings started in one hour of one day of the week, over a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeakHour {
    /// 0 = Sunday … 6 = Saturday (as SQL's `EXTRACT(DOW …)`).
    pub dow: u8,
    /// 0–23, UTC.
    pub hour: u8,
    pub count: u64,
}

/// Accounts active in one week, and how many of them were active the week before too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionWeek {
    /// The week's Monday, ms since the epoch (UTC midnight).
    pub week_start: i64,
    pub users: u64,
    pub retained: u64,
}

#[derive(Clone)]
pub struct AnalyticsUsage {
    tree: sled::Tree,
}

fn day_of(at_ms: i64) -> u32 {
    (at_ms.max(0) / DAY_MS) as u32
}

/// Weeks start on Monday; 1970-01-01 was a Thursday, so day 4 starts week 1.
fn week_of_day(day: u32) -> u32 {
    (day + 3) / 7
}

fn week_start_ms(week: u32) -> i64 {
    (i64::from(week) * 7 - 3).max(0) * DAY_MS
}

fn uses_key(feature: Feature, day: u32) -> Vec<u8> {
    let mut key = vec![b'f', feature.code()];
    key.extend_from_slice(&day.to_be_bytes());
    key
}

fn user_key(feature: Feature, day: u32, user: &[u8; 16]) -> Vec<u8> {
    let mut key = vec![b'u', feature.code()];
    key.extend_from_slice(&day.to_be_bytes());
    key.extend_from_slice(user);
    key
}

fn hour_key(day: u32, hour: u8) -> Vec<u8> {
    let mut key = vec![b'p'];
    key.extend_from_slice(&day.to_be_bytes());
    key.push(hour);
    key
}

fn week_key(week: u32, account_id: u64) -> Vec<u8> {
    let mut key = vec![b'w'];
    key.extend_from_slice(&week.to_be_bytes());
    key.extend_from_slice(&account_id.to_be_bytes());
    key
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut be = [0u8; 8];
    be.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(be)
}

fn read_u32(bytes: &[u8]) -> u32 {
    let mut be = [0u8; 4];
    be.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(be)
}

fn participant(stream: &str, participant_id: &str) -> [u8; 16] {
    let mut digest = sha2::Sha256::new();
    digest.update((stream.len() as u64).to_be_bytes());
    digest.update(stream.as_bytes());
    digest.update(participant_id.as_bytes());
    let mut user = [0u8; 16];
    user.copy_from_slice(&digest.finalize()[..16]);
    user
}

/// The feature an event is a use of, who used it and how many times.
fn feature_use(event: &MeetingEvent) -> Option<(Feature, &str, u64)> {
    match event {
        MeetingEvent::MediaChanged(change) if change.screen_sharing == Some(true) => {
            Some((Feature::ScreenShare, &change.participant_id, 1))
        }
        MeetingEvent::RecordingAnnounced(notice) => {
            Some((Feature::Recording, &notice.participant_id, 1))
        }
        MeetingEvent::ChatMessageSent(chat) => Some((Feature::Chat, &chat.participant_id, 1)),
        MeetingEvent::ReactionsCounted(counted) if counted.reactions > 0 => Some((
            Feature::Reaction,
            &counted.participant_id,
            u64::from(counted.reactions),
        )),
        MeetingEvent::HandChanged(hand) if hand.raised => {
            Some((Feature::HandRaise, &hand.participant_id, 1))
        }
        MeetingEvent::WaitingRoomDecided(decided) => {
            Some((Feature::WaitingRoom, &decided.client_id, 1))
        }
        _ => None,
    }
}

fn add(staged: &mut Staged<'_>, key: Vec<u8>, by: u64) -> Result<(), ProjectionError> {
    let now = staged.get(&key)?.map_or(0, |v| read_u64(&v));
    staged.insert(key, (now + by).to_be_bytes().to_vec());
    Ok(())
}

/// Marks a set member; reads first, because most events of an active account repeat a
/// membership already written and a read is cheaper than rewriting it.
fn mark(staged: &mut Staged<'_>, key: Vec<u8>) -> Result<(), ProjectionError> {
    if staged.get(&key)?.is_none() {
        staged.insert(key, Vec::new());
    }
    Ok(())
}

fn account_of(actor: &Actor) -> Option<u64> {
    match actor {
        Actor::Account { account_id } | Actor::ApiKey { account_id, .. } => Some(*account_id),
        _ => None,
    }
}

impl AnalyticsUsage {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The first day of a `days`-day window ending with the day of `now_ms`.
    fn first_day(now_ms: i64, days: u32) -> u32 {
        day_of(now_ms).saturating_sub(days.saturating_sub(1))
    }

    /// Every feature's use in the `days` days up to and including today, most used first.
    pub fn features(&self, now_ms: i64, days: u32) -> Result<Vec<FeatureUse>, ProjectionError> {
        let (first, last) = (Self::first_day(now_ms, days), day_of(now_ms));
        let mut out = Vec::with_capacity(Feature::ALL.len());
        for feature in Feature::ALL {
            let (mut total_uses, mut active_days) = (0, 0);
            for entry in self
                .tree
                .range(uses_key(feature, first)..=uses_key(feature, last))
            {
                let uses = read_u64(&entry?.1);
                total_uses += uses;
                active_days += u64::from(uses > 0);
            }
            let mut users = BTreeSet::new();
            let from = user_key(feature, first, &[0; 16]);
            let to = user_key(feature, last, &[0xff; 16]);
            for entry in self.tree.range(from..=to) {
                let (key, _) = entry?;
                users.insert(key[6..].to_vec());
            }
            out.push(FeatureUse {
                feature,
                total_uses,
                unique_users: users.len() as u64,
                active_days,
            });
        }
        out.sort_by_key(|used| std::cmp::Reverse(used.total_uses));
        Ok(out)
    }

    /// Meetings started per (day of week, hour) in the window, busiest first; hours without
    /// any are left out.
    pub fn peak_hours(&self, now_ms: i64, days: u32) -> Result<Vec<PeakHour>, ProjectionError> {
        let (first, last) = (Self::first_day(now_ms, days), day_of(now_ms));
        let mut cells: BTreeMap<(u8, u8), u64> = BTreeMap::new();
        for entry in self.tree.range(hour_key(first, 0)..=hour_key(last, 23)) {
            let (key, value) = entry?;
            let day = read_u32(&key[1..5]);
            // 1970-01-01 was a Thursday (4).
            let dow = ((day + 4) % 7) as u8;
            *cells.entry((dow, key[5])).or_default() += read_u64(&value);
        }
        let mut out: Vec<PeakHour> = cells
            .into_iter()
            .map(|((dow, hour), count)| PeakHour { dow, hour, count })
            .collect();
        out.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then((a.dow, a.hour).cmp(&(b.dow, b.hour)))
        });
        Ok(out)
    }

    /// The last `weeks` weeks up to and including the current one, newest first: accounts
    /// active in each, and how many of them were also active the week before.
    pub fn retention(
        &self,
        now_ms: i64,
        weeks: u32,
    ) -> Result<Vec<RetentionWeek>, ProjectionError> {
        let current = week_of_day(day_of(now_ms));
        let first = current.saturating_sub(weeks.saturating_sub(1));
        let mut previous = self.active_in(first.saturating_sub(1))?;
        if first == 0 {
            previous.clear();
        }
        let mut out = Vec::with_capacity(weeks as usize);
        for week in first..=current {
            let active = self.active_in(week)?;
            out.push(RetentionWeek {
                week_start: week_start_ms(week),
                users: active.len() as u64,
                retained: active.intersection(&previous).count() as u64,
            });
            previous = active;
        }
        out.reverse();
        Ok(out)
    }

    fn active_in(&self, week: u32) -> Result<BTreeSet<u64>, ProjectionError> {
        let mut accounts = BTreeSet::new();
        for entry in self.tree.scan_prefix(&week_key(week, 0)[..5]) {
            let (key, _) = entry?;
            accounts.insert(read_u64(&key[5..13]));
        }
        Ok(accounts)
    }
}

impl Projection for AnalyticsUsage {
    const TREE: &'static str = "proj/analytics_usage";

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let day = day_of(envelope.at);
        if let Some(account_id) = account_of(&envelope.actor) {
            mark(staged, week_key(week_of_day(day), account_id))?;
        }
        if !envelope.kind.starts_with("meeting.") {
            return Ok(());
        }
        let event =
            MeetingEvent::from_envelope(envelope).map_err(|e| ProjectionError::BadEvent {
                seq: envelope.seq,
                reason: e.to_string(),
            })?;
        match event {
            Some(MeetingEvent::Activated(_)) => {
                let hour = ((envelope.at.max(0) % DAY_MS) / 3_600_000) as u8;
                add(staged, hour_key(day, hour), 1)?;
            }
            Some(event) => {
                if let Some((feature, who, uses)) = feature_use(&event) {
                    add(staged, uses_key(feature, day), uses)?;
                    mark(
                        staged,
                        user_key(feature, day, &participant(&envelope.stream, who)),
                    )?;
                }
            }
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 1970-01-05 (day 4) was the first Monday.
        assert_eq!(week_of_day(3), 0);
        assert_eq!(week_of_day(4), 1);
        assert_eq!(week_of_day(10), 1);
        assert_eq!(week_of_day(11), 2);
        assert_eq!(week_start_ms(1), 4 * DAY_MS);
        // 2026-03-09 is a Monday: day 20521.
        let monday = 20_521;
        assert_eq!(
            week_start_ms(week_of_day(monday + 6)),
            i64::from(monday) * DAY_MS
        );
    }
}
