//! The Lambda entry point every function binary calls.

use crate::app::App;
use crate::endpoint::Endpoint;
use lambda_http::{service_fn, Request};
use std::convert::Infallible;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Initialises logging and state, connects to the database, then serves
/// `endpoint` until the runtime shuts the instance down.
pub async fn serve(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    let started = std::time::Instant::now();
    init_logging();
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

/// One JSON object per line on stdout (Lambda's JSON log format), or plain
/// text when the function is configured with `LogFormat: Text`.
pub fn init_logging() {
    let settings = LogSettings::from_lookup(|name| std::env::var(name).ok());
    // `Targets` understands RUST_LOG's common form ("info", "shared=debug,warn")
    // without the regex engine EnvFilter brings, which would add to every binary.
    let filter: Targets = settings
        .filter
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(Level::INFO))
        // At TRACE the runtime logs every raw event: the token, the body.
        // Nothing else there is worth that, at any level a deployer picks.
        .with_target("lambda_runtime::layers::api_response", Level::DEBUG);
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(false)
        .with_max_level(Level::TRACE);
    let _ = if settings.json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .finish()
            .with(filter)
            .try_init()
    } else {
        builder.finish().with(filter).try_init()
    };
}

#[derive(Debug, PartialEq, Eq)]
struct LogSettings {
    filter: String,
    json: bool,
}

impl LogSettings {
    /// `RUST_LOG` wins (developers' knob); else Lambda's `AWS_LAMBDA_LOG_LEVEL`
    /// (the template's `ApplicationLogLevel`); else `info`.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let filter = lookup("RUST_LOG")
            .filter(|f| !f.trim().is_empty())
            .or_else(|| {
                lookup("AWS_LAMBDA_LOG_LEVEL").map(|level| {
                    match level.to_ascii_uppercase().as_str() {
                        "TRACE" => "trace".into(),
                        "DEBUG" => "debug".into(),
                        "WARN" => "warn".into(),
                        "ERROR" | "FATAL" => "error".into(),
                        _ => "info".into(),
                    }
                })
            })
            .unwrap_or_else(|| "info".into());
        let json = !lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"));
        Self { filter, json }
    }
}

#[cfg(test)]
mod tests {
    use super::LogSettings;

    fn settings(vars: &[(&str, &str)]) -> LogSettings {
        LogSettings::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn lambda_log_configuration_is_honoured() {
        assert_eq!(
            settings(&[]),
            LogSettings {
                filter: "info".into(),
                json: true
            }
        );
        let lambda = settings(&[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ]);
        assert_eq!(
            lambda,
            LogSettings {
                filter: "debug".into(),
                json: true
            }
        );
        let text = settings(&[
            ("AWS_LAMBDA_LOG_LEVEL", "FATAL"),
            ("AWS_LAMBDA_LOG_FORMAT", "Text"),
        ]);
        assert_eq!(
            text,
            LogSettings {
                filter: "error".into(),
                json: false
            }
        );
        let rust_log = settings(&[
            ("RUST_LOG", "shared=trace"),
            ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
        ]);
        assert_eq!(rust_log.filter, "shared=trace");
    }
}
