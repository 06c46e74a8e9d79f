//! `cargo xtask <command>`: see `cargo xtask help`.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use xtask::pgbouncer::PgBouncer;
use xtask::postgres::Cluster;
use xtask::{block_on, build, migrate, project_root, token, tools};

const HELP: &str = "\
cargo xtask <command>

  dev                  serve every route on http://localhost:9000 with `cargo lambda watch`,
                       against DATABASE_URL or a project-local PostgreSQL (.dev/), migrated
  test [FILTER...]     fmt, clippy, unit + integration + end-to-end tests on a throwaway PostgreSQL
                       (FILTERs go to the test runner)
  migrate              apply migrations/ to DATABASE_URL
  load [--seconds N]   32 clients, mixed workload, through `cargo lambda watch --concurrency 8`
                       (default 20 s; also part of `test`)
  bench [--smoke]      init, warm latency, round trips, RSS and zip size of every function,
                       written to BENCHMARKS.md and bench/results.json (--smoke: a few
                       invocations on debug builds, nothing written; part of `test`)
  package              release arm64 zips of the six functions (as `sam build` makes them), with sizes
  token --user ID      print a dev token for ID (signed with BETTER_AUTH_SECRET or the dev secret)
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => xtask::dev::command(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("migrate") => migrate_command(),
        Some("package") => package(),
        Some("load") => load_command(&args[1..]),
        Some("bench") => bench(args.get(1).is_some_and(|a| a == "--smoke")),
        Some("token") => token_command(&args[1..]),
        Some("help") | Some("--help") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command '{other}'\n\n{HELP}")),
    };
    if let Err(error) = result {
        eprintln!("xtask: error: {error:#}");
        std::process::exit(1);
    }
}

/// What `sam build` deploys, built the same way: `cargo lambda build --release
/// --arm64`, zipped, with the features the template's build enables.
fn package() -> anyhow::Result<()> {
    let root = project_root();
    let lambda_dir = tools::cargo_lambda(&root)?;
    tools::ensure_rust_target("aarch64-unknown-linux-gnu")?;
    tools::run(
        Command::new("cargo")
            .current_dir(&root)
            .env("PATH", tools::path_with(lambda_dir.as_deref()))
            .args([
                "lambda",
                "build",
                "--release",
                "--arm64",
                "--output-format",
                "zip",
            ])
            .args(build::function_packages()),
    )?;
    println!("\n{:<16} {:>12}", "function", "zip bytes");
    let mut over = Vec::new();
    for endpoint in shared::Endpoint::ALL {
        let zip = root.join(format!("target/lambda/{}/bootstrap.zip", endpoint.name()));
        let bytes = std::fs::metadata(&zip)
            .with_context(|| format!("{} was not built", zip.display()))?
            .len();
        println!(
            "{:<16} {:>12} ({:.2} MiB)",
            endpoint.name(),
            bytes,
            bytes as f64 / 1048576.0
        );
        if bytes >= 2 * 1024 * 1024 {
            over.push(endpoint.name());
        }
    }
    if !over.is_empty() {
        eprintln!("xtask: over the 2 MiB budget: {}", over.join(", "));
    }
    Ok(())
}

