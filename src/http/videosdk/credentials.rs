//! `/api/user/videosdk-credentials`: an account's VideoSDK API keys and secrets — created
//! (the secret shown once), listed (key and creation time, never the secret), revoked (its
//! tokens refused at once). Native endpoints (session or `X-API-Key`, native errors).
//!
//! The pair is logged as `videosdk.credential_created` in the account's stream. The secret is
//! kept, not hashed — every token's HS256 signature is checked with it — and no API shows it
//! again (the event feed and audit endpoints show meeting streams only).

use convene_events::catalog::videosdk::CredentialCreated;
use rand::Rng;
use serde::Serialize;
use utoipa::ToSchema;
use warp::reply::Response;

use crate::app::AppError;
use crate::app::AppState;
use crate::domain::SecretToken;
use crate::http::auth::{authenticate, Caller};
use crate::http::body::parse_json;
use crate::http::error::ErrorBody;
use crate::http::error::NATIVE;
use crate::http::reply;
use crate::http::router::Router;
use convene_actors::AccountCommand;

pub fn routes(router: &mut Router) {
    router
        .add::<__path_list_credentials>(NATIVE)
        .serve(|r| async move { list_credentials(r.state, r.caller) });
    router
        .add::<__path_create_credential>(NATIVE)
        .serve(|r| async move { create_credential(r.state, r.caller, &r.body?).await });
    router
        .add::<__path_revoke_credential>(NATIVE)
        .serve(|r| async move { revoke_credential(r.state, r.caller, &r.params[0]).await });
}

/// A credential as its account sees it: the key and when it was made, never the secret.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkCredentialSummary)]
pub struct CredentialSummary {
    api_key: String,
    #[schema(format = DateTime)]
    created_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = VsdkCredentialList)]
pub struct CredentialList {
    credentials: Vec<CredentialSummary>,
}

/// The account's VideoSDK API keys, oldest first (the secrets are never shown again).
#[utoipa::path(
    get, path = "/api/user/videosdk-credentials", tag = "videosdk",
    security(("api_key" = []), ("session" = [])),
    responses((status = 200, description = "the account's keys", body = CredentialList))
)]
pub(super) fn list_credentials(state: AppState, caller: Caller) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let credentials = state
        .projections
        .videosdk()
        .credentials_of(principal.account_id())?
        .into_iter()
        .map(|row| CredentialSummary {
            api_key: row.api_key,
            created_at: crate::domain::format_iso_seconds(row.created_at),
        })
        .collect();
    Ok(reply::ok(&CredentialList { credentials }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkCredentialRevoked)]
pub struct Revoked {
    message: &'static str,
    api_key: String,
}

/// Revokes one of the account's VideoSDK API keys: every token it signed is refused from the
/// next request on, on the REST API and for realtime joins alike.
#[utoipa::path(
    delete, path = "/api/user/videosdk-credentials/{apiKey}", tag = "videosdk",
    params(("apiKey" = String, Path)),
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 200, description = "revoked", body = Revoked),
        (status = 404, description = "no such key of this account", body = ErrorBody),
    )
)]
pub(super) async fn revoke_credential(
    state: AppState,
    caller: Caller,
    api_key: &str,
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let command = AccountCommand::RevokeVideoSdkCredential {
        api_key: api_key.to_owned(),
    };
    let (_, seq) = state
        .accounts
        .execute(principal.account_id(), command, principal.actor())
        .await?;
    state.caught_up(seq).await?;
    tracing::info!(
        account_id = principal.account_id(),
        api_key,
        "videosdk credential revoked"
    );
    Ok(reply::ok(&Revoked {
        message: "credential revoked",
        api_key: api_key.to_owned(),
    }))
}

/// No fields: an empty body or `{}`.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VsdkCredentialRequest)]
pub(super) struct CredentialRequest {}

/// `201`: the pair, the secret shown only here.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VsdkCredential)]
pub struct CredentialView {
    /// The JWT's `apikey` claim.
    #[schema(example = "3f0e8e5c-2b7a-4c1e-9d2f-6a1b2c3d4e5f")]
    api_key: String,
    /// Signs the tokens (HS256). Shown once.
    secret: String,
    #[schema(example = "store the secret now: it is not shown again")]
    message: String,
}

/// A fresh API key: 16 random bytes as a version-4 UUID.
fn new_api_key() -> String {
    let mut bytes: [u8; 16] = rand::rng().random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = crate::domain::to_hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Creates a VideoSDK API key and secret for the account; tokens signed with it act in the
/// account's workspace (its company's, for a member).
#[utoipa::path(
    post, path = "/api/user/videosdk-credentials", tag = "videosdk",
    request_body = Option<CredentialRequest>,
    security(("api_key" = []), ("session" = [])),
    responses(
        (status = 201, description = "created; the secret is shown only here", body = CredentialView),
        (status = 403, description = "the account is inactive, or a cookie request from another origin", body = ErrorBody),
    )
)]
pub(super) async fn create_credential(
    state: AppState,
    caller: Caller,
    body: &[u8],
) -> Result<Response, AppError> {
    let principal = authenticate(&caller, &state)?;
    let _: CredentialRequest = parse_json(body)?;
    let created = CredentialCreated {
        api_key: new_api_key(),
        secret: SecretToken::generate().expose().to_owned(),
    };
    let command = AccountCommand::CreateVideoSdkCredential(created.clone());
    let (_, seq) = state
        .accounts
        .execute(principal.account_id(), command, principal.actor())
        .await?;
    state.caught_up(seq).await?;
    tracing::info!(
        account_id = principal.account_id(),
        api_key = %created.api_key,
        "videosdk credential created"
    );
    Ok(reply::created(&CredentialView {
        api_key: created.api_key,
        secret: created.secret,
        message: "store the secret now: it is not shown again".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_version_4_uuids() {
        let key = new_api_key();
        assert_eq!(key.len(), 36);
        assert_eq!(key.as_bytes()[14], b'4');
        assert!(matches!(key.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(key, new_api_key());
    }
}
