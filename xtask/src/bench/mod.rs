//! `cargo xtask bench`: each function binary run under a local Lambda Runtime
//! API against a seeded local PostgreSQL: init time, warm invocation
//! percentiles, the same with a network-like delay on the database link
//! (expressed in round trips), peak RSS, arm64 zip size, and a naive variant
//! of get-task for comparison.

pub mod cgroup;
pub mod charts;
pub mod cold;
pub mod command;
pub mod compare;
pub mod concurrency;
pub mod instructions;
pub mod quota;
pub mod task_limit;

use crate::delay_proxy::DelayProxy;
use crate::runtime_api::RuntimeApi;
use crate::stats::{ms, percentile};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "benchmark-secret-0123456789abcdef";
/// Added to each direction of the database link in the delayed pass.
pub const LINK_DELAY: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionResult {
    pub name: String,
    pub invocations: usize,
    pub init_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub delayed_p50_ms: f64,
    /// delayed p50 divided by one measured round trip through the delay proxy.
    pub delayed_round_trips: f64,
    pub peak_rss_kib: u64,
    pub zip_bytes: Option<u64>,
    /// Where a warm invocation's time goes: CPU per invocation in the
    /// function, in its PostgreSQL backend, and in this harness (the Runtime
    /// API); the rest of p50 is waiting (wake-ups, loopback hand-offs).
    pub cpu_per_call: Option<CpuPerCall>,
    /// Instructions one warm invocation retires, counted by callgrind (see
    /// `instructions`); the six functions only.
    pub instructions_per_request: Option<f64>,
}

/// Mean CPU time per warm invocation, in microseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CpuPerCall {
    pub function_us: f64,
    pub database_us: f64,
    pub harness_us: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    pub machine: String,
    pub profile: String,
    pub round_trip_ms: f64,
    pub functions: Vec<FunctionResult>,
    /// The cold path over TLS + SCRAM (see `cold`), and its round-trip unit.
    pub cold_round_trip_ms: f64,
    pub cold: Vec<cold::ColdResult>,
    /// Warm and cold under the CPU share of each memory size (see `quota`).
    pub quota: Vec<quota::QuotaResult>,
    /// One instance at several concurrencies against as many single ones.
    pub concurrency: Vec<concurrency::ConcurrencyResult>,
    /// Creates for a new user against one holding 10,000 tasks (see
    /// `task_limit`); absent from results recorded before it existed.
    #[serde(default)]
    pub task_limit: Option<task_limit::TaskLimitResult>,
}

/// The six functions measured, in the tables' order: the task endpoints.
/// list-tags is not among them: a row of its own changes BENCHMARKS.md's
/// tables and the charts (one colour per function, six in the palette),
/// which only a full bench run should rewrite.
pub const FUNCTIONS: [&str; 6] = [
    "list-tasks",
    "create-task",
    "get-task",
    "update-task",
    "complete-task",
    "delete-task",
];

/// The task limit of every measured process: checked on every create, never
/// reached (the concurrency runs alone create a hundred thousand tasks for
/// one user, past the default 10,000, and a refusal is not a create).
const BENCH_TASK_LIMIT: &str = "1000000";

/// Extra environment variables of a measured process.
type Env<'a> = &'a [(&'a str, &'a str)];

/// get-task with `METRICS_NAMESPACE` empty: no EMF line per request.
pub const NO_METRICS_ROW: &str = "get-task, no metric line";

/// The seeded rows the events point at.
struct Seed {
    target: i64,
    doomed: Vec<i64>,
}

pub struct Plan<'a> {
    pub bin_dir: &'a Path,
    pub database_url: &'a str,
    pub upstream_port: u16,
    pub invocations: usize,
    pub delayed_invocations: usize,
    /// How long each concurrency setting is driven.
    pub concurrency_seconds: f64,
    /// Invocations counted under callgrind, beyond its warm-up.
    pub counted_instructions: usize,
}

