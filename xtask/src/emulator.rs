//! `cargo lambda watch` serving every route, for the end-to-end test and the
//! load run; stopped (with the function processes it started) on drop.

use crate::postgres::Cluster;
use crate::{block_on, build, migrate, tools};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Emulator {
    child: Child,
    pub base_url: String,
}

impl Emulator {
    /// Starts on a free port with the given function environment; returns once
    /// it accepts connections. `concurrency` is cargo lambda's `--concurrency`.
    pub fn start(root: &Path, env: &[(&str, &str)], concurrency: u32) -> anyhow::Result<Self> {
        Self::start_with(root, env, concurrency, false)
    }

    /// As [`Emulator::start`]; `show_logs` passes the emulator's and the
    /// functions' output through to this terminal. The emulator's own CORS
    /// is off: API Gateway's (`shared::cors`) is the dev server's job.
    pub fn start_with(
        root: &Path,
        env: &[(&str, &str)],
        concurrency: u32,
        show_logs: bool,
    ) -> anyhow::Result<Self> {
        let port = crate::postgres::free_port()?;
        let mut command = Command::new("cargo");
        command
            .current_dir(root)
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .args(["--concurrency", &concurrency.to_string(), "--disable-cors"])
            .envs(env.iter().copied());
        if !show_logs {
            command.stdout(Stdio::null()).stderr(Stdio::null());
        }
        // Its own process group, so the functions it spawned go down with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().context("starting cargo lambda watch")?;
        let emulator = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("cargo lambda watch did not listen on {port}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(emulator)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// The functions' environment for a local run that is not the dev server's:
/// the local dev secret, warnings only, and `path` (cargo lambda's directory
/// first).
pub fn local_env<'a>(database_url: &'a str, path: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("DATABASE_URL", database_url),
        ("BETTER_AUTH_SECRET", crate::token::LOCAL_DEV_SECRET),
        ("RUST_LOG", "warn"),
        ("PATH", path),
    ]
}

/// What a command that runs the functions under the emulator stands on:
/// cargo lambda, the functions built as it builds them, and a throwaway
/// PostgreSQL with one migrated database (`load`, `burst`).
pub struct Ground {
    /// Where the `cargo-lambda` binary is (for the functions' PATH).
    pub lambda_dir: PathBuf,
    pub url: String,
    /// Dropped last: it removes the database.
    _cluster: Cluster,
}

impl Ground {
    pub fn prepare(root: &Path, database: &str) -> anyhow::Result<Self> {
        let lambda_dir = tools::cargo_lambda(root)?;
        build::functions(root)?;
        let cluster = Cluster::throwaway()?;
        block_on(cluster.ensure_database(database))?;
        let url = cluster.url(database);
        block_on(migrate::run(&url))?;
        Ok(Self {
            lambda_dir,
            url,
            _cluster: cluster,
        })
    }
}
