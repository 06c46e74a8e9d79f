//! The harness of the integration tests (`shared/tests/it`, `xtask/tests/it`):
//! a real PostgreSQL (started by `cargo xtask test`), the events of `events/`
//! turned into requests, the function binaries under a local Runtime API, and
//! helpers to look at the database behind the API's back.

use lambda_http::http::HeaderMap;
use serde_json::{json, Map, Value};
use shared::config::{AuthConfig, Config, DatabaseConfig};
use shared::{App, Endpoint};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use shared::Endpoint::*;

pub mod instance;
pub mod tls_server;

/// Every endpoint, in an order that keeps a task alive until the last one.
pub const LIFECYCLE_ORDER: [Endpoint; Endpoint::ALL.len()] = [
    ListTasks,
    ListTags,
    CreateTask,
    GetTask,
    UpdateTask,
    CompleteTask,
    DeleteTask,
];

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

pub fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL is not set: run the tests with `cargo xtask test`, \
         which starts and migrates a throwaway PostgreSQL",
    )
}

pub fn config_for(url: &str) -> Config {
    Config {
        database: DatabaseConfig {
            url: url.to_owned(),
            connect_timeout: Duration::from_secs(2),
            query_timeout: Duration::from_secs(5),
        },
        auth: AuthConfig {
            secret: Some(SECRET.to_owned()),
            ..AuthConfig::default()
        },
        metrics_namespace: Some(shared::config::DEFAULT_METRICS_NAMESPACE.to_owned()),
        task_limit: shared::tasks::TaskLimit::default(),
    }
}

/// An instance's state as a cold start builds it, connected to the test database.
pub async fn app() -> App {
    app_for(&database_url()).await
}

pub async fn app_for(url: &str) -> App {
    app_with(config_for(url)).await
}

