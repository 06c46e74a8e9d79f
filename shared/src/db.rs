//! The function instance's single database connection.
//!
//! Opened at init, reused by every warm invocation, reopened by the next call
//! after it broke. The holder is `Send + Sync` and reconnects under a lock, so
//! concurrent invocations (Lambda Managed Instances) share one connection and
//! cannot race to open two.

use crate::config::DatabaseConfig;
use crate::encoding::percent_decode;
use crate::error::ApiError;
use native_tls::{Certificate, TlsConnector};
use postgres_native_tls::MakeTlsConnector;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row};

/// One statement parameter with its type, as `query_typed` wants it: the
/// statement then goes out as one unnamed Parse/Bind/Execute/Sync, a single
/// round trip that also works behind PgBouncer in transaction mode.
pub type Param<'a> = (&'a (dyn ToSql + Sync), Type);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Config(String),
    /// Unreachable, timed out, or shutting down: worth retrying later.
    #[error("{0}")]
    Unavailable(String),
    /// The server rejected the statement: a bug on our side.
    #[error("statement failed: {0}")]
    Statement(String),
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(reason) => ApiError::Unavailable(reason),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// libpq's `sslmode` values (`allow` is treated as `prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

pub struct Database {
    pg: tokio_postgres::Config,
    tls: Option<MakeTlsConnector>,
    connect_timeout: Duration,
    query_timeout: Duration,
    client: Mutex<Option<Arc<Client>>>,
}

impl Database {
    /// Parses the URL and prepares TLS; connects nothing yet.
    pub fn new(config: &DatabaseConfig) -> Result<Self, DbError> {
        let (url, ssl) = split_ssl_options(&config.url)?;
        let mut pg: tokio_postgres::Config =
            url.parse().map_err(|e| DbError::Config(format!("{e}")))?;
        if pg.get_application_name().is_none() {
            pg.application_name("task-api");
        }
        pg.connect_timeout(config.connect_timeout);
        pg.ssl_mode(match ssl.mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        let tls = match ssl.mode {
            SslMode::Disable => None,
            mode => Some(tls_connector(mode, ssl.root_cert.as_deref())?),
        };
        Ok(Self {
            pg,
            tls,
            connect_timeout: config.connect_timeout,
            query_timeout: config.query_timeout,
            client: Mutex::new(None),
        })
    }

    /// Opens the connection during init so the first request does not pay for
    /// it. A database that is down now is not fatal: requests answer 503 and
    /// the next one tries again.
    pub async fn warm_up(&self) {
        if let Err(error) = self.client().await {
            tracing::warn!(%error, "database not reachable at init; will retry on the next request");
        }
    }

    /// Runs one statement in one round trip, within the query timeout.
    pub async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        let client = self.client().await?;
        match tokio::time::timeout(self.query_timeout, client.query_typed(sql, params)).await {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(error)) => {
                let error = classify(error);
                if matches!(error, DbError::Unavailable(_)) {
                    self.discard(&client).await;
                }
                Err(error)
            }
            Err(_) => {
                // The statement may still be running; this connection's state is
                // unknown, so the next call starts from a fresh one.
                self.discard(&client).await;
                Err(DbError::Unavailable(format!(
                    "statement timed out after {:?}",
                    self.query_timeout
                )))
            }
        }
    }

    /// The live connection, reopened first if it is missing or closed.
    async fn client(&self) -> Result<Arc<Client>, DbError> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref() {
            if !client.is_closed() {
                return Ok(client.clone());
            }
            tracing::info!("database connection was closed; reconnecting");
        }
        *slot = None;
        let client = Arc::new(self.open_dedicated().await?);
        *slot = Some(client.clone());
        Ok(client)
    }

    async fn discard(&self, broken: &Arc<Client>) {
        let mut slot = self.client.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, broken)) {
            *slot = None;
        }
    }

    /// A new connection of its own, with this configuration's TLS and
    /// timeouts; for tools (migrations) that need a `Client` to themselves.
    pub async fn open_dedicated(&self) -> Result<Client, DbError> {
        let connect = async {
            match &self.tls {
                None => {
                    let (client, connection) = self.pg.connect(NoTls).await?;
                    tokio::spawn(watch(connection));
                    Ok(client)
                }
                Some(tls) => {
                    let (client, connection) = self.pg.connect(tls.clone()).await?;
                    tokio::spawn(watch(connection));
                    Ok(client)
                }
            }
        };
        match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(error)) => Err(match classify(error) {
                // Any failure to connect (refused, TLS, auth) leaves us without a
                // database, which the client should see as 503, not as a bug.
                DbError::Statement(reason) => DbError::Unavailable(reason),
                other => other,
            }),
            Err(_) => Err(DbError::Unavailable(format!(
                "connect timed out after {:?}",
                self.connect_timeout
            ))),
        }
    }
}

