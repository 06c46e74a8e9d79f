//! Development tokens: HS256 JWTs signed with `BETTER_AUTH_SECRET`, shaped like
//! the ones a Better Auth server issues.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Signs local tokens when BETTER_AUTH_SECRET is unset. Public on purpose:
/// it only ever guards a database on the developer's own machine.
pub const LOCAL_DEV_SECRET: &str = "local-development-secret-not-for-production";

/// How long a dev token is valid.
pub const DEV_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The secret dev tokens are signed with: BETTER_AUTH_SECRET, else the
/// well-known local one that the tokens in events/ are signed with, so
/// `cargo lambda invoke --data-file events/...` works against `cargo xtask dev`.
pub fn dev_secret() -> String {
    std::env::var("BETTER_AUTH_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| LOCAL_DEV_SECRET.to_owned())
}

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

/// `cargo xtask token --user ID`.
pub fn command(user: &str) -> anyhow::Result<()> {
    println!("{}", mint(&dev_secret(), user, DEV_LIFETIME));
    Ok(())
}
