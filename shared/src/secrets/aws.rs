//! `secretsmanager:GetSecretValue`, the one AWS call the functions make: the
//! credentials Lambda provides (environment variables, or the container
//! credentials endpoint), a JSON POST over HTTPS signed by AWS's own SigV4
//! signer (`aws-sigv4`, the official SDK's). The SDK's client and config
//! loader are not used: see ARCHITECTURE.md's decisions for what they cost.

use crate::outbound::{self, HttpsClient, OutboundError};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::StatusCode;
use std::time::{Duration, SystemTime};

const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why the secret could not be read; the text ends up in the init log line.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("no AWS credentials in the environment")]
    NoCredentials,
    #[error("reading {file}: {source}")]
    TokenFile {
        file: String,
        source: std::io::Error,
    },
    #[error("credentials endpoint: {0}")]
    CredentialsUnreachable(OutboundError),
    #[error("credentials endpoint: HTTP {0}")]
    CredentialsRefused(StatusCode),
    #[error("credentials endpoint: not JSON: {0}")]
    CredentialsNotJson(serde_json::Error),
    #[error("credentials endpoint: no AccessKeyId/SecretAccessKey")]
    CredentialsIncomplete,
    #[error("no region: neither the ARN nor AWS_REGION names one")]
    NoRegion,
    #[error("bad endpoint {0}")]
    Endpoint(String),
    #[error("signing the request: {0}")]
    Signing(String),
    #[error(transparent)]
    Outbound(#[from] OutboundError),
    /// The service's own answer, e.g. `HTTP 400 Bad Request: ResourceNotFoundException: …`.
    #[error("HTTP {status}: {kind}: {message}")]
    Service {
        status: StatusCode,
        kind: String,
        message: String,
    },
    #[error("the secret has no string value")]
    NoStringValue,
}

/// The secret's string value.
pub async fn get_secret_string(arn: &str) -> Result<String, AwsError> {
    match tokio::time::timeout(TIMEOUT, fetch(arn, &|name| std::env::var(name).ok())).await {
        Ok(result) => result,
        Err(_) => Err(AwsError::TimedOut(TIMEOUT)),
    }
}

type Lookup<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

async fn fetch(arn: &str, env: Lookup<'_>) -> Result<String, AwsError> {
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
    let body = Bytes::from(serde_json::json!({ "SecretId": arn }).to_string());
    let mut request = hyper::Request::post(endpoint.as_str())
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "secretsmanager.GetSecretValue")
        .body(Full::new(body.clone()))
        .map_err(|e| AwsError::Endpoint(format!("{endpoint}: {e}")))?;
    sign_request(
        &mut request,
        &body,
        credentials,
        &region,
        "secretsmanager",
        SystemTime::now(),
    )?;
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
        return Err(AwsError::Service {
            status,
            kind: kind.to_owned(),
            message: message.to_owned(),
        });
    }
    answer["SecretString"]
        .as_str()
        .map(str::to_owned)
        .ok_or(AwsError::NoStringValue)
}

/// Adds `x-amz-date`, `x-amz-security-token` (with a session token) and
/// `authorization` to `request`, whose headers and `body` are signed as they
/// are. The host comes from the URI.
fn sign_request(
    request: &mut hyper::Request<Full<Bytes>>,
    body: &[u8],
    credentials: Credentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), AwsError> {
    let signing = |e: &dyn std::fmt::Display| AwsError::Signing(e.to_string());
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing(&e))?
        .into();
    let uri = request.uri().to_string();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| Ok((name.as_str(), value.to_str().map_err(|e| signing(&e))?)))
        .collect::<Result<Vec<_>, AwsError>>()?;
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| signing(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| signing(&e))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// The function's role credentials: Lambda passes them as environment
/// variables, or (long-lived execution environments) through a local
/// credentials endpoint that rotates them.
async fn credentials(client: &HttpsClient, env: Lookup<'_>) -> Result<Credentials, AwsError> {
    if let Some(uri) = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        let token = match env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            Some(file) => Some(
                std::fs::read_to_string(&file)
                    .map_err(|source| AwsError::TokenFile { file, source })?
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
            .map_err(|e| AwsError::Endpoint(format!("{uri}: {e}")))?;
        let (status, body) = outbound::send(client, request, MAX_RESPONSE_BYTES)
            .await
            .map_err(AwsError::CredentialsUnreachable)?;
        if !status.is_success() {
            return Err(AwsError::CredentialsRefused(status));
        }
        let answer: serde_json::Value =
            serde_json::from_slice(&body).map_err(AwsError::CredentialsNotJson)?;
        let field = |name: &str| answer[name].as_str().map(str::to_owned);
        return match (field("AccessKeyId"), field("SecretAccessKey")) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials::new(
                access_key_id,
                secret_access_key,
                field("Token"),
                None,
                "container-endpoint",
            )),
            _ => Err(AwsError::CredentialsIncomplete),
        };
    }
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials::new(
            access_key_id,
            secret_access_key,
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ => Err(AwsError::NoCredentials),
    }
}

/// The partition and region from the secret's ARN
/// (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`); a bare name
/// uses the function's own region.
fn partition_and_region(arn: &str, env: Lookup<'_>) -> Result<(String, String), AwsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let ["arn", partition, "secretsmanager", region, _, _] = parts.as_slice() {
        if !region.is_empty() {
            return Ok(((*partition).to_owned(), (*region).to_owned()));
        }
    }
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or(AwsError::NoRegion)?;
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

    /// The `authorization` header for one case of AWS's published SigV4 test
    /// suite (aws-sig-v4-test-suite): `POST https://example.amazonaws.com/`
    /// in us-east-1 for "service" at 2015-08-30T12:36:00Z, with the suite's
    /// example credentials.
    fn suite_case(headers: &[(&str, &str)], body: &str, token: Option<&str>) -> String {
        let mut request = hyper::Request::post("https://example.amazonaws.com/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test-suite",
        );
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        sign_request(
            &mut request,
            body.as_bytes(),
            credentials,
            "us-east-1",
            "service",
            time,
        )
        .unwrap();
        assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
        request.headers()["authorization"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    fn expected(signed_headers: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={signed_headers}, Signature={signature}"
        )
    }

    #[test]
    fn signs_the_aws_test_suite_post_cases() {
        // (case, extra headers, body, signed headers, signature)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str, &'a str);
        let cases: [Case; 4] = [
            (
                "post-vanilla",
                &[],
                "",
                "host;x-amz-date",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            (
                "post-header-key-sort",
                &[("My-Header1", "value1")],
                "",
                "host;my-header1;x-amz-date",
                "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            ),
            (
                "post-header-value-case",
                &[("My-Header1", "VALUE1")],
                "",
                "host;my-header1;x-amz-date",
                "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
            ),
            (
                "post-x-www-form-urlencoded",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                "Param1=value1",
                "content-type;host;x-amz-date",
                "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
            ),
        ];
        for (name, headers, body, signed, signature) in cases {
            assert_eq!(
                suite_case(headers, body, None),
                expected(signed, signature),
                "{name}"
            );
        }
    }

    #[test]
    fn signs_the_aws_test_suite_session_token_case() {
        // post-sts-token/post-sts-header-after: the token is signed and sent.
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        assert_eq!(
            suite_case(&[], "", Some(token)),
            expected(
                "host;x-amz-date;x-amz-security-token",
                "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
            )
        );
    }
}
