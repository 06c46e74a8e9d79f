//! Applies `migrations/` with refinery, over the same connection code (TLS,
//! `sslmode`) the functions use.

use anyhow::Context;
use shared::config::DatabaseConfig;
use shared::db::Database;
use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Applies every pending migration; returns the names of those applied now.
pub async fn run(url: &str) -> anyhow::Result<Vec<String>> {
    let database = Database::new(&DatabaseConfig {
        url: url.to_owned(),
        connect_timeout: Duration::from_secs(15),
        query_timeout: Duration::from_secs(300),
    })?;
    let mut client = database
        .open_dedicated()
        .await
        .context("connecting to DATABASE_URL")?;
    let report = embedded::migrations::runner()
        .run_async(&mut client)
        .await
        .context("applying migrations")?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}
