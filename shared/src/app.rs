//! What a function instance builds once at init and borrows on every
//! invocation. Init is also where the otherwise independent modules meet: the
//! configuration overlaid with the Secrets Manager secret, and the question
//! whether anything verifies against the system's CA bundle. `config`,
//! `secrets` and `db` therefore know nothing of each other.

use crate::auth::{AuthError, Authenticator};
use crate::config::{Config, ConfigError};
use crate::db::{Database, DbError};
use crate::metrics::Metrics;
use crate::secrets::SecretError;
use crate::tasks::TaskLimit;

pub struct App {
    pub auth: Authenticator,
    pub db: Database,
    pub metrics: Metrics,
    pub task_limit: TaskLimit,
}

/// Why an instance could not start: each is a deployment mistake, reported
/// as one log line and a non-zero exit (Lambda's init error).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl App {
    /// What a cold start does before it connects: the configuration, the CA
    /// bundle decision, then the state.
    pub async fn load() -> Result<Self, InitError> {
        let config = load_config().await?;
        skip_unused_ca_bundle(&config);
        Self::new(&config)
    }

    /// Builds the state without touching the network; see [`App::warm_up`].
    pub fn new(config: &Config) -> Result<Self, InitError> {
        Ok(Self {
            auth: Authenticator::new(&config.auth)?,
            db: Database::new(&config.database)?,
            metrics: Metrics::new(config.metrics_namespace.clone()),
            task_limit: config.task_limit,
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

/// The environment, with the values of the Secrets Manager secret named by
/// `DATABASE_SECRET_ARN` taking precedence.
pub async fn load_config() -> Result<Config, InitError> {
    let secret = crate::secrets::load_from_env().await?;
    Ok(Config::from_lookup(|name| {
        secret
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    })?)
}

/// Whether anything this instance connects to is verified against the
/// system's CA bundle: the database in a verifying mode without its own CA
/// file, or a JWKS fetched over HTTPS.
pub fn uses_system_roots(config: &Config) -> bool {
    crate::db::uses_system_roots(&config.database.url)
        || config
            .auth
            .jwks_url
            .as_deref()
            .is_some_and(|url| !url.starts_with("http://"))
}

/// native-tls parses the system CA bundle every time it builds a connector,
/// even one that verifies nothing (`sslmode=require`) or only against its own
/// CA file: it loads the bundle before it applies `disable_built_in_roots`.
/// Measured here, that is 10–12 ms of the cold start's CPU (connector setup
/// 11.7–14.4 ms with the bundle, 1.4–2.9 ms without), and Lambda's small
/// memory sizes get a fraction of a CPU. So when nothing this instance
/// connects to is verified against the system roots, point OpenSSL at an
/// empty bundle before the first connector is built. A bundle the deployment
/// chose itself (`SSL_CERT_FILE` / `SSL_CERT_DIR` set) is left alone.
fn skip_unused_ca_bundle(config: &Config) {
    let chosen = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if chosen || uses_system_roots(config) {
        return;
    }
    // Init runs on one thread and nothing reads the environment meanwhile.
    std::env::set_var("SSL_CERT_FILE", "/dev/null");
    std::env::set_var("SSL_CERT_DIR", "/dev/null");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap()
    }

    #[test]
    fn the_system_ca_bundle_is_needed_only_where_something_verifies_against_it() {
        let uses = |vars: &[(&str, &str)]| uses_system_roots(&config(vars));
        let secret = ("BETTER_AUTH_SECRET", "s");
        assert!(!uses(&[
            ("DATABASE_URL", "postgres://h/db?sslmode=require"),
            secret
        ]));
        assert!(uses(&[
            ("DATABASE_URL", "postgres://h/db?sslmode=verify-full"),
            secret
        ]));
        let jwks = |url| {
            [
                ("DATABASE_URL", "postgres://h/db?sslmode=require"),
                ("JWT_JWKS_URL", url),
            ]
        };
        assert!(uses(&jwks("https://app.example.com/api/auth/jwks")));
        assert!(!uses(&jwks("http://127.0.0.1:3000/api/auth/jwks")));
    }
}
