//! The Lambda entry point every function binary calls.

use crate::app::App;
use crate::config::Config;
use crate::endpoint::Endpoint;
use lambda_http::{service_fn, Request};
use std::convert::Infallible;

/// Initialises logging and state, connects to the database, then serves
/// `endpoint` until the runtime shuts the instance down.
pub async fn serve(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    init_logging();
    let app = match Config::from_env()
        .map_err(|e| e.to_string())
        .and_then(|config| App::new(&config).map_err(|e| e.to_string()))
    {
        Ok(app) => app,
        Err(reason) => {
            // One line naming the problem, then a non-zero exit: Lambda reports
            // it as an init error.
            tracing::error!(function = endpoint.name(), error = %reason, "init failed");
            std::process::exit(1);
        }
    };
    app.db.warm_up().await;
    // Lives as long as the instance; leaking it lets every invocation borrow it.
    let app: &'static App = Box::leak(Box::new(app));
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(endpoint.respond(app, request).await)
    }))
    .await
}

/// One JSON object per line on stdout; `RUST_LOG` filters (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}
