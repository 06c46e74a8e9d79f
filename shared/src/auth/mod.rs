//! Bearer-token authentication of Better Auth JWTs.
//!
//! The key, and with it the algorithm, is chosen by the server's configuration,
//! never by the token: HS256 only with `BETTER_AUTH_SECRET`, EdDSA/ES256/RS256
//! only with a key from the configured JWKS. `alg: none`, HS256 signed with a
//! public key, and asymmetric tokens without a JWKS all fail here.

mod jwks;

use crate::config::AuthConfig;
use crate::error::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
pub use jwks::JwksError;
use jwks::{Jwks, Lookup};
use lambda_http::http::{header::AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::Value;

/// Clock skew tolerated on `exp`, `nbf` and `iat` (docs/API.md: 30 s).
pub const LEEWAY_SECS: u64 = 30;
/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Matches the longest id the users table is meant to hold.
pub const MAX_SUBJECT_CHARS: usize = 255;
const MAX_PROFILE_CLAIM_CHARS: usize = 320;

/// The authenticated caller: the token's subject and the profile claims that
/// fill the users row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// A verification setup that cannot work: a configuration mistake.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("JWT_JWKS is {0}")]
    InlineJwks(JwksError),
}

pub struct Authenticator {
    secret: Option<DecodingKey>,
    jwks: Option<Jwks>,
    /// One per accepted algorithm, built at init rather than per request.
    validations: Vec<(Algorithm, Validation)>,
}

/// Claims are read loosely (as JSON values) so that a wrongly typed claim gives
/// a precise 401 reason instead of a generic decoding error.
#[derive(Deserialize)]
struct Claims {
    sub: Option<Value>,
    user_id: Option<Value>,
    email: Option<Value>,
    name: Option<Value>,
    iat: Option<Value>,
}

impl Authenticator {
    /// Fails on an inline JWKS that does not parse; fetches nothing yet.
    pub fn new(config: &AuthConfig) -> Result<Self, AuthError> {
        Ok(Self {
            secret: config
                .secret
                .as_deref()
                .map(|s| DecodingKey::from_secret(s.as_bytes())),
            jwks: Jwks::new(config.jwks.as_deref(), config.jwks_url.as_deref())
                .map_err(AuthError::InlineJwks)?,
            validations: [Algorithm::HS256]
                .into_iter()
                .chain(jwks::ASYMMETRIC)
                .map(|algorithm| (algorithm, validation(config, algorithm)))
                .collect(),
        })
    }

    /// Fetches a remote JWKS during init, so the first request need not.
    pub async fn warm_up(&self) {
        if let Some(jwks) = &self.jwks {
            jwks.warm_up().await;
        }
    }

    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let token = bearer_token(headers)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| unauthorized("token header is malformed or names an unknown algorithm"))?;
        // RFC 7515 §4.1.11: a recipient must reject critical extensions it does
        // not understand, and this server understands none.
        if header.crit.is_some() {
            return Err(unauthorized(
                "token has critical header parameters ('crit')",
            ));
        }
        let key = self.key_for(header.alg, header.kid.as_deref()).await?;
        let validation = self
            .validations
            .iter()
            .find(|(algorithm, _)| *algorithm == header.alg)
            .map(|(_, validation)| validation)
            .ok_or_else(|| unauthorized("token algorithm is not accepted"))?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, validation)
            .map_err(|e| unauthorized(describe(&e)))?;
        principal_from(data.claims, now_secs())
    }

    async fn key_for(
        &self,
        algorithm: Algorithm,
        kid: Option<&str>,
    ) -> Result<DecodingKey, ApiError> {
        if algorithm == Algorithm::HS256 {
            return self
                .secret
                .clone()
                .ok_or_else(|| unauthorized("HS256 tokens are not accepted here"));
        }
        if !jwks::ASYMMETRIC.contains(&algorithm) {
            return Err(unauthorized("token algorithm is not accepted"));
        }
        let Some(jwks) = &self.jwks else {
            return Err(unauthorized(
                "asymmetric tokens are not accepted here (no JWKS configured)",
            ));
        };
        match jwks.key(algorithm, kid).await {
            Lookup::Found(key) => Ok(key),
            Lookup::UnknownKey => Err(unauthorized("token key ('kid') is not in the JWKS")),
            Lookup::Unavailable(reason) => Err(ApiError::KeysUnavailable(reason)),
        }
    }
}

