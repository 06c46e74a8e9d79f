//! AWS Signature Version 4 for one kind of request: a POST of a JSON body to
//! a service's root path, as the JSON-protocol APIs (Secrets Manager) take it.
//! Written out rather than taken from the AWS SDK, which would more than
//! double every binary for one call at init.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// What is signed: `POST /` on `host` with these extra headers and `body`.
pub struct Request<'a> {
    pub host: &'a str,
    /// Lower-case names; signed along with `host` and `x-amz-date`.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The headers to send: `x-amz-date`, `x-amz-security-token` when there is a
/// session token, and `authorization`.
pub fn sign(
    request: &Request<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    // `YYYYMMDD'T'HHMMSS'Z'`, UTC.
    amz_date: &str,
) -> Vec<(String, String)> {
    let date = &amz_date[..8];
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.push(("host".into(), request.host.to_owned()));
    headers.push(("x-amz-date".into(), amz_date.to_owned()));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token".into(), token.clone()));
    }
    headers.sort();
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex(&Sha256::digest(request.body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", credentials.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));

    let mut out = vec![("x-amz-date".to_owned(), amz_date.to_owned())];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token".into(), token.clone()));
    }
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Credentials {
        // The credentials of AWS's published SigV4 test suite.
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    #[test]
    fn matches_the_aws_test_suite_post_vanilla() {
        // aws-sig-v4-test-suite/post-vanilla: POST / with no body.
        let headers = sign(
            &Request {
                host: "example.amazonaws.com",
                headers: &[],
                body: b"",
            },
            &example(),
            "us-east-1",
            "service",
            "20150830T123600Z",
        );
        let authorization = &headers.last().unwrap().1;
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn a_session_token_is_signed_and_sent() {
        let mut credentials = example();
        credentials.session_token = Some("token".into());
        let headers = sign(
            &Request {
                host: "secretsmanager.us-east-1.amazonaws.com",
                headers: &[("x-amz-target", "secretsmanager.GetSecretValue")],
                body: b"{}",
            },
            &credentials,
            "us-east-1",
            "secretsmanager",
            "20261125T120000Z",
        );
        assert!(headers.contains(&("x-amz-security-token".into(), "token".into())));
        assert!(headers
            .last()
            .unwrap()
            .1
            .contains("SignedHeaders=host;x-amz-date;x-amz-security-token;x-amz-target"));
    }
}
