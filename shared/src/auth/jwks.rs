//! Verification keys published as a JWKS: Better Auth's JWT plugin signs with
//! EdDSA (Ed25519) by default; ES256 and RS256 keys are accepted too.
//!
//! Keys come inline (`JWT_JWKS`) and/or from a URL (`JWT_JWKS_URL`), fetched at
//! init and again when a token names a key id we do not know, at most once a
//! minute, so a flood of made-up `kid`s cannot turn us into a traffic source.

use crate::outbound::{self, HttpsClient, OutboundError};
use http_body_util::Full;
use hyper::body::Bytes;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Between refetches for an unknown `kid` (docs/API.md: at most once a minute).
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Between retries while no key set could be fetched at all.
const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// The algorithms a JWKS key may verify.
pub const ASYMMETRIC: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

/// Why a key set could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("not a JWKS document: {0}")]
    NotJwks(serde_json::Error),
    #[error("bad URL: {0}")]
    Url(hyper::http::Error),
    #[error("HTTP {0}")]
    Status(hyper::StatusCode),
    #[error(transparent)]
    Outbound(#[from] OutboundError),
}

struct VerificationKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The usable keys of one JWKS document.
struct KeyTable(Vec<VerificationKey>);

impl KeyTable {
    fn parse(text: &str) -> Result<Self, JwksError> {
        let set: JwkSet = serde_json::from_str(text).map_err(JwksError::NotJwks)?;
        // Keys of other types or uses are skipped rather than fatal: a JWKS may
        // legitimately publish encryption keys next to signing keys.
        let keys = set.keys.iter().filter_map(usable).collect();
        Ok(Self(keys))
    }

    fn find(&self, algorithm: Algorithm, kid: Option<&str>) -> Option<DecodingKey> {
        self.0
            .iter()
            .filter(|k| k.algorithm == algorithm)
            .find(|k| kid.is_none() || k.kid.as_deref() == kid)
            .map(|k| k.key.clone())
    }
}

fn usable(jwk: &Jwk) -> Option<VerificationKey> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        _ => return None,
    };
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(_) => return None,
    };
    if declared.is_some_and(|d| d != algorithm) {
        return None;
    }
    Some(VerificationKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

pub enum Lookup {
    Found(DecodingKey),
    UnknownKey,
    /// No key set could be had: the server's problem (503), not the client's.
    Unavailable(String),
}

pub struct Jwks {
    inline: Option<KeyTable>,
    remote: Option<Remote>,
}

struct Remote {
    url: String,
    client: HttpsClient,
    state: Mutex<RemoteState>,
}

#[derive(Default)]
struct RemoteState {
    keys: Option<KeyTable>,
    /// Any fetch: paces retries while no key set could be had.
    last_attempt: Option<Instant>,
    /// Fetches caused by an unknown `kid`: paced to once a minute.
    last_refetch: Option<Instant>,
}

impl Jwks {
    /// `None` when neither source is configured; an inline document that does
    /// not parse is a configuration error.
    pub fn new(inline: Option<&str>, url: Option<&str>) -> Result<Option<Self>, JwksError> {
        let inline = inline.map(KeyTable::parse).transpose()?;
        let remote = url.map(|url| Remote {
            url: url.to_owned(),
            client: outbound::client(),
            state: Mutex::new(RemoteState::default()),
        });
        Ok((inline.is_some() || remote.is_some()).then_some(Self { inline, remote }))
    }

    /// Fetches the remote key set during init; failure is logged, not fatal.
    pub async fn warm_up(&self) {
        if let Some(remote) = &self.remote {
            let mut state = remote.state.lock().await;
            remote.refresh(&mut state).await;
        }
    }

    pub async fn key(&self, algorithm: Algorithm, kid: Option<&str>) -> Lookup {
        if let Some(key) = self.inline.as_ref().and_then(|t| t.find(algorithm, kid)) {
            return Lookup::Found(key);
        }
        let Some(remote) = &self.remote else {
            return Lookup::UnknownKey;
        };
        let mut state = remote.state.lock().await;
        if let Some(key) = state.keys.as_ref().and_then(|t| t.find(algorithm, kid)) {
            return Lookup::Found(key);
        }
        let due =
            |last: Option<Instant>, wait: Duration| last.is_none_or(|at| at.elapsed() >= wait);
        let fetch = match state.keys {
            Some(_) => due(state.last_refetch, REFETCH_INTERVAL),
            None => due(state.last_attempt, RETRY_INTERVAL),
        };
        if fetch {
            if state.keys.is_some() {
                state.last_refetch = Some(Instant::now());
            }
            remote.refresh(&mut state).await;
            if let Some(key) = state.keys.as_ref().and_then(|t| t.find(algorithm, kid)) {
                return Lookup::Found(key);
            }
        }
        match state.keys {
            Some(_) => Lookup::UnknownKey,
            None => Lookup::Unavailable(format!("JWKS at {} could not be fetched", remote.url)),
        }
    }
}

impl Remote {
    async fn refresh(&self, state: &mut RemoteState) {
        state.last_attempt = Some(Instant::now());
        match tokio::time::timeout(FETCH_TIMEOUT, self.fetch()).await {
            Ok(Ok(table)) => {
                tracing::info!(url = %self.url, keys = table.0.len(), "JWKS fetched");
                state.keys = Some(table);
            }
            Ok(Err(error)) => tracing::warn!(url = %self.url, %error, "JWKS fetch failed"),
            Err(_) => {
                tracing::warn!(url = %self.url, "JWKS fetch timed out after {FETCH_TIMEOUT:?}")
            }
        }
    }

    async fn fetch(&self) -> Result<KeyTable, JwksError> {
        let request = hyper::Request::get(self.url.as_str())
            .body(Full::new(Bytes::new()))
            .map_err(JwksError::Url)?;
        let (status, body) = outbound::send(&self.client, request, MAX_JWKS_BYTES).await?;
        if !status.is_success() {
            return Err(JwksError::Status(status));
        }
        KeyTable::parse(&String::from_utf8_lossy(&body))
    }
}
