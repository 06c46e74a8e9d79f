//! `Idempotency-Key` on create (draft-ietf-httpapi-idempotency-key-header):
//! a client retrying a POST it never got an answer for sends the same key, and
//! gets the original 201 instead of a second task. Keys are per user and kept
//! for [`KEY_LIFETIME_HOURS`]; the whole check happens inside the create
//! statement (see `store::create`), so a first request is still one round trip.
//! The header itself is read in `http::idempotency_key`.

use crate::error::ApiError;

pub const KEY_LIFETIME_HOURS: u32 = 24;
const MAX_KEY_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key as the client chose it: 1–255 visible ASCII characters,
    /// without spaces or quotes.
    pub fn new(key: &str) -> Result<Self, ApiError> {
        let invalid = |message: &str| ApiError::invalid("Idempotency-Key", message);
        if key.is_empty() || key.len() > MAX_KEY_CHARS {
            return Err(invalid("must be 1–255 characters"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
            return Err(invalid(
                "must be visible ASCII without spaces or quotes (a UUID is a good key)",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