fn test(filters: &[String]) -> anyhow::Result<()> {
    let root = project_root();
    let cargo = |args: &[&str]| tools::run(Command::new("cargo").current_dir(&root).args(args));
    cargo(&["fmt", "--all", "--", "--check"])
        .context("cargo fmt found unformatted code; run `cargo fmt`")?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    let lambda_dir = tools::cargo_lambda(&root)?;
    sam_validate(&root)?;
    tools::venv_tool(&root, "moto_server", &[tools::MOTO])?;
    tools::venv_tool(&root, "schemathesis", &[tools::SCHEMATHESIS])?;
    // The secrets test runs a function binary built as the template builds it,
    // with secrets-manager; it gets its own copy, because the end-to-end test's
    // `cargo lambda watch` rebuilds target/debug/* without the feature. That
    // plain build comes last, so the emulator finds the binaries ready.
    cargo(&[
        "build",
        "-p",
        "get-task",
        "--features",
        "get-task/secrets-manager",
    ])?;
    let with_secrets = root.join("target/xtask/get-task-with-secrets-manager");
    std::fs::create_dir_all(root.join("target/xtask"))?;
    std::fs::copy(root.join("target/debug/get-task"), &with_secrets)?;
    // Exactly as the emulator builds them (the six packages alone: building
    // them with xtask would unify other features into their dependencies, and
    // cargo lambda watch would then compile everything again on first request).
    build::functions(&root)?;

    let better_auth = better_auth_interop(&root)?;
    // The typed client's tools, and the browser its test page runs in.
    xtask::typescript::install(&root)?;
    xtask::browser::ensure_installed()?;
    if filters.is_empty() {
        xtask::pgbouncer::ensure_installed()?;
    }

    let cluster = Cluster::throwaway()?;
    block_on(cluster.ensure_database("tasks_test"))?;
    let url = cluster.url("tasks_test");
    block_on(migrate::run(&url))?;
    eprintln!(
        "xtask: throwaway PostgreSQL on port {} migrated",
        cluster.port()
    );

    if filters.is_empty() {
        load_check(&root, lambda_dir.as_deref(), &url, LOAD_SECONDS)?;
        bench(true)?;
    }

    let path = tools::path_with(lambda_dir.as_deref());
    let run_suite = |database_url: &str, filters: &[String]| {
        let mut runner = Command::new("cargo");
        runner
            .current_dir(&root)
            .env("TEST_DATABASE_URL", database_url)
            .env("TEST_ADMIN_DATABASE_URL", &url)
            .env("TEST_DATABASE_LOG", cluster.log_path())
            .env("TEST_FUNCTION_WITH_SECRETS", &with_secrets)
            .env("TEST_BETTER_AUTH_DIR", &better_auth)
            .env("PATH", &path);
        if has_nextest() {
            runner.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        } else {
            runner.args(["test", "--workspace", "--no-fail-fast"]);
        }
        tools::run(runner.args(filters))
    };
    let direct = run_suite(&url, filters);

    // Unless the caller picked tests: the endpoint suites again through
    // PgBouncer in transaction mode (as Neon's pooled endpoint), with
    // max_prepared_statements = 0 and, where the installed PgBouncer has the
    // setting (1.21+), with it enabled as well.
    let mut pooled = Ok(());
    if filters.is_empty() {
        let through_pooler = [
            "-E".to_owned(),
            "binary(lifecycle) | binary(isolation) | binary(rejections) | binary(auth) \
             | binary(better_auth) | binary(e2e) | binary(versions) | binary(idempotency) \
             | (binary(pagination) & !test(trigram)) | test(one_round_trip) | test(unreachable)"
                .to_owned(),
        ];
        let mut modes = vec![Some(0)];
        if PgBouncer::tracks_prepared_statements() {
            modes.push(Some(200));
        } else {
            modes = vec![None];
        }
        for prepared in modes {
            eprintln!(
                "\nxtask: the endpoint tests again, through {} (transaction mode, max_prepared_statements = {})",
                PgBouncer::version(),
                prepared.map_or("unsupported, i.e. 0".to_owned(), |n| n.to_string())
            );
            let bouncer = PgBouncer::start(cluster.port(), "tasks_test", prepared)?;
            pooled = pooled.and(run_suite(&bouncer.url("tasks_test"), &through_pooler));
        }
    }
    drop(cluster);
    direct.and(pooled)
}

const LOAD_SECONDS: u64 = 20;

/// Measures the binaries in `bin_dir` against a fresh, seeded database.
fn bench_binaries(
    bin_dir: &Path,
    invocations: usize,
    delayed_invocations: usize,
) -> anyhow::Result<xtask::bench::Results> {
    let cluster = Cluster::throwaway_unlogged()?;
    block_on(cluster.ensure_database("tasks_bench"))?;
    let url = cluster.url("tasks_bench");
    block_on(migrate::run(&url))?;
    let results = block_on(xtask::bench::run(&xtask::bench::Plan {
        bin_dir,
        database_url: &url,
        upstream_port: cluster.port(),
        invocations,
        delayed_invocations,
    }))?;
    Ok(results)
}

fn bench(smoke: bool) -> anyhow::Result<()> {
    let root = project_root();
    // Binaries built elsewhere (e.g. with symbols, for `perf record`): measured
    // as they are, and nothing is written.
    if let Some(dir) = std::env::var_os("XTASK_BENCH_BIN_DIR") {
        let results = bench_binaries(Path::new(&dir), 1000, 300)?;
        println!("\n{}", xtask::bench::markdown_table(&results));
        return Ok(());
    }
    build::functions_in(&root, !smoke)?;
    let mut naive = Command::new("cargo");
    naive
        .current_dir(&root)
        .args(["build", "-p", "xtask", "--bin", "naive-get-task"]);
    if !smoke {
        naive.arg("--release");
    }
    tools::run(&mut naive)?;
    let bin_dir = root.join(if smoke {
        "target/debug"
    } else {
        "target/release"
    });

    let (invocations, delayed_invocations) = if smoke { (20, 10) } else { (1000, 300) };
    eprintln!(
        "xtask: bench: {invocations} warm invocations per function ({} build)",
        if smoke { "debug, smoke" } else { "release" }
    );
    let mut results = bench_binaries(&bin_dir, invocations, delayed_invocations)?;
    results.profile = if smoke {
        "dev (smoke)".into()
    } else {
        "release".into()
    };

    if !smoke {
        package()?;
        for function in &mut results.functions {
            let zip = root.join(format!("target/lambda/{}/bootstrap.zip", function.name));
            function.zip_bytes = std::fs::metadata(zip).ok().map(|m| m.len());
        }
    }
    let table = xtask::bench::markdown_table(&results);
    println!(
        "\n{table}\none database round trip through the delay proxy: {:.3} ms",
        results.round_trip_ms
    );
    if smoke {
        return Ok(());
    }
    std::fs::create_dir_all(root.join("bench"))?;
    std::fs::write(
        root.join("bench/results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
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
             naive-get-task opens a connection per request and prepares its statement each time.\n\n{table}{analysis}",
            results.machine,
            xtask::bench::LINK_DELAY.as_millis(),
            results.round_trip_ms,
            // The profile write-up is kept by hand; re-runs keep it.
            analysis = std::fs::read_to_string(root.join("bench/analysis.md"))
                .map(|text| format!("\n{text}"))
                .unwrap_or_default(),
        ),
    )?;
    quote_in_readme(&root, &table)
}

