//! Meeting commands and the rules that turn them into events.
//!
//! `decide` is a pure function of the current state, the command and the time: it never touches
//! the log. The tests at the bottom read given (events) / when (command) / then (events or error).

use convene_events::catalog::meeting::{
    ActivationTrigger, AllMuted, Dialect, EndReason, InviteIssued, LeaveReason, MeetingActivated,
    MeetingCreated, MeetingEnded, MeetingEvent, MeetingSettings, ParticipantJoined,
    ParticipantKicked, ParticipantLeft, ParticipantMuted, SettingsChanged, UnmuteRequested,
};
use convene_events::catalog::meeting::{
    ChatMessageSent, HandChanged, MediaChanged, RecordingAnnounced,
};
use convene_events::{MeetingId, Workspace};

use super::aggregate::{Meeting, MeetingStatus};
use crate::{secret_matches, sha256_hex};

#[derive(Debug, Clone, PartialEq)]
pub struct CreateMeeting {
    pub meeting_id: MeetingId,
    pub workspace: Workspace,
    pub title: String,
    pub scheduled_at: Option<i64>,
    pub settings: MeetingSettings,
    pub admin_token_sha256: String,
    pub via: Dialect,
    /// When the meeting ends by itself, if it does; after it starts.
    pub ends_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MeetingCommand {
    Create(CreateMeeting),
    /// Something only the meeting's host may do: the caller must belong to the meeting's
    /// workspace and present its admin token.
    Host {
        workspace: Workspace,
        admin_token: String,
        action: HostAction,
    },
    /// Someone enters. `invite_token` is the plain token from an invite link, if any;
    /// `host_token` the meeting's admin token, to join as its host.
    Join {
        participant_id: String,
        name: String,
        invite_token: Option<String>,
        host_token: Option<String>,
        /// Whether the waiting room applies (the meeting's setting, unless the joiner's
        /// credential says otherwise).
        waiting: WaitingRule,
    },
    /// Something a participant does in the meeting, to themselves or to everyone.
    Participant {
        participant_id: String,
        action: ParticipantAction,
    },
    Leave {
        participant_id: String,
        reason: LeaveReason,
    },
    /// The scheduler: a scheduled meeting's time has come.
    ActivateOnSchedule,
    /// The scheduler: a guest meeting has been empty for its expiry period.
    ExpireIfEmpty {
        empty_for_ms: i64,
    },
    /// The workspace that owns the meeting ends it (or cancels it, if scheduled) without the
    /// admin token: EdCast's DELETE, where an organization's API key is the whole authority
    /// over its meetings.
    EndByOwner {
        workspace: Workspace,
    },
    /// The scheduler: the meeting's end time may have come. The meeting decides: it ends when
    /// its `ends_at` has passed, and does nothing before. (A meeting from an older log, whose
    /// end time was logged beside it, does not know it: the scheduler is trusted then.)
    EndOnTimeLimit,
}

/// Whether a join goes through the waiting room (onepizza §11). Host and invite joins never do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitingRule {
    /// As the meeting's `waiting_room` setting says.
    #[default]
    AsSet,
    /// Never: the joiner's credential admits them (a VideoSDK `allow_join` token).
    Skip,
    /// Always, even with the setting off: a host must let them in (a VideoSDK `ask_join` token).
    Always,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HostAction {
    /// Ends an active meeting or cancels a scheduled one.
    End,
    UpdateSettings(SettingsChanged),
    Invite {
        token_sha256: String,
        name: Option<String>,
    },
    Mute {
        participant_id: String,
    },
    RequestUnmute {
        participant_id: String,
    },
    Kick {
        participant_id: String,
        reason: Option<String>,
    },
    MuteAll,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParticipantAction {
    SetMuted(bool),
    SetVideoOff(bool),
    SetScreenSharing(bool),
    RaiseHand(bool),
    Chat(String),
    /// Host only: the recording-consent notice.
    AnnounceRecording {
        host_name: String,
    },
}

impl MeetingCommand {
    pub fn host(workspace: Workspace, admin_token: impl Into<String>, action: HostAction) -> Self {
        MeetingCommand::Host {
            workspace,
            admin_token: admin_token.into(),
            action,
        }
    }
}

/// What a successful command leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    pub meeting: Meeting,
    /// Log position of the last event written (0 when the command wrote nothing).
    pub last_seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    /// Unknown, or owned by another workspace: the two are indistinguishable on purpose.
    #[error("meeting not found")]
    NotFound,
    #[error("a meeting with this id already exists")]
    AlreadyExists,
    #[error("invalid admin token")]
    WrongAdminToken,
    #[error("meeting has already ended")]
    AlreadyEnded,
    #[error("scheduledAt must be in the future")]
    ScheduleInPast,
    #[error("the meeting would end before it starts")]
    EndsBeforeStart,
    #[error("participant not found")]
    ParticipantNotFound,
    #[error("meeting has not started yet")]
    NotStarted { scheduled_at: Option<i64> },
    #[error("meeting is locked")]
    Locked,
    #[error("meeting is full")]
    Full { max_participants: u32 },
    #[error("invite is invalid or has already been used")]
    InvalidInvite,
    #[error("participant is already in the meeting")]
    AlreadyJoined,
    #[error("only the host can do that")]
    NotHost,
    /// Not a refusal: the meeting has a waiting room, and the joiner now waits in it.
    #[error("waiting for the host to let you in")]
    InWaitingRoom,
    #[error("nobody with that id is waiting")]
    NotWaiting,
    #[error("meeting is busy, try again")]
    Unavailable,
    #[error("unexpected: {0}")]
    Unexpected(String),
}

pub fn decide(
    state: &Option<Meeting>,
    command: &MeetingCommand,
    now: i64,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    match command {
        MeetingCommand::Create(create) => create_meeting(state, create, now),
        MeetingCommand::Host {
            workspace,
            admin_token,
            action,
        } => {
            let meeting = owned_meeting(state, *workspace)?;
            if !secret_matches(admin_token, &meeting.admin_token_sha256) {
                return Err(MeetingError::WrongAdminToken);
            }
            host_action(meeting, action)
        }
        MeetingCommand::Join {
            participant_id,
            name,
            invite_token,
            host_token,
            ..
        } => join(
            existing(state)?,
            participant_id,
            name,
            invite_token.as_deref(),
            host_token.as_deref(),
        ),
        MeetingCommand::Participant {
            participant_id,
            action,
        } => participant_action(existing(state)?, participant_id, action),
        MeetingCommand::Leave {
            participant_id,
            reason,
        } => {
            let meeting = existing(state)?;
            present(meeting, participant_id)?;
            Ok(vec![ParticipantLeft {
                participant_id: participant_id.clone(),
                reason: *reason,
            }
            .into()])
        }
        MeetingCommand::ActivateOnSchedule => {
            let meeting = existing(state)?;
            let due = meeting.scheduled_at.is_some_and(|at| at <= now);
            Ok(if meeting.status == MeetingStatus::Scheduled && due {
                vec![MeetingActivated {
                    trigger: ActivationTrigger::Schedule,
                }
                .into()]
            } else {
                vec![]
            })
        }
        MeetingCommand::EndByOwner { workspace } => {
            host_action(owned_meeting(state, *workspace)?, &HostAction::End)
        }
        MeetingCommand::EndOnTimeLimit => {
            let meeting = existing(state)?;
            if meeting.status == MeetingStatus::Ended {
                return Err(MeetingError::AlreadyEnded);
            }
            if meeting.ends_at.is_some_and(|ends_at| now < ends_at) {
                return Ok(vec![]);
            }
            Ok(vec![MeetingEnded {
                reason: EndReason::TimeLimit,
            }
            .into()])
        }
        MeetingCommand::ExpireIfEmpty { empty_for_ms } => {
            let meeting = existing(state)?;
            let expired = meeting.status == MeetingStatus::Active
                && meeting.participants.is_empty()
                && meeting
                    .empty_since
                    .is_some_and(|since| now - since >= *empty_for_ms);
            Ok(if expired {
                vec![MeetingEnded {
                    reason: EndReason::Expired,
                }
                .into()]
            } else {
                vec![]
            })
        }
    }
}

fn create_meeting(
    state: &Option<Meeting>,
    create: &CreateMeeting,
    now: i64,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    if state.is_some() {
        return Err(MeetingError::AlreadyExists);
    }
    if matches!(create.scheduled_at, Some(at) if at <= now) {
        return Err(MeetingError::ScheduleInPast);
    }
    let starts = create.scheduled_at.unwrap_or(now);
    if create.ends_at.is_some_and(|ends_at| ends_at <= starts) {
        return Err(MeetingError::EndsBeforeStart);
    }
    let created = MeetingEvent::Created(MeetingCreated {
        meeting_id: create.meeting_id.clone(),
        workspace: create.workspace,
        title: create.title.clone(),
        scheduled_at: create.scheduled_at,
        settings: create.settings.clone(),
        admin_token_sha256: create.admin_token_sha256.clone(),
        via: create.via,
        ends_at: create.ends_at,
    });
    Ok(match create.scheduled_at {
        Some(_) => vec![created],
        None => vec![
            created,
            MeetingEvent::Activated(MeetingActivated {
                trigger: ActivationTrigger::Instant,
            }),
        ],
    })
}

fn host_action(meeting: &Meeting, action: &HostAction) -> Result<Vec<MeetingEvent>, MeetingError> {
    if meeting.status == MeetingStatus::Ended {
        return Err(MeetingError::AlreadyEnded);
    }
    let event: MeetingEvent = match action {
        HostAction::End => MeetingEnded {
            reason: match meeting.status {
                MeetingStatus::Scheduled => EndReason::Cancelled,
                _ => EndReason::EndedByHost,
            },
        }
        .into(),
        HostAction::UpdateSettings(change) => match effective_change(meeting, change) {
            Some(change) => change.into(),
            None => return Ok(vec![]),
        },
        HostAction::Invite { token_sha256, name } => InviteIssued {
            token_sha256: token_sha256.clone(),
            name: name.clone(),
        }
        .into(),
        HostAction::Mute { participant_id } => {
            present(meeting, participant_id)?;
            ParticipantMuted {
                participant_id: participant_id.clone(),
            }
            .into()
        }
        HostAction::RequestUnmute { participant_id } => {
            present(meeting, participant_id)?;
            UnmuteRequested {
                participant_id: participant_id.clone(),
            }
            .into()
        }
        HostAction::Kick {
            participant_id,
            reason,
        } => {
            present(meeting, participant_id)?;
            ParticipantKicked {
                participant_id: participant_id.clone(),
                reason: reason.clone(),
            }
            .into()
        }
        HostAction::MuteAll => AllMuted {
            participant_ids: meeting.participants.keys().cloned().collect(),
        }
        .into(),
    };
    Ok(vec![event])
}

/// The part of `change` that differs from the meeting as it is, or `None` if nothing does
/// (so repeating a PATCH logs nothing new).
fn effective_change(meeting: &Meeting, change: &SettingsChanged) -> Option<SettingsChanged> {
    fn differs<T: PartialEq + Clone>(new: &Option<T>, current: &T) -> Option<T> {
        new.as_ref().filter(|value| *value != current).cloned()
    }
    let settings = &meeting.settings;
    let effective = SettingsChanged {
        title: differs(&change.title, &meeting.title),
        mute_on_join: differs(&change.mute_on_join, &settings.mute_on_join),
        video_off_on_join: differs(&change.video_off_on_join, &settings.video_off_on_join),
        max_participants: differs(&change.max_participants, &settings.max_participants),
        locked: differs(&change.locked, &settings.locked),
        waiting_room: differs(&change.waiting_room, &settings.waiting_room),
    };
    (effective != SettingsChanged::default()).then_some(effective)
}

fn join(
    meeting: &Meeting,
    participant_id: &str,
    name: &str,
    invite_token: Option<&str>,
    host_token: Option<&str>,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    match meeting.status {
        MeetingStatus::Ended => return Err(MeetingError::AlreadyEnded),
        MeetingStatus::Scheduled => {
            return Err(MeetingError::NotStarted {
                scheduled_at: meeting.scheduled_at,
            })
        }
        MeetingStatus::Active => {}
    }
    if meeting.participants.contains_key(participant_id) {
        return Err(MeetingError::AlreadyJoined);
    }
    let is_host = match host_token {
        Some(token) if secret_matches(token, &meeting.admin_token_sha256) => true,
        Some(_) => return Err(MeetingError::WrongAdminToken),
        None => false,
    };
    // The host always gets in; an invite admits one person, even into a locked meeting; a used
    // or unknown one admits nobody.
    let invite_sha256 = match invite_token {
        _ if is_host => None,
        Some(token) => {
            let hash = sha256_hex(token);
            if !meeting.open_invites.contains(&hash) {
                return Err(MeetingError::InvalidInvite);
            }
            Some(hash)
        }
        None if meeting.settings.locked => return Err(MeetingError::Locked),
        None => None,
    };
    let max_participants = meeting.settings.max_participants;
    if meeting.participants.len() >= max_participants as usize {
        return Err(MeetingError::Full { max_participants });
    }
    Ok(vec![ParticipantJoined {
        participant_id: participant_id.to_owned(),
        name: name.to_owned(),
        muted: meeting.settings.mute_on_join,
        video_off: meeting.settings.video_off_on_join,
        invite_sha256,
        is_host,
    }
    .into()])
}

fn participant_action(
    meeting: &Meeting,
    participant_id: &str,
    action: &ParticipantAction,
) -> Result<Vec<MeetingEvent>, MeetingError> {
    if meeting.status != MeetingStatus::Active {
        return Err(MeetingError::AlreadyEnded);
    }
    let participant = meeting
        .participants
        .get(participant_id)
        .ok_or(MeetingError::ParticipantNotFound)?;
    let id = participant_id.to_owned();
    let media = |change: MediaChanged| -> Vec<MeetingEvent> { vec![change.into()] };
    Ok(match action {
        ParticipantAction::SetMuted(muted) if *muted != participant.muted => media(MediaChanged {
            participant_id: id,
            muted: Some(*muted),
            ..MediaChanged::default()
        }),
        ParticipantAction::SetVideoOff(off) if *off != participant.video_off => {
            media(MediaChanged {
                participant_id: id,
                video_off: Some(*off),
                ..MediaChanged::default()
            })
        }
        ParticipantAction::SetScreenSharing(on) if *on != participant.screen_sharing => {
            media(MediaChanged {
                participant_id: id,
                screen_sharing: Some(*on),
                ..MediaChanged::default()
            })
        }
        ParticipantAction::RaiseHand(raised) if *raised != participant.hand_raised => {
            vec![HandChanged {
                participant_id: id,
                raised: *raised,
            }
            .into()]
        }
        // Saying what is already so logs nothing.
        ParticipantAction::SetMuted(_)
        | ParticipantAction::SetVideoOff(_)
        | ParticipantAction::SetScreenSharing(_)
        | ParticipantAction::RaiseHand(_) => vec![],
        ParticipantAction::Chat(text) => vec![ChatMessageSent {
            participant_id: id,
            name: participant.name.clone(),
            text: text.clone(),
        }
        .into()],
        ParticipantAction::AnnounceRecording { .. } if !participant.is_host => {
            return Err(MeetingError::NotHost)
        }
        ParticipantAction::AnnounceRecording { host_name } => vec![RecordingAnnounced {
            participant_id: id,
            host_name: host_name.clone(),
        }
        .into()],
    })
}

fn existing(state: &Option<Meeting>) -> Result<&Meeting, MeetingError> {
    state.as_ref().ok_or(MeetingError::NotFound)
}

fn present(meeting: &Meeting, participant_id: &str) -> Result<(), MeetingError> {
    if meeting.participants.contains_key(participant_id) {
        Ok(())
    } else {
        Err(MeetingError::ParticipantNotFound)
    }
}

/// The meeting, if it exists and belongs to `workspace`; otherwise `NotFound` either way.
fn owned_meeting(state: &Option<Meeting>, workspace: Workspace) -> Result<&Meeting, MeetingError> {
    match state {
        Some(meeting) if meeting.workspace == workspace => Ok(meeting),
        _ => Err(MeetingError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::aggregate::apply;
    use crate::sha256_hex;

    const NOW: i64 = 1_710_000_000_000;
    const OWNER: Workspace = Workspace::Account(1);

    fn create(scheduled_at: Option<i64>) -> MeetingCommand {
        MeetingCommand::Create(CreateMeeting {
            meeting_id: MeetingId::parse("abc-defg-hij").unwrap(),
            workspace: OWNER,
            title: "Team Standup".into(),
            scheduled_at,
            settings: MeetingSettings::with_cap(2),
            admin_token_sha256: sha256_hex("secret-admin-token"),
            via: Dialect::Native,
            ends_at: None,
        })
    }

    fn end(workspace: Workspace, token: &str) -> MeetingCommand {
        MeetingCommand::host(workspace, token, HostAction::End)
    }

    fn host(action: HostAction) -> MeetingCommand {
        MeetingCommand::host(OWNER, "secret-admin-token", action)
    }

    fn join(id: &str) -> MeetingCommand {
        MeetingCommand::Join {
            participant_id: id.into(),
            name: format!("name of {id}"),
            invite_token: None,
            host_token: None,
            waiting: WaitingRule::AsSet,
        }
    }

    fn join_as_host(id: &str, token: &str) -> MeetingCommand {
        MeetingCommand::Join {
            participant_id: id.into(),
            name: id.into(),
            invite_token: None,
            host_token: Some(token.into()),
            waiting: WaitingRule::AsSet,
        }
    }

    fn act(id: &str, action: ParticipantAction) -> MeetingCommand {
        MeetingCommand::Participant {
            participant_id: id.into(),
            action,
        }
    }

    fn join_with_invite(id: &str, token: &str) -> MeetingCommand {
        MeetingCommand::Join {
            participant_id: id.into(),
            name: id.into(),
            invite_token: Some(token.into()),
            host_token: None,
            waiting: WaitingRule::AsSet,
        }
    }

    fn lock() -> MeetingCommand {
        host(HostAction::UpdateSettings(SettingsChanged {
            locked: Some(true),
            ..SettingsChanged::default()
        }))
    }

    fn invite(token: &str) -> MeetingCommand {
        host(HostAction::Invite {
            token_sha256: sha256_hex(token),
            name: None,
        })
    }

    /// Given the events produced by `history`, returns the folded state.
    fn given(history: &[MeetingCommand]) -> Option<Meeting> {
        let mut state = None;
        for command in history {
            for event in decide(&state, command, NOW).expect("history is valid") {
                apply(&mut state, &event, NOW);
            }
        }
        state
    }

    #[test]
    fn an_instant_meeting_is_created_and_activated() {
        let events = decide(&None, &create(None), NOW).unwrap();
        assert_eq!(
            events.iter().map(MeetingEvent::kind).collect::<Vec<_>>(),
            ["meeting.created", "meeting.activated"]
        );
        let state = given(&[create(None)]).unwrap();
        assert_eq!(state.status, MeetingStatus::Active);
        assert_eq!(state.activated_at, Some(NOW));
    }

    #[test]
    fn a_meeting_decides_its_own_end_time() {
        let capped = |ends_at| {
            let MeetingCommand::Create(mut create) = create(None) else {
                unreachable!()
            };
            create.ends_at = ends_at;
            MeetingCommand::Create(create)
        };
        for too_soon in [NOW - 1, NOW] {
            assert_eq!(
                decide(&None, &capped(Some(too_soon)), NOW),
                Err(MeetingError::EndsBeforeStart)
            );
        }
        let state = given(&[capped(Some(NOW + 600_000))]);
        assert_eq!(state.as_ref().unwrap().ends_at, Some(NOW + 600_000));
        // The scheduler asks early: nothing happens. At the time: it ends.
        let early = decide(&state, &MeetingCommand::EndOnTimeLimit, NOW + 599_999);
        assert_eq!(early, Ok(vec![]));
        let due = decide(&state, &MeetingCommand::EndOnTimeLimit, NOW + 600_000).unwrap();
        assert_eq!(
            due.iter().map(MeetingEvent::kind).collect::<Vec<_>>(),
            ["meeting.ended"]
        );
        // A meeting that knows no end time (an older log's) trusts the scheduler.
        let uncapped = given(&[create(None)]);
        assert_eq!(
            decide(&uncapped, &MeetingCommand::EndOnTimeLimit, NOW).map(|e| e.len()),
            Ok(1)
        );
    }

    #[test]
    fn a_scheduled_meeting_waits() {
        let events = decide(&None, &create(Some(NOW + 60_000)), NOW).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            given(&[create(Some(NOW + 60_000))]).unwrap().status,
            MeetingStatus::Scheduled
        );
    }

    #[test]
    fn a_schedule_in_the_past_or_now_is_refused() {
        for at in [NOW - 1, NOW] {
            assert_eq!(
                decide(&None, &create(Some(at)), NOW),
                Err(MeetingError::ScheduleInPast)
            );
        }
    }

    #[test]
    fn an_id_cannot_be_created_twice() {
        let state = given(&[create(None)]);
        assert_eq!(
            decide(&state, &create(None), NOW),
            Err(MeetingError::AlreadyExists)
        );
    }

    #[test]
    fn ending_an_active_meeting_with_its_token() {
        let state = given(&[create(None)]);
        let events = decide(&state, &end(OWNER, "secret-admin-token"), NOW).unwrap();
        assert_eq!(
            events,
            vec![MeetingEvent::Ended(MeetingEnded {
                reason: EndReason::EndedByHost
            })]
        );
    }

    #[test]
    fn ending_a_scheduled_meeting_cancels_it() {
        let state = given(&[create(Some(NOW + 1))]);
        let events = decide(&state, &end(OWNER, "secret-admin-token"), NOW).unwrap();
        assert_eq!(
            events,
            vec![MeetingEvent::Ended(MeetingEnded {
                reason: EndReason::Cancelled
            })]
        );
    }

    #[test]
    fn a_wrong_token_is_forbidden() {
        let state = given(&[create(None)]);
        assert_eq!(
            decide(&state, &end(OWNER, "guess"), NOW),
            Err(MeetingError::WrongAdminToken)
        );
    }

    #[test]
    fn another_workspace_sees_not_found_even_with_the_right_token() {
        let state = given(&[create(None)]);
        assert_eq!(
            decide(
                &state,
                &end(Workspace::Account(2), "secret-admin-token"),
                NOW
            ),
            Err(MeetingError::NotFound)
        );
        assert_eq!(
            decide(&None, &end(OWNER, "secret-admin-token"), NOW),
            Err(MeetingError::NotFound)
        );
    }

    #[test]
    fn an_ended_meeting_cannot_end_again() {
        let state = given(&[create(None), end(OWNER, "secret-admin-token")]);
        assert_eq!(state.as_ref().unwrap().status, MeetingStatus::Ended);
        assert_eq!(
            decide(&state, &end(OWNER, "secret-admin-token"), NOW),
            Err(MeetingError::AlreadyEnded)
        );
    }

    #[test]
    fn joining_respects_the_cap_and_the_join_settings() {
        let state = given(&[
            create(None),
            host(HostAction::UpdateSettings(SettingsChanged {
                mute_on_join: Some(true),
                ..SettingsChanged::default()
            })),
            join("p1"),
            join("p2"),
        ]);
        let meeting = state.as_ref().unwrap();
        assert!(meeting.participants["p1"].muted);
        assert_eq!(
            decide(&state, &join("p3"), NOW),
            Err(MeetingError::Full {
                max_participants: 2
            })
        );
        assert_eq!(
            decide(&state, &join("p1"), NOW),
            Err(MeetingError::AlreadyJoined)
        );
    }

    #[test]
    fn nobody_joins_a_scheduled_or_ended_meeting() {
        let scheduled = given(&[create(Some(NOW + 5))]);
        assert_eq!(
            decide(&scheduled, &join("p1"), NOW),
            Err(MeetingError::NotStarted {
                scheduled_at: Some(NOW + 5)
            })
        );
        let ended = given(&[create(None), end(OWNER, "secret-admin-token")]);
        assert_eq!(
            decide(&ended, &join("p1"), NOW),
            Err(MeetingError::AlreadyEnded)
        );
    }

    #[test]
    fn a_locked_meeting_admits_an_invite_exactly_once() {
        let state = given(&[create(None), lock(), invite("inv-1")]);
        assert_eq!(decide(&state, &join("p1"), NOW), Err(MeetingError::Locked));
        let state = given(&[
            create(None),
            lock(),
            invite("inv-1"),
            join_with_invite("p1", "inv-1"),
        ]);
        assert!(state.as_ref().unwrap().participants.contains_key("p1"));
        assert_eq!(
            decide(&state, &join_with_invite("p2", "inv-1"), NOW),
            Err(MeetingError::InvalidInvite)
        );
        assert_eq!(
            decide(&state, &join_with_invite("p2", "never-issued"), NOW),
            Err(MeetingError::InvalidInvite)
        );
    }

    #[test]
    fn the_host_joins_a_locked_meeting_with_the_admin_token_and_nobody_else_does() {
        let state = given(&[create(None), lock()]);
        assert_eq!(
            decide(&state, &join_as_host("h", "guessed"), NOW),
            Err(MeetingError::WrongAdminToken)
        );
        let state = given(&[
            create(None),
            lock(),
            join_as_host("h", "secret-admin-token"),
        ]);
        let host = &state.as_ref().unwrap().participants["h"];
        assert!(host.is_host);
        assert_eq!(decide(&state, &join("p1"), NOW), Err(MeetingError::Locked));
    }

    #[test]
    fn participant_actions_log_only_what_changes() {
        let state = given(&[create(None), join("p1")]);
        let kinds = |command| -> Vec<&'static str> {
            decide(&state, &command, NOW)
                .unwrap()
                .iter()
                .map(MeetingEvent::kind)
                .collect()
        };
        assert_eq!(
            kinds(act("p1", ParticipantAction::SetMuted(true))),
            ["meeting.media_changed"]
        );
        assert!(
            kinds(act("p1", ParticipantAction::SetMuted(false))).is_empty(),
            "already unmuted"
        );
        assert_eq!(
            kinds(act("p1", ParticipantAction::RaiseHand(true))),
            ["meeting.hand_changed"]
        );
        assert_eq!(
            kinds(act("p1", ParticipantAction::Chat("hi".into()))),
            ["meeting.chat_message"]
        );
        assert_eq!(
            decide(
                &state,
                &act("p2", ParticipantAction::Chat("hi".into())),
                NOW
            ),
            Err(MeetingError::ParticipantNotFound)
        );
        let recording = ParticipantAction::AnnounceRecording {
            host_name: "p1".into(),
        };
        assert_eq!(
            decide(&state, &act("p1", recording.clone()), NOW),
            Err(MeetingError::NotHost)
        );
        let state = given(&[create(None), join_as_host("h", "secret-admin-token")]);
        assert_eq!(
            decide(&state, &act("h", recording), NOW).unwrap()[0].kind(),
            "meeting.recording_announced"
        );
        let state = given(&[
            create(None),
            join("p1"),
            act("p1", ParticipantAction::SetScreenSharing(true)),
        ]);
        assert!(state.unwrap().participants["p1"].screen_sharing);
    }

    #[test]
    fn participant_controls_name_a_present_participant() {
        let state = given(&[create(None), join("p1")]);
        for action in [
            HostAction::Mute {
                participant_id: "ghost".into(),
            },
            HostAction::RequestUnmute {
                participant_id: "ghost".into(),
            },
            HostAction::Kick {
                participant_id: "ghost".into(),
                reason: None,
            },
        ] {
            assert_eq!(
                decide(&state, &host(action), NOW),
                Err(MeetingError::ParticipantNotFound)
            );
        }
        let kicked = given(&[
            create(None),
            join("p1"),
            host(HostAction::Kick {
                participant_id: "p1".into(),
                reason: Some("spam".into()),
            }),
        ]);
        let meeting = kicked.unwrap();
        assert!(meeting.participants.is_empty());
        assert_eq!(meeting.empty_since, Some(NOW));
    }

    #[test]
    fn mute_all_names_everyone_present_and_mutes_them() {
        let state = given(&[create(None), join("p1"), join("p2")]);
        let events = decide(&state, &host(HostAction::MuteAll), NOW).unwrap();
        assert_eq!(
            events,
            vec![MeetingEvent::AllMuted(AllMuted {
                participant_ids: vec!["p1".into(), "p2".into()]
            })]
        );
        let state = given(&[
            create(None),
            join("p1"),
            join("p2"),
            host(HostAction::MuteAll),
        ]);
        assert!(state.unwrap().participants.values().all(|p| p.muted));
    }

    #[test]
    fn a_settings_change_logs_only_what_differs() {
        let state = given(&[create(None)]);
        let same = host(HostAction::UpdateSettings(SettingsChanged {
            title: Some("Team Standup".into()),
            locked: Some(false),
            ..SettingsChanged::default()
        }));
        assert_eq!(decide(&state, &same, NOW), Ok(vec![]));
        let renamed = host(HostAction::UpdateSettings(SettingsChanged {
            title: Some("Retro".into()),
            locked: Some(false),
            ..SettingsChanged::default()
        }));
        assert_eq!(
            decide(&state, &renamed, NOW),
            Ok(vec![MeetingEvent::SettingsChanged(SettingsChanged {
                title: Some("Retro".into()),
                ..SettingsChanged::default()
            })])
        );
        let state = given(&[create(None), renamed]);
        assert_eq!(state.unwrap().title, "Retro");
    }

    #[test]
    fn host_actions_on_an_ended_meeting_are_refused() {
        let state = given(&[create(None), end(OWNER, "secret-admin-token")]);
        assert_eq!(
            decide(&state, &lock(), NOW),
            Err(MeetingError::AlreadyEnded)
        );
    }

    #[test]
    fn the_schedule_activates_only_when_due() {
        let state = given(&[create(Some(NOW + 10))]);
        assert_eq!(
            decide(&state, &MeetingCommand::ActivateOnSchedule, NOW),
            Ok(vec![])
        );
        assert_eq!(
            decide(&state, &MeetingCommand::ActivateOnSchedule, NOW + 10),
            Ok(vec![MeetingEvent::Activated(MeetingActivated {
                trigger: ActivationTrigger::Schedule
            })])
        );
    }

    #[test]
    fn an_empty_meeting_expires_only_after_the_period() {
        let state = given(&[create(None)]);
        let expire = MeetingCommand::ExpireIfEmpty { empty_for_ms: 100 };
        assert_eq!(decide(&state, &expire, NOW + 99), Ok(vec![]));
        assert_eq!(
            decide(&state, &expire, NOW + 100),
            Ok(vec![MeetingEvent::Ended(MeetingEnded {
                reason: EndReason::Expired
            })])
        );
        let occupied = given(&[create(None), join("p1")]);
        assert_eq!(decide(&occupied, &expire, NOW + 1_000), Ok(vec![]));
    }
}
