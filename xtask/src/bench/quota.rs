//! CPU as Lambda gives it: a function gets CPU in proportion to its memory
//! (1,769 MB = one vCPU), so 128 MB is about 7 % of one. This runs a
//! function inside a cgroup (v1 `cpu` controller) whose CFS quota is that
//! share, and measures warm and cold figures at several memory sizes.

use super::cgroup::CpuQuota;
use super::cold::{cold_start, links, ColdServer, Variant};
use super::{event_for, measure, Seed};
use crate::stats::{ms, percentile};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The memory sizes measured.
pub const SIZES_MB: [u64; 3] = [128, 256, 512];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuotaResult {
    pub name: String,
    pub memory_mb: u64,
    /// Warm invocations (TLS, direct negotiation, no link delay).
    pub warm_p50_ms: f64,
    pub warm_p99_ms: f64,
    /// Spawn → first answer, median of the fresh instances.
    pub cold_ms: f64,
}

/// Each function at each memory size: `warm` invocations and `instances`
/// cold starts, against the cold server with direct negotiation.
pub(super) async fn run(
    bin_dir: &Path,
    server: &ColdServer,
    seed: &Seed,
    doomed: &mut impl Iterator<Item = i64>,
    warm: usize,
    instances: usize,
) -> anyhow::Result<Vec<QuotaResult>> {
    let direct = links(server, Variant::Direct, Duration::ZERO).await?;
    let mut results = Vec::new();
    for memory_mb in SIZES_MB {
        let quota = CpuQuota::new(memory_mb)?;
        for name in super::FUNCTIONS {
            let binary = bin_dir.join(name);
            let mut event = |_: usize| event_for(name, seed, doomed);
            let measured = measure(
                &binary,
                &direct.database_url,
                warm,
                &mut event,
                Some(&quota),
                &[],
            )
            .await
            .with_context(|| format!("{name} at {memory_mb} MB"))?;
            let mut colds = Vec::new();
            for _ in 0..instances {
                let event = event_for(name, seed, doomed);
                let (_, total) = cold_start(&binary, &direct, event, Some(&quota)).await?;
                colds.push(total);
            }
            colds.sort();
            results.push(QuotaResult {
                name: name.to_owned(),
                memory_mb,
                warm_p50_ms: ms(measured.percentile(0.50)),
                warm_p99_ms: ms(measured.percentile(0.99)),
                cold_ms: ms(percentile(&colds, 0.50)),
            });
        }
    }
    Ok(results)
}

/// The table of BENCHMARKS.md: one row per function, a
/// column pair per memory size.
pub fn markdown_table(results: &[QuotaResult]) -> String {
    let mut table = String::from("| function |");
    let mut rule = String::from("|---|");
    for mb in SIZES_MB {
        table.push_str(&format!(
            " {mb} MB: warm p50 / p99 (ms) | {mb} MB: cold (ms) |"
        ));
        rule.push_str("---:|---:|");
    }
    table.push('\n');
    table.push_str(&rule);
    table.push('\n');
    for name in super::FUNCTIONS {
        table.push_str(&format!("| {name} |"));
        for mb in SIZES_MB {
            match results.iter().find(|r| r.name == name && r.memory_mb == mb) {
                Some(r) => table.push_str(&format!(
                    " {:.2} / {:.2} | {:.0} |",
                    r.warm_p50_ms, r.warm_p99_ms, r.cold_ms
                )),
                None => table.push_str(" – | – |"),
            }
        }
        table.push('\n');
    }
    table
}
