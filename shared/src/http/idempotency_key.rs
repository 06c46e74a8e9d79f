//! The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header).

use crate::error::ApiError;
use crate::tasks::IdempotencyKey;
use lambda_http::http::HeaderMap;

pub const HEADER: &str = "idempotency-key";

/// The key, if the request has one. The draft makes the value a
/// structured-field string (`"…"`); the bare tokens most clients send
/// (Stripe's style, UUIDs) are accepted as they are.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
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
    IdempotencyKey::new(key).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Option<IdempotencyKey>, ApiError> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(HEADER, value.parse().unwrap());
        }
        idempotency_key(&headers)
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