fn validation(config: &AuthConfig, algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if let Some(issuer) = &config.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &config.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // Better Auth puts its base URL in `aud`; without a configured
        // audience there is nothing to compare it with.
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn unauthorized(reason: impl Into<String>) -> ApiError {
    ApiError::Unauthorized(reason.into())
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values
        .next()
        .ok_or_else(|| unauthorized("missing Authorization header"))?;
    if values.next().is_some() {
        return Err(unauthorized("more than one Authorization header"));
    }
    if value.len() > MAX_TOKEN_BYTES + "Bearer ".len() {
        return Err(unauthorized("token is too large"));
    }
    let value = value
        .to_str()
        .map_err(|_| unauthorized("Authorization header is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| unauthorized("Authorization header is not 'Bearer <token>'"))?;
    // RFC 7235: the scheme name is case-insensitive.
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized("authorization scheme is not Bearer"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(unauthorized("empty bearer token"));
    }
    Ok(token)
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match error.kind() {
        ExpiredSignature => "token has expired".into(),
        ImmatureSignature => "token is not valid yet (nbf)".into(),
        InvalidSignature => "token signature is invalid".into(),
        InvalidAlgorithm | InvalidAlgorithmName => "token algorithm is not accepted".into(),
        InvalidIssuer => "token issuer is not accepted".into(),
        InvalidAudience => "token audience is not accepted".into(),
        MissingRequiredClaim(claim) => format!("token lacks the required '{claim}' claim"),
        _ => "token is malformed".into(),
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn principal_from(claims: Claims, now: u64) -> Result<Principal, ApiError> {
    if let Some(iat) = &claims.iat {
        let iat = iat
            .as_f64()
            .ok_or_else(|| unauthorized("token 'iat' claim is not a number"))?;
        if iat > (now + LEEWAY_SECS) as f64 {
            return Err(unauthorized("token was issued in the future (iat)"));
        }
    }
    let subject = match claims.sub {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(unauthorized("token 'sub' claim is not a string")),
    };
    let user_id = match (subject, claims.user_id) {
        (Some(sub), _) => sub,
        (None, Some(Value::String(id))) if !id.is_empty() => id,
        _ => return Err(unauthorized("token has no subject ('sub' or 'user_id')")),
    };
    if user_id.chars().count() > MAX_SUBJECT_CHARS {
        return Err(unauthorized("token subject is too long"));
    }
    if user_id.chars().any(char::is_control) {
        return Err(unauthorized("token subject contains control characters"));
    }
    Ok(Principal {
        user_id,
        email: profile_claim(claims.email),
        name: profile_claim(claims.name),
    })
}

/// Profile claims are a convenience: one that cannot be stored is dropped,
/// not a reason to refuse the request.
fn profile_claim(value: Option<Value>) -> Option<String> {
    match value {
        Some(Value::String(s))
            if !s.is_empty()
                && !s.contains('\0')
                && s.chars().count() <= MAX_PROFILE_CLAIM_CHARS =>
        {
            Some(s)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use lambda_http::http::HeaderValue;
    use serde_json::json;

    const SECRET: &str = "test-secret-that-is-long-enough-0123456789";

    fn auth() -> Authenticator {
        Authenticator::new(&AuthConfig {
            secret: Some(SECRET.into()),
            ..AuthConfig::default()
        })
        .unwrap()
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    /// The synchronous view the tests need.
    trait Check {
        fn check(&self, headers: &HeaderMap) -> Result<Principal, ApiError>;
    }

    impl Check for Authenticator {
        fn check(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
            block_on(self.authenticate(headers))
        }
    }

    fn sign(claims: Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn check(claims: Value) -> Result<Principal, ApiError> {
        auth().check(&headers(&format!("Bearer {}", sign(claims))))
    }

    fn reason(result: Result<Principal, ApiError>) -> String {
        match result {
            Err(ApiError::Unauthorized(reason)) => reason,
            other => panic!("expected 401, got {other:?}"),
        }
    }

    fn later() -> u64 {
        now_secs() + 600
    }

    #[test]
    fn accepts_a_valid_token_and_reads_profile_claims() {
        let p =
            check(json!({"sub": "kX3f9q2LrT", "exp": later(), "email": "a@b.c", "name": "Ann"}))
                .unwrap();
        assert_eq!(p.user_id, "kX3f9q2LrT");
        assert_eq!(p.email.as_deref(), Some("a@b.c"));
        assert_eq!(p.name.as_deref(), Some("Ann"));
    }

    #[test]
    fn falls_back_to_user_id_claim() {
        let p = check(json!({"user_id": "123", "exp": later()})).unwrap();
        assert_eq!(p.user_id, "123");
    }

    #[test]
    fn exp_is_required_and_checked_with_leeway() {
        assert!(reason(check(json!({"sub": "u"}))).contains("exp"));
        assert!(reason(check(json!({"sub": "u", "exp": now_secs() - 120}))).contains("expired"));
        assert!(check(json!({"sub": "u", "exp": now_secs() - 10})).is_ok());
    }

    #[test]
    fn nbf_and_iat_in_the_future_are_refused() {
        assert!(reason(check(
            json!({"sub": "u", "exp": later(), "nbf": now_secs() + 120})
        ))
        .contains("nbf"));
        assert!(reason(check(
            json!({"sub": "u", "exp": later(), "iat": now_secs() + 120})
        ))
        .contains("iat"));
        assert!(check(json!({"sub": "u", "exp": later(), "iat": now_secs() + 10})).is_ok());
    }

    #[test]
    fn bad_subjects_are_refused() {
        for claims in [
            json!({"exp": later()}),
            json!({"sub": "", "exp": later()}),
            json!({"sub": 42, "exp": later()}),
            json!({"sub": "a".repeat(256), "exp": later()}),
            json!({"sub": "a\u{0000}b", "exp": later()}),
        ] {
            reason(check(claims));
        }
    }

    #[test]
    fn wrong_signature_and_algorithms_are_refused() {
        let forged = encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": "u", "exp": later()}),
            &EncodingKey::from_secret(b"another secret"),
        )
        .unwrap();
        assert!(reason(auth().check(&headers(&format!("Bearer {forged}")))).contains("signature"));

        // alg: none with the signature stripped.
        let good = sign(json!({"sub": "u", "exp": later()}));
        let payload = good.split('.').nth(1).unwrap();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        let unsigned = format!("{none_header}.{payload}.");
        reason(auth().check(&headers(&format!("Bearer {unsigned}"))));
    }

    #[test]
    fn header_shape_is_checked() {
        let token = sign(json!({"sub": "u", "exp": later()}));
        assert!(auth().check(&headers(&format!("bearer {token}"))).is_ok());
        reason(auth().check(&HeaderMap::new()));
        reason(auth().check(&headers(&format!("Basic {token}"))));
        reason(auth().check(&headers("Bearer ")));
        reason(auth().check(&headers("Bearer not.a.jwt")));
        let mut twice = headers(&format!("Bearer {token}"));
        twice.append(
            AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        assert!(reason(auth().check(&twice)).contains("more than one"));
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert!(reason(auth().check(&headers(&huge))).contains("too large"));
    }

    #[test]
    fn issuer_and_audience_when_configured() {
        let strict = Authenticator::new(&AuthConfig {
            secret: Some(SECRET.into()),
            issuer: Some("https://auth.example".into()),
            audience: Some("https://app.example".into()),
            ..AuthConfig::default()
        })
        .unwrap();
        let check = |claims: Value| strict.check(&headers(&format!("Bearer {}", sign(claims))));
        let base =
            |iss: &str, aud: &str| json!({"sub": "u", "exp": later(), "iss": iss, "aud": aud});
        assert!(check(base("https://auth.example", "https://app.example")).is_ok());
        assert!(
            reason(check(base("https://evil.example", "https://app.example"))).contains("issuer")
        );
        assert!(
            reason(check(base("https://auth.example", "https://other.example")))
                .contains("audience")
        );
        reason(check(json!({"sub": "u", "exp": later()})));
    }

    #[test]
    fn unstorable_profile_claims_are_dropped() {
        let p =
            check(json!({"sub": "u", "exp": later(), "email": "a\u{0000}@b", "name": 7})).unwrap();
        assert_eq!((p.email, p.name), (None, None));
    }
}
