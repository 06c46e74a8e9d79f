//! The function instance's single database connection.
//!
//! Opened at init, reused by every warm invocation, reopened by the next call
//! after it broke. The holder is `Send + Sync` and reconnects under a lock, so
//! concurrent invocations (Lambda Managed Instances) share one connection and
//! cannot race to open two.

mod tls;

pub use tls::SslMode;
use tls::{split_ssl_options, tls_connector};

use crate::config::DatabaseConfig;
use postgres_native_tls::MakeTlsConnector;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row};

tokio::task_local! {
    /// Time spent on the database by the invocation running in this task.
    static DATABASE_TIME: std::cell::Cell<Duration>;
}

/// Runs `work` and returns how long its statements (connecting included)
/// took: per invocation, even when invocations interleave on one connection.
pub async fn timed<F: std::future::Future>(work: F) -> (F::Output, Duration) {
    DATABASE_TIME
        .scope(std::cell::Cell::new(Duration::ZERO), async {
            let output = work.await;
            (output, DATABASE_TIME.with(std::cell::Cell::get))
        })
        .await
}

/// One statement parameter with its type, as `query_typed` wants it: the
/// statement then goes out as one unnamed Parse/Bind/Execute/Sync, a single
/// round trip that also works behind PgBouncer in transaction mode.
pub type Param<'a> = (&'a (dyn ToSql + Sync), Type);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Config(String),
    /// Unreachable or shutting down: worth retrying later.
    #[error("{0}")]
    Unavailable(String),
    /// Connecting or a statement took longer than its timeout: the server is
    /// there but slow or stuck; also worth retrying later.
    #[error("{0}")]
    TimedOut(String),
    /// The server rejected the statement: a bug on our side.
    #[error("statement failed: {0}")]
    Statement(String),
}

/// Why one attempt failed: a lost connection may be retried by reads.
enum Failure {
    ConnectionLost(String),
    /// The server cancelled the statement (`query_canceled`): it took no
    /// effect, since its implicit transaction rolled back.
    Canceled(String),
    Other(DbError),
}

impl Failure {
    fn reason(&self) -> String {
        match self {
            Failure::ConnectionLost(reason) | Failure::Canceled(reason) => reason.clone(),
            Failure::Other(error) => error.to_string(),
        }
    }

    fn into_error(self) -> DbError {
        match self {
            Failure::ConnectionLost(reason) | Failure::Canceled(reason) => {
                DbError::Unavailable(reason)
            }
            Failure::Other(error) => error,
        }
    }
}

pub struct Database {
    pg: tokio_postgres::Config,
    tls: Option<MakeTlsConnector>,
    connect_timeout: Duration,
    query_timeout: Duration,
    connection: Mutex<Option<Arc<Connection>>>,
}

/// The instance's connection, plus a second handle on its socket that shows,
/// without a round trip, whether the server hung up while we were idle (or
/// frozen between invocations): then nothing has been sent yet, so the
/// statement can safely go to a fresh connection instead.
struct Connection {
    client: Client,
    /// The task driving the socket; it ends after the Terminate message once
    /// the client is dropped.
    driver: tokio::task::JoinHandle<()>,
    probe: Option<std::net::TcpStream>,
    /// Host and port of the socket we opened ourselves, for cancel requests
    /// (tokio-postgres knows the address only when it connected itself).
    address: Option<(String, u16)>,
    in_flight: AtomicUsize,
    /// Set after the first answered statement. Until then the socket may still
    /// hold bytes of the TLS handshake's aftermath (e.g. session tickets) that
    /// the first read consumes, so the probe would cry wolf.
    answered: AtomicBool,
}

impl Connection {
    fn looks_alive(&self) -> bool {
        if self.client.is_closed() {
            return false;
        }
        // With a statement in flight, waiting bytes are its answer.
        let Some(probe) = self.probe.as_ref().filter(|_| {
            self.in_flight.load(Ordering::Acquire) == 0 && self.answered.load(Ordering::Acquire)
        }) else {
            return true;
        };
        match probe.peek(&mut [0u8; 1]) {
            Err(error) => error.kind() == std::io::ErrorKind::WouldBlock,
            // End of stream, or bytes nobody asked for: an idle PostgreSQL only
            // speaks to say goodbye (a FATAL ErrorResponse before it closes).
            Ok(_) => false,
        }
    }
}

