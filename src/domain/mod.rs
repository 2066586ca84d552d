//! Domain newtypes: values that are valid by construction. Each has a `parse` that says
//! precisely what is wrong with bad input, in words an API client can show.

mod email;
mod money;
mod numbers;
mod password;
mod secrets;
mod time;
mod title;

pub use email::Email;
pub use money::{render_minutes, Micros};
pub use numbers::{whole_number, whole_number_required};
pub use password::{verify_password, Password, DECOY_HASH};
pub use secrets::{
    decode_hex, hmac_sha256_hex, to_hex, AdminToken, ApiKey, InviteCode, SecretToken,
};
pub use time::{format_iso_millis, format_iso_seconds, parse_iso8601};
pub use title::Title;
