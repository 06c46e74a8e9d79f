//! Development tokens: HS256 JWTs signed with `BETTER_AUTH_SECRET`, shaped like
//! the ones a Better Auth server issues.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Signs local tokens when BETTER_AUTH_SECRET is unset. Public on purpose:
/// it only ever guards a database on the developer's own machine.
pub const LOCAL_DEV_SECRET: &str = "local-development-secret-not-for-production";

pub fn mint(secret: &str, user_id: &str, valid_for: Duration) -> String {
    let now = now_secs();
    sign(
        secret,
        &json!({
            "sub": user_id,
            "name": user_id,
            "email": format!("{user_id}@example.com"),
            "iat": now,
            "exp": now + valid_for.as_secs(),
        }),
    )
}

/// Any claims, HS256-signed with `secret` (the tests also sign bad ones).
pub fn sign(secret: &str, claims: &serde_json::Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// Seconds since the Unix epoch, as JWT time claims count.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}
