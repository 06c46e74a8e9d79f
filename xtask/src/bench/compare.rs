//! `cargo xtask bench --compare DIR`: what a change buys, measured in one
//! run on one machine. The function binaries in DIR (a release build of an
//! earlier commit) and this tree's release build take turns, three rounds
//! each, so a drift of the shared machine's speed lands on both:
//!
//! - instructions per warm request (callgrind, as the bench counts them);
//! - warm p50/p99 of 300 back-to-back invocations at the 128 MB CPU share;
//! - invocations/s of one instance at concurrency 32, on the local link and
//!   with 1 ms added each way.
//!
//! Prints a Markdown table; nothing is written.

use super::cgroup::CpuQuota;
use super::cold::{links, ColdServer, Variant};
use super::instructions::COUNTED;
use super::{event_for, measure, seed, FUNCTIONS};
use crate::stats::ms;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const ROUNDS: usize = 3;
/// Back-to-back invocations at 128 MB, per round.
const BACK_TO_BACK: usize = 300;
const CONCURRENCY: usize = 32;
const SECONDS: f64 = 3.0;

/// The median of the rounds, before and after.
struct Pair {
    before: Vec<f64>,
    after: Vec<f64>,
}

impl Pair {
    fn new() -> Self {
        Self {
            before: Vec::new(),
            after: Vec::new(),
        }
    }

    fn row(&self, what: &str, decimals: usize) -> String {
        let median = |values: &[f64]| {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
        };
        let (before, after) = (median(&self.before), median(&self.after));
        let all = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.decimals$}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "| {what} | {before:.decimals$} ({}) | {after:.decimals$} ({}) | {:.2} |\n",
            all(&self.before),
            all(&self.after),
            after / before
        )
    }
}

pub async fn run(before: &Path, after: &Path) -> anyhow::Result<String> {
    let (cluster, url) = super::fresh_database().await?;
    let server = ColdServer::start().await?;
    let per_build = super::instructions::tasks_used(COUNTED) + BACK_TO_BACK + 10;
    let plain_seed = seed(&url, 2 * ROUNDS * per_build).await?;
    let tls_seed = seed(server.plain_url(), 2 * ROUNDS * (BACK_TO_BACK + 10)).await?;
    let builds = [before, after];
    let mut table = String::from(
        "| measure | before: median (rounds) | after: median (rounds) | after ÷ before |\n|---|---:|---:|---:|\n",
    );

    // Instructions: deterministic, one round each.
    let mut doomed = plain_seed.doomed.iter().copied();
    let mut counts = Vec::new();
    for dir in builds {
        counts.push(
            super::instructions::run(dir, &url, COUNTED, &plain_seed, &mut doomed)
                .await
                .with_context(|| format!("counting {}", dir.display()))?,
        );
    }
    for (i, name) in FUNCTIONS.iter().enumerate() {
        let pair = Pair {
            before: vec![counts[0][i].1],
            after: vec![counts[1][i].1],
        };
        table.push_str(&pair.row(&format!("{name}: instructions per warm request"), 0));
    }

    // 128 MB: back-to-back warm invocations against the TLS server.
    let direct = links(&server, Variant::Direct, Duration::ZERO).await?;
    let quota = CpuQuota::new(128)?;
    let mut tls_doomed = tls_seed.doomed.iter().copied();
    for name in FUNCTIONS {
        let (mut p50, mut p99) = (Pair::new(), Pair::new());
        for _ in 0..ROUNDS {
            for (b, dir) in builds.iter().enumerate() {
                let mut event = |_: usize| event_for(name, &tls_seed, &mut tls_doomed);
                let measured = measure(
                    &dir.join(name),
                    &direct.database_url,
                    BACK_TO_BACK,
                    &mut event,
                    Some(&quota),
                    &[],
                )
                .await
                .with_context(|| format!("{name} at 128 MB, {}", dir.display()))?;
                let (p50s, p99s) = if b == 0 {
                    (&mut p50.before, &mut p99.before)
                } else {
                    (&mut p50.after, &mut p99.after)
                };
                p50s.push(ms(measured.percentile(0.50)));
                p99s.push(ms(measured.percentile(0.99)));
            }
        }
        table.push_str(&p50.row(&format!("{name}: warm p50 at 128 MB (ms)"), 2));
        table.push_str(&p99.row(&format!("{name}: warm p99 at 128 MB (ms)"), 2));
    }

    // One instance at concurrency 32.
    let (monitor, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let monitor = Arc::new(monitor);
    let delayed = super::through_delay(&url, cluster.port())?;
    for name in super::concurrency::FUNCTIONS {
        let event = event_for(name, &plain_seed, &mut std::iter::empty());
        for (label, link) in [("local", url.as_str()), ("+1 ms", delayed.as_str())] {
            let mut rate = Pair::new();
            for _ in 0..ROUNDS {
                for (b, dir) in builds.iter().enumerate() {
                    let load = super::concurrency::one_instance(
                        &dir.join(name),
                        link,
                        &event,
                        CONCURRENCY,
                        SECONDS,
                        &monitor,
                    )
                    .await
                    .with_context(|| format!("{name} at {CONCURRENCY}, {}", dir.display()))?;
                    if b == 0 {
                        rate.before.push(load.invocations_per_s);
                    } else {
                        rate.after.push(load.invocations_per_s);
                    }
                }
            }
            table.push_str(&rate.row(
                &format!("{name}: invocations/s, one instance at {CONCURRENCY}, {label} link"),
                0,
            ));
        }
    }
    Ok(table)
}
