//! The one error type of the API. Every failure a handler can meet becomes an
//! [`ApiError`], and [`ApiError::status`] is the only place that decides its HTTP status.

use crate::db::DbError;
use lambda_http::http::StatusCode;
use serde::Serialize;

/// One broken rule of one input field, listed in the problem's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client sent something that breaks the contract; nothing was changed.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Missing or unacceptable token. The reason is shown to the client (it helps
    /// front-end developers) and logged; it never contains the token itself.
    #[error("{0}")]
    Unauthorized(String),
    #[error("the token's subject is not the user in the path")]
    Forbidden,
    #[error("no such task")]
    NotFound,
    /// No endpoint serves this method on this route; the methods that are served.
    #[error("this method is not allowed here; use one of {0}")]
    MethodNotAllowed(String),
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    /// The body came with a content coding (gzip, ...): this API reads
    /// identity only, and says so in `Accept-Encoding` (RFC 7694).
    #[error("Content-Encoding '{0}' is not supported: send the body uncompressed (identity)")]
    UnsupportedContentEncoding(String),
    /// A request with this Idempotency-Key is still being processed.
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyKeyInFlight,
    /// The PUT/PATCH/DELETE carried an If-Match that no longer matches.
    #[error("the task has changed since that ETag was issued: GET it again, then retry")]
    PreconditionFailed,
    /// The user holds as many tasks as the deployment allows
    /// (`MAX_TASKS_PER_USER`), or more (the limit was lowered); nothing was
    /// stored. Deleting tasks frees slots: a conflict with the collection's
    /// state that the user can resolve (RFC 9110 §15.5.10), not a rate
    /// (429: waiting changes nothing) nor a permission (403: this API's
    /// answer to another user's path).
    #[error(
        "this user holds {count} tasks and may hold at most {limit}: delete some to create more"
    )]
    TaskLimitReached { limit: i32, count: i32 },
    /// The Idempotency-Key was already used, within its lifetime, for a
    /// different request.
    #[error("this Idempotency-Key was already used for a request with a different body")]
    IdempotencyKeyReused,
    /// The database could not be reached or did not answer in time. The reason
    /// is logged, never sent: it can name hosts.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Connecting to the database or the statement exceeded its timeout;
    /// answered as [`ApiError::Unavailable`], counted apart (slow, not gone).
    #[error("database unavailable: {0}")]
    DatabaseTimeout(String),
    /// The token's verification keys (a remote JWKS) could not be fetched:
    /// the server's problem, so 503 rather than 401.
    #[error("token keys unavailable: {0}")]
    KeysUnavailable(String),
    /// A bug. The reason is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 for a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::invalid_fields(vec![FieldError::new(field, message)])
    }

    /// A 400 listing every broken rule, so a form can show them all at once.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::BadRequest { detail, errors }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedContentEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyInFlight | Self::TaskLimitReached { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) | Self::DatabaseTimeout(_) | Self::KeysUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable name for logs and metrics: what went wrong, in one word.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest { .. } => "bad_request",
            Self::Unauthorized(_) => "auth_refused",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedContentEncoding(_) => "unsupported_encoding",
            Self::IdempotencyKeyInFlight => "idempotency_key_in_flight",
            Self::TaskLimitReached { .. } => "task_limit_reached",
            Self::PreconditionFailed => "precondition_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Unavailable(_) => "database_unavailable",
            Self::DatabaseTimeout(_) => "database_timeout",
            Self::KeysUnavailable(_) => "keys_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The `detail` member shown to the client: server-side reasons stay in the logs.
    pub fn public_detail(&self) -> String {
        match self {
            Self::Unavailable(_) | Self::DatabaseTimeout(_) => {
                "the database is temporarily unavailable; retry shortly".to_owned()
            }
            Self::KeysUnavailable(_) => {
                "the token verification keys are temporarily unavailable; retry shortly".to_owned()
            }
            Self::Internal(_) => "an unexpected error occurred".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::BadRequest { errors, .. } => errors,
            _ => &[],
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(reason) => ApiError::Unavailable(reason),
            DbError::TimedOut(reason) => ApiError::DatabaseTimeout(reason),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_own_status() {
        let cases = [
            (ApiError::invalid("title", "is required"), 400),
            (ApiError::Unauthorized("token expired".into()), 401),
            (ApiError::Forbidden, 403),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed("GET".into()), 405),
            (ApiError::PayloadTooLarge, 413),
            (ApiError::UnsupportedContentEncoding("gzip".into()), 415),
            (ApiError::IdempotencyKeyInFlight, 409),
            (
                ApiError::TaskLimitReached {
                    limit: 10,
                    count: 10,
                },
                409,
            ),
            (ApiError::PreconditionFailed, 412),
            (ApiError::IdempotencyKeyReused, 422),
            (ApiError::Unavailable("connect refused".into()), 503),
            (ApiError::DatabaseTimeout("statement timed out".into()), 503),
            (ApiError::KeysUnavailable("jwks down".into()), 503),
            (ApiError::Internal("bug".into()), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn server_side_reasons_are_not_public() {
        let unavailable = ApiError::Unavailable("db.internal:5432 refused".into());
        assert!(!unavailable.public_detail().contains("db.internal"));
        let internal = ApiError::Internal("SELECT secret FROM x".into());
        assert!(!internal.public_detail().contains("SELECT"));
    }

    #[test]
    fn detail_lists_every_field() {
        let error = ApiError::invalid_fields(vec![
            FieldError::new("title", "is required"),
            FieldError::new("completed", "must be a boolean"),
        ]);
        assert_eq!(
            error.public_detail(),
            "title is required; completed must be a boolean"
        );
        assert_eq!(error.field_errors().len(), 2);
    }

    #[test]
    fn a_timeout_is_a_503_counted_apart_from_an_outage() {
        let timed_out = ApiError::from(DbError::TimedOut("statement timed out".into()));
        let gone = ApiError::from(DbError::Unavailable("connection refused".into()));
        assert_eq!(timed_out.status(), gone.status());
        assert_eq!(timed_out.public_detail(), gone.public_detail());
        assert_eq!(
            (timed_out.kind(), gone.kind()),
            ("database_timeout", "database_unavailable")
        );
    }
}