/// An instance built from any configuration, warmed up as a cold start does.
pub async fn app_with(config: Config) -> App {
    let app = App::new(&config).expect("valid test configuration");
    app.warm_up().await;
    app
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

pub struct User {
    pub id: String,
    pub token: String,
}

impl User {
    pub fn new(prefix: &str) -> Self {
        Self::named(&unique(prefix))
    }

    /// A user with exactly this id (for tests whose answers must not vary).
    pub fn named(id: &str) -> Self {
        let token = xtask::token::mint(SECRET, id, Duration::from_secs(600));
        Self {
            id: id.to_owned(),
            token,
        }
    }
}

/// Seconds since the Unix epoch, for hand-made claims.
pub fn now() -> u64 {
    xtask::token::now_secs()
}

/// Any claims, signed with `key` (HS256).
pub fn sign_with(key: &str, claims: Value) -> String {
    xtask::token::sign(key, &claims)
}

/// `events/<function>.json`, as committed.
pub fn event_file(endpoint: Endpoint) -> Value {
    let path = xtask::project_root().join(format!("events/{}.json", endpoint.name()));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// One request to one endpoint, built from that function's event in `events/`.
#[derive(Clone)]
pub struct Call {
    endpoint: Endpoint,
    path_user: String,
    id: Option<String>,
    authorization: Option<String>,
    body: Option<String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    method: Option<String>,
    base64_body: bool,
    raw_query: Option<String>,
}

impl Call {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            path_user: "nobody".into(),
            id: None,
            authorization: None,
            body: None,
            query: Vec::new(),
            headers: Vec::new(),
            method: None,
            base64_body: false,
            raw_query: None,
        }
    }

    /// As `user`, on `user`'s own path.
    pub fn user(mut self, user: &User) -> Self {
        self.path_user = user.id.clone();
        self.authorization = Some(format!("Bearer {}", user.token));
        self
    }

    pub fn path_user(mut self, id: &str) -> Self {
        self.path_user = id.to_owned();
        self
    }

    pub fn authorization(mut self, value: Option<String>) -> Self {
        self.authorization = value;
        self
    }

    pub fn id(mut self, id: impl ToString) -> Self {
        self.id = Some(id.to_string());
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    /// Bytes that are not text, delivered base64-encoded as API Gateway does.
    pub fn binary_body(mut self, bytes: &[u8]) -> Self {
        use base64::Engine;
        self.body = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
        self.base64_body = true;
        self
    }

    pub fn raw_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Another method than the endpoint's, on the endpoint's route.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// A request header (lower-case name, as API Gateway delivers them).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The query of a `Link: <…?query>; rel="next"` URL, parameter by parameter.
    pub fn next_page(mut self, link: &str) -> Self {
        self.query = link_query(link);
        self
    }

    /// The query string exactly as the client sent it (API Gateway's
    /// `rawQueryString`); no decoded parameters are added for it.
    pub fn raw_query(mut self, raw: &str) -> Self {
        self.raw_query = Some(raw.to_owned());
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The API Gateway HTTP API (payload 2.0) event for this call.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    pub fn event(&self) -> Value {
        let mut event = event_file(self.endpoint);

        let mut raw_path = self.endpoint.route().replace("{user_id}", &self.path_user);
        let mut params = Map::new();
        params.insert("user_id".into(), json!(self.path_user));
        if let Some(id) = &self.id {
            raw_path = raw_path.replace("{id}", id);
            params.insert("id".into(), json!(id));
        }
        event["rawPath"] = json!(raw_path);
        if let Some(method) = &self.method {
            event["requestContext"]["http"]["method"] = json!(method);
        }
        event["requestContext"]["http"]["path"] = json!(raw_path);
        event["pathParameters"] = Value::Object(params);

        let headers = event["headers"].as_object_mut().unwrap();
        match &self.authorization {
            Some(value) => headers.insert("authorization".into(), json!(value)),
            None => headers.remove("authorization"),
        };
        for (name, value) in &self.headers {
            // API Gateway joins repeated headers with commas.
            let joined = match headers.get(name).and_then(Value::as_str) {
                Some(previous) => format!("{previous},{value}"),
                None => value.clone(),
            };
            headers.insert(name.clone(), json!(joined));
        }
        event["isBase64Encoded"] = json!(self.base64_body);
        match &self.body {
            Some(body) => event["body"] = json!(body),
            None => {
                event.as_object_mut().unwrap().remove("body");
            }
        }

        // API Gateway joins repeated parameters with commas.
        let raw_query: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{k}={}", shared::http::percent_encode(v)))
            .collect();
        event["rawQueryString"] = json!(self.raw_query.clone().unwrap_or(raw_query.join("&")));
        let mut joined: Map<String, Value> = Map::new();
        for (k, v) in &self.query {
            let value = match joined.get(k).and_then(Value::as_str) {
                Some(previous) => format!("{previous},{v}"),
                None => v.clone(),
            };
            joined.insert(k.clone(), json!(value));
        }
        if joined.is_empty() {
            event
                .as_object_mut()
                .unwrap()
                .remove("queryStringParameters");
        } else {
            event["queryStringParameters"] = Value::Object(joined);
        }
        event
    }

    pub async fn send(self, app: &App) -> Reply {
        let request = lambda_http::request::from_str(&self.event().to_string())
            .expect("the event deserializes as lambda_http does in Lambda");
        let response = self.endpoint.respond(app, request).await;
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.body().as_ref().to_vec(),
        }
    }
}

/// The URL inside `<…>; rel="next"`.
pub fn link_target(link: &str) -> &str {
    assert!(link.ends_with(r#">; rel="next""#), "{link}");
    &link[1..link.len() - r#">; rel="next""#.len()]
}

/// The parameters of a `Link` URL's query, decoded.
pub fn link_query(link: &str) -> Vec<(String, String)> {
    let query = link_target(link).split_once('?').map_or("", |(_, q)| q);
    shared::http::decode_query(query).expect("the Link's query is UTF-8")
}

/// The `cursor` parameter of a `Link: <…>; rel="next"` value.
pub fn cursor_in(link: &str) -> String {
    link_query(link)
        .into_iter()
        .find(|(name, _)| name == "cursor")
        .expect("the link carries a cursor")
        .1
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    pub fn task_id(&self) -> i64 {
        self.json()["id"].as_i64().expect("a task id")
    }

    /// Asserts an RFC 9457 problem with this status; returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "expected {status}, got {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], json!(status));
        assert_eq!(body["type"], json!("about:blank"));
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        body
    }
}

/// A connection of the test's own, for looking at the tables directly: to the
/// server itself even when the API under test goes through PgBouncer.
pub async fn sql() -> tokio_postgres::Client {
    let url = std::env::var("TEST_ADMIN_DATABASE_URL").unwrap_or_else(|_| database_url());
    sql_at(&url).await
}

/// A plain connection to `url`, behind the API's back.
pub async fn sql_at(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connecting to the test database");
    tokio::spawn(connection);
    client
}

/// Everything stored for these users (their users rows and tasks), as text:
/// equal snapshots mean nothing changed.
pub async fn snapshot(users: &[&str]) -> String {
    let users: Vec<String> = users.iter().map(|u| u.to_string()).collect();
    let row = sql()
        .await
        .query_one(
            "SELECT coalesce((SELECT json_agg(u ORDER BY u.id)::text FROM users u WHERE u.id = ANY($1)), '') \
                 || '|' || \
                    coalesce((SELECT json_agg(t ORDER BY t.id)::text FROM tasks t WHERE t.user_id = ANY($1)), '')",
            &[&users],
        )
        .await
        .unwrap();
    row.get(0)
}

/// Creates a task for `user` through the API and returns its JSON.
pub async fn create(app: &App, user: &User, title: &str) -> Value {
    Call::new(CreateTask)
        .user(user)
        .json(json!({ "title": title }))
        .send(app)
        .await
        .expect(201)
        .json()
}

/// Statements the server logged for one application_name (the throwaway
/// server started by `cargo xtask test` logs every statement, tagged with it).
pub fn statements_logged_for(application: &str) -> usize {
    let path = std::env::var("TEST_DATABASE_LOG")
        .expect("TEST_DATABASE_LOG is not set: run the tests with `cargo xtask test`");
    let log = std::fs::read_to_string(path).unwrap();
    let prefix = format!("{application}|");
    log.lines()
        .filter(|line| line.starts_with(&prefix))
        // The API only speaks the extended protocol (query_typed), logged as
        // "execute"; simple-protocol lines are a pooler's own (PgBouncer's SET).
        .filter(|line| line.contains("LOG:  execute"))
        .count()
}

pub async fn settled_count(application: &str) -> usize {
    // The server writes its log asynchronously to us: wait until it stops growing.
    let mut last = statements_logged_for(application);
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = statements_logged_for(application);
        if now == last {
            return now;
        }
        last = now;
    }
}

/// `n` separate instances, each with its own connection: concurrent requests
/// through them race for real in PostgreSQL.
pub async fn instances(n: usize) -> Vec<App> {
    let mut apps = Vec::with_capacity(n);
    for _ in 0..n {
        apps.push(app().await);
    }
    apps
}

/// `cargo lambda watch` serving the functions against the test database, with
/// `concurrency` processes per function at most.
pub fn emulator(concurrency: u32) -> xtask::emulator::Emulator {
    let url = database_url();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("BETTER_AUTH_SECRET", SECRET),
    ];
    xtask::emulator::Emulator::start(&xtask::project_root(), &env, concurrency)
        .expect("cargo lambda is installed by `cargo xtask test`")
}

/// A server of the test's own, migrated, so it can be stopped and started.
pub async fn own_database() -> (xtask::postgres::Cluster, String) {
    own_database_at(None).await
}

/// [`own_database`], migrated only up to `version` (all with `None`): for
/// rows put in an older schema, then carried over by the later migrations.
pub async fn own_database_at(version: Option<i32>) -> (xtask::postgres::Cluster, String) {
    let cluster = xtask::postgres::Cluster::throwaway().expect("a throwaway PostgreSQL");
    cluster.ensure_database("tasks").await.unwrap();
    let url = cluster.url("tasks");
    xtask::migrate::run_to(&url, version).await.unwrap();
    (cluster, url)
}

/// `cargo xtask dev`'s server (CORS layer, emulator, docs) on free ports,
/// against the test database; the docs are authorized with `token`.
pub fn dev_server_with(database_url: &str, origins: &[&str], token: &str) -> xtask::dev::DevServer {
    dev_server_env(database_url, origins, token, &[])
}

/// [`dev_server_with`], with more of the functions' environment (as
/// `MAX_TASKS_PER_USER=3 cargo xtask dev` would give them).
pub fn dev_server_env(
    database_url: &str,
    origins: &[&str],
    token: &str,
    more: &[(&str, &str)],
) -> xtask::dev::DevServer {
    dev_server_timing_out(
        database_url,
        origins,
        token,
        more,
        xtask::dev::REQUEST_TIMEOUT,
    )
}

/// [`dev_server_env`], whose proxy answers 504 after `timeout`.
pub fn dev_server_timing_out(
    database_url: &str,
    origins: &[&str],
    token: &str,
    more: &[(&str, &str)],
    timeout: Duration,
) -> xtask::dev::DevServer {
    let mut env = vec![
        ("DATABASE_URL", database_url),
        ("BETTER_AUTH_SECRET", SECRET),
    ];
    env.extend_from_slice(more);
    let settings = xtask::dev::Settings {
        origins: origins.iter().map(|o| o.to_string()).collect(),
        token,
        timeout,
        ..xtask::dev::Settings::quiet(&env)
    };
    xtask::dev::DevServer::start(&xtask::project_root(), &settings)
        .expect("cargo lambda and npm are installed by `cargo xtask test`")
}

pub fn dev_server(origins: &[&str]) -> xtask::dev::DevServer {
    dev_server_with(&database_url(), origins, "")
}

/// What came back over HTTP.
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body as JSON; `Null` when empty or not JSON.
    pub json: Value,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

/// One blocking HTTP request to `base_url` + `path`, sent as is (a body is
/// sent as JSON unless `headers` name another Content-Type).
pub fn http(
    base_url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> HttpReply {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(180))
        .build();
    let mut request = agent.request(method, &format!("{base_url}{path}"));
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.set("Content-Type", "application/json");
    }
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let result = match body {
        Some(body) => request.send_bytes(body),
        None => request.call(),
    };
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {path}: {error}"),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .filter_map(|name| {
            let value = response.header(&name)?.to_owned();
            Some((name, value))
        })
        .collect();
    let mut body = Vec::new();
    response.into_reader().read_to_end(&mut body).unwrap();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    HttpReply {
        status,
        headers,
        body,
        json,
    }
}