/// Replaces the table between the README's bench markers, so the quoted
/// figures are always the last run's.
fn quote_in_readme(root: &Path, table: &str) -> anyhow::Result<()> {
    const START: &str = "<!-- bench table: written by cargo xtask bench -->\n";
    const END: &str = "<!-- end of bench table -->";
    let path = root.join("README.md");
    let readme = std::fs::read_to_string(&path)?;
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        bail!("README.md lacks the bench table markers");
    };
    let updated = format!("{}{START}{table}{}", &readme[..start], &readme[end..]);
    std::fs::write(path, updated)?;
    Ok(())
}

fn load_command(args: &[String]) -> anyhow::Result<()> {
    let seconds = match args {
        [] => LOAD_SECONDS,
        [flag, n] if flag == "--seconds" => n.parse().context("--seconds takes a number")?,
        _ => bail!("usage: cargo xtask load [--seconds N]"),
    };
    let root = project_root();
    let lambda_dir = tools::cargo_lambda(&root)?;
    build::functions(&root)?;
    let cluster = Cluster::throwaway()?;
    block_on(cluster.ensure_database("tasks_load"))?;
    let url = cluster.url("tasks_load");
    block_on(migrate::run(&url))?;
    load_check(&root, lambda_dir.as_deref(), &url, seconds)
}

/// The load run: `cargo lambda watch --concurrency 8` on `database_url`, 32
/// clients for `seconds`; fails on any 5xx, a lost write, or more database
/// connections than function instances.
fn load_check(
    root: &Path,
    lambda_dir: Option<&Path>,
    database_url: &str,
    seconds: u64,
) -> anyhow::Result<()> {
    let path = tools::path_with(lambda_dir);
    let path = path.to_string_lossy();
    let env = [
        ("DATABASE_URL", database_url),
        ("BETTER_AUTH_SECRET", token::LOCAL_DEV_SECRET),
        ("RUST_LOG", "warn"),
        ("PATH", path.as_ref()),
    ];
    let emulator = xtask::emulator::Emulator::start(root, &env, 8)?;
    eprintln!(
        "xtask: load: 32 clients for {seconds} s against {}",
        emulator.base_url
    );
    let report = block_on(xtask::load::run(&xtask::load::Settings {
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

/// `sam validate --lint` (cfn-lint included) on template.yaml, offline: a
/// fixed region, telemetry off, no credentials needed.
fn sam_validate(root: &Path) -> anyhow::Result<()> {
    let bin = tools::venv_tool(root, "sam", &[tools::SAM_CLI])?;
    tools::run(
        Command::new(bin.join("sam"))
            .current_dir(root)
            .args(["validate", "--lint", "--template-file", "template.yaml"])
            .env("SAM_CLI_TELEMETRY", "0")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_REGION", "us-east-1"),
    )
    .context("sam validate --lint found problems in template.yaml")
}

/// The pinned better-auth and jose npm packages, installed into target/.
fn better_auth_interop(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = root.join("target/xtask/better-auth");
    tools::npm_ci(
        &root.join("xtask/interop/better-auth"),
        &["issue-tokens.mjs"],
        &dir,
    )
    .context("installing better-auth for the interop test")?;
    Ok(dir)
}

fn has_nextest() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn migrate_command() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL must be set")?;
    let applied = block_on(migrate::run(&url))?;
    if applied.is_empty() {
        println!("database is up to date");
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

fn token_command(args: &[String]) -> anyhow::Result<()> {
    let user = match args {
        [flag, user] if flag == "--user" => user,
        _ => bail!("usage: cargo xtask token --user ID"),
    };
    println!(
        "{}",
        token::mint(&token::dev_secret(), user, token::DEV_LIFETIME)
    );
    Ok(())
}
