//! `cargo xtask dev`: every route on one port, as a browser app meets the
//! deployed API. `cargo lambda watch` runs the functions (with its own CORS
//! turned off) on a private port; in front of it, a small proxy applies
//! `shared::cors` exactly as API Gateway applies template.yaml's
//! `CorsConfiguration`, and a second port serves the interactive docs.
//!
//! Why a proxy of our own rather than the emulator's CORS: `cargo lambda
//! watch` allows every origin and exposes no response headers, so a page
//! could not read `ETag`, `Link` or `Location` locally while it can in
//! production. Putting the policy in the functions instead would be wrong in
//! production, where API Gateway ignores CORS headers from integrations.

pub mod admission;
pub mod cors;
pub mod docs;
pub mod site;

use crate::background::{serve_http, Background};
use crate::emulator::Emulator;
use crate::postgres::Cluster;
use crate::{block_on, build, migrate, project_root, token, tools, DEV_USER};
use admission::Admission;
use anyhow::Context;
use cors::Cors;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use site::Site;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const DEV_PG_PORT: u16 = 54329;
const DEV_HTTP_PORT: u16 = 9000;
const DEV_DOCS_PORT: u16 = 9001;
/// Instances per function. More than one, so a burst from a page (or the
/// docs) is served in parallel as Lambda would; few, because each one is a
/// process with its own database connection.
pub const DEV_CONCURRENCY: u32 = 4;
/// How long the proxy waits for a function's answer, its wait for a free
/// instance included, before it answers 504: API Gateway's HTTP API
/// integration timeout (30 s at most), so that a slow request fails locally
/// as it would deployed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// More browser origins to allow, comma-separated (`--cors-origin` adds one).
const ORIGINS_VARIABLE: &str = "TASK_API_CORS_ORIGINS";

/// `cargo xtask dev [--cors-origin ORIGIN]...`
/// `cargo xtask dev`; `cors_origins` are allowed besides the dev origins and
/// those of the environment.
pub fn command(cors_origins: &[String]) -> anyhow::Result<()> {
    let mut origins: Vec<String> = shared::cors::DEV_ORIGINS
        .iter()
        .map(|o| o.to_string())
        .collect();
    if let Ok(extra) = std::env::var(ORIGINS_VARIABLE) {
        origins.extend(
            extra
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(String::from),
        );
    }
    origins.extend(cors_origins.iter().cloned());

    let root = project_root();
    let (url, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            eprintln!(
                "xtask: DATABASE_URL not set; using the project-local PostgreSQL in .dev/postgres"
            );
            let cluster = Cluster::project_local(&root.join(".dev/postgres"), DEV_PG_PORT)?;
            block_on(cluster.ensure_database("tasks"))?;
            (cluster.url("tasks"), Some(cluster))
        }
    };
    let applied = block_on(migrate::run(&url))?;
    eprintln!("xtask: migrations applied now: {applied:?}");
    let secret = token::dev_secret();
    let lambda_dir = tools::cargo_lambda(&root)?;
    // Build first so the first request does not wait for a compile.
    build::functions(&root)?;

    let token = token::mint(&secret, DEV_USER, token::DEV_LIFETIME);
    let path = tools::path_with(&lambda_dir);
    let path = path.to_string_lossy();
    let log = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("BETTER_AUTH_SECRET", secret.as_str()),
        ("RUST_LOG", log.as_str()),
        ("PATH", path.as_ref()),
    ];
    let (stop, stopped) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .context("installing the Ctrl-C handler")?;
    let server = DevServer::start(
        &root,
        &Settings {
            port: DEV_HTTP_PORT,
            docs_port: DEV_DOCS_PORT,
            origins,
            env: &env,
            token: &token,
            concurrency: DEV_CONCURRENCY,
            timeout: REQUEST_TIMEOUT,
            show_logs: true,
        },
    )?;
    let api = server.base_url.replace("127.0.0.1", "localhost");
    println!("\nThe API: {api} (every route; cargo lambda watch behind API Gateway's CORS)");
    println!(
        "Interactive docs: {}",
        server.docs_url.replace("127.0.0.1", "localhost")
    );
    println!("Browser origins allowed (add more with --cors-origin or {ORIGINS_VARIABLE}):");
    for origin in &server.origins {
        println!("  {origin}");
    }
    println!("\nDev token for user '{DEV_USER}' (valid 24 h; `cargo xtask token --user NAME` for others):\n\n{token}\n");
    println!("Try it:\n\n  curl -s -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n    -d '{{\"title\":\"Buy milk\"}}' {api}/api/{DEV_USER}/tasks\n");
    println!("  curl -s -H 'Authorization: Bearer {token}' {api}/api/{DEV_USER}/tasks\n");
    let _ = stopped.recv();
    drop(server);
    if let Some(cluster) = cluster {
        eprintln!("xtask: stopping the project-local PostgreSQL");
        cluster.stop();
    }
    Ok(())
}

