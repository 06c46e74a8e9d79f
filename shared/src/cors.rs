//! The API's CORS policy for browser clients, declared once. API Gateway
//! applies it in production (template.yaml's `CorsConfiguration`, kept equal to
//! this by `xtask/tests/it/routes.rs`); `cargo xtask dev` applies it locally in
//! front of `cargo lambda watch`. The functions themselves never write CORS
//! headers: API Gateway would ignore them anyway.

/// Methods a browser may send after a preflight (GET, HEAD and POST are
/// allowed without one, but are listed for clarity, as API Gateway expects).
pub const ALLOW_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// Request headers a browser app may set.
pub const ALLOW_HEADERS: &[&str] = &[
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
];

/// Response headers a browser app must be able to read: every header the API
/// sends beyond the CORS-safelisted ones (Cache-Control, Content-Language,
/// Content-Length, Content-Type, Expires, Last-Modified, Pragma).
pub const EXPOSE_HEADERS: &[&str] = &[
    "Location",
    "ETag",
    "Link",
    "Retry-After",
    "WWW-Authenticate",
    "Allow",
    "Idempotent-Replayed",
    "Accept-Encoding",
];

/// Seconds a browser may cache a preflight's answer.
pub const MAX_AGE_SECS: u32 = 600;

/// The origins allowed by default: the Next.js dev server.
pub const DEV_ORIGINS: &[&str] = &["http://localhost:3000", "http://127.0.0.1:3000"];

/// Response headers that need no exposing (Fetch standard, "CORS-safelisted
/// response-header name").
pub const SAFELISTED_RESPONSE_HEADERS: &[&str] = &[
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];
