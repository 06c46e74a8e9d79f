//! `secretsmanager:GetSecretValue`, the one AWS call the functions make: the
//! credentials Lambda provides (environment variables, or the container
//! credentials endpoint), a SigV4-signed JSON POST over HTTPS.

use super::sigv4::{self, Credentials};
use crate::outbound::{self, HttpsClient};
use http_body_util::Full;
use hyper::body::Bytes;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// The secret's string value.
pub async fn get_secret_string(arn: &str) -> Result<String, String> {
    match tokio::time::timeout(TIMEOUT, fetch(arn, &|name| std::env::var(name).ok())).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {TIMEOUT:?}")),
    }
}

type Lookup<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

async fn fetch(arn: &str, env: Lookup<'_>) -> Result<String, String> {
    let client = outbound::client();
    let credentials = credentials(&client, env).await?;
    let (partition, region) = partition_and_region(arn, env)?;
    let endpoint = env("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|| {
            let suffix = if partition == "aws-cn" {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            format!("https://secretsmanager.{region}.{suffix}")
        });
    let uri: hyper::Uri = endpoint
        .parse()
        .map_err(|e| format!("bad endpoint {endpoint}: {e}"))?;
    let host = uri
        .authority()
        .ok_or_else(|| format!("bad endpoint {endpoint}"))?
        .as_str()
        .to_owned();
    let body = serde_json::json!({ "SecretId": arn }).to_string();
    let fixed = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "secretsmanager.GetSecretValue"),
    ];
    let now = time::OffsetDateTime::now_utc();
    let amz_date = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| e.to_string())?;
    let signed = sigv4::sign(
        &sigv4::Request {
            host: &host,
            headers: &fixed,
            body: body.as_bytes(),
        },
        &credentials,
        &region,
        "secretsmanager",
        &amz_date,
    );
    let mut request = hyper::Request::post(uri);
    for (name, value) in fixed {
        request = request.header(name, value);
    }
    for (name, value) in &signed {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let (status, body) = outbound::send(&client, request, MAX_RESPONSE_BYTES).await?;
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if !status.is_success() {
        // `__type` may carry a namespace: "...#ResourceNotFoundException".
        let kind = answer["__type"].as_str().unwrap_or("error");
        let kind = kind.rsplit('#').next().unwrap_or(kind);
        let message = answer["message"]
            .as_str()
            .or(answer["Message"].as_str())
            .unwrap_or("");
        return Err(format!("HTTP {status}: {kind}: {message}"));
    }
    answer["SecretString"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "the secret has no string value".to_owned())
}

/// The function's role credentials: Lambda passes them as environment
/// variables, or (long-lived execution environments) through a local
/// credentials endpoint that rotates them.
async fn credentials(client: &HttpsClient, env: Lookup<'_>) -> Result<Credentials, String> {
    if let Some(uri) = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        let token = match env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            Some(file) => Some(
                std::fs::read_to_string(&file)
                    .map_err(|e| format!("reading {file}: {e}"))?
                    .trim()
                    .to_owned(),
            ),
            None => env("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
        };
        let mut request = hyper::Request::get(uri.as_str());
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        let (status, body) = outbound::send(client, request, MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| format!("credentials endpoint: {e}"))?;
        if !status.is_success() {
            return Err(format!("credentials endpoint: HTTP {status}"));
        }
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("credentials endpoint: not JSON: {e}"))?;
        let field = |name: &str| answer[name].as_str().map(str::to_owned);
        return match (field("AccessKeyId"), field("SecretAccessKey")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
                access_key_id,
                secret_access_key,
                session_token: field("Token"),
            }),
            _ => Err("credentials endpoint: no AccessKeyId/SecretAccessKey".into()),
        };
    }
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: env("AWS_SESSION_TOKEN"),
        }),
        _ => Err("no AWS credentials in the environment".into()),
    }
}

/// The partition and region from the secret's ARN
/// (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`); a bare name
/// uses the function's own region.
fn partition_and_region(arn: &str, env: Lookup<'_>) -> Result<(String, String), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let ["arn", partition, "secretsmanager", region, _, _] = parts.as_slice() {
        if !region.is_empty() {
            return Ok(((*partition).to_owned(), (*region).to_owned()));
        }
    }
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or("no region: neither the ARN nor AWS_REGION names one")?;
    Ok(("aws".to_owned(), region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_arn_first() {
        let env = |name: &str| (name == "AWS_REGION").then(|| "eu-west-1".to_owned());
        assert_eq!(
            partition_and_region(
                "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-AbCdEf",
                &env
            )
            .unwrap(),
            ("aws-cn".to_owned(), "cn-north-1".to_owned())
        );
        assert_eq!(
            partition_and_region("task-api/db", &env).unwrap(),
            ("aws".to_owned(), "eu-west-1".to_owned())
        );
        assert!(partition_and_region("task-api/db", &|_| None).is_err());
    }
}
