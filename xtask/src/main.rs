//! `cargo xtask <command>`: see `cargo xtask help`. Parses and dispatches;
//! each command lives in its own module of the xtask library.

const HELP: &str = "\
cargo xtask <command>

  dev [--cors-origin O] every route on http://localhost:9000 (`cargo lambda watch` behind
                       API Gateway's CORS), interactive docs on :9001, against DATABASE_URL
                       or a project-local PostgreSQL (.dev/), migrated
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
  smoke --url URL      every route of a deployed stage (or the dev server) on a task of its own,
                       a CORS preflight, no token, another user; then cleans up. Token from
                       --token (with --user), or minted from --secret / BETTER_AUTH_SECRET
                       for --user (default smoke-test-user); --origin for the preflight
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => xtask::dev::command(&args[1..]),
        Some("test") => xtask::suite::command(&args[1..]),
        Some("migrate") => xtask::migrate::command(),
        Some("package") => xtask::package::command(),
        Some("load") => xtask::load::command(&args[1..]),
        Some("bench") => xtask::bench::command::run(args.get(1).is_some_and(|a| a == "--smoke")),
        Some("token") => xtask::token::command(&args[1..]),
        Some("smoke") => xtask::smoke::command(&args[1..]),
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