async fn watch<F>(connection: F)
where
    F: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
{
    if let Err(error) = connection.await {
        tracing::warn!(%error, "database connection ended");
    }
}

/// Sorts a driver error into "retry later" (503) or "our bug" (500).
fn classify(error: tokio_postgres::Error) -> DbError {
    let Some(db) = error.as_db_error() else {
        // I/O, TLS, protocol or closed-connection errors: the server is gone.
        // The driver's own message is generic; the cause says what happened.
        let reason = match std::error::Error::source(&error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        };
        return DbError::Unavailable(reason);
    };
    let code = db.code();
    let transient = code.code().starts_with("08") // connection exception
        || code.code().starts_with("53") // insufficient resources, e.g. too many connections
        || code.code().starts_with("57P") // admin/crash shutdown, cannot connect now
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED;
    let reason = format!("{} ({})", db.message(), code.code());
    if transient {
        DbError::Unavailable(reason)
    } else {
        DbError::Statement(reason)
    }
}

#[derive(Debug, PartialEq, Eq)]
struct SslOptions {
    mode: SslMode,
    root_cert: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a connection string (URL or
/// key=value form) because tokio-postgres knows only part of libpq's modes;
/// the rest of the string is left for tokio-postgres to parse.
fn split_ssl_options(url: &str) -> Result<(String, SslOptions), DbError> {
    let mut mode = None;
    let mut root_cert = None;
    let mut take = |pair: &str| -> Result<bool, DbError> {
        let Some((key, value)) = pair.split_once('=') else {
            return Ok(false);
        };
        match key.trim() {
            "sslmode" => {
                mode = Some(match value.trim() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(DbError::Config(format!("unknown sslmode '{other}'"))),
                });
                Ok(true)
            }
            "sslrootcert" => {
                root_cert = Some(percent_decode(value.trim()));
                Ok(true)
            }
            _ => Ok(false),
        }
    };

    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&') {
                    if !take(pair)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for pair in url.split_whitespace() {
            if !take(pair)? {
                kept.push(pair);
            }
        }
        kept.join(" ")
    };
    // libpq: with a root certificate at hand, `require` verifies the chain.
    let mode = match (mode.unwrap_or(SslMode::Prefer), &root_cert) {
        (SslMode::Require, Some(_)) => SslMode::VerifyCa,
        (mode, _) => mode,
    };
    Ok((rest, SslOptions { mode, root_cert }))
}

fn tls_connector(mode: SslMode, root_cert: Option<&str>) -> Result<MakeTlsConnector, DbError> {
    let mut builder = TlsConnector::builder();
    match mode {
        // libpq's prefer/require encrypt but do not authenticate the server.
        SslMode::Prefer | SslMode::Require => {
            builder.danger_accept_invalid_certs(true);
            builder.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyCa => {
            builder.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyFull | SslMode::Disable => {}
    }
    if let Some(path) = root_cert.filter(|p| *p != "system") {
        let pem = std::fs::read(path)
            .map_err(|e| DbError::Config(format!("cannot read sslrootcert {path}: {e}")))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| DbError::Config(format!("sslrootcert {path} is not PEM: {e}")))?;
        builder.add_root_certificate(cert);
    }
    let connector = builder
        .build()
        .map_err(|e| DbError::Config(format!("TLS setup failed: {e}")))?;
    Ok(MakeTlsConnector::new(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (String, SslOptions) {
        split_ssl_options(url).unwrap()
    }

    #[test]
    fn ssl_options_leave_the_url_otherwise_untouched() {
        let (rest, ssl) = split("postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x");
        assert_eq!(rest, "postgres://u:p@h:5432/db?application_name=x");
        assert_eq!(ssl.mode, SslMode::VerifyFull);
        let (rest, ssl) = split("postgresql://u@h/db?sslmode=disable");
        assert_eq!(rest, "postgresql://u@h/db");
        assert_eq!(ssl.mode, SslMode::Disable);
        let (rest, ssl) = split("host=h dbname=db sslmode=require");
        assert_eq!(rest, "host=h dbname=db");
        assert_eq!(ssl.mode, SslMode::Require);
    }

    #[test]
    fn libpq_defaults() {
        assert_eq!(split("postgres://h/db").1.mode, SslMode::Prefer);
        let (_, ssl) = split("postgres://h/db?sslmode=require&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(ssl.mode, SslMode::VerifyCa);
        assert_eq!(ssl.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert!(split_ssl_options("postgres://h/db?sslmode=maybe").is_err());
    }

    #[test]
    fn bad_urls_fail_at_init() {
        let config = DatabaseConfig {
            url: "postgres://h:notaport/db".into(),
            connect_timeout: Duration::from_secs(1),
            query_timeout: Duration::from_secs(1),
        };
        assert!(matches!(Database::new(&config), Err(DbError::Config(_))));
    }
}
