//! End to end over HTTP through the real `cargo lambda watch` emulator, routed
//! by `[workspace.metadata.lambda.watch.router]`.

use serde_json::{json, Value};
use testkit::*;

/// The emulator, and a blocking HTTP client for it.
struct Emulator {
    inner: xtask::emulator::Emulator,
}

impl Emulator {
    fn start() -> Self {
        Self { inner: emulator(1) }
    }

    /// Sends a request; returns status, Location header and JSON body (Null if empty).
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        let reply = self.request(method, path, token, &[], body);
        let location = reply.header("location");
        (reply.status, location, reply.json)
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> HttpReply {
        let body = body.map(|b| b.to_string().into_bytes());
        http(
            &self.inner.base_url,
            method,
            path,
            token,
            headers,
            body.as_deref(),
        )
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

/// What the contract adds on top of the bodies travels through the emulator
/// too: the next page's Link, ETag and If-Match, Idempotency-Key, 405 + Allow.
#[test]
fn pages_versions_retries_and_methods_over_http() {
    let api = Emulator::start();
    let carol = User::new("e2e-carol");
    let tasks = format!("/api/{}/tasks", carol.id);
    let token = Some(carol.token.as_str());
    let key = [("Idempotency-Key", "e2e-key-1")];
    let first = api.request("POST", &tasks, token, &key, Some(json!({"title": "a"})));
    let again = api.request("POST", &tasks, token, &key, Some(json!({"title": "a"})));
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json, again.json);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    api.send("POST", &tasks, token, Some(json!({"title": "b"})));

    let page = api.request("GET", &format!("{tasks}?limit=1"), token, &[], None);
    let link = page.header("link").expect("a Link to the next page");
    let next = link_target(&link).to_owned();
    let rest = api.request("GET", &next, token, &[], None);
    assert_eq!((rest.status, rest.header("link")), (200, None));
    assert_eq!(rest.json.as_array().map(Vec::len), Some(1));

    let id = first.json["id"].as_i64().unwrap();
    let read = api.request("GET", &format!("{tasks}/{id}"), token, &[], None);
    let etag = read.header("etag").expect("an ETag");
    let put = |tag: &str| {
        api.request(
            "PUT",
            &format!("{tasks}/{id}"),
            token,
            &[("If-Match", tag)],
            Some(json!({"title": "edited"})),
        )
    };
    assert_eq!(put(&etag).status, 200);
    assert_eq!(put(&etag).status, 412);

    let trace = api.request("TRACE", &tasks, token, &[], None);
    assert_eq!(
        (trace.status, trace.header("allow").as_deref()),
        (405, Some("GET, HEAD, POST, OPTIONS"))
    );
}
