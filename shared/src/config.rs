//! Configuration, read once from the environment at init (cold start). Pure:
//! names in, values out. Where a value may also come from (the Secrets
//! Manager secret) is decided by `app`, which composes init.

use crate::tasks::TaskLimit;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where verification keys come from and what a token must satisfy. Secrets
/// are kept out of `Debug` output.
#[derive(Clone, Default)]
pub struct AuthConfig {
    /// `BETTER_AUTH_SECRET`: enables HS256.
    pub secret: Option<String>,
    /// `JWT_JWKS`: an inline JWKS document (EdDSA, ES256, RS256 keys).
    pub jwks: Option<String>,
    /// `JWT_JWKS_URL`: where to fetch the JWKS.
    pub jwks_url: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("jwks", &self.jwks.as_ref().map(|_| "<inline>"))
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Clone)]
pub struct DatabaseConfig {
    pub url: String,
    /// Upper bound for TCP connect + TLS + startup; past it the request gets a 503.
    pub connect_timeout: Duration,
    /// Upper bound for one statement's round trip; past it the request gets a 503.
    pub query_timeout: Duration,
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("query_timeout", &self.query_timeout)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    /// `METRICS_NAMESPACE`: where the EMF metric lines go; unset means
    /// [`DEFAULT_METRICS_NAMESPACE`], empty means no metric lines.
    pub metrics_namespace: Option<String>,
    /// `MAX_TASKS_PER_USER`: unset means [`TaskLimit::default`], `0` no limit.
    pub task_limit: TaskLimit,
}

pub const DEFAULT_METRICS_NAMESPACE: &str = "TaskApi";

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup` so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // An empty variable is a deployment mistake, not a value: treat it as unset.
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let millis = |name: &'static str, default: Duration| match get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: "expected a positive number of milliseconds".into(),
                }),
            },
        };

        // Empty is meaningful here (metrics off), unlike for the others.
        let metrics_namespace = match lookup("METRICS_NAMESPACE") {
            None => Some(DEFAULT_METRICS_NAMESPACE.to_owned()),
            Some(name) => Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
        };
        let task_limit = match get("MAX_TASKS_PER_USER") {
            None => TaskLimit::default(),
            Some(raw) => TaskLimit::parse(&raw).map_err(|reason| ConfigError::Invalid {
                name: "MAX_TASKS_PER_USER",
                reason,
            })?,
        };
        Ok(Self {
            metrics_namespace,
            task_limit,
            database: DatabaseConfig {
                url: required("DATABASE_URL")?,
                connect_timeout: millis("DATABASE_CONNECT_TIMEOUT_MS", DEFAULT_CONNECT_TIMEOUT)?,
                query_timeout: millis("DATABASE_QUERY_TIMEOUT_MS", DEFAULT_QUERY_TIMEOUT)?,
            },
            auth: {
                let auth = AuthConfig {
                    secret: get("BETTER_AUTH_SECRET"),
                    jwks: get("JWT_JWKS"),
                    jwks_url: get("JWT_JWKS_URL"),
                    issuer: get("JWT_ISSUER"),
                    audience: get("JWT_AUDIENCE"),
                };
                if auth.secret.is_none() && auth.jwks.is_none() && auth.jwks_url.is_none() {
                    return Err(ConfigError::Missing(
                        "BETTER_AUTH_SECRET (or JWT_JWKS / JWT_JWKS_URL)",
                    ));
                }
                auth
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    /// The two required variables, and `name` set to `value` when given.
    fn config_with(name: &'static str, value: Option<&str>) -> Result<Config, ConfigError> {
        let mut vars = vec![
            ("DATABASE_URL", "postgres://h/db"),
            ("BETTER_AUTH_SECRET", "s"),
        ];
        vars.extend(value.map(|v| (name, v)));
        config(&vars)
    }

    #[test]
    fn metrics_go_to_the_default_namespace_unless_set_or_emptied() {
        let namespace = |value: Option<&str>| {
            config_with("METRICS_NAMESPACE", value)
                .unwrap()
                .metrics_namespace
        };
        assert_eq!(namespace(None).as_deref(), Some(DEFAULT_METRICS_NAMESPACE));
        assert_eq!(namespace(Some("Tasks/Prod")).as_deref(), Some("Tasks/Prod"));
        assert_eq!(namespace(Some("")), None);
    }

    #[test]
    fn names_the_missing_variable() {
        assert_eq!(
            config(&[("BETTER_AUTH_SECRET", "s")]).unwrap_err(),
            ConfigError::Missing("DATABASE_URL")
        );
        assert_eq!(
            config(&[
                ("DATABASE_URL", "postgres://x"),
                ("BETTER_AUTH_SECRET", " ")
            ])
            .unwrap_err(),
            ConfigError::Missing("BETTER_AUTH_SECRET (or JWT_JWKS / JWT_JWKS_URL)")
        );
        let jwks_only = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("JWT_JWKS_URL", "https://a/jwks"),
        ])
        .unwrap();
        assert_eq!(jwks_only.auth.secret, None);
    }

    #[test]
    fn defaults_and_overrides() {
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("BETTER_AUTH_SECRET", "s"),
        ])
        .unwrap();
        assert_eq!(c.database.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(c.auth.issuer, None);
        let c = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("BETTER_AUTH_SECRET", "s"),
            ("DATABASE_QUERY_TIMEOUT_MS", "250"),
            ("JWT_AUDIENCE", "https://app.example"),
        ])
        .unwrap();
        assert_eq!(c.database.query_timeout, Duration::from_millis(250));
        assert_eq!(c.auth.audience.as_deref(), Some("https://app.example"));
    }

    #[test]
    fn rejects_nonsense_timeouts() {
        let err = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("BETTER_AUTH_SECRET", "s"),
            ("DATABASE_CONNECT_TIMEOUT_MS", "soon"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "DATABASE_CONNECT_TIMEOUT_MS",
                ..
            }
        ));
    }

    #[test]
    fn the_task_limit_defaults_to_ten_thousand_and_zero_lifts_it() {
        let limit =
            |value: Option<&str>| config_with("MAX_TASKS_PER_USER", value).map(|c| c.task_limit);
        assert_eq!(limit(None), Ok(TaskLimit::AtMost(10_000)));
        assert_eq!(limit(Some("25")), Ok(TaskLimit::AtMost(25)));
        assert_eq!(limit(Some("0")), Ok(TaskLimit::Unlimited));
        assert!(matches!(
            limit(Some("-5")),
            Err(ConfigError::Invalid {
                name: "MAX_TASKS_PER_USER",
                ..
            })
        ));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = config(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("BETTER_AUTH_SECRET", "topsecret"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("topsecret"));
    }
}
