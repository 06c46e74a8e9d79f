//! Optional: `DATABASE_URL` and `BETTER_AUTH_SECRET` from one AWS Secrets
//! Manager secret (JSON), read once at init when `DATABASE_SECRET_ARN` is set,
//! so neither value has to be a plain-text template parameter. Always
//! compiled in: the call is written out (`aws.rs`, `sigv4.rs`), so it costs
//! the binaries next to nothing and a deployment chooses it by parameter.

mod aws;
mod sigv4;

use crate::config::ConfigError;
use std::collections::HashMap;

pub const SECRET_ARN_VAR: &str = "DATABASE_SECRET_ARN";

/// The secret's string values by key; empty when no secret is configured.
pub async fn load_from_env() -> Result<HashMap<String, String>, ConfigError> {
    match std::env::var(SECRET_ARN_VAR) {
        Ok(arn) if !arn.trim().is_empty() => fetch(arn.trim()).await,
        _ => Ok(HashMap::new()),
    }
}

/// Only string members are kept: the secret holds connection strings and keys.
pub fn parse(secret: &str) -> Result<HashMap<String, String>, ConfigError> {
    let value: serde_json::Value =
        serde_json::from_str(secret).map_err(|e| invalid(format!("is not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid("is not a JSON object".into()))?;
    Ok(object
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect())
}

fn invalid(reason: String) -> ConfigError {
    ConfigError::Invalid {
        name: SECRET_ARN_VAR,
        reason: format!("the secret {reason}"),
    }
}

async fn fetch(arn: &str) -> Result<HashMap<String, String>, ConfigError> {
    let text = aws::get_secret_string(arn)
        .await
        .map_err(|e| invalid(format!("could not be read: {e}")))?;
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_string_members() {
        let values = parse(
            r#"{"DATABASE_URL": "postgres://h/db", "BETTER_AUTH_SECRET": "s", "port": 5432}"#,
        )
        .unwrap();
        assert_eq!(
            values.get("DATABASE_URL").map(String::as_str),
            Some("postgres://h/db")
        );
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn refuses_what_is_not_a_json_object() {
        assert!(parse("postgres://h/db").is_err());
        assert!(parse("[]").is_err());
    }
}
