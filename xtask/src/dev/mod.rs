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

pub mod cors;
pub mod docs;
pub mod site;

use crate::background::{serve_http, Background};
use crate::emulator::Emulator;
use crate::postgres::Cluster;
use crate::{block_on, build, migrate, project_root, token, tools, DEV_USER};
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

const DEV_PG_PORT: u16 = 54329;
const DEV_HTTP_PORT: u16 = 9000;
const DEV_DOCS_PORT: u16 = 9001;
/// Instances per function. More than one, so a burst from a page (or the
/// docs) is served in parallel as Lambda would; few, because each one is a
/// process with its own database connection.
pub const DEV_CONCURRENCY: u32 = 4;
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
    /// `cargo lambda watch --concurrency`.
    pub concurrency: u32,
    /// Show the functions' logs (the emulator's output) on this terminal.
    pub show_logs: bool,
}

/// The running dev server; stopped (emulator and functions included) on drop.
pub struct DevServer {
    _emulator: Emulator,
    pub base_url: String,
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
        let upstream = emulator.base_url.clone();
        let cors = Cors::new(origins.clone());
        let servers = Background::spawn(move || async move {
            let api = tokio::net::TcpListener::from_std(api).expect("API listener");
            let docs = tokio::net::TcpListener::from_std(docs).expect("docs listener");
            tokio::join!(proxy(api, upstream, cors), serve_site(docs, Arc::new(site)));
        });
        Ok(Self {
            _emulator: emulator,
            base_url,
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

async fn proxy(listener: tokio::net::TcpListener, upstream: String, cors: Cors) {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build(connector);
    let shared = Arc::new((client, upstream, cors));
    serve_http(listener, move |request| {
        let shared = shared.clone();
        async move {
            let (client, upstream, cors) = &*shared;
            forward(client, upstream, cors, request).await
        }
    })
    .await
}

/// One request through the CORS layer to the emulator, unchanged otherwise:
/// path, query, headers and body bytes as the client sent them.
async fn forward(
    client: &Client<HttpConnector, Incoming>,
    upstream: &str,
    cors: &Cors,
    mut request: Request<Incoming>,
) -> Response<ProxyBody> {
    let request_headers = request.headers().clone();
    if Cors::is_preflight(request.method(), &request_headers) {
        let mut response = Response::new(empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.headers_mut() = cors.preflight_headers(&request_headers);
        return response;
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    match format!("{upstream}{target}").parse() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return text(StatusCode::BAD_REQUEST, "bad request target"),
    }
    match client.request(request).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            cors.decorate(&request_headers, &mut parts.headers);
            Response::from_parts(parts, body.boxed())
        }
        Err(error) => text(
            StatusCode::BAD_GATEWAY,
            &format!("cargo lambda watch did not answer: {error}"),
        ),
    }
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
