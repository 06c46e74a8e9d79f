//! A mixed create/list/update/delete workload from many concurrent clients
//! against the emulator, checking what a load must not break: no 5xx, every
//! acknowledged write stored, no more database connections than instances.

use crate::stats::{ms, percentile};
use crate::{block_on, project_root, token, tools};
use anyhow::{bail, Context};
use futures_util::future::join_all;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

type Http = Client<HttpConnector, Full<Bytes>>;

pub struct Settings<'a> {
    pub base_url: &'a str,
    pub secret: &'a str,
    /// A direct (not pooled) connection for pg_stat_activity and the final check.
    pub admin_url: &'a str,
    pub clients: usize,
    pub duration: Duration,
}

#[derive(Debug, Default)]
pub struct Report {
    pub requests: usize,
    pub elapsed: Duration,
    pub statuses: BTreeMap<u16, usize>,
    pub p50: Duration,
    pub p99: Duration,
    pub max_connections: i64,
    pub max_instances: usize,
    pub writes_checked: usize,
}

impl Report {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn server_errors(&self) -> usize {
        self.statuses.range(500..).map(|(_, n)| n).sum()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "requests      {} in {:.1} s = {:.0} req/s",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.per_second()
        )?;
        writeln!(
            f,
            "latency       p50 {:.2} ms, p99 {:.2} ms",
            ms(self.p50),
            ms(self.p99)
        )?;
        writeln!(f, "statuses      {:?}", self.statuses)?;
        writeln!(
            f,
            "connections   at most {} (instances at most {})",
            self.max_connections, self.max_instances
        )?;
        write!(
            f,
            "writes        {} acknowledged tasks checked in the database",
            self.writes_checked
        )
    }
}

/// What one client expects to find stored: task id → title.
type Expected = HashMap<i64, String>;

struct Shared {
    latencies: Vec<Duration>,
    statuses: BTreeMap<u16, usize>,
}

pub async fn run(settings: &Settings<'_>) -> anyhow::Result<Report> {
    let http: Http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let (admin, connection) = tokio_postgres::connect(settings.admin_url, tokio_postgres::NoTls)
        .await
        .context("connecting to the database for the checks")?;
    tokio::spawn(connection);
    let shared = Rc::new(RefCell::new(Shared {
        latencies: Vec::new(),
        statuses: BTreeMap::new(),
    }));
    let started = Instant::now();
    let deadline = started + settings.duration;
    let run_id = started.elapsed().as_nanos() ^ std::process::id() as u128;

    let clients = (0..settings.clients).map(|n| {
        let user = format!("load-{run_id:x}-{n}");
        let token = crate::token::mint(settings.secret, &user, Duration::from_secs(3600));
        client_loop(
            &http,
            settings.base_url,
            user,
            token,
            deadline,
            shared.clone(),
        )
    });
    let sampler = sample(&admin, deadline);
    let (outcomes, (max_connections, max_instances)) = tokio::join!(join_all(clients), sampler);
    let expectations: anyhow::Result<Vec<(String, Expected)>> = outcomes.into_iter().collect();
    let elapsed = started.elapsed();

    let mut writes_checked = 0;
    for (user, expected) in expectations? {
        let rows = admin
            .query("SELECT id, title FROM tasks WHERE user_id = $1", &[&user])
            .await?;
        let stored: Expected = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        if stored != expected {
            bail!("user {user}: stored tasks differ from the acknowledged writes\n  expected {expected:?}\n  stored   {stored:?}");
        }
        writes_checked += expected.len();
    }

    let Shared {
        mut latencies,
        statuses,
    } = Rc::try_unwrap(shared)
        .ok()
        .context("clients finished")?
        .into_inner();
    latencies.sort();
    Ok(Report {
        requests: latencies.len(),
        elapsed,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        statuses,
        max_connections,
        max_instances,
        writes_checked,
    })
}

