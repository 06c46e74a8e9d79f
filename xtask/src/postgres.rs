//! A PostgreSQL server of our own, from the installed binaries (initdb,
//! pg_ctl): throwaway for tests, project-local and persistent for `dev`.
//!
//! initdb refuses to run as root, and CI runs as root: then every server
//! command runs as the unprivileged `postgres` user through runuser.

use anyhow::{bail, Context};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Cluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
    throwaway: bool,
    /// The tests count statements in the server log; the bench must not pay for it.
    log_statements: bool,
}

impl Cluster {
    /// A fresh server in a temporary directory on a free port, removed on drop.
    pub fn throwaway() -> anyhow::Result<Self> {
        Self::throwaway_with(|_| Ok(()))
    }

    /// A throwaway server that does not log every statement, as a production
    /// server would not: for the benchmark.
    pub fn throwaway_unlogged() -> anyhow::Result<Self> {
        Self::throwaway_inner(|_| Ok(()), false)
    }

    /// [`Cluster::throwaway_unlogged`], configured as [`Cluster::throwaway_with`].
    pub fn throwaway_unlogged_with(
        configure: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        Self::throwaway_inner(configure, false)
    }

    /// Like [`Cluster::throwaway`], with `configure` run on the data directory
    /// after initdb and before the first start (certificates, pg_hba.conf,
    /// postgresql.conf lines).
    pub fn throwaway_with(
        configure: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<Self> {
        Self::throwaway_inner(configure, true)
    }

    fn throwaway_inner(
        configure: impl FnOnce(&Path) -> anyhow::Result<()>,
        log_statements: bool,
    ) -> anyhow::Result<Self> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("task-api-pg-{}-{stamp}", std::process::id()));
        let mut cluster = Self::prepare(dir, free_port()?, true)?;
        cluster.log_statements = log_statements;
        configure(&cluster.data())?;
        if cluster.as_postgres {
            cluster.give_to_postgres(&cluster.dir)?;
        }
        cluster.start()?;
        Ok(cluster)
    }

    /// The server under `dir`, created on first use and started if it is not
    /// running; left running on drop only if it was already running.
    pub fn project_local(dir: &Path, port: u16) -> anyhow::Result<Self> {
        let cluster = Self::prepare(dir.to_path_buf(), port, false)?;
        if !cluster.is_running() {
            cluster.start()?;
        }
        Ok(cluster)
    }

    fn prepare(dir: PathBuf, port: u16, throwaway: bool) -> anyhow::Result<Self> {
        let as_postgres = is_root();
        let cluster = Self {
            dir,
            port,
            bin: bin_dir(),
            as_postgres,
            throwaway,
            log_statements: throwaway,
        };
        if cluster.data().join("PG_VERSION").is_file() {
            return Ok(cluster);
        }
        std::fs::create_dir_all(&cluster.dir)
            .with_context(|| format!("creating {}", cluster.dir.display()))?;
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()?;
            if !status.success() {
                bail!(
                    "could not give {} to the postgres user",
                    cluster.dir.display()
                );
            }
        }
        let data = cluster.data();
        let mut initdb = cluster.command("initdb");
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]);
        if throwaway {
            initdb.arg("--no-sync");
        }
        cluster.check(initdb, "initdb")?;
        Ok(cluster)
    }

    fn give_to_postgres(&self, dir: &Path) -> anyhow::Result<()> {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()?;
        if !status.success() {
            bail!("could not give {} to the postgres user", dir.display());
        }
        Ok(())
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn is_running(&self) -> bool {
        let mut status = self.command("pg_ctl");
        status.arg("status").arg("-D").arg(self.data());
        status.output().map(|o| o.status.success()).unwrap_or(false)
    }

    pub fn start(&self) -> anyhow::Result<()> {
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200",
            self.port,
            self.dir.display()
        );
        if self.throwaway {
            // Durability is pointless for a database removed after the run.
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        if self.log_statements {
            // Every statement, tagged with the client's application_name: the
            // tests count what each request sends from this log.
            options.push_str(" -c log_statement=all -c log_line_prefix='%a|'");
        }
        let mut start = self.command("pg_ctl");
        start
            .arg("start")
            .arg("-w")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .arg("-o")
            .arg(options);
        self.check(start, "pg_ctl start")
            .with_context(|| format!("see {}", self.dir.join("server.log").display()))?;
        Ok(())
    }

    pub fn stop(&self) {
        let mut stop = self.command("pg_ctl");
        stop.arg("stop")
            .arg("-w")
            .args(["-m", "fast"])
            .arg("-D")
            .arg(self.data());
        let _ = stop.output();
    }

    /// The server's log (stderr), where a throwaway server logs every statement.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for `database` as the trusted superuser, TLS off (loopback only).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    /// Creates `name` unless it exists.
    pub async fn ensure_database(&self, name: &str) -> anyhow::Result<()> {
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .context("connecting to the local PostgreSQL")?;
        let connection = tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await?
            .is_some();
        if !exists {
            // Identifiers cannot be bound as parameters; callers pass fixed names.
            client
                .batch_execute(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
                .await?;
        }
        drop(client);
        let _ = connection.await;
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn check(&self, mut command: Command, what: &str) -> anyhow::Result<Output> {
        let output = command
            .output()
            .with_context(|| format!("running {what}"))?;
        if !output.status.success() {
            bail!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.throwaway {
            self.stop();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// initdb, postgres and pgbouncer refuse to run as root; CI runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The installed server's binaries: `pg_config --bindir`, else the newest
/// Debian-style /usr/lib/postgresql/N/bin, else PATH.
fn bin_dir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("pg_ctl").is_file() {
            return dir;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| PathBuf::from(""))
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