pub async fn run(plan: &Plan<'_>) -> anyhow::Result<Results> {
    let seed = seed(
        plan.database_url,
        plan.invocations
            + plan.delayed_invocations
            + instructions::tasks_used(plan.counted_instructions)
            + 50,
    )
    .await?;
    let delayed_url = through_delay(plan.database_url, plan.upstream_port)?;
    let round_trip_ms = measure_round_trip(&delayed_url).await?;

    let mut functions = Vec::new();
    let mut doomed = seed.doomed.iter().copied();
    // (row, binary, extra environment). get-task runs twice in a row, with
    // and without its metric line, so the line's cost is read within one run.
    let mut rows: Vec<(&str, &str, Env)> = Vec::new();
    for name in FUNCTIONS {
        rows.push((name, name, &[]));
        if name == "get-task" {
            rows.push((NO_METRICS_ROW, name, &[("METRICS_NAMESPACE", "")]));
        }
    }
    rows.push(("naive-get-task", "naive-get-task", &[]));
    for (name, binary_name, env) in rows {
        let mut event = |_: usize| event_for(binary_name, &seed, &mut doomed);
        let binary = plan.bin_dir.join(binary_name);
        let warm = measure(
            &binary,
            plan.database_url,
            plan.invocations,
            &mut event,
            None,
            env,
        )
        .await
        .with_context(|| format!("benchmarking {name}"))?;
        let delayed = measure(
            &binary,
            &delayed_url,
            plan.delayed_invocations,
            &mut event,
            None,
            env,
        )
        .await
        .with_context(|| format!("benchmarking {name} with the delay"))?;
        let delayed_p50 = delayed.percentile(0.50);
        functions.push(FunctionResult {
            name: name.to_owned(),
            invocations: warm.durations.len(),
            init_ms: ms(warm.init),
            p50_ms: ms(warm.percentile(0.50)),
            p90_ms: ms(warm.percentile(0.90)),
            p99_ms: ms(warm.percentile(0.99)),
            delayed_p50_ms: ms(delayed_p50),
            delayed_round_trips: ms(delayed_p50) / round_trip_ms,
            peak_rss_kib: warm.peak_rss_kib,
            zip_bytes: None,
            cpu_per_call: warm.cpu_per_call,
            instructions_per_request: None,
        });
    }
    let task_limit = task_limit::run(
        plan.bin_dir,
        &task_limit::Links {
            direct: plan.database_url,
            delayed: &delayed_url,
            round_trip_ms,
        },
        &seed,
        plan.invocations,
        plan.delayed_invocations,
    )
    .await?;
    // After every timed row: callgrind's runs load the machine for minutes.
    let counts = instructions::run(
        plan.bin_dir,
        plan.database_url,
        plan.counted_instructions,
        &seed,
        &mut doomed,
    )
    .await?;
    for (name, count) in counts {
        if let Some(function) = functions.iter_mut().find(|f| f.name == name) {
            function.instructions_per_request = Some(count);
        }
    }
    let concurrency = concurrency::run(
        &concurrency::Plan {
            bin_dir: plan.bin_dir,
            links: [
                (0, plan.database_url),
                (LINK_DELAY.as_millis() as u64, &delayed_url),
            ],
            monitor_url: plan.database_url,
            seconds: plan.concurrency_seconds,
        },
        &seed,
    )
    .await?;
    Ok(Results {
        machine: machine(),
        profile: String::new(),
        round_trip_ms,
        functions,
        cold_round_trip_ms: 0.0,
        cold: Vec::new(),
        quota: Vec::new(),
        concurrency,
        task_limit: Some(task_limit),
    })
}

/// Only the instruction counts, against a fresh seed in `database_url`.
pub async fn instructions_only(
    bin_dir: &Path,
    database_url: &str,
    counted: usize,
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let seed = seed(database_url, instructions::tasks_used(counted) + 10).await?;
    let mut doomed = seed.doomed.iter().copied();
    instructions::run(bin_dir, database_url, counted, &seed, &mut doomed).await
}

/// How many runs the TLS server's measurements take.
pub struct ColdPlan {
    /// Fresh instances per function and variant (each delayed and not).
    pub instances: usize,
    /// Warm invocations per function under each CPU quota.
    pub warm_under_quota: usize,
}

/// The measurements against the TLS + SCRAM server: the cold path per
/// variant, then warm and cold under each memory size's CPU share. Fills
/// `results`' cold figures.
pub async fn run_cold(
    bin_dir: &Path,
    plan: &ColdPlan,
    results: &mut Results,
) -> anyhow::Result<()> {
    let server = cold::ColdServer::start().await?;
    let per_size = (plan.warm_under_quota + 5 + plan.instances) * quota::SIZES_MB.len();
    let seed = seed(
        server.plain_url(),
        plan.instances * 2 * cold::Variant::ALL.len() + per_size + 10,
    )
    .await?;
    results.cold_round_trip_ms = cold::round_trip_ms(&server).await?;
    // Each delete-task invocation takes a task of its own.
    let mut doomed = seed.doomed.iter().copied();
    results.cold = cold::run(
        bin_dir,
        plan.instances,
        results.cold_round_trip_ms,
        &server,
        &seed,
        &mut doomed,
    )
    .await?;
    results.quota = quota::run(
        bin_dir,
        &server,
        &seed,
        &mut doomed,
        plan.warm_under_quota,
        plan.instances,
    )
    .await?;
    Ok(())
}

