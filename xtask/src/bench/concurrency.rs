//! Lambda Managed Instances: one instance serving `AWS_LAMBDA_MAX_CONCURRENCY`
//! invocations at once over its one database connection, against the same
//! load spread over as many single-concurrency instances (classic Lambda,
//! one connection each).
//!
//! Closed loop: C clients each queue an invocation, wait for its answer and
//! queue the next, for a fixed time, on one local Runtime API that every
//! instance polls.

use super::{event_for, function_command, peak_rss_kib, Seed};
use crate::runtime_api::RuntimeApi;
use crate::stats::{ms, percentile};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `AWS_LAMBDA_MAX_CONCURRENCY` settings measured.
pub const SETTINGS: [usize; 4] = [1, 8, 32, 64];
/// A read and a write: the two shapes every endpoint is one of.
pub const FUNCTIONS: [&str; 2] = ["get-task", "create-task"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Load {
    pub invocations_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The largest VmHWM among the instances.
    pub peak_rss_kib: u64,
    /// The most `task-api` sessions the server saw during the run.
    pub connections: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConcurrencyResult {
    pub function: String,
    pub link_delay_ms: u64,
    pub concurrency: usize,
    /// One instance, `AWS_LAMBDA_MAX_CONCURRENCY = concurrency`.
    pub one_instance: Load,
    /// `concurrency` instances, one invocation at a time each.
    pub single_instances: Load,
}

pub struct Plan<'a> {
    pub bin_dir: &'a Path,
    /// Direct and delayed URLs of the same database.
    pub links: [(u64, &'a str); 2],
    /// Where the harness counts sessions (never through the delay).
    pub monitor_url: &'a str,
    pub seconds: f64,
}

pub(super) async fn run(plan: &Plan<'_>, seed: &Seed) -> anyhow::Result<Vec<ConcurrencyResult>> {
    let (monitor, connection) =
        tokio_postgres::connect(plan.monitor_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let monitor = Arc::new(monitor);
    let mut results = Vec::new();
    for function in FUNCTIONS {
        let binary = plan.bin_dir.join(function);
        // get-task reads one seeded task; create-task adds one per call.
        let event = event_for(function, seed, &mut std::iter::empty());
        for (link_delay_ms, url) in plan.links {
            for concurrency in SETTINGS {
                let run = |instances: usize, per_instance: usize| {
                    let spec = Spec {
                        binary: &binary,
                        database_url: url,
                        event: &event,
                        instances,
                        per_instance,
                        clients: concurrency,
                        seconds: plan.seconds,
                    };
                    let monitor = monitor.clone();
                    async move { spec.measure(&monitor).await }
                };
                let one_instance = run(1, concurrency)
                    .await
                    .with_context(|| format!("{function}, one instance at {concurrency}"))?;
                let single_instances = run(concurrency, 1)
                    .await
                    .with_context(|| format!("{function}, {concurrency} instances"))?;
                results.push(ConcurrencyResult {
                    function: function.to_owned(),
                    link_delay_ms,
                    concurrency,
                    one_instance,
                    single_instances,
                });
            }
        }
    }
    Ok(results)
}

/// One instance at `concurrency`, driven for `seconds` (for `compare`).
pub(super) async fn one_instance(
    binary: &Path,
    database_url: &str,
    event: &str,
    concurrency: usize,
    seconds: f64,
    monitor: &Arc<tokio_postgres::Client>,
) -> anyhow::Result<Load> {
    Spec {
        binary,
        database_url,
        event,
        instances: 1,
        per_instance: concurrency,
        clients: concurrency,
        seconds,
    }
    .measure(monitor)
    .await
}

struct Spec<'a> {
    binary: &'a Path,
    database_url: &'a str,
    event: &'a str,
    instances: usize,
    per_instance: usize,
    clients: usize,
    seconds: f64,
}

impl Spec<'_> {
    async fn measure(&self, monitor: &Arc<tokio_postgres::Client>) -> anyhow::Result<Load> {
        // The previous run's sessions must be gone, or they would be counted.
        wait_for_sessions(monitor, |n| n == 0).await?;
        let api = RuntimeApi::start().await?;
        let mut children = Vec::with_capacity(self.instances);
        for _ in 0..self.instances {
            let mut command = function_command(self.binary, &api, self.database_url, None);
            command.env("AWS_LAMBDA_MAX_CONCURRENCY", self.per_instance.to_string());
            children.push(
                command
                    .spawn()
                    .with_context(|| format!("starting {}", self.binary.display()))?,
            );
        }
        // Every instance connects at init, then polls.
        if let Err(error) = wait_for_sessions(monitor, |n| n >= self.instances as u64).await {
            bail!("{error} (init error: {:?})", api.init_error());
        }

        let sessions = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = tokio::spawn(sample_sessions(
            monitor.clone(),
            sessions.clone(),
            done.clone(),
        ));
        let deadline = Instant::now() + Duration::from_secs_f64(self.seconds);
        let started = Instant::now();
        let mut clients = Vec::with_capacity(self.clients);
        for client in 0..self.clients {
            let api = api.clone();
            let event = self.event.to_owned();
            clients.push(tokio::spawn(async move {
                let mut durations = Vec::new();
                let mut i = 0usize;
                // Two unmeasured calls each: the first ones wake the instance's workers.
                while Instant::now() < deadline || i < 2 {
                    let outcome = api.invoke(format!("c{client}-{i}"), event.clone()).await?;
                    if !outcome.succeeded() {
                        bail!(
                            "invocation failed: {}",
                            String::from_utf8_lossy(&outcome.body)
                        );
                    }
                    if i >= 2 {
                        durations.push(outcome.answered_at - outcome.sent_at);
                    }
                    i += 1;
                }
                Ok::<_, anyhow::Error>(durations)
            }));
        }
        let mut durations = Vec::new();
        for client in clients {
            durations.extend(client.await??);
        }
        let elapsed = started.elapsed();
        done.store(true, Ordering::Release);
        let _ = sampler.await;
        let peak_rss_kib = children
            .iter()
            .filter_map(|c| c.id())
            .map(peak_rss_kib)
            .max()
            .unwrap_or(0);
        for mut child in children {
            let _ = child.kill().await;
        }
        durations.sort();
        Ok(Load {
            invocations_per_s: durations.len() as f64 / elapsed.as_secs_f64(),
            p50_ms: ms(percentile(&durations, 0.50)),
            p99_ms: ms(percentile(&durations, 0.99)),
            peak_rss_kib,
            connections: sessions.load(Ordering::Acquire),
        })
    }
}

async fn count_sessions(monitor: &tokio_postgres::Client) -> anyhow::Result<u64> {
    let row = monitor
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'task-api'",
            &[],
        )
        .await?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Polls until the number of function sessions satisfies `ready` (5 s at most).
async fn wait_for_sessions(
    monitor: &tokio_postgres::Client,
    ready: impl Fn(u64) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = count_sessions(monitor).await?;
        if ready(n) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{n} function sessions after 5 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The most function sessions seen, sampled every 50 ms until `done`.
async fn sample_sessions(
    monitor: Arc<tokio_postgres::Client>,
    most: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    while !done.load(Ordering::Acquire) {
        most.fetch_max(count_sessions(&monitor).await?, Ordering::AcqRel);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The table of BENCHMARKS.md.
pub fn markdown_table(results: &[ConcurrencyResult]) -> String {
    let mut table = String::from(
        "| function | link | concurrency | one instance: invocations/s | p50 / p99 (ms) | peak RSS (MiB) | connections | N instances: invocations/s | p50 / p99 (ms) | connections | one ÷ N |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in results {
        let (one, many) = (&r.one_instance, &r.single_instances);
        table.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.2} / {:.2} | {:.1} | {} | {:.0} | {:.2} / {:.2} | {} | {:.2} |\n",
            r.function,
            if r.link_delay_ms == 0 {
                "local".to_owned()
            } else {
                format!("+{} ms", r.link_delay_ms)
            },
            r.concurrency,
            one.invocations_per_s,
            one.p50_ms,
            one.p99_ms,
            one.peak_rss_kib as f64 / 1024.0,
            one.connections,
            many.invocations_per_s,
            many.p50_ms,
            many.p99_ms,
            many.connections,
            one.invocations_per_s / many.invocations_per_s,
        ));
    }
    table
}
