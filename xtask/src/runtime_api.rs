//! A minimal AWS Lambda Runtime API (the endpoints a custom runtime polls),
//! so a function binary can be run and timed here exactly as Lambda drives it:
//! `/runtime/invocation/next`, `.../{id}/response`, `.../{id}/error`,
//! `/runtime/init/error`.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Notify};

/// What the function answered, and when (measured at this end of the wire).
pub struct Outcome {
    pub ok: bool,
    pub body: Bytes,
    pub sent_at: Instant,
    pub answered_at: Instant,
}

impl Outcome {
    /// The handler answered (not `/error`) with an API Gateway response
    /// whose `statusCode` is 2xx.
    pub fn succeeded(&self) -> bool {
        let status = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|response| response["statusCode"].as_u64())
            .unwrap_or(0);
        self.ok && (200..300).contains(&status)
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, String, oneshot::Sender<Outcome>)>,
    in_flight: HashMap<String, (Instant, oneshot::Sender<Outcome>)>,
    first_poll: Option<Instant>,
    init_error: Option<String>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    state: Arc<Mutex<State>>,
    ready: Arc<Notify>,
    pub address: String,
}

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api = Self {
            state: Arc::default(),
            ready: Arc::new(Notify::new()),
            address: listener.local_addr()?.to_string(),
        };
        let server = api.clone();
        tokio::spawn(crate::background::serve_http(listener, move |request| {
            let api = server.clone();
            async move { api.handle(request).await }
        }));
        Ok(api)
    }

    /// When the function first asked for work: the end of its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.state.lock().unwrap().first_poll
    }

    pub fn init_error(&self) -> Option<String> {
        self.state.lock().unwrap().init_error.clone()
    }

    /// Waits (up to `limit`) for the function's first poll, i.e. the end of
    /// its init; fails naming the init error it reported, if any.
    pub async fn first_poll_within(&self, limit: Duration) -> anyhow::Result<Instant> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(at) = self.first_poll() {
                return Ok(at);
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "no poll for work within {limit:?} (init error: {:?})",
                    self.init_error()
                );
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// `command` as Lambda starts a function under this API: nothing of this
    /// process's environment, the runtime variables of `function` with
    /// `memory_mb`, output discarded, killed with the command's handle.
    pub fn lambda_command(
        &self,
        mut command: tokio::process::Command,
        function: &str,
        memory_mb: u64,
    ) -> tokio::process::Command {
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Queues one event and waits for the function's answer.
    pub async fn invoke(&self, request_id: String, event: String) -> anyhow::Result<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.state
            .lock()
            .unwrap()
            .queue
            .push_back((request_id, event, tx));
        self.ready.notify_one();
        Ok(rx.await?)
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = request.uri().path().to_owned();
        let parts: Vec<&str> = path
            .trim_start_matches("/2018-06-01/runtime/")
            .split('/')
            .collect();
        match parts.as_slice() {
            ["invocation", "next"] => self.next().await,
            ["invocation", id, outcome @ ("response" | "error")] => {
                let answered_at = Instant::now();
                let ok = *outcome == "response";
                let body = body_of(request).await;
                if let Some((sent_at, tx)) = self.state.lock().unwrap().in_flight.remove(*id) {
                    let _ = tx.send(Outcome {
                        ok,
                        body,
                        sent_at,
                        answered_at,
                    });
                }
                reply(StatusCode::ACCEPTED, Bytes::new(), &[])
            }
            ["init", "error"] => {
                let body = body_of(request).await;
                self.state.lock().unwrap().init_error =
                    Some(String::from_utf8_lossy(&body).into_owned());
                reply(StatusCode::ACCEPTED, Bytes::new(), &[])
            }
            _ => reply(StatusCode::NOT_FOUND, Bytes::new(), &[]),
        }
    }

    /// Long-polls like Lambda: answers when an event is queued.
    async fn next(&self) -> Response<Full<Bytes>> {
        self.state
            .lock()
            .unwrap()
            .first_poll
            .get_or_insert_with(Instant::now);
        loop {
            let notified = self.ready.notified();
            let event = self.state.lock().unwrap().queue.pop_front();
            if let Some((id, body, tx)) = event {
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis()
                    + 30_000;
                let headers = [
                    ("lambda-runtime-aws-request-id", id.clone()),
                    ("lambda-runtime-deadline-ms", deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:bench".into(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000".into(),
                    ),
                ];
                self.state
                    .lock()
                    .unwrap()
                    .in_flight
                    .insert(id, (Instant::now(), tx));
                return reply(StatusCode::OK, Bytes::from(body), &headers);
            }
            notified.await;
        }
    }
}

async fn body_of(request: Request<Incoming>) -> Bytes {
    request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default()
}

fn reply(status: StatusCode, body: Bytes, headers: &[(&str, String)]) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    response.body(Full::new(body)).unwrap_or_default()
}