/// Where and how the dev server runs.
pub struct Settings<'a> {
    /// The API's port; 0 picks a free one.
    pub port: u16,
    /// The docs' port; 0 picks a free one.
    pub docs_port: u16,
    /// Browser origins allowed besides the docs' own.
    pub origins: Vec<String>,
    /// The functions' environment (DATABASE_URL, BETTER_AUTH_SECRET, PATH, ...).
    pub env: &'a [(&'a str, &'a str)],
    /// The token the docs' "Try it out" is pre-authorized with.
    pub token: &'a str,
    /// `cargo lambda watch --concurrency`, and so the requests in flight per
    /// function (`admission`).
    pub concurrency: u32,
    /// A request not answered in this time gets a 504 ([`REQUEST_TIMEOUT`]).
    pub timeout: Duration,
    /// Show the functions' logs (the emulator's output) on this terminal.
    pub show_logs: bool,
}

impl<'a> Settings<'a> {
    /// Free ports, no other origin or docs token, the dev concurrency and
    /// timeout, logs hidden: a dev server for a program (tests, `burst`).
    pub fn quiet(env: &'a [(&'a str, &'a str)]) -> Self {
        Self {
            port: 0,
            docs_port: 0,
            origins: Vec::new(),
            env,
            token: "",
            concurrency: DEV_CONCURRENCY,
            timeout: REQUEST_TIMEOUT,
            show_logs: false,
        }
    }
}

/// The running dev server; stopped (emulator and functions included) on drop.
pub struct DevServer {
    _emulator: Emulator,
    pub base_url: String,
    /// `cargo lambda watch` itself, without the proxy (`cargo xtask burst
    /// --direct` measures it).
    pub emulator_url: String,
    pub docs_url: String,
    pub origins: Vec<String>,
    _servers: Background,
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

impl DevServer {
    pub fn start(root: &Path, settings: &Settings) -> anyhow::Result<Self> {
        let api = bind(settings.port)?;
        let docs = bind(settings.docs_port)?;
        let base_url = format!("http://127.0.0.1:{}", api.local_addr()?.port());
        let docs_port = docs.local_addr()?.port();
        let docs_url = format!("http://127.0.0.1:{docs_port}");
        // The docs page calls the API from its own origin: that is CORS at work.
        let mut origins = settings.origins.clone();
        for host in ["127.0.0.1", "localhost"] {
            origins.push(format!("http://{host}:{docs_port}"));
        }
        let site = docs::site(root, &base_url, settings.token)?;
        let emulator =
            Emulator::start_with(root, settings.env, settings.concurrency, settings.show_logs)?;
        let upstream = Upstream {
            client: upstream_client(),
            url: emulator.base_url.clone(),
            cors: Cors::new(origins.clone()),
            admission: Admission::new(settings.concurrency),
            timeout: settings.timeout,
        };
        let emulator_url = upstream.url.clone();
        let servers = Background::spawn(move || async move {
            let api = tokio::net::TcpListener::from_std(api).expect("API listener");
            let docs = tokio::net::TcpListener::from_std(docs).expect("docs listener");
            tokio::join!(proxy(api, upstream), serve_site(docs, Arc::new(site)));
        });
        Ok(Self {
            _emulator: emulator,
            base_url,
            emulator_url,
            docs_url,
            origins,
            _servers: servers,
        })
    }
}

fn bind(port: u16) -> anyhow::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("listening on 127.0.0.1:{port}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

type UpstreamClient = Client<HttpConnector, Incoming>;

/// What the proxy forwards to, and how.
struct Upstream {
    client: UpstreamClient,
    url: String,
    cors: Cors,
    admission: Admission,
    timeout: Duration,
}

fn upstream_client() -> UpstreamClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).build(connector)
}