/// Whether a connection with this URL verifies the server against the
/// system's CA bundle; an unparsable URL is assumed to (it fails later anyway).
pub fn uses_system_roots(url: &str) -> bool {
    split_ssl_options(url).map_or(true, |(_, ssl)| ssl.uses_system_roots())
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
        if ssl.direct {
            pg.ssl_negotiation(tokio_postgres::config::SslNegotiation::Direct);
        }
        let tls = match ssl.mode {
            SslMode::Disable => None,
            _ => Some(tls_connector(&ssl)?),
        };
        Ok(Self {
            pg,
            tls,
            connect_timeout: config.connect_timeout,
            query_timeout: config.query_timeout,
            connection: Mutex::new(None),
        })
    }

    /// Opens the connection during init so the first request does not pay for
    /// it. A database that is down now is not fatal: requests answer 503 and
    /// the next one tries again.
    pub async fn warm_up(&self) {
        if let Err(error) = self.connection().await {
            tracing::warn!(%error, "database not reachable at init; will retry on the next request");
        }
    }

    /// Runs one statement in one round trip, within the query timeout.
    /// A statement that may have reached the server is never sent twice: use
    /// this for writes.
    ///
    /// The one exception is a statement the server cancelled: it took no
    /// effect, so it goes once more on a fresh connection. Our own cancel of a
    /// timed-out statement is one source: it can land on the statement
    /// pipelined behind the one it was meant for, another invocation's
    /// (managed.rs's lock test saw it: the first statement behind the stuck
    /// one failed with 57014 in 5 of 37 runs).
    pub async fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        self.run_retrying(sql, params, |failure| {
            matches!(failure, Failure::Canceled(_))
        })
        .await
    }

    /// Like [`Database::query`], for statements that change nothing: when the
    /// connection turns out to be dead, it reconnects and runs it once more.
    pub async fn query_idempotent(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<Row>, DbError> {
        self.run_retrying(sql, params, |failure| {
            matches!(failure, Failure::Canceled(_) | Failure::ConnectionLost(_))
        })
        .await
    }

    /// Runs the statement, and once more (on a fresh connection: the failed
    /// one was discarded) when its first failure is one `retry` says cannot
    /// have changed anything by being sent again: a cancelled statement, or,
    /// for statements that change nothing, a lost connection.
    async fn run_retrying(
        &self,
        sql: &str,
        params: &[Param<'_>],
        retry: fn(&Failure) -> bool,
    ) -> Result<Vec<Row>, DbError> {
        match self.run(sql, params).await {
            Err(failure) if retry(&failure) => {
                tracing::info!(reason = %failure.reason(), "sending the statement once more, on a new connection");
                self.run(sql, params).await.map_err(Failure::into_error)
            }
            other => other.map_err(Failure::into_error),
        }
    }

    async fn run(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Failure> {
        let started = std::time::Instant::now();
        let result = self.run_untimed(sql, params).await;
        let _ = DATABASE_TIME.try_with(|total| total.set(total.get() + started.elapsed()));
        result
    }

    async fn run_untimed(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Failure> {
        let connection = self.connection().await.map_err(Failure::Other)?;
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        let result = tokio::time::timeout(
            self.query_timeout,
            connection.client.query_typed(sql, params),
        )
        .await;
        connection.in_flight.fetch_sub(1, Ordering::AcqRel);
        match result {
            Ok(Ok(rows)) => {
                connection.answered.store(true, Ordering::Release);
                Ok(rows)
            }
            Ok(Err(error)) => {
                // The connection itself failed (dropped, or the server ended the
                // session), as opposed to the statement being rejected.
                let lost = error.is_closed()
                    || error.as_db_error().is_none_or(|db| {
                        let code = db.code().code();
                        code.starts_with("08") || code.starts_with("57P")
                    });
                let canceled = error.code() == Some(&SqlState::QUERY_CANCELED);
                let error = classify(error);
                if matches!(error, DbError::Unavailable(_)) {
                    self.discard(&connection).await;
                }
                match error {
                    DbError::Unavailable(reason) if lost => Err(Failure::ConnectionLost(reason)),
                    DbError::Unavailable(reason) if canceled => Err(Failure::Canceled(reason)),
                    other => Err(Failure::Other(other)),
                }
            }
            Err(_) => {
                // The statement may still be running; this connection's state is
                // unknown, so the next call starts from a fresh one. Statements
                // of concurrent invocations pipelined behind it on this connection
                // would wait for it: cancelling it lets them run.
                self.discard(&connection).await;
                self.cancel(&connection).await;
                Err(Failure::Other(DbError::TimedOut(format!(
                    "statement timed out after {:?}",
                    self.query_timeout
                ))))
            }
        }
    }

    /// The live connection, reopened first if it is missing or has died.
    async fn connection(&self) -> Result<Arc<Connection>, DbError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            if connection.looks_alive() {
                return Ok(connection.clone());
            }
            tracing::info!("database connection was closed by the server; reconnecting");
        }
        *slot = None;
        let connection = Arc::new(self.open().await?);
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Asks the server to cancel what `connection` is running: a
    /// CancelRequest on a socket of its own (TLS as configured), bounded by
    /// the connect timeout. Awaited rather than spawned, because a classic
    /// Lambda instance may be frozen as soon as the invocation answers.
    async fn cancel(&self, connection: &Connection) {
        let token = connection.client.cancel_token();
        let attempt = async {
            match (&connection.address, &self.tls) {
                (Some((host, port)), tls) => {
                    let stream = TcpStream::connect((host.as_str(), *port))
                        .await
                        .map_err(|e| e.to_string())?;
                    match tls {
                        None => token.cancel_query_raw(stream, NoTls).await,
                        Some(tls) => {
                            let connector = MakeTlsConnect::<TcpStream>::make_tls_connect(
                                &mut tls.clone(),
                                host,
                            )
                            .map_err(|e| e.to_string())?;
                            token.cancel_query_raw(stream, connector).await
                        }
                    }
                }
                (None, None) => token.cancel_query(NoTls).await,
                (None, Some(tls)) => token.cancel_query(tls.clone()).await,
            }
            .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "could not cancel a timed-out statement"),
            Err(_) => tracing::warn!("cancelling a timed-out statement timed out"),
        }
    }

    async fn discard(&self, broken: &Arc<Connection>) {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, broken)) {
            *slot = None;
        }
    }

    /// Ends the session cleanly (a Terminate message, then the socket closed)
    /// rather than leaving the server to find a dead socket: for a shutting
    /// down instance. Waits for invocations still holding the connection, up
    /// to `grace`.
    pub async fn close(&self, grace: Duration) {
        let Some(mut connection) = self.connection.lock().await.take() else {
            return;
        };
        let deadline = tokio::time::Instant::now() + grace;
        let connection = loop {
            match Arc::try_unwrap(connection) {
                Ok(sole) => break sole,
                Err(shared) if tokio::time::Instant::now() < deadline => {
                    connection = shared;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(_) => {
                    tracing::warn!("closing with invocations still in flight");
                    return;
                }
            }
        };
        let Connection { client, driver, .. } = connection;
        drop(client);
        let _ = tokio::time::timeout(grace, driver).await;
    }

    /// A new connection of its own, with this configuration's TLS and
    /// timeouts; for tools (migrations) that need a `Client` to themselves.
    pub async fn open_dedicated(&self) -> Result<Client, DbError> {
        Ok(self.open().await?.client)
    }

    async fn open(&self) -> Result<Connection, DbError> {
        match tokio::time::timeout(self.connect_timeout, self.connect()).await {
            Ok(result) => result,
            Err(_) => Err(DbError::TimedOut(format!(
                "connect timed out after {:?}",
                self.connect_timeout
            ))),
        }
    }

    async fn connect(&self) -> Result<Connection, DbError> {
        let hosts = self.pg.get_hosts();
        let single_tcp_host = match hosts {
            [Host::Tcp(host)] if self.pg.get_hostaddrs().is_empty() => Some(host.clone()),
            _ => None,
        };
        // One TCP host (Neon, RDS, local): open the socket ourselves to keep a
        // probe on it. Anything else (Unix socket, several hosts) goes through
        // tokio-postgres's own connect, without the probe.
        let Some(host) = single_tcp_host else {
            let (client, driver) = match &self.tls {
                None => spawn(self.pg.connect(NoTls).await.map_err(connect_error)?),
                Some(tls) => spawn(self.pg.connect(tls.clone()).await.map_err(connect_error)?),
            };
            return Ok(Connection {
                client,
                driver,
                probe: None,
                address: None,
                in_flight: AtomicUsize::new(0),
                answered: AtomicBool::new(false),
            });
        };
        let port = self.pg.get_ports().first().copied().unwrap_or(5432);
        let unreachable =
            |e: std::io::Error| DbError::Unavailable(format!("connecting to {host}:{port}: {e}"));
        let stream = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(unreachable)?;
        stream.set_nodelay(true).map_err(unreachable)?;
        // A duplicate of the socket, in the same non-blocking mode.
        let std_stream = stream.into_std().map_err(unreachable)?;
        let probe = std_stream.try_clone().map_err(unreachable)?;
        let stream = TcpStream::from_std(std_stream).map_err(unreachable)?;
        let (client, driver) = match &self.tls {
            None => spawn(
                self.pg
                    .connect_raw(stream, NoTls)
                    .await
                    .map_err(connect_error)?,
            ),
            Some(tls) => {
                let connector =
                    MakeTlsConnect::<TcpStream>::make_tls_connect(&mut tls.clone(), &host)
                        .map_err(|e| DbError::Unavailable(format!("TLS setup for {host}: {e}")))?;
                spawn(
                    self.pg
                        .connect_raw(stream, connector)
                        .await
                        .map_err(connect_error)?,
                )
            }
        };
        Ok(Connection {
            client,
            driver,
            probe: Some(probe),
            address: Some((host, port)),
            in_flight: AtomicUsize::new(0),
            answered: AtomicBool::new(false),
        })
    }
}

/// Starts the task that drives a new connection; returns its client and
/// the task.
fn spawn<S, T>(
    (client, connection): (Client, tokio_postgres::Connection<S, T>),
) -> (Client, tokio::task::JoinHandle<()>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let driver = tokio::spawn(watch(connection));
    (client, driver)
}

/// Any failure to connect (refused, TLS, authentication) leaves us without a
/// database, which clients should see as 503, not as a bug.
fn connect_error(error: tokio_postgres::Error) -> DbError {
    match classify(error) {
        DbError::Statement(reason) => DbError::Unavailable(reason),
        other => other,
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
        // Our own cancel of a timed-out statement, landing on the next one
        // when the first finished meanwhile.
        || *code == SqlState::QUERY_CANCELED
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED;
    let reason = format!("{} ({})", db.message(), code.code());
    if transient {
        DbError::Unavailable(reason)
    } else {
        DbError::Statement(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
