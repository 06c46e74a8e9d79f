//! `cargo xtask <command>`: parses the command line (clap) and dispatches;
//! each command lives in its own module of the xtask library.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "The Task API's development commands: run it locally, test, measure, package, deploy checks"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Every route on http://localhost:9000 (`cargo lambda watch` behind API
    /// Gateway's CORS) and interactive docs on :9001, against DATABASE_URL or a
    /// project-local PostgreSQL (.dev/), migrated; prints a dev token
    Dev {
        /// Also allow this browser origin (repeatable; TASK_API_CORS_ORIGINS adds more)
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
    },
    /// fmt, clippy, unit + integration + end-to-end tests on a throwaway PostgreSQL
    /// (what CI runs)
    Test {
        /// Passed to the test runner (cargo nextest run); with any, the load,
        /// bench smoke and PgBouncer runs are skipped. E.g. `isolation`, or
        /// `-E 'test(/^auth::/)'`
        #[arg(
            value_name = "FILTER",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        filters: Vec<String>,
    },
    /// Rounds of three 200-request bursts, each round on a fresh (cold) dev
    /// server; fails if any request goes unanswered (also part of `test`)
    Burst {
        /// How many rounds
        #[arg(long, value_name = "N", default_value_t = 3)]
        rounds: u32,
        /// Send the bursts to `cargo lambda watch` itself, past the dev proxy
        #[arg(long)]
        direct: bool,
    },
    /// Apply migrations/ to DATABASE_URL (under an advisory lock)
    Migrate,
    /// 32 clients, mixed workload, through `cargo lambda watch --concurrency 8`
    /// (also part of `test`)
    Load {
        /// How long the load runs
        #[arg(long, value_name = "N", default_value_t = xtask::load::DEFAULT_SECONDS)]
        seconds: u64,
    },
    /// Init, warm latency, round trips, RSS and zip size of every function,
    /// written to BENCHMARKS.md, bench/results.json and charts in bench/ (about 10 minutes)
    Bench {
        /// A few invocations on debug builds; nothing written (part of `test`)
        #[arg(long)]
        smoke: bool,
        /// Only count instructions per warm request (callgrind, release
        /// builds, about 30 s once built); nothing written
        #[arg(long, conflicts_with = "smoke")]
        instructions: bool,
        /// Compare the release binaries in DIR (an earlier commit's build)
        /// with this tree's: instructions, 128 MB p99, throughput at 32, in
        /// one run; nothing written
        #[arg(long, value_name = "DIR", conflicts_with_all = ["smoke", "instructions"])]
        compare: Option<std::path::PathBuf>,
    },
    /// Release arm64 zips of the functions (as `sam build` makes them), with sizes
    Package,
    /// Print a dev token (signed with BETTER_AUTH_SECRET or the dev secret)
    Token {
        /// The user id the token is for (its subject)
        #[arg(long, value_name = "ID")]
        user: String,
    },
    /// Every route of a deployed stage (or the dev server) on a task of its own,
    /// a CORS preflight, no token, another user; then cleans up
    Smoke {
        /// The stage's base URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com
        #[arg(long)]
        url: String,
        /// A token for --user (else one is minted from --secret)
        #[arg(long)]
        token: Option<String>,
        /// The user the smoke test acts as
        #[arg(long, value_name = "ID", default_value = "smoke-test-user")]
        user: String,
        /// The HS256 secret to mint tokens with (default: BETTER_AUTH_SECRET)
        #[arg(long)]
        secret: Option<String>,
        /// The Origin of the CORS preflight (default: the first dev origin)
        #[arg(long)]
        origin: Option<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        None => {
            use clap::CommandFactory;
            Cli::command().print_help().map_err(anyhow::Error::from)
        }
        Some(Command::Dev { cors_origins }) => xtask::dev::command(&cors_origins),
        Some(Command::Test { filters }) => xtask::suite::command(&filters),
        Some(Command::Burst { rounds, direct }) => xtask::burst::command(rounds, direct),
        Some(Command::Migrate) => xtask::migrate::command(),
        Some(Command::Load { seconds }) => xtask::load::command(seconds),
        Some(Command::Bench {
            smoke,
            instructions,
            compare,
        }) => match compare {
            Some(before) => xtask::bench::command::compare(&before),
            None if instructions => xtask::bench::command::count_instructions(),
            None => xtask::bench::command::run(smoke),
        },
        Some(Command::Package) => xtask::package::command(),
        Some(Command::Token { user }) => xtask::token::command(&user),
        Some(Command::Smoke {
            url,
            token,
            user,
            secret,
            origin,
        }) => xtask::smoke::command(url, user, token, secret, origin),
    };
    if let Err(error) = result {
        eprintln!("xtask: error: {error:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Command {
        let args = std::iter::once("xtask").chain(args.iter().copied());
        Cli::try_parse_from(args).unwrap().command.unwrap()
    }

    #[test]
    fn the_flags_keep_their_meaning() {
        assert!(matches!(
            parse(&["test", "-E", "test(/^auth::/)", "--no-capture"]),
            Command::Test { filters } if filters == ["-E", "test(/^auth::/)", "--no-capture"]
        ));
        assert!(matches!(
            parse(&["dev", "--cors-origin", "a", "--cors-origin", "b"]),
            Command::Dev { cors_origins } if cors_origins == ["a", "b"]
        ));
        assert!(matches!(parse(&["load"]), Command::Load { seconds: 20 }));
        assert!(matches!(
            parse(&["load", "--seconds", "5"]),
            Command::Load { seconds: 5 }
        ));
        assert!(matches!(
            parse(&["bench", "--smoke"]),
            Command::Bench {
                smoke: true,
                instructions: false,
                compare: None
            }
        ));
        assert!(matches!(
            parse(&["bench", "--instructions"]),
            Command::Bench {
                smoke: false,
                instructions: true,
                compare: None
            }
        ));
        assert!(matches!(parse(&["token", "--user", "u"]), Command::Token { user } if user == "u"));
        assert!(matches!(
            parse(&["smoke", "--url", "http://x", "--secret", "s"]),
            Command::Smoke { url, user, secret: Some(_), token: None, origin: None }
                if url == "http://x" && user == "smoke-test-user"
        ));
    }

    #[test]
    fn unknown_options_are_usage_errors() {
        for args in [
            &["bench", "--nope"][..],
            &["smoke"],
            &["token"],
            &["frobnicate"],
        ] {
            let args = std::iter::once("xtask").chain(args.iter().copied());
            let error = Cli::try_parse_from(args).err().expect("an error");
            assert_eq!(error.exit_code(), 2, "{error}");
        }
    }
}
