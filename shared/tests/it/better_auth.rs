//! Interoperability with the real Better Auth: tokens and the JWKS exactly as
//! its JWT plugin issues them (EdDSA), and an HS256 token made with jose the
//! way HS256 setups make them. `cargo xtask test` installs the pinned npm
//! packages of xtask/interop/better-auth into target/ and points us there.

use serde_json::{json, Value};
use shared::config::{AuthConfig, Config};
use std::process::Command;
use testkit::*;
use xtask::jwks_server::JwksServer;

const BETTER_AUTH_URL: &str = "http://localhost:3000";

/// Runs the Node script: a fresh user signed up in an in-memory Better Auth.
fn issue_tokens() -> Value {
    let dir = std::env::var("TEST_BETTER_AUTH_DIR")
        .expect("TEST_BETTER_AUTH_DIR is set by `cargo xtask test` after npm ci");
    let output = Command::new("node")
        .arg("issue-tokens.mjs")
        .current_dir(dir)
        .env("BETTER_AUTH_SECRET", SECRET)
        .output()
        .expect("node is on the machine");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints one JSON object")
}

fn config_with(auth: AuthConfig) -> Config {
    let mut config = config_for(&database_url());
    config.auth = auth;
    config
}

async fn assert_accepted(config: Config, issued: &Value, token_field: &str) {
    let user_id = issued["userId"].as_str().unwrap();
    let token = issued[token_field].as_str().unwrap();
    let app = app_with(config).await;
    let reply = Call::new(CreateTask)
        .path_user(user_id)
        .authorization(Some(format!("Bearer {token}")))
        .json(json!({"title": "from Better Auth"}))
        .send(&app)
        .await;
    reply.expect(201);
    assert_eq!(reply.json()["user_id"], json!(user_id));
    let stored: Option<String> = sql()
        .await
        .query_one("SELECT email FROM users WHERE id = $1", &[&user_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored.as_deref(), issued["email"].as_str());
    // Someone else's path stays forbidden.
    Call::new(ListTasks)
        .path_user("someone-else")
        .authorization(Some(format!("Bearer {token}")))
        .send(&app)
        .await
        .problem(403);
}

#[tokio::test]
async fn jwt_plugin_tokens_are_accepted_through_an_inline_jwks() {
    let issued = issue_tokens();
    let config = config_with(AuthConfig {
        jwks: Some(issued["jwks"].to_string()),
        // Better Auth sets iss and aud to its base URL.
        issuer: Some(BETTER_AUTH_URL.into()),
        audience: Some(BETTER_AUTH_URL.into()),
        ..AuthConfig::default()
    });
    assert_accepted(config, &issued, "token").await;
}

#[tokio::test]
async fn jwt_plugin_tokens_are_accepted_through_a_jwks_url() {
    let issued = issue_tokens();
    let server = JwksServer::start(Some(issued["jwks"].to_string()));
    let config = config_with(AuthConfig {
        jwks_url: Some(server.url.clone()),
        ..AuthConfig::default()
    });
    assert_accepted(config, &issued, "token").await;
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn hs256_tokens_signed_with_the_better_auth_secret_are_accepted() {
    let issued = issue_tokens();
    let config = config_with(AuthConfig {
        secret: Some(SECRET.into()),
        ..AuthConfig::default()
    });
    assert_accepted(config, &issued, "hs256").await;
}
