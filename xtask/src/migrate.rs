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
