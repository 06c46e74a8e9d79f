//! A function binary run as Lambda runs it: under a local Runtime API, with
//! `AWS_LAMBDA_MAX_CONCURRENCY` set, so that one process (one execution
//! environment of Lambda Managed Instances) serves that many invocations at
//! once over its one connection.

use super::{Call, Reply, SECRET};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use shared::Endpoint;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use xtask::runtime_api::RuntimeApi;

pub struct Instance {
    endpoint: Endpoint,
    api: RuntimeApi,
    child: tokio::process::Child,
    sent: AtomicU64,
}

impl Instance {
    /// The debug build of `endpoint`'s function (`cargo xtask test` builds
    /// them) against `database_url`, plus `env`; returns after its init.
    pub async fn start(
        endpoint: Endpoint,
        database_url: &str,
        concurrency: usize,
        env: &[(&str, &str)],
    ) -> Self {
        Self::start_logging_to(endpoint, database_url, concurrency, env, None).await
    }

    /// As [`Instance::start`], with everything the process writes (stdout
    /// and stderr) going to `log`.
    pub async fn start_logging_to(
        endpoint: Endpoint,
        database_url: &str,
        concurrency: usize,
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Self {
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::File::create(path).unwrap();
                (Stdio::from(file.try_clone().unwrap()), Stdio::from(file))
            }
            None => (Stdio::null(), Stdio::inherit()),
        };
        let api = RuntimeApi::start().await.unwrap();
        let binary = xtask::project_root().join(format!("target/debug/{}", endpoint.name()));
        let mut command =
            api.lambda_command(tokio::process::Command::new(&binary), endpoint.name(), 2048);
        let child = command
            .env("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.to_string())
            .env("DATABASE_URL", database_url)
            .env("BETTER_AUTH_SECRET", SECRET)
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        api.first_poll_within(Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", endpoint.name()));
        Self {
            endpoint,
            api,
            child,
            sent: AtomicU64::new(0),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the instance runs")
    }

    /// Sends SIGTERM, as Lambda does before removing an execution
    /// environment; returns how the process ended (within 2 s).
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.pid().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        tokio::time::timeout(Duration::from_secs(2), self.child.wait())
            .await
            .expect("the instance exits within 2 s of SIGTERM")
            .unwrap()
    }

    /// One invocation; the API Gateway response as the function posted it.
    pub async fn send_raw(&self, call: Call) -> String {
        assert_eq!(call.endpoint(), self.endpoint, "sent to the wrong function");
        let id = format!("req-{}", self.sent.fetch_add(1, Ordering::Relaxed));
        let outcome = self
            .api
            .invoke(id, call.event().to_string())
            .await
            .expect("the instance answers");
        assert!(
            outcome.ok,
            "the handler failed: {}",
            String::from_utf8_lossy(&outcome.body)
        );
        String::from_utf8(outcome.body.to_vec()).expect("a UTF-8 response")
    }

    /// One invocation; the API Gateway response as a [`Reply`].
    pub async fn send(&self, call: Call) -> Reply {
        let raw = self.send_raw(call).await;
        let response: Value = serde_json::from_str(&raw).expect("a JSON response");
        let mut headers = HeaderMap::new();
        for (name, value) in response["headers"].as_object().into_iter().flatten() {
            headers.insert(
                HeaderName::try_from(name.as_str()).unwrap(),
                HeaderValue::try_from(value.as_str().unwrap_or_default()).unwrap(),
            );
        }
        let body = response["body"].as_str().unwrap_or_default();
        let body = if response["isBase64Encoded"].as_bool() == Some(true) {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap()
        } else {
            body.as_bytes().to_vec()
        };
        Reply {
            status: response["statusCode"].as_u64().unwrap_or(0) as u16,
            headers,
            body,
        }
    }
}

/// One instance of each function.
pub struct Fleet {
    instances: Vec<Instance>,
}

impl Fleet {
    pub async fn start(database_url: &str, concurrency: usize, env: &[(&str, &str)]) -> Self {
        let mut instances = Vec::new();
        for endpoint in Endpoint::ALL {
            instances.push(Instance::start(endpoint, database_url, concurrency, env).await);
        }
        Self { instances }
    }

    pub async fn send(&self, call: Call) -> Reply {
        self.instance(call.endpoint()).send(call).await
    }

    pub async fn send_raw(&self, call: Call) -> String {
        self.instance(call.endpoint()).send_raw(call).await
    }

    fn instance(&self, endpoint: Endpoint) -> &Instance {
        self.instances
            .iter()
            .find(|i| i.endpoint == endpoint)
            .expect("every function runs")
    }
}