async fn proxy(listener: tokio::net::TcpListener, upstream: Upstream) {
    let upstream = Arc::new(upstream);
    serve_http(listener, move |request| {
        let upstream = upstream.clone();
        async move { forward(upstream, request).await }
    })
    .await
}

/// One request through the CORS layer to the emulator, unchanged otherwise:
/// path, query, headers and body bytes as the client sent them. It waits
/// for a place in its function's lane (`admission`) first, and whatever
/// happens, the client gets an answer within the timeout: 504 naming the
/// function when there was none.
async fn forward(upstream: Arc<Upstream>, mut request: Request<Incoming>) -> Response<ProxyBody> {
    let request_headers = request.headers().clone();
    let cors = &upstream.cors;
    if Cors::is_preflight(request.method(), &request_headers) {
        let mut response = Response::new(empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.headers_mut() = cors.preflight_headers(&request_headers);
        return response;
    }
    let function = admission::function_of(request.method(), request.uri().path());
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    match format!("{}{target}", upstream.url).parse() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return text(StatusCode::BAD_REQUEST, "bad request target"),
    }
    // The exchange runs on a task of its own that keeps the lane's place
    // until the emulator has answered, even when the client was answered 504
    // before: the emulator still holds that invocation, and must never hold
    // more than the lane allows.
    let (answer, answered) = tokio::sync::oneshot::channel();
    let exchange = upstream.clone();
    tokio::spawn(async move {
        let _place = match function {
            Some(name) => exchange.admission.enter(name).await,
            None => None,
        };
        if answer.is_closed() {
            return; // The client was answered 504 while this waited.
        }
        let _ = answer.send(exchange.client.request(request).await);
    });
    let name = function.unwrap_or("cargo lambda watch");
    let mut response = match tokio::time::timeout(upstream.timeout, answered).await {
        Ok(Ok(Ok(response))) => {
            let (parts, body) = response.into_parts();
            Response::from_parts(parts, body.boxed())
        }
        Ok(Ok(Err(error))) => gateway_problem(
            StatusCode::BAD_GATEWAY,
            name,
            &format!("cargo lambda watch did not answer for {name}: {error}"),
        ),
        Ok(Err(_)) => gateway_problem(
            StatusCode::BAD_GATEWAY,
            name,
            &format!("the request to {name} was dropped"),
        ),
        Err(_) => {
            let seconds = upstream.timeout.as_secs_f64();
            eprintln!("xtask dev: {name} did not answer {target} within {seconds} s: 504");
            gateway_problem(
                StatusCode::GATEWAY_TIMEOUT,
                name,
                &format!("{name} did not answer within {seconds} s"),
            )
        }
    };
    cors.decorate(&request_headers, response.headers_mut());
    response
}

/// The proxy's own failures, in problem+json (RFC 9457) like the API's,
/// naming the function that did not answer.
fn gateway_problem(status: StatusCode, function: &str, detail: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Bad Gateway"),
        "status": status.as_u16(),
        "detail": detail,
        "function": function,
    });
    let mut response = text(status, &body.to_string());
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/problem+json"),
    );
    response
}

async fn serve_site(listener: tokio::net::TcpListener, site: Arc<Site>) {
    serve_http(listener, move |request: Request<Incoming>| {
        let site = site.clone();
        async move {
            match site.get(request.uri().path()) {
                Some((content_type, body)) => {
                    let mut response =
                        Response::new(Full::new(body).map_err(|never| match never {}).boxed());
                    response
                        .headers_mut()
                        .insert(hyper::header::CONTENT_TYPE, content_type.parse().unwrap());
                    response
                }
                None => text(StatusCode::NOT_FOUND, "not found"),
            }
        }
    })
    .await
}

fn empty() -> ProxyBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

fn text(status: StatusCode, message: &str) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(message.to_owned()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
}

/// Serves `site` on a free port of 127.0.0.1 until dropped (the browser
/// test's pages, each origin its own port).
pub struct SiteServer {
    pub url: String,
    _server: Background,
}

impl SiteServer {
    pub fn start(site: Site) -> anyhow::Result<Self> {
        let listener = bind(0)?;
        let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let server = Background::spawn(move || async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            serve_site(listener, Arc::new(site)).await
        });
        Ok(Self {
            url,
            _server: server,
        })
    }
}
