//! End to end over HTTP through the real `cargo lambda watch` emulator, routed
//! by `[workspace.metadata.lambda.watch.router]`.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

/// The emulator, and a blocking HTTP client for it.
struct Emulator {
    inner: xtask::emulator::Emulator,
}

impl Emulator {
    fn start() -> Self {
        let url = database_url();
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("BETTER_AUTH_SECRET", SECRET),
        ];
        let inner = xtask::emulator::Emulator::start(&xtask::project_root(), &env, 1)
            .expect("cargo lambda is installed by `cargo xtask test`");
        Self { inner }
    }

    /// Sends a request; returns status, Location header and JSON body (Null if empty).
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(180))
            .build();
        let mut request = agent.request(method, &format!("{}{path}", self.inner.base_url));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        let status = response.status();
        let location = response.header("location").map(str::to_owned);
        let text = response.into_string().unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, location, json)
    }
}

#[test]
fn the_api_works_over_http_through_cargo_lambda_watch() {
    let api = Emulator::start();
    let alice = User::new("e2e-alice");
    let bob = User::new("e2e-bob");
    let tasks = format!("/api/{}/tasks", alice.id);
    let token = Some(alice.token.as_str());

    let (status, location, task) = api.send(
        "POST",
        &tasks,
        token,
        Some(json!({"title": "Write the e2e test", "description": "over HTTP"})),
    );
    assert_eq!(status, 201, "{task}");
    let id = task["id"].as_i64().unwrap();
    assert_eq!(location, Some(format!("{tasks}/{id}")));

    let (status, _, list) = api.send("GET", &format!("{tasks}?status=pending"), token, None);
    assert_eq!((status, list.clone()), (200, json!([task.clone()])));

    let (status, _, got) = api.send("GET", &format!("{tasks}/{id}"), token, None);
    assert_eq!((status, got), (200, task.clone()));

    let (status, _, updated) = api.send(
        "PUT",
        &format!("{tasks}/{id}"),
        token,
        Some(json!({"title": "Ship it"})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        (updated["title"].clone(), updated["description"].clone()),
        (json!("Ship it"), Value::Null)
    );

    let (status, _, completed) = api.send("PATCH", &format!("{tasks}/{id}/complete"), token, None);
    assert_eq!((status, completed["completed"].clone()), (200, json!(true)));

    let (status, _, problem) = api.send("GET", &tasks, None, None);
    assert_eq!((status, problem["status"].clone()), (401, json!(401)));

    let (status, _, problem) = api.send("GET", &tasks, Some(bob.token.as_str()), None);
    assert_eq!((status, problem["status"].clone()), (403, json!(403)));

    let (status, _, body) = api.send("DELETE", &format!("{tasks}/{id}"), token, None);
    assert_eq!((status, body), (204, Value::Null));
    let (status, _, _) = api.send("GET", &format!("{tasks}/{id}"), token, None);
    assert_eq!(status, 404);
}
