//! The VideoSDK v2 dialect's read model: credentials, rooms, sessions and each session's
//! participants with their timelogs (presence, mic, webcam, screen share), folded from the
//! credential and room events and from the meeting events of the sessions' meetings.
//!
//! Keys in tree `proj/videosdk`:
//! - `k ‖ apikey` → [`CredentialRow`]; `K ‖ account id ‖ created seq ‖ apikey` (the account's list)
//! - `r ‖ roomId` → [`RoomRow`]
//! - `w ‖ workspace key ‖ created seq (u64 BE)` → roomId: a workspace's rooms, oldest first
//! - `c ‖ workspace key ‖ customRoomId` → roomId
//! - `o ‖ meeting id` → [`Opening`]: a session opened whose meeting is not created yet
//! - `s ‖ meeting id` → [`SessionRow`]
//! - `R ‖ roomId ‖ 0x00 ‖ opened seq (u64 BE)` → meeting id: a room's sessions, oldest first
//!
//! A session exists once its meeting is created (`meeting.created` with `Dialect::VideoSdk`, in
//! the room's workspace, after its `vsdk_room.session_opened`); an opening whose meeting never
//! came stays inert.

use convene_events::catalog::meeting::{Dialect, EndReason, MeetingEvent};
use convene_events::catalog::videosdk::{
    AutoClose, AutoCloseConfig, CredentialCreated, CredentialRevoked, RoomEvent, RoomWebhook,
};
use convene_events::{DomainEvent, Envelope, Workspace};
use serde::{Deserialize, Serialize};

use crate::runner::{Projection, ProjectionError};
use crate::staged::Staged;
use crate::{decode_row, encode_row};

#[derive(Clone)]
pub struct VideoSdk {
    tree: sled::Tree,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRow {
    pub api_key: String,
    pub account_id: u64,
    pub secret: String,
    pub created_at: i64,
    /// The log position of its creation: the account's list is in this order.
    pub created_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRow {
    pub room_id: String,
    pub workspace: Workspace,
    pub custom_room_id: Option<String>,
    pub webhook: Option<RoomWebhook>,
    pub auto_close: Option<AutoCloseConfig>,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The log position of its creation (the dialect's `id`).
    pub created_seq: u64,
    /// The meeting id of the ongoing session, if one is.
    pub ongoing_session: Option<String>,
}

/// A session opened in a room, waiting for its meeting's creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    pub room_id: String,
    pub admin_token: String,
}

/// From `start` to `end` (ms since epoch); `end` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: i64,
    pub end: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantLog {
    pub participant_id: String,
    pub name: String,
    /// In the session.
    pub timelog: Vec<Span>,
    /// Unmuted.
    pub mic: Vec<Span>,
    /// Video on.
    pub webcam: Vec<Span>,
    pub screen_share: Vec<Span>,
    pub present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// The session's meeting id, which is also its `sessionId`.
    pub session_id: String,
    pub room_id: String,
    pub workspace: Workspace,
    pub start: i64,
    pub end: Option<i64>,
    /// The meeting's admin token (the server acts as host with it); never shown.
    pub admin_token: String,
    /// In order of first arrival.
    pub participants: Vec<ParticipantLog>,
}

fn tagged(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.len());
    key.push(tag);
    key.extend_from_slice(rest);
    key
}

fn room_key(room_id: &str) -> Vec<u8> {
    tagged(b'r', room_id.as_bytes())
}

fn list_prefix(workspace: Workspace) -> Vec<u8> {
    tagged(b'w', &workspace.key())
}

fn list_key(workspace: Workspace, seq: u64) -> Vec<u8> {
    let mut key = list_prefix(workspace);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn custom_key(workspace: Workspace, custom_room_id: &str) -> Vec<u8> {
    let mut key = tagged(b'c', &workspace.key());
    key.extend_from_slice(custom_room_id.as_bytes());
    key
}

fn session_key(meeting_id: &str) -> Vec<u8> {
    tagged(b's', meeting_id.as_bytes())
}

fn opening_key(meeting_id: &str) -> Vec<u8> {
    tagged(b'o', meeting_id.as_bytes())
}

fn room_sessions_prefix(room_id: &str) -> Vec<u8> {
    let mut key = tagged(b'R', room_id.as_bytes());
    key.push(0);
    key
}

fn open(spans: &mut Vec<Span>, at: i64) {
    if spans.last().is_none_or(|s| s.end.is_some()) {
        spans.push(Span {
            start: at,
            end: None,
        });
    }
}

fn close(spans: &mut [Span], at: i64) {
    if let Some(last) = spans.last_mut().filter(|s| s.end.is_none()) {
        last.end = Some(at);
    }
}

impl ParticipantLog {
    fn leave(&mut self, at: i64) {
        for spans in [
            &mut self.timelog,
            &mut self.mic,
            &mut self.webcam,
            &mut self.screen_share,
        ] {
            close(spans, at);
        }
        self.present = false;
    }
}

impl SessionRow {
    fn participant(&mut self, participant_id: &str) -> Option<&mut ParticipantLog> {
        self.participants
            .iter_mut()
            .find(|p| p.participant_id == participant_id)
    }
}

/// A page of a list: how many there are in all, and the page's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub total: usize,
    pub rows: Vec<T>,
}

impl VideoSdk {
    pub fn open(db: &sled::Db) -> Result<Self, ProjectionError> {
        Ok(Self {
            tree: db.open_tree(<Self as Projection>::TREE)?,
        })
    }

