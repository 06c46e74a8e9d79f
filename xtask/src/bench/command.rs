//! `cargo xtask bench`: runs the measurements of this module and writes
//! BENCHMARKS.md, bench/results.json and the charts in bench/, and nothing
//! else of the work tree.

use crate::bench::instructions::COUNTED;
use crate::{block_on, build, project_root};
use anyhow::bail;
use std::path::Path;
use std::process::Command;

/// Measures the binaries in `bin_dir` against a fresh, seeded database.
fn bench_binaries(
    bin_dir: &Path,
    invocations: usize,
    delayed_invocations: usize,
    concurrency_seconds: f64,
    counted_instructions: usize,
) -> anyhow::Result<crate::bench::Results> {
    let (cluster, url) = block_on(crate::bench::fresh_database())?;
    let results = block_on(crate::bench::run(&crate::bench::Plan {
        bin_dir,
        database_url: &url,
        upstream_port: cluster.port(),
        invocations,
        delayed_invocations,
        concurrency_seconds,
        counted_instructions,
    }))?;
    Ok(results)
}

pub fn run(smoke: bool) -> anyhow::Result<()> {
    let root = project_root();
    // Binaries built elsewhere (e.g. with symbols, for `perf record`): measured
    // as they are, and nothing is written.
    if let Some(dir) = std::env::var_os("XTASK_BENCH_BIN_DIR") {
        let results = bench_binaries(Path::new(&dir), 1000, 300, 3.0, COUNTED)?;
        println!(
            "\n{}\n{}",
            crate::bench::markdown_table(&results),
            crate::bench::concurrency::markdown_table(&results.concurrency)
        );
        return Ok(());
    }
    let before = work_tree_changes(&root)?;
    build::functions_in(&root, !smoke)?;
    let mut naive = Command::new("cargo");
    naive
        .current_dir(&root)
        .args(["build", "-p", "xtask", "--bin", "naive-get-task"]);
    if !smoke {
        naive.arg("--release");
    }
    crate::tools::run(&mut naive)?;
    let bin_dir = root.join(if smoke {
        "target/debug"
    } else {
        "target/release"
    });

    let (invocations, delayed_invocations, concurrency_seconds, counted) = if smoke {
        (20, 10, 0.3, 2)
    } else {
        (1000, 300, 3.0, COUNTED)
    };
    eprintln!(
        "xtask: bench: {invocations} warm invocations per function ({} build)",
        if smoke { "debug, smoke" } else { "release" }
    );
    let mut results = bench_binaries(
        &bin_dir,
        invocations,
        delayed_invocations,
        concurrency_seconds,
        counted,
    )?;
    let plan = if smoke {
        crate::bench::ColdPlan {
            instances: 1,
            warm_under_quota: 5,
        }
    } else {
        crate::bench::ColdPlan {
            instances: 7,
            warm_under_quota: 300,
        }
    };
    eprintln!(
        "xtask: bench: the cold path, {} fresh instances per function and variant; \
         then under CPU quotas",
        plan.instances
    );
    block_on(crate::bench::run_cold(&bin_dir, &plan, &mut results))?;
    results.profile = if smoke {
        "dev (smoke)".into()
    } else {
        "release".into()
    };

    if !smoke {
        crate::package::command()?;
        for function in &mut results.functions {
            let zip = root.join(format!("target/lambda/{}/bootstrap.zip", function.name));
            function.zip_bytes = std::fs::metadata(zip).ok().map(|m| m.len());
        }
    }
    let table = crate::bench::markdown_table(&results);
    let cold = crate::bench::cold::markdown_table(&results.cold);
    let quota = crate::bench::quota::markdown_table(&results.quota);
    let concurrency = crate::bench::concurrency::markdown_table(&results.concurrency);
    let task_limit = results
        .task_limit
        .as_ref()
        .map(crate::bench::task_limit::markdown_table)
        .unwrap_or_default();
    println!(
        "\n{table}\none database round trip through the delay proxy: {:.3} ms\n\n{task_limit}\n{cold}\n\
         one round trip to the TLS server through the delay proxy: {:.3} ms\n\n{quota}\n{concurrency}",
        results.round_trip_ms, results.cold_round_trip_ms
    );
    // Drawn on smoke runs too, from real (if few) measurements.
    let charts = crate::bench::charts::render(&results)?;
    if smoke {
        return Ok(());
    }
    std::fs::create_dir_all(root.join("bench"))?;
    std::fs::write(
        root.join("bench/results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    for (file, svg) in &charts {
        std::fs::write(root.join("bench").join(file), svg)?;
    }
    let chart = |file: &str, alt: &str| format!("![{alt}](bench/{file})\n\n");
    std::fs::write(
        root.join("BENCHMARKS.md"),
        format!(
            "# Benchmarks\n\nMeasured by `cargo xtask bench` (raw figures: `bench/results.json`).\n\n\
             Machine: {}. Release builds (x86_64, run here) under a local Lambda Runtime API; \
             local PostgreSQL 15, no TLS, no statement log, durability off (fsync, synchronous_commit: the \
             figures are our code's, not a disk's); 1,000 warm invocations per function after a cold start \
             (init = process start until the first poll for work, database connection included). \
             The delayed column adds {} ms to each direction of the database link; one round \
             trip through it measured {:.3} ms. Zip sizes are the arm64 builds `sam build` deploys. \
             naive-get-task opens a connection per request and prepares its statement each time. \
             \"get-task, no metric line\" is get-task with `METRICS_NAMESPACE` empty, measured right after it: \
             the cost of the Embedded Metric Format line every request writes. The instructions column is \
             valgrind's callgrind count for a release build serving {warm} and then {warm} + {counted} of the \
             same events: the difference ÷ {counted}, so init and exit cancel out (`cargo xtask bench \
             --instructions` counts only these, in about 30 s). Unlike the times it repeats: two runs of one \
             build agree within 0.3 %. Every process runs with `MAX_TASKS_PER_USER` = 1,000,000: \
             the limit is checked on every create and never reached.\n\n{warm_chart}{table}\n\
             ## Creating at the task limit\n\n\
             The limit check reads the user's kept count, one row, instead of counting their tasks. \
             One create-task process alternates, invocation by invocation, between a new user and one \
             who already holds {held} tasks ({invocations} creates each, then {delayed} each through the \
             +1 ms proxy), so both medians come from the same moments of the same run.\n\n{task_limit}\n\
             ## The cold path\n\n\
             Fresh instances of each release binary (median of {}), each from spawn to the answer of its \
             first invocation, which is queued before the spawn as on Lambda. The database is PostgreSQL 15 \
             with TLS (a certificate the bench makes) and SCRAM-SHA-256 password authentication; \
             `sslnegotiation=direct` goes through xtask's direct TLS front, as PostgreSQL 17 or Neon's \
             proxy would take it. The +1 ms column delays every link (database, and the JWKS where \
             configured) by 1 ms each way; the difference divided by one round trip ({:.3} ms) counts \
             what the cold path waits for on the network. A user-space proxy does not delay the TCP \
             handshake, so that round trip is not in the count. \
             The chart splits the round trips into phases: TLS is what a variant's init waits for beyond \
             the same login without TLS (`sslmode=disable`, a row of its own here, not a way to reach Neon), \
             the login (startup and SCRAM) is that init without TLS, and the first statement is the rest.\n\n{cold_chart}{cold}\n\
             ## CPU as Lambda gives it\n\n\
             Lambda gives a function CPU in proportion to its memory (1,769 MB = one vCPU). Each \
             function here runs in a cgroup whose CFS quota is that share of one CPU (128 MB: 7.2 %), \
             against the TLS server with direct negotiation and no link delay: warm percentiles of \
             {} invocations, and the median spawn → first answer of the fresh instances.\n\n{memory_chart}{quota}\n\
             ## One instance, many invocations (Lambda Managed Instances)\n\n\
             Each row drives one function with C closed-loop clients for {} s against the \
             warm table's database (and through its +1 ms proxy): first one instance with \
             `AWS_LAMBDA_MAX_CONCURRENCY = C`, whose invocations share its one connection, then C \
             single-concurrency instances (classic Lambda: C connections) polling the same Runtime API. \
             Connections are the most `task-api` sessions PostgreSQL listed during the run; peak RSS is \
             the largest instance's. Everything (clients, Runtime API, instances, PostgreSQL) shares \
             this machine's {} cores.\n\n{concurrency_chart}{concurrency}{analysis}",
            results.machine,
            crate::bench::LINK_DELAY.as_millis(),
            results.round_trip_ms,
            results.cold.first().map_or(0, |c| c.instances),
            results.cold_round_trip_ms,
            plan.warm_under_quota,
            concurrency_seconds,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            warm = crate::bench::instructions::WARM,
            held = crate::bench::thousands(crate::bench::task_limit::HELD as f64),
            invocations = invocations,
            delayed = delayed_invocations,
            counted = COUNTED,
            warm_chart = chart("warm.svg", "Warm p50, p90 and p99 per function"),
            cold_chart = chart("cold.svg", "Cold-path round trips by phase, SSLRequest against direct"),
            memory_chart = chart("memory.svg", "Cold start and warm p99 against memory size"),
            concurrency_chart = chart(
                "concurrency.svg",
                "Invocations per second against concurrency, one instance against as many",
            ),
            // The profile write-up is kept by hand; re-runs keep it.
            analysis = std::fs::read_to_string(root.join("bench/analysis.md"))
                .map(|text| format!("\n{text}"))
                .unwrap_or_default(),
        ),
    )?;
    // The bench's promise: it writes its two files and nothing else.
    let touched: Vec<String> = work_tree_changes(&root)?
        .into_iter()
        .filter(|path| !before.contains(path) && !is_ours(path))
        .collect();
    if !touched.is_empty() {
        bail!("the bench changed files it does not own: {touched:?}");
    }
    Ok(())
}

/// `--instructions`: the release builds (or `XTASK_BENCH_BIN_DIR`'s, e.g.
/// with symbols for `callgrind_annotate`) counted, nothing written.
pub fn count_instructions() -> anyhow::Result<()> {
    let root = project_root();
    let bin_dir = match std::env::var_os("XTASK_BENCH_BIN_DIR") {
        Some(dir) => dir.into(),
        None => {
            build::functions_in(&root, true)?;
            root.join("target/release")
        }
    };
    let (_cluster, url) = block_on(crate::bench::fresh_database())?;
    let counts = block_on(crate::bench::instructions_only(&bin_dir, &url, COUNTED))?;
    println!("| function | instructions per warm request |\n|---|---:|");
    for (name, count) in counts {
        println!("| {name} | {count:.0} |");
    }
    Ok(())
}

/// `--compare DIR`: DIR's binaries against this tree's release build.
pub fn compare(before: &Path) -> anyhow::Result<()> {
    let root = project_root();
    build::functions_in(&root, true)?;
    let table = block_on(crate::bench::compare::run(
        before,
        &root.join("target/release"),
    ))?;
    println!("{table}");
    Ok(())
}

/// Whether the bench writes `path` (as `git status` names it): BENCHMARKS.md,
/// the raw figures and the charts.
fn is_ours(path: &str) -> bool {
    matches!(path, "BENCHMARKS.md" | "bench/results.json")
        || path
            .strip_prefix("bench/")
            .is_some_and(|file| crate::bench::charts::FILES.contains(&file))
}

/// The changed or new files of the work tree.
fn work_tree_changes(root: &Path) -> anyhow::Result<Vec<String>> {
    Ok(crate::tools::work_tree_status(root)?
        .iter()
        .filter_map(|line| line.get(3..))
        .map(str::to_owned)
        .collect())
}