struct Measured {
    init: Duration,
    /// In the order of the invocations, after the first [`WARM_UP`].
    durations: Vec<Duration>,
    peak_rss_kib: u64,
    cpu_per_call: Option<CpuPerCall>,
}

/// Invocations `measure` sends before its clock and CPU snapshot start.
const WARM_UP: usize = 5;

impl Measured {
    fn percentile(&self, q: f64) -> Duration {
        let mut sorted = self.durations.clone();
        sorted.sort();
        percentile(&sorted, q)
    }
}

/// A throwaway PostgreSQL (durability off) and the URL of its migrated,
/// empty `tasks_bench` database.
pub async fn fresh_database() -> anyhow::Result<(crate::postgres::Cluster, String)> {
    let cluster = crate::postgres::Cluster::throwaway_unlogged()?;
    cluster.ensure_database("tasks_bench").await?;
    let url = cluster.url("tasks_bench");
    crate::migrate::run(&url).await?;
    Ok((cluster, url))
}

/// `url` through a new delay proxy in front of `upstream_port`, its port:
/// the same database, with `LINK_DELAY` on each direction of the link.
fn through_delay(url: &str, upstream_port: u16) -> anyhow::Result<String> {
    let port = DelayProxy::start(upstream_port, LINK_DELAY)?.port;
    Ok(url.replace(&format!(":{upstream_port}/"), &format!(":{port}/")))
}

/// A function process as Lambda starts it under `api`, optionally inside a
/// CPU quota emulating a memory size (else 128 MB is announced, unlimited).
fn function_command(
    binary: &Path,
    api: &RuntimeApi,
    database_url: &str,
    quota: Option<&cgroup::CpuQuota>,
) -> tokio::process::Command {
    let command = match quota {
        None => tokio::process::Command::new(binary),
        Some(quota) => quota.command(binary),
    };
    in_function_environment(
        command,
        api,
        database_url,
        quota.map_or(128, |q| q.memory_mb),
    )
}

/// `command` (the function, or a tool that runs it) with the environment
/// Lambda and the bench give a function.
fn in_function_environment(
    command: tokio::process::Command,
    api: &RuntimeApi,
    database_url: &str,
    memory_mb: u64,
) -> tokio::process::Command {
    let mut command = api.lambda_command(command, "bench", memory_mb);
    command
        .env("DATABASE_URL", database_url)
        .env("BETTER_AUTH_SECRET", SECRET)
        .env("MAX_TASKS_PER_USER", BENCH_TASK_LIMIT);
    command
}

/// One cold start, then `n` warm invocations (after 5 unmeasured ones).
async fn measure(
    binary: &Path,
    database_url: &str,
    n: usize,
    event: &mut impl FnMut(usize) -> String,
    quota: Option<&cgroup::CpuQuota>,
    env: &[(&str, &str)],
) -> anyhow::Result<Measured> {
    let api = RuntimeApi::start().await?;
    let spawned = Instant::now();
    let mut child = function_command(binary, &api, database_url, quota)
        .envs(env.iter().copied())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let init = api.first_poll_within(Duration::from_secs(10)).await? - spawned;
    let mut durations = Vec::with_capacity(n);
    // The function's own backend; none for the naive variant, which opens a
    // new one per request.
    let backend = database_backend(database_url).await;
    let mut cpu_before = None;
    for i in 0..n + WARM_UP {
        if i == WARM_UP {
            cpu_before = cpu_snapshot(child.id(), backend);
        }
        let outcome = api.invoke(format!("req-{i}"), event(i)).await?;
        if !outcome.succeeded() {
            bail!(
                "invocation {i} failed: {}",
                String::from_utf8_lossy(&outcome.body)
            );
        }
        if i >= WARM_UP {
            durations.push(outcome.answered_at - outcome.sent_at);
        }
    }
    let cpu_per_call = cpu_before
        .zip(cpu_snapshot(child.id(), backend))
        .map(|(before, after)| {
            let per_call = |a: Duration, b: Duration| (a - b).as_secs_f64() * 1e6 / n as f64;
            CpuPerCall {
                function_us: per_call(after.0, before.0),
                database_us: per_call(after.1, before.1),
                harness_us: per_call(after.2, before.2),
            }
        });
    let peak_rss_kib = child.id().map(peak_rss_kib).unwrap_or(0);
    let _ = child.kill().await;
    Ok(Measured {
        init,
        durations,
        peak_rss_kib,
        cpu_per_call,
    })
}