    pub(crate) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, ProjectionError> {
        self.tree
            .get(key)?
            .map(|bytes| decode_row(&bytes))
            .transpose()
    }

    pub fn credential(&self, api_key: &str) -> Result<Option<CredentialRow>, ProjectionError> {
        self.get(&tagged(b'k', api_key.as_bytes()))
    }

    /// The account's API keys (not revoked), oldest first.
    pub fn credentials_of(&self, account_id: u64) -> Result<Vec<CredentialRow>, ProjectionError> {
        let mut prefix = vec![b'K'];
        prefix.extend_from_slice(&account_id.to_be_bytes());
        let mut rows = Vec::new();
        for entry in self.tree.scan_prefix(&prefix) {
            let (key, _) = entry?;
            let api_key = key
                .get(prefix.len() + 8..)
                .and_then(|raw| std::str::from_utf8(raw).ok())
                .ok_or_else(|| ProjectionError::Corrupt("credential index key".into()))?;
            if let Some(row) = self.credential(api_key)? {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    pub fn room(&self, room_id: &str) -> Result<Option<RoomRow>, ProjectionError> {
        self.get(&room_key(room_id))
    }

    pub fn room_by_custom_id(
        &self,
        workspace: Workspace,
        custom_room_id: &str,
    ) -> Result<Option<RoomRow>, ProjectionError> {
        match self.tree.get(custom_key(workspace, custom_room_id))? {
            Some(room_id) => self.room(&String::from_utf8_lossy(&room_id)),
            None => Ok(None),
        }
    }

    /// The workspace's rooms, newest first: `skip` of them left out, at most `take`.
    pub fn rooms(
        &self,
        workspace: Workspace,
        skip: usize,
        take: usize,
    ) -> Result<Page<RoomRow>, ProjectionError> {
        let ids = self.values_under(&list_prefix(workspace))?;
        let rows = ids
            .iter()
            .rev()
            .skip(skip)
            .take(take)
            .map(|id| {
                self.room(id)?
                    .ok_or_else(|| ProjectionError::Corrupt("room listed without a row".into()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: ids.len(),
            rows,
        })
    }

    pub fn session(&self, session_id: &str) -> Result<Option<SessionRow>, ProjectionError> {
        self.get(&session_key(session_id))
    }

    /// The room's sessions, newest first: `skip` of them left out, at most `take`.
    pub fn sessions(
        &self,
        room_id: &str,
        skip: usize,
        take: usize,
    ) -> Result<Page<SessionRow>, ProjectionError> {
        let ids = self.values_under(&room_sessions_prefix(room_id))?;
        let rows = ids
            .iter()
            .rev()
            .skip(skip)
            .take(take)
            .map(|id| {
                self.session(id)?
                    .ok_or_else(|| ProjectionError::Corrupt("session listed without a row".into()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            total: ids.len(),
            rows,
        })
    }

    fn values_under(&self, prefix: &[u8]) -> Result<Vec<String>, ProjectionError> {
        self.tree
            .scan_prefix(prefix)
            .map(|entry| Ok(String::from_utf8_lossy(&entry?.1).into_owned()))
            .collect()
    }
}

fn read<T: serde::de::DeserializeOwned>(
    staged: &Staged<'_>,
    key: &[u8],
) -> Result<Option<T>, ProjectionError> {
    staged.get(key)?.map(|bytes| decode_row(&bytes)).transpose()
}

/// The meeting events a session's timelogs depend on (others are skipped without decoding).
const SESSION_KINDS: [&str; 9] = [
    "meeting.created",
    "meeting.activated",
    "meeting.ended",
    "meeting.participant_joined",
    "meeting.participant_left",
    "meeting.participant_kicked",
    "meeting.participant_muted",
    "meeting.all_muted",
    "meeting.media_changed",
];

/// `K ‖ account id ‖ created seq ‖ apikey` → empty: an account's credentials in the order they
/// were made, for its list.
fn account_key_index(account_id: u64, created_seq: u64, api_key: &str) -> Vec<u8> {
    let mut key = vec![b'K'];
    key.extend_from_slice(&account_id.to_be_bytes());
    key.extend_from_slice(&created_seq.to_be_bytes());
    key.extend_from_slice(api_key.as_bytes());
    key
}

impl Projection for VideoSdk {
    const TREE: &'static str = "proj/videosdk";
    // 2: the per-account index of credentials, and revocations.
    const VERSION: u32 = 2;

    fn apply(staged: &mut Staged<'_>, envelope: &Envelope) -> Result<(), ProjectionError> {
        let bad = |reason: String| ProjectionError::BadEvent {
            seq: envelope.seq,
            reason,
        };
        if envelope.kind == CredentialRevoked::KIND {
            let revoked =
                CredentialRevoked::from_envelope(envelope).map_err(|e| bad(e.to_string()))?;
            let key = tagged(b'k', revoked.api_key.as_bytes());
            if let Some(bytes) = staged.get(&key)? {
                let row: CredentialRow = decode_row(&bytes)?;
                staged.remove(key);
                staged.remove(account_key_index(
                    row.account_id,
                    row.created_seq,
                    &row.api_key,
                ));
            }
            return Ok(());
        }
        if envelope.kind == CredentialCreated::KIND {
            let created =
                CredentialCreated::from_envelope(envelope).map_err(|e| bad(e.to_string()))?;
            let account_id = envelope
                .stream
                .strip_prefix("account/")
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| bad("a credential outside an account's stream".into()))?;
            let row = CredentialRow {
                api_key: created.api_key,
                account_id,
                secret: created.secret,
                created_at: envelope.at,
                created_seq: envelope.seq,
            };
            staged.insert(
                account_key_index(row.account_id, row.created_seq, &row.api_key),
                Vec::new(),
            );
            staged.insert(tagged(b'k', row.api_key.as_bytes()), encode_row(&row));
            return Ok(());
        }
        if let Some(room_id) = envelope.stream.strip_prefix("vsdk_room/") {
            let event = RoomEvent::from_envelope(envelope).map_err(|e| bad(e.to_string()))?;
            return match event {
                Some(event) => apply_room(staged, envelope, room_id, event),
                None => Ok(()),
            };
        }
        if let Some(meeting_id) = envelope.stream.strip_prefix("meeting/") {
            if SESSION_KINDS.contains(&envelope.kind.as_str()) {
                let event =
                    MeetingEvent::from_envelope(envelope).map_err(|e| bad(e.to_string()))?;
                if let Some(event) = event {
                    apply_meeting(staged, envelope, meeting_id, event)?;
                }
            }
        }
        Ok(())
    }
}

fn apply_room(
    staged: &mut Staged<'_>,
    envelope: &Envelope,
    room_id: &str,
    event: RoomEvent,
) -> Result<(), ProjectionError> {
    let key = room_key(room_id);
    match event {
        RoomEvent::Created(created) => {
            staged.insert(
                list_key(created.workspace, envelope.seq),
                room_id.as_bytes().to_vec(),
            );
            if let Some(custom) = &created.custom_room_id {
                staged.insert(
                    custom_key(created.workspace, custom),
                    room_id.as_bytes().to_vec(),
                );
            }
            let row = RoomRow {
                room_id: room_id.to_owned(),
                workspace: created.workspace,
                custom_room_id: created.custom_room_id,
                webhook: created.webhook,
                auto_close: created.auto_close,
                disabled: false,
                created_at: envelope.at,
                updated_at: envelope.at,
                created_seq: envelope.seq,
                ongoing_session: None,
            };
            staged.insert(key, encode_row(&row));
        }
        RoomEvent::Deactivated(_) => {
            if let Some(mut row) = read::<RoomRow>(staged, &key)? {
                row.disabled = true;
                row.updated_at = envelope.at;
                staged.insert(key, encode_row(&row));
            }
        }
        RoomEvent::SessionOpened(opened) => {
            let opening = Opening {
                room_id: room_id.to_owned(),
                admin_token: opened.admin_token,
            };
            staged.insert(
                opening_key(opened.meeting_id.as_str()),
                encode_row(&opening),
            );
        }
    }
    Ok(())
}

fn apply_meeting(
    staged: &mut Staged<'_>,
    envelope: &Envelope,
    meeting_id: &str,
    event: MeetingEvent,
) -> Result<(), ProjectionError> {
    let at = envelope.at;
    if let MeetingEvent::Created(created) = &event {
        let Some(opening) = read::<Opening>(staged, &opening_key(meeting_id))? else {
            return Ok(());
        };
        staged.remove(opening_key(meeting_id));
        let room_key = room_key(&opening.room_id);
        let Some(mut room) = read::<RoomRow>(staged, &room_key)? else {
            return Ok(());
        };
        if created.via != Dialect::VideoSdk || created.workspace != room.workspace {
            return Ok(());
        }
        room.ongoing_session = Some(meeting_id.to_owned());
        room.updated_at = at;
        staged.insert(room_key, encode_row(&room));
        let mut list = room_sessions_prefix(&opening.room_id);
        list.extend_from_slice(&envelope.seq.to_be_bytes());
        staged.insert(list, meeting_id.as_bytes().to_vec());
        let session = SessionRow {
            session_id: meeting_id.to_owned(),
            room_id: opening.room_id,
            workspace: room.workspace,
            start: at,
            end: None,
            admin_token: opening.admin_token,
            participants: Vec::new(),
        };
        staged.insert(session_key(meeting_id), encode_row(&session));
        return Ok(());
    }
    let key = session_key(meeting_id);
    let Some(mut session) = read::<SessionRow>(staged, &key)? else {
        return Ok(());
    };
    match event {
        MeetingEvent::Activated(_) => session.start = at,
        MeetingEvent::Ended(ended) => {
            session.end = Some(at);
            for participant in &mut session.participants {
                participant.leave(at);
            }
            let room_key = room_key(&session.room_id);
            if let Some(mut room) = read::<RoomRow>(staged, &room_key)? {
                if room.ongoing_session.as_deref() == Some(meeting_id) {
                    room.ongoing_session = None;
                }
                let deactivates = room
                    .auto_close
                    .is_some_and(|c| c.kind == AutoClose::SessionEndAndDeactivate);
                if deactivates && ended.reason == EndReason::TimeLimit {
                    room.disabled = true;
                }
                room.updated_at = at;
                staged.insert(room_key, encode_row(&room));
            }
        }
        MeetingEvent::ParticipantJoined(joined) => {
            let log = match session.participant(&joined.participant_id) {
                Some(log) => log,
                None => {
                    session.participants.push(ParticipantLog {
                        participant_id: joined.participant_id.clone(),
                        name: joined.name.clone(),
                        timelog: Vec::new(),
                        mic: Vec::new(),
                        webcam: Vec::new(),
                        screen_share: Vec::new(),
                        present: false,
                    });
                    session.participants.last_mut().expect("just pushed")
                }
            };
            log.name = joined.name;
            log.present = true;
            open(&mut log.timelog, at);
            if !joined.muted {
                open(&mut log.mic, at);
            }
            if !joined.video_off {
                open(&mut log.webcam, at);
            }
        }
        MeetingEvent::ParticipantLeft(left) => {
            if let Some(log) = session.participant(&left.participant_id) {
                log.leave(at);
            }
        }
        MeetingEvent::ParticipantKicked(kicked) => {
            if let Some(log) = session.participant(&kicked.participant_id) {
                log.leave(at);
            }
        }
        MeetingEvent::ParticipantMuted(muted) => {
            if let Some(log) = session.participant(&muted.participant_id) {
                close(&mut log.mic, at);
            }
        }
        MeetingEvent::AllMuted(all) => {
            for id in &all.participant_ids {
                if let Some(log) = session.participant(id) {
                    close(&mut log.mic, at);
                }
            }
        }
        MeetingEvent::MediaChanged(change) => {
            if let Some(log) = session.participant(&change.participant_id) {
                let toggle = |spans: &mut Vec<Span>, on: Option<bool>| match on {
                    Some(true) => open(spans, at),
                    Some(false) => close(spans, at),
                    None => {}
                };
                toggle(&mut log.mic, change.muted.map(|muted| !muted));
                toggle(&mut log.webcam, change.video_off.map(|off| !off));
                toggle(&mut log.screen_share, change.screen_sharing);
            }
        }
        _ => return Ok(()),
    }
    staged.insert(key, encode_row(&session));
    Ok(())
}
