//! PgBouncer in transaction mode in front of a test server, as Neon's pooled
//! endpoint is: statements must not rely on session state (named prepared
//! statements among them, unless the pooler tracks them).

mod source;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PgBouncer {
    child: Child,
    dir: PathBuf,
    pub port: u16,
}

pub use source::ensure_built;

impl PgBouncer {
    /// `binary` pools `database` of the server on `upstream_port`, `pool_mode
    /// = transaction`, with `max_prepared_statements` (protocol-level
    /// prepared statements tracked by the pooler; 0 = off).
    pub fn start(
        binary: &Path,
        upstream_port: u16,
        database: &str,
        prepared_statements: u32,
    ) -> anyhow::Result<Self> {
        let port = crate::postgres::free_port()?;
        let dir =
            std::env::temp_dir().join(format!("task-api-pgbouncer-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n")?;
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n{database} = host=127.0.0.1 port={upstream_port} dbname={database}\n\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
                 max_client_conn = 1000\ndefault_pool_size = 20\n\
                 ignore_startup_parameters = extra_float_digits,options\n\
                 logfile = {log}\nmax_prepared_statements = {prepared_statements}\n",
                users = dir.join("users.txt").display(),
                log = dir.join("pgbouncer.log").display(),
            ),
        )?;
        // PgBouncer refuses to run as root.
        let mut command = if crate::postgres::is_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()?;
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary);
            c
        } else {
            Command::new(binary)
        };
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting pgbouncer")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "pgbouncer did not listen; see {}",
                    dir.join("pgbouncer.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self { child, dir, port })
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }
}

/// Whether `binary` knows `max_prepared_statements` (1.21 and later).
pub fn tracks_prepared_statements(binary: &Path) -> bool {
    let version = version_of(binary);
    let numbers: Vec<u32> = version
        .split_whitespace()
        .last()
        .unwrap_or("")
        .split('.')
        .filter_map(|n| n.parse().ok())
        .collect();
    matches!(numbers.as_slice(), [major, minor, ..] if (*major, *minor) >= (1, 21))
}

/// The first line of `binary --version`: "PgBouncer 1.24.1".
pub fn version_of(binary: &Path) -> String {
    Command::new(binary)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned()
        })
        .unwrap_or_default()
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // runuser forwards the signal to pgbouncer.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
