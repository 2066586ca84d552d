//! A meeting's settings as every dialect and wire reads and changes them: one request shape
//! (REST `PATCH …/settings` and realtime `host:settings` alike), one view, and the participant
//! cap rule in one place.

use convene_events::catalog::meeting::{MeetingSettings, SettingsChanged};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppError;
use crate::config::LimitsConfig;
use crate::domain::Title;

/// A partial update: only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = SettingsRequest)]
pub struct SettingsPatch {
    /// Not blank; at most `limits.title_chars` characters, no control characters.
    pub title: Option<String>,
    pub mute_on_join: Option<bool>,
    pub video_off_on_join: Option<bool>,
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "crate::domain::whole_number")]
    pub max_participants: Option<u32>,
    pub locked: Option<bool>,
    pub waiting_room: Option<bool>,
}

impl SettingsPatch {
    /// The change this patch asks for, or what is wrong with it.
    pub fn parse(self, limits: &LimitsConfig) -> Result<SettingsChanged, AppError> {
        let title = match self.title.as_deref() {
            Some(raw) => {
                let title = Title::parse(Some(raw), "", limits.title_chars)
                    .map_err(AppError::BadRequest)?
                    .into_inner();
                if title.is_empty() {
                    return Err(AppError::BadRequest("title must not be empty".into()));
                }
                Some(title)
            }
            None => None,
        };
        if let Some(max) = self.max_participants {
            check_max_participants(limits, max)?;
        }
        Ok(SettingsChanged {
            title,
            mute_on_join: self.mute_on_join,
            video_off_on_join: self.video_off_on_join,
            max_participants: self.max_participants,
            locked: self.locked,
            waiting_room: self.waiting_room,
        })
    }
}

/// The participant cap rule: from 1 to `limits.max_participants`.
pub fn check_max_participants(
    limits: &LimitsConfig,
    max_participants: u32,
) -> Result<(), AppError> {
    let cap = limits.max_participants;
    if (1..=cap).contains(&max_participants) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "maxParticipants must be between 1 and {cap}"
        )))
    }
}

/// How a meeting starts for its participants and who may join (onepizza §3, §6), as every
/// answer and every realtime event shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MeetingSettingsView)]
pub struct SettingsView {
    pub mute_on_join: bool,
    pub video_off_on_join: bool,
    pub max_participants: u32,
    pub locked: bool,
    pub waiting_room: bool,
}

impl From<&MeetingSettings> for SettingsView {
    fn from(settings: &MeetingSettings) -> Self {
        Self {
            mute_on_join: settings.mute_on_join,
            video_off_on_join: settings.video_off_on_join,
            max_participants: settings.max_participants,
            locked: settings.locked,
            waiting_room: settings.waiting_room,
        }
    }
}
