//! The Lambda entry point every function binary calls.

use crate::app::App;
use crate::endpoint::Endpoint;
use lambda_http::{service_fn, Request};
use std::convert::Infallible;

/// Initialises logging and state, connects to the database, then serves
/// `endpoint` until the runtime shuts the instance down.
pub async fn serve(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    let started = std::time::Instant::now();
    crate::logging::init();
    let app = match App::load().await {
        Ok(app) => app,
        Err(reason) => {
            // One line naming the problem, then a non-zero exit: Lambda reports
            // it as an init error.
            tracing::error!(function = endpoint.name(), error = %reason, "init failed");
            std::process::exit(1);
        }
    };
    app.warm_up().await;
    app.metrics.init_took(started.elapsed());
    // Lives as long as the instance; leaking it lets every invocation borrow it.
    let app: &'static App = Box::leak(Box::new(app));
    tokio::spawn(shut_down_on_sigterm(app));
    // Sequential on classic Lambda; with AWS_LAMBDA_MAX_CONCURRENCY > 1 (Lambda
    // Managed Instances) invocations run concurrently and share `app`, whose
    // one connection pipelines their statements.
    lambda_http::run_concurrent(service_fn(move |request: Request| async move {
        Ok::<_, Infallible>(endpoint.respond(app, request).await)
    }))
    .await
}

/// Lambda sends SIGTERM before it removes an execution environment: on
/// Managed Instances when it scales in, on classic Lambda only to functions
/// with an extension (this project registers none: the server notices a
/// vanished client by itself). The session then ends with a Terminate
/// message instead of a dead socket, and the process exits 0.
async fn shut_down_on_sigterm(app: &'static App) {
    let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    terminate.recv().await;
    tracing::info!("SIGTERM: closing the database connection");
    app.shut_down().await;
    std::process::exit(0);
}
