//! Create under the task limit: is a create slower for a user who already
//! holds 10,000 tasks than for a new one? It would be if the check counted
//! the user's rows; it reads one (`users.task_count`). One create-task process
//! alternates between the two users, invocation by invocation, so both meet
//! the same machine at the same moments and the ratio of their medians is
//! the measurement, not the noise between two runs.

use super::{event_as, measure, Seed, WARM_UP};
use crate::stats::{ms, percentile};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The tasks the full user holds before the first measured create.
pub const HELD: i64 = 10_000;

const NEW_USER: &str = "bench-new";
const FULL_USER: &str = "bench-full";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskLimitResult {
    pub held: i64,
    /// Warm creates per user (the delayed pass: `delayed_invocations`).
    pub invocations: usize,
    pub new_user_p50_ms: f64,
    pub full_user_p50_ms: f64,
    /// Each user's delayed p50 divided by one round trip through the proxy.
    pub new_user_round_trips: f64,
    pub full_user_round_trips: f64,
}

pub(super) struct Links<'a> {
    pub direct: &'a str,
    pub delayed: &'a str,
    pub round_trip_ms: f64,
}

/// Seeds the full user, then measures both users' creates on each link.
pub(super) async fn run(
    bin_dir: &Path,
    links: &Links<'_>,
    seed: &Seed,
    invocations: usize,
    delayed_invocations: usize,
) -> anyhow::Result<TaskLimitResult> {
    let (client, connection) = tokio_postgres::connect(links.direct, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .execute(
            "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&FULL_USER],
        )
        .await?;
    client
        .execute(
            "INSERT INTO tasks (user_id, title) \
             SELECT $1, 'held ' || n FROM generate_series(1, $2::bigint) AS n",
            &[&FULL_USER, &HELD],
        )
        .await?;

    let binary = bin_dir.join("create-task");
    let events = [NEW_USER, FULL_USER]
        .map(|user| event_as("create-task", user, seed, &mut std::iter::empty()));
    let mut medians = Vec::new();
    for (link, database_url, n) in [
        ("direct", links.direct, invocations),
        ("delayed", links.delayed, delayed_invocations),
    ] {
        // Even invocations for the new user, odd ones for the full one.
        let mut event = |i: usize| events[i % 2].clone();
        let measured = measure(&binary, database_url, 2 * n, &mut event, None, &[])
            .await
            .with_context(|| format!("create-task alternating two users, {link}"))?;
        // `measure` warms up with unmeasured invocations first: measured
        // duration i belongs to invocation WARM_UP + i.
        let mut per_user: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        for (i, duration) in measured.durations.iter().enumerate() {
            per_user[(WARM_UP + i) % 2].push(*duration);
        }
        for durations in &mut per_user {
            durations.sort();
        }
        medians.push(per_user.map(|d| ms(percentile(&d, 0.50))));
    }
    let [new_delayed, full_delayed] = medians[1];
    Ok(TaskLimitResult {
        held: HELD,
        invocations,
        new_user_p50_ms: medians[0][0],
        full_user_p50_ms: medians[0][1],
        new_user_round_trips: new_delayed / links.round_trip_ms,
        full_user_round_trips: full_delayed / links.round_trip_ms,
    })
}

/// The table of BENCHMARKS.md.
pub fn markdown_table(result: &TaskLimitResult) -> String {
    format!(
        "| create-task for | warm p50 (ms) | p50 with +1 ms link delay, ÷ one round trip |\n\
         |---|---:|---:|\n\
         | a new user | {:.3} | {:.2} |\n\
         | a user holding {} tasks | {:.3} | {:.2} |\n\
         | ratio | {:.3} | |\n",
        result.new_user_p50_ms,
        result.new_user_round_trips,
        super::thousands(result.held as f64),
        result.full_user_p50_ms,
        result.full_user_round_trips,
        result.full_user_p50_ms / result.new_user_p50_ms,
    )
}