/// The median of `SELECT 1` round trips through the delay proxy: the unit
/// the delayed timings are divided by.
async fn measure_round_trip(url: &str) -> anyhow::Result<f64> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let mut samples = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        client.query_typed("SELECT 1", &[]).await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    Ok(ms(percentile(&samples, 0.5)))
}

/// The pid of the backend serving the function's one connection (the
/// newest `task-api` session: the previous function's is gone or going).
async fn database_backend(url: &str) -> Option<u32> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .ok()?;
    tokio::spawn(connection);
    let row = client
        .query_opt(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'task-api' \
             ORDER BY backend_start DESC LIMIT 1",
            &[],
        )
        .await
        .ok()??;
    u32::try_from(row.get::<_, i32>(0)).ok()
}

/// CPU time used so far by a process, all its threads (schedstat: ns on CPU).
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// (function, its database backend, this harness) CPU times.
fn cpu_snapshot(
    function: Option<u32>,
    backend: Option<u32>,
) -> Option<(Duration, Duration, Duration)> {
    Some((
        cpu_time(function?)?,
        cpu_time(backend?)?,
        cpu_time(std::process::id())?,
    ))
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn seed(url: &str, deletable: usize) -> anyhow::Result<Seed> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(
            "INSERT INTO users (id) VALUES ('bench-list'), ('bench-user') ON CONFLICT DO NOTHING;
             INSERT INTO tasks (user_id, title, description)
               SELECT 'bench-list', 'task ' || g, 'description of task ' || g FROM generate_series(1, 1000) g;",
        )
        .await?;
    let target = client
        .query_one(
            "INSERT INTO tasks (user_id, title) VALUES ('bench-user', 'target') RETURNING id",
            &[],
        )
        .await?
        .get(0);
    let doomed = client
        .query(
            "INSERT INTO tasks (user_id, title) SELECT 'bench-user', 'doomed ' || g FROM generate_series(1, $1::int) g RETURNING id",
            &[&(deletable as i32)],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    Ok(Seed { target, doomed })
}

/// The function's event from events/, re-pointed at the seeded rows.
fn event_for(name: &str, seed: &Seed, doomed: &mut impl Iterator<Item = i64>) -> String {
    let user = if name == "list-tasks" {
        "bench-list"
    } else {
        "bench-user"
    };
    event_as(name, user, seed, doomed)
}

/// [`event_for`], from `user` on `user`'s path.
fn event_as(name: &str, user: &str, seed: &Seed, doomed: &mut impl Iterator<Item = i64>) -> String {
    let file = if name == "naive-get-task" {
        "get-task"
    } else {
        name
    };
    let path = crate::project_root().join(format!("events/{file}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
        .unwrap_or_default();
    let token = crate::token::mint(SECRET, user, Duration::from_secs(3600));
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    event["pathParameters"]["user_id"] = json!(user);
    if event["pathParameters"].get("id").is_some() {
        let id = if name == "delete-task" {
            doomed.next().unwrap_or(0)
        } else {
            seed.target
        };
        event["pathParameters"]["id"] = json!(id.to_string());
    }
    // list-tasks: the default page (100 of the user's 1,000 tasks, newest first).
    if let Some(object) = event.as_object_mut() {
        object.remove("queryStringParameters");
        object.insert("rawQueryString".into(), json!(""));
    }
    event.to_string()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

/// 279,431 for 279431.4: counts are read, not computed with.
pub(crate) fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// The table of BENCHMARKS.md.
pub fn markdown_table(results: &Results) -> String {
    let mut table = String::from(
        "| function | init (ms) | warm p50 (ms) | p90 (ms) | p99 (ms) | p50 with +1 ms link delay (ms) | ÷ one round trip | peak RSS (MiB) | arm64 zip (MiB) | CPU per call, µs: function / PostgreSQL / harness | instructions per warm request |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for f in &results.functions {
        table.push_str(&format!(
            "| {} | {:.1} | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} | {:.1} | {} | {} | {} |\n",
            f.name,
            f.init_ms,
            f.p50_ms,
            f.p90_ms,
            f.p99_ms,
            f.delayed_p50_ms,
            f.delayed_round_trips,
            f.peak_rss_kib as f64 / 1024.0,
            f.zip_bytes
                .map_or("–".to_owned(), |b| format!("{:.2}", b as f64 / 1048576.0)),
            f.cpu_per_call.map_or("–".to_owned(), |cpu| format!(
                "{:.0} / {:.0} / {:.0}",
                cpu.function_us, cpu.database_us, cpu.harness_us
            )),
            f.instructions_per_request.map_or("–".to_owned(), thousands),
        ));
    }
    table
}