/// The test database's URL with a session name of its own, so a test can
/// count and kill exactly its sessions.
pub fn named(url: &str, application: &str) -> String {
    format!("{url}&application_name={application}")
}

/// An instance whose connection is tagged with a fresh application_name, so
/// its statements can be counted in the server log.
pub async fn counted_app(config: Config) -> (App, String) {
    let application = unique("counted");
    let mut config = config;
    config.database.url = named(&config.database.url, &application);
    (app_with(config).await, application)
}

/// Two parties that each wait (up to a second) for the other to arrive: a
/// party that had to go on alone shows the two were not in flight together.
#[derive(Default)]
pub struct Rendezvous {
    state: std::sync::Mutex<(usize, bool)>,
    arrived: std::sync::Condvar,
}

impl Rendezvous {
    pub fn meet(&self) {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        self.arrived.notify_all();
        let (mut state, waited) = self
            .arrived
            .wait_timeout_while(state, Duration::from_secs(1), |(arrived, _)| *arrived < 2)
            .unwrap();
        if waited.timed_out() {
            state.1 = true;
        }
    }

    pub fn anyone_went_alone(&self) -> bool {
        self.state.lock().unwrap().1
    }
}

/// A TCP proxy to PostgreSQL whose connections go through only after meeting
/// the other party at `rendezvous`.
pub fn gated_proxy(upstream: u16, rendezvous: Arc<Rendezvous>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            rendezvous.meet();
            let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut server_in, mut client_out) = (server, client);
            std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
            std::thread::spawn(move || std::io::copy(&mut server_in, &mut client_out));
        }
    });
    port
}

