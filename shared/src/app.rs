//! What a function instance builds once at init and borrows on every invocation.

use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::Database;
use crate::metrics::Metrics;

pub struct App {
    pub auth: Authenticator,
    pub db: Database,
    pub metrics: Metrics,
}

impl App {
    /// Builds the state without touching the network; see [`App::warm_up`].
    pub fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            auth: Authenticator::new(&config.auth)?,
            db: Database::new(&config.database).map_err(|e| e.to_string())?,
            metrics: Metrics::new(config.metrics_namespace.clone()),
        })
    }

    /// Cold-start network work: the database connection and a remote JWKS,
    /// concurrently, so a cold start waits for the slower of the two rather
    /// than their sum (each is a few round trips to a different host).
    /// Neither failing is fatal; requests answer 503 until they recover.
    pub async fn warm_up(&self) {
        tokio::join!(self.db.warm_up(), self.auth.warm_up());
    }

    /// The instance is going away: let invocations in flight finish (briefly)
    /// and end the database session cleanly.
    pub async fn shut_down(&self) {
        self.db.close(std::time::Duration::from_millis(300)).await;
    }
}
