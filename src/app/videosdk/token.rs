//! VideoSDK access tokens: `Authorization: <JWT>` (or `Bearer <JWT>`), HS256-signed with the
//! secret of one of the account's VideoSDK credentials.
//!
//! The token names its credential in the `apikey` claim, so the payload is read once unverified
//! to find the secret, then the whole token is verified with it (jsonwebtoken, HS256 only: a
//! token with `alg: none` or any other algorithm is refused before any key is looked at).
//! Expiry is checked against the server's clock (tests move it); `exp` is required.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use convene_events::{Actor, Workspace};
use convene_projections::AccountRow;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::app::principal::ensure_active;
use crate::app::AppError;
use crate::app::AppState;

/// What a token lets its holder do in a meeting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Joins directly.
    pub allow_join: bool,
    /// Joins through the waiting room: a moderator lets them in.
    pub ask_join: bool,
    /// Moderates: mutes and removes others (joins as the session's host).
    pub allow_mod: bool,
}

/// Where a token may be used; without `roles` it may be used everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    /// The server API (`/v2/...`).
    pub crawler: bool,
    /// Joining meetings.
    pub rtc: bool,
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub api_key: String,
    pub account: AccountRow,
    pub permissions: Permissions,
    pub roles: Roles,
    /// Only this room (its roomId or customRoomId), when set.
    pub room_id: Option<String>,
    /// Only this participant, when set.
    pub participant_id: Option<String>,
}

impl VerifiedToken {
    /// The workspace it acts in: the account's company's, for a member (like an API key).
    pub fn workspace(&self) -> Workspace {
        match self.account.company {
            Some((company_id, _)) => Workspace::Company(company_id),
            None => Workspace::Account(self.account.account_id),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Account {
            account_id: self.account.account_id,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    apikey: String,
    permissions: Vec<String>,
    version: Option<u32>,
    room_id: Option<String>,
    participant_id: Option<String>,
    roles: Option<Vec<String>>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

/// Just enough of the payload to find the credential.
#[derive(Deserialize)]
struct Unverified {
    apikey: Option<String>,
}

/// The token of a request: the header's value, without a `Bearer ` prefix if it has one.
pub fn from_header(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
        _ => value,
    }
}

const INVALID: &str = "invalid token";

/// Verifies `token` and the account behind it. 401 for anything wrong with the token, 403 for a
/// deactivated account.
pub fn verify(state: &AppState, token: &str) -> Result<VerifiedToken, AppError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AppError::Unauthorized("invalid token: not a signed JWT"))?;
    if header.alg != Algorithm::HS256 {
        return Err(AppError::Unauthorized(
            "invalid token: it must be signed with HS256",
        ));
    }
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice::<Unverified>(&bytes).ok())
        .ok_or(AppError::Unauthorized(INVALID))?;
    let api_key = payload
        .apikey
        .ok_or(AppError::Unauthorized("invalid token: apikey is missing"))?;
    let credential = state
        .projections
        .videosdk()
        .credential(&api_key)?
        .ok_or(AppError::Unauthorized("invalid token: unknown apikey"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked below against the server's clock.
    validation.validate_exp = false;
    validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(credential.secret.as_bytes()),
        &validation,
    )
    .map_err(|err| {
        use jsonwebtoken::errors::ErrorKind;
        AppError::Unauthorized(match err.kind() {
            ErrorKind::InvalidSignature => "invalid token: wrong signature",
            ErrorKind::MissingRequiredClaim(_) => "invalid token: exp is missing",
            ErrorKind::Json(_) => "invalid token: its claims are malformed",
            _ => INVALID,
        })
    })?
    .claims;
    if claims.apikey != api_key {
        return Err(AppError::Unauthorized(INVALID));
    }
    let now_secs = state.clock.now_ms().div_euclid(1000);
    let exp = claims
        .exp
        .ok_or(AppError::Unauthorized("invalid token: exp is missing"))?;
    if exp <= now_secs {
        return Err(AppError::Unauthorized("invalid token: it has expired"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now_secs) {
        return Err(AppError::Unauthorized("invalid token: not valid yet (nbf)"));
    }
    let scoped =
        claims.room_id.is_some() || claims.participant_id.is_some() || claims.roles.is_some();
    if scoped && claims.version != Some(2) {
        return Err(AppError::Unauthorized(
            "invalid token: roomId, participantId and roles need version 2",
        ));
    }
    let mut permissions = Permissions::default();
    for permission in &claims.permissions {
        match permission.as_str() {
            "allow_join" => permissions.allow_join = true,
            "ask_join" => permissions.ask_join = true,
            "allow_mod" => permissions.allow_mod = true,
            _ => {
                return Err(AppError::Unauthorized(
                    "invalid token: permissions may hold allow_join, ask_join and allow_mod",
                ))
            }
        }
    }
    let roles = match &claims.roles {
        None => Roles {
            crawler: true,
            rtc: true,
        },
        Some(roles) => {
            let mut parsed = Roles {
                crawler: false,
                rtc: false,
            };
            for role in roles {
                match role.as_str() {
                    "crawler" => parsed.crawler = true,
                    "rtc" => parsed.rtc = true,
                    _ => {
                        return Err(AppError::Unauthorized(
                            "invalid token: roles may hold crawler and rtc",
                        ))
                    }
                }
            }
            parsed
        }
    };
    let account = state
        .projections
        .accounts()
        .account(credential.account_id)?
        .ok_or(AppError::Unauthorized("invalid token: unknown apikey"))?;
    ensure_active(state, &account)?;
    Ok(VerifiedToken {
        api_key,
        account,
        permissions,
        roles,
        room_id: claims.room_id,
        participant_id: claims.participant_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_prefix_is_optional() {
        assert_eq!(from_header("Bearer abc.def.ghi"), "abc.def.ghi");
        assert_eq!(from_header("bearer  abc.def.ghi "), "abc.def.ghi");
        assert_eq!(from_header("abc.def.ghi"), "abc.def.ghi");
        assert_eq!(from_header("Bear"), "Bear");
    }
}
