//! The functions' own HTTPS requests (a remote JWKS, Secrets Manager): one
//! client type (hyper + hyper-tls, so the same OpenSSL as the database), and
//! answers read only up to a size limit, since they come from the network.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_tls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Connecting, TLS or the exchange itself; the debug form names the cause
    /// (the display form of hyper's error does not).
    #[error("{0:?}")]
    Request(hyper_util::client::legacy::Error),
    #[error("reading the body: {0}")]
    Body(Box<dyn std::error::Error + Send + Sync>),
}

/// A client for `https://` (and plain `http://`) URLs.
pub fn client() -> HttpsClient {
    Client::builder(TokioExecutor::new()).build(HttpsConnector::new())
}

/// Sends `request`; returns the status and the body, refused past `limit`
/// bytes.
pub async fn send(
    client: &HttpsClient,
    request: Request<Full<Bytes>>,
    limit: usize,
) -> Result<(StatusCode, Bytes), OutboundError> {
    let response = client
        .request(request)
        .await
        .map_err(OutboundError::Request)?;
    let status = response.status();
    let body = Limited::new(response.into_body(), limit)
        .collect()
        .await
        .map_err(OutboundError::Body)?
        .to_bytes();
    Ok((status, body))
}