/// create → list → update → get, and every third task deleted again.
async fn client_loop(
    http: &Http,
    base: &str,
    user: String,
    token: String,
    deadline: Instant,
    shared: Rc<RefCell<Shared>>,
) -> anyhow::Result<(String, Expected)> {
    let mut expected = Expected::new();
    let tasks = format!("{base}/api/{user}/tasks");
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let call = |method: Method, url: String, body: Option<Value>| {
            send(http, &token, method, url, body, shared.clone())
        };
        let (status, task) = call(
            Method::POST,
            tasks.clone(),
            Some(json!({"title": format!("task {n}")})),
        )
        .await?;
        let Some(id) = (status == 201).then(|| task["id"].as_i64()).flatten() else {
            continue;
        };
        expected.insert(id, format!("task {n}"));
        call(
            Method::GET,
            format!("{tasks}?status=pending&limit=20"),
            None,
        )
        .await?;
        let (status, _) = call(
            Method::PUT,
            format!("{tasks}/{id}"),
            Some(json!({"title": format!("task {n} edited")})),
        )
        .await?;
        if status == 200 {
            expected.insert(id, format!("task {n} edited"));
        }
        call(Method::GET, format!("{tasks}/{id}"), None).await?;
        if n.is_multiple_of(3) {
            let (status, _) = call(Method::DELETE, format!("{tasks}/{id}"), None).await?;
            if status == 204 {
                expected.remove(&id);
            }
        }
    }
    Ok((user, expected))
}

async fn send(
    http: &Http,
    token: &str,
    method: Method,
    url: String,
    body: Option<Value>,
    shared: Rc<RefCell<Shared>>,
) -> anyhow::Result<(u16, Value)> {
    let request = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        )))?;
    let started = Instant::now();
    let response = http
        .request(request)
        .await
        .context("HTTP request to the emulator")?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    let mut shared = shared.borrow_mut();
    shared.latencies.push(started.elapsed());
    *shared.statuses.entry(status).or_default() += 1;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Highest number of the functions' database connections and of running
/// function processes (instances), sampled through the run.
async fn sample(admin: &tokio_postgres::Client, deadline: Instant) -> (i64, usize) {
    let (mut connections, mut instances) = (0, 0);
    while Instant::now() < deadline {
        if let Ok(row) = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'task-api'",
                &[],
            )
            .await
        {
            connections = connections.max(row.get::<_, i64>(0));
        }
        instances = instances.max(function_processes());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (connections, instances)
}

/// Running processes whose executable is one of the functions.
fn function_processes() -> usize {
    let names: Vec<&str> = shared::Endpoint::ALL.iter().map(|e| e.name()).collect();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_link(entry.path().join("exe")).ok())
        .filter(|exe| {
            exe.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| names.contains(&n))
        })
        .count()
}

/// How long the load check of `cargo xtask test` runs.
pub const DEFAULT_SECONDS: u64 = 20;

/// `cargo xtask load [--seconds N]`.
pub fn command(seconds: u64) -> anyhow::Result<()> {
    let root = project_root();
    let ground = crate::emulator::Ground::prepare(&root, "tasks_load")?;
    check(&root, &ground.lambda_dir, &ground.url, seconds)
}

/// The load run: `cargo lambda watch --concurrency 8` on `database_url`, 32
/// clients for `seconds`; fails on any 5xx, a lost write, or more database
/// connections than function instances.
pub fn check(
    root: &Path,
    lambda_dir: &Path,
    database_url: &str,
    seconds: u64,
) -> anyhow::Result<()> {
    let path = tools::path_with(lambda_dir);
    let path = path.to_string_lossy();
    let env = crate::emulator::local_env(database_url, &path);
    let emulator = crate::emulator::Emulator::start(root, &env, 8)?;
    eprintln!(
        "xtask: load: 32 clients for {seconds} s against {}",
        emulator.base_url
    );
    let report = block_on(run(&Settings {
        base_url: &emulator.base_url,
        secret: token::LOCAL_DEV_SECRET,
        admin_url: database_url,
        clients: 32,
        duration: Duration::from_secs(seconds),
    }))?;
    drop(emulator);
    eprintln!("{report}");
    if report.server_errors() > 0 {
        bail!("load: {} server errors", report.server_errors());
    }
    if report.max_connections as usize > report.max_instances.max(1) {
        bail!(
            "load: {} database connections for {} instances",
            report.max_connections,
            report.max_instances
        );
    }
    Ok(())
}
