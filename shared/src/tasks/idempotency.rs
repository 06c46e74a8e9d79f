//! `Idempotency-Key` on create (draft-ietf-httpapi-idempotency-key-header):
//! a client retrying a POST it never got an answer for sends the same key, and
//! gets the original 201 instead of a second task. Keys are per user and kept
//! for [`KEY_LIFETIME_HOURS`]; the whole check happens inside the create
//! statement (see `store::create`), so a first request is still one round trip.

use crate::error::ApiError;
use lambda_http::http::HeaderMap;

pub const HEADER: &str = "idempotency-key";
pub const KEY_LIFETIME_HOURS: u32 = 24;
const MAX_KEY_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key, if the request has one. The draft makes the value a
    /// structured-field string (`"…"`); the bare tokens most clients send
    /// (Stripe's style, UUIDs) are accepted as they are.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        let invalid = |message: &str| ApiError::invalid("Idempotency-Key", message);
        if values.next().is_some() {
            return Err(invalid("must be given once"));
        }
        let text = value
            .to_str()
            .map_err(|_| invalid("must be visible ASCII"))?;
        let key = text
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(text);
        if key.is_empty() || key.len() > MAX_KEY_CHARS {
            return Err(invalid("must be 1–255 characters"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
            return Err(invalid(
                "must be visible ASCII without spaces or quotes (a UUID is a good key)",
            ));
        }
        Ok(Some(Self(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Option<IdempotencyKey>, ApiError> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(HEADER, value.parse().unwrap());
        }
        IdempotencyKey::from_headers(&headers)
    }

    #[test]
    fn bare_and_quoted_keys() {
        assert_eq!(parse(&[]).unwrap(), None);
        let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
        assert_eq!(parse(&[uuid]).unwrap().unwrap().as_str(), uuid);
        assert_eq!(
            parse(&[&format!("\"{uuid}\"")]).unwrap().unwrap().as_str(),
            uuid
        );
    }

    #[test]
    fn bad_keys_are_client_errors() {
        let long = "k".repeat(256);
        for values in [
            &["\"\""][..],
            &[long.as_str()],
            &["a", "b"],
            &["tab\there"],
            &["with space"],
            &["\"half"],
            &["in\"side"],
        ] {
            assert!(parse(values).is_err(), "{values:?}");
        }
    }
}