/// The port of a loopback database URL.
pub fn port_of(url: &str) -> u16 {
    url.split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .expect("a loopback URL with a port")
}

/// A TCP proxy to PostgreSQL that understands just enough of the wire
/// protocol to count the server's ReadyForQuery messages: one per round trip.
pub struct WireProxy {
    pub port: u16,
    ready_for_query: Arc<AtomicUsize>,
}

impl WireProxy {
    pub fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ready_for_query = Arc::new(AtomicUsize::new(0));
        let counter = ready_for_query.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                for stream in [&client, &server] {
                    stream.set_nodelay(true).unwrap();
                }
                let (mut client_in, mut server_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
                let counter = counter.clone();
                std::thread::spawn(move || relay_counting(server, client, &counter));
            }
        });
        Self {
            port,
            ready_for_query,
        }
    }

    pub fn round_trips(&self) -> usize {
        self.ready_for_query.load(Ordering::SeqCst)
    }
}

/// Server → client: every message is a type byte and a 4-byte length
/// (no SSLRequest answer here: the proxy is only used with sslmode=disable).
fn relay_counting(mut from: std::net::TcpStream, mut to: std::net::TcpStream, ready: &AtomicUsize) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buffer[..n]);
        while pending.len() >= 5 {
            let length =
                u32::from_be_bytes([pending[1], pending[2], pending[3], pending[4]]) as usize;
            if pending.len() < 1 + length {
                break;
            }
            if pending[0] == b'Z' {
                ready.fetch_add(1, Ordering::SeqCst);
            }
            pending.drain(..1 + length);
        }
        // Count before forwarding, so a client that has its answer sees the count.
        if to.write_all(&buffer[..n]).is_err() {
            return;
        }
    }
}

