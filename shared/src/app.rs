//! What a function instance builds once at init and borrows on every invocation.

use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::{Database, DbError};

pub struct App {
    pub auth: Authenticator,
    pub db: Database,
}

impl App {
    /// Builds the state without touching the network; see [`Database::warm_up`].
    pub fn new(config: &Config) -> Result<Self, DbError> {
        Ok(Self {
            auth: Authenticator::new(&config.auth),
            db: Database::new(&config.database)?,
        })
    }
}
