//! Optional: `DATABASE_URL` and `BETTER_AUTH_SECRET` from one AWS Secrets
//! Manager secret (JSON), read once at init when `DATABASE_SECRET_ARN` is set,
//! so neither value has to be a plain-text template parameter. Always
//! compiled in: one signed HTTPS call (`aws.rs`), so it costs the binaries
//! little and a deployment chooses it by parameter.

mod aws;

pub use aws::AwsError;
use std::collections::HashMap;

pub const SECRET_ARN_VAR: &str = "DATABASE_SECRET_ARN";

/// Why the secret named by `DATABASE_SECRET_ARN` gave no values.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {SECRET_ARN_VAR} is invalid: the secret could not be read: {0}")]
    Unreadable(#[from] AwsError),
    #[error("environment variable {SECRET_ARN_VAR} is invalid: the secret is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("environment variable {SECRET_ARN_VAR} is invalid: the secret is not a JSON object")]
    NotAnObject,
}

/// The secret's string values by key; empty when no secret is configured.
pub async fn load_from_env() -> Result<HashMap<String, String>, SecretError> {
    match std::env::var(SECRET_ARN_VAR) {
        Ok(arn) if !arn.trim().is_empty() => parse(&aws::get_secret_string(arn.trim()).await?),
        _ => Ok(HashMap::new()),
    }
}

/// Only string members are kept: the secret holds connection strings and keys.
pub fn parse(secret: &str) -> Result<HashMap<String, String>, SecretError> {
    let value: serde_json::Value = serde_json::from_str(secret).map_err(SecretError::NotJson)?;
    let object = value.as_object().ok_or(SecretError::NotAnObject)?;
    Ok(object
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect())
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