/// The server's sessions with this application_name.
pub async fn connections_of(application: &str) -> usize {
    sql()
        .await
        .query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .await
        .unwrap()
        .len()
}

/// Runs a function binary as Lambda would start it with `env` (and PATH),
/// expecting init to fail: exit code 1 and exactly one JSON log line,
/// "init failed", which is returned.
pub fn init_failure(binary: &std::path::Path, env: &[(&str, &str)]) -> Value {
    let output = std::process::Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", binary.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let line: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["message"], json!("init failed"));
    line
}

/// Runs the openssl CLI in `dir`; returns its standard output.
pub fn openssl(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let output = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl CLI");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A user with one task, and the state to compare against after each rejection.
pub struct Fixture {
    pub app: shared::App,
    pub user: User,
    pub id: Value,
    pub before: String,
}

impl Fixture {
    pub async fn new() -> Self {
        let app = app().await;
        let user = User::new("victim");
        let id = create(&app, &user, "keep me").await["id"].clone();
        let before = snapshot(&[&user.id]).await;
        Self {
            app,
            user,
            id,
            before,
        }
    }

    pub fn call(&self, endpoint: Endpoint) -> Call {
        Call::new(endpoint).user(&self.user).id(self.id.clone())
    }

    /// Sends, expects `status` as a problem, and checks nothing changed.
    pub async fn rejects(&self, call: Call, status: u16) -> Value {
        let problem = call.send(&self.app).await.problem(status);
        assert_eq!(
            snapshot(&[&self.user.id]).await,
            self.before,
            "database changed"
        );
        problem
    }

    pub fn field_of(problem: &Value) -> Vec<String> {
        problem["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}
