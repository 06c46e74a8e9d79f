//! Applies `migrations/` with refinery, over the same connection code (TLS,
//! `sslmode`) the functions use, under a session advisory lock: two runs at
//! once (two pipeline jobs, a retried deploy) take turns instead of both
//! applying the same migration. Needs a direct connection, not the pooler: a
//! session lock means nothing through PgBouncer in transaction mode.

use anyhow::Context;
use shared::config::DatabaseConfig;
use shared::db::Database;
use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// The advisory lock's key: "taskmigr" as a big-endian i64, so it cannot
/// collide with a key another tool is likely to pick.
const LOCK_KEY: i64 = i64::from_be_bytes(*b"taskmigr");

/// Applies every pending migration; returns the names of those applied now.
pub async fn run(url: &str) -> anyhow::Result<Vec<String>> {
    run_to(url, None).await
}

/// Applies pending migrations up to `version` (all with `None`): tests use it
/// to put rows in an older schema and watch a migration carry them over.
pub async fn run_to(url: &str, version: Option<i32>) -> anyhow::Result<Vec<String>> {
    let database = Database::new(&DatabaseConfig {
        url: url.to_owned(),
        connect_timeout: Duration::from_secs(15),
        query_timeout: Duration::from_secs(300),
    })?;
    let mut client = database
        .open_dedicated()
        .await
        .context("connecting to DATABASE_URL")?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .context("waiting for the migration lock")?;
    let mut runner = embedded::migrations::runner();
    if let Some(version) = version {
        runner = runner.set_target(refinery::Target::Version(version));
    }
    let report = runner
        .run_async(&mut client)
        .await
        .context("applying migrations");
    // Ending the session would release it too; this is for clarity.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await;
    Ok(report?
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}

/// `cargo xtask migrate`: migrations/ applied to DATABASE_URL.
pub fn command() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL must be set")?;
    let applied = crate::block_on(run(&url))?;
    if applied.is_empty() {
        println!("database is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}
