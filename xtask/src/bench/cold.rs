//! The cold path as a Lambda user waits on it: a fresh function process, its
//! init (the database connection with TLS and SCRAM-SHA-256, a remote JWKS
//! when configured) and its first invocation, against a server that looks
//! like Neon from the client's side. Measured with and without a delay on
//! every network link, so the difference, divided by one measured round
//! trip, counts the round trips the cold path waits for.
//!
//! The server: PostgreSQL with `ssl = on` (a certificate the bench makes)
//! and a SCRAM password user; for `sslnegotiation=direct`, which PostgreSQL
//! 15 does not speak, xtask's direct TLS front in front of it. Each link goes
//! through its own delay proxy; a user-space proxy does not delay the TCP
//! handshake, so that round trip is not counted (as the targets say).

use super::{event_for, measure_round_trip, Seed, LINK_DELAY};
use crate::delay_proxy::DelayProxy;
use crate::direct_tls::DirectTlsFront;
use crate::jwks_server::JwksServer;
use crate::postgres::Cluster;
use crate::runtime_api::RuntimeApi;
use crate::stats::{ms, percentile};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-password";

/// One way of reaching the database (and the token keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// `sslmode=disable`: no TLS, the same SCRAM login. Not a way to reach
    /// Neon; it is here so that the other variants' round trips split into
    /// what TLS adds and what the login and the statement cost.
    Plain,
    /// `sslmode=require`, the usual SSLRequest first.
    Postgres,
    /// `sslmode=require&sslnegotiation=direct`.
    Direct,
    /// `sslmode=verify-full` with the bench's CA as `sslrootcert`, direct.
    DirectVerifyFull,
    /// Direct, plus `JWT_JWKS_URL` behind the same delay.
    DirectWithJwks,
}

impl Variant {
    pub const ALL: [Variant; 5] = [
        Variant::Plain,
        Variant::Postgres,
        Variant::Direct,
        Variant::DirectVerifyFull,
        Variant::DirectWithJwks,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Variant::Plain => "disable (no TLS)",
            Variant::Postgres => "require, SSLRequest",
            Variant::Direct => "require, direct",
            Variant::DirectVerifyFull => "verify-full, direct",
            Variant::DirectWithJwks => "require, direct, + remote JWKS",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColdResult {
    pub name: String,
    pub variant: Variant,
    pub instances: usize,
    /// Spawn until the first poll for work (the median instance).
    pub init_ms: f64,
    /// Spawn until the first answer, no link delay.
    pub total_ms: f64,
    /// Spawn until the first answer, every link delayed.
    pub delayed_total_ms: f64,
    /// (delayed − undelayed) ÷ one round trip: what the cold path waits for.
    pub round_trips: f64,
    /// Of those, before the first poll (init).
    pub init_round_trips: f64,
}

/// What the cold bench runs against; stopped on drop.
pub struct ColdServer {
    cluster: Cluster,
    certs: PathBuf,
    front: DirectTlsFront,
    jwks: JwksServer,
    plain_url: String,
}

impl ColdServer {
    pub async fn start() -> anyhow::Result<Self> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let certs =
            std::env::temp_dir().join(format!("task-api-cold-{}-{stamp}", std::process::id()));
        crate::certs::authority(&certs, "ca")?;
        crate::certs::server(&certs, "ca", "DNS:localhost,IP:127.0.0.1")?;
        let from = certs.clone();
        // The functions' user authenticates with SCRAM, over TLS or (from the
        // direct TLS front, which terminates TLS) plain TCP.
        let cluster = Cluster::throwaway_unlogged_with(move |data| {
            crate::certs::enable_ssl(data, &from, "host all bench 127.0.0.1/32 scram-sha-256\n")
        })?;
        cluster.ensure_database("tasks_cold").await?;
        let plain_url = cluster.url("tasks_cold");
        crate::migrate::run(&plain_url).await?;
        let (client, connection) =
            tokio_postgres::connect(&plain_url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client
            .batch_execute(&format!(
                "CREATE ROLE bench LOGIN SUPERUSER PASSWORD '{PASSWORD}'"
            ))
            .await?;
        let front = DirectTlsFront::start(
            cluster.port(),
            &certs.join("server.crt"),
            &certs.join("server.key"),
        )?;
        // One Ed25519 public key (RFC 8037's example): init fetches it, the
        // first invocation's HS256 token does not need it.
        let jwks = JwksServer::start(Some(
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"bench","alg":"EdDSA","use":"sig"}]}"#
                .to_owned(),
        ));
        Ok(Self {
            cluster,
            certs,
            front,
            jwks,
            plain_url,
        })
    }

    /// The superuser's plain URL, for seeding and the round-trip probe.
    pub fn plain_url(&self) -> &str {
        &self.plain_url
    }
}

impl Drop for ColdServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.certs);
    }
}

/// The links of one variant, delayed or not: the function's environment.
pub(super) struct Links {
    pub(super) database_url: String,
    jwks_url: Option<String>,
}

pub(super) async fn links(
    server: &ColdServer,
    variant: Variant,
    delay: Duration,
) -> anyhow::Result<Links> {
    let through = |port: u16| -> anyhow::Result<u16> {
        if delay.is_zero() {
            Ok(port)
        } else {
            Ok(DelayProxy::start(port, delay)?.port)
        }
    };
    let (port, options) = match variant {
        Variant::Plain => (server.cluster.port(), "sslmode=disable".to_owned()),
        Variant::Postgres => (server.cluster.port(), "sslmode=require".to_owned()),
        Variant::Direct | Variant::DirectWithJwks => (
            server.front.port,
            "sslmode=require&sslnegotiation=direct".to_owned(),
        ),
        Variant::DirectVerifyFull => (
            server.front.port,
            format!(
                "sslmode=verify-full&sslrootcert={}&sslnegotiation=direct",
                server.certs.join("ca.crt").display()
            ),
        ),
    };
    let port = through(port)?;
    let database_url = format!("postgres://bench:{PASSWORD}@localhost:{port}/tasks_cold?{options}");
    let jwks_url = match variant {
        Variant::DirectWithJwks => {
            let port = through(server.jwks.port)?;
            Some(format!("http://127.0.0.1:{port}/api/auth/jwks"))
        }
        _ => None,
    };
    Ok(Links {
        database_url,
        jwks_url,
    })
}

/// One fresh instance: (spawn → first poll, spawn → first answer).
pub(super) async fn cold_start(
    binary: &Path,
    links: &Links,
    event: String,
    quota: Option<&super::cgroup::CpuQuota>,
) -> anyhow::Result<(Duration, Duration)> {
    let api = RuntimeApi::start().await?;
    let mut command = super::function_command(binary, &api, &links.database_url, quota);
    if let Some(url) = &links.jwks_url {
        command.env("JWT_JWKS_URL", url);
    }
    // Queued before the spawn: the first poll gets it at once, as on Lambda
    // where the event is waiting when the instance starts.
    let answer = {
        let api = api.clone();
        tokio::spawn(async move { api.invoke("cold-1".into(), event).await })
    };
    let spawned = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let outcome = tokio::time::timeout(Duration::from_secs(20), answer)
        .await
        .context("no answer to the first invocation within 20 s")???;
    let init = api
        .first_poll()
        .map(|at| at - spawned)
        .context("no poll for work")?;
    if !outcome.succeeded() {
        bail!(
            "first invocation failed (init error: {:?}): {}",
            api.init_error(),
            String::from_utf8_lossy(&outcome.body)
        );
    }
    let _ = child.kill().await;
    Ok((init, outcome.answered_at - spawned))
}

/// `instances` cold starts of each function under each variant, undelayed and
/// delayed; `round_trip_ms` is one round trip through a delay proxy.
pub(super) async fn run(
    bin_dir: &Path,
    instances: usize,
    round_trip_ms: f64,
    server: &ColdServer,
    seed: &Seed,
    doomed: &mut impl Iterator<Item = i64>,
) -> anyhow::Result<Vec<ColdResult>> {
    let mut results = Vec::new();
    for variant in Variant::ALL {
        let plain = links(server, variant, Duration::ZERO).await?;
        let delayed = links(server, variant, LINK_DELAY).await?;
        for name in super::FUNCTIONS {
            let binary = bin_dir.join(name);
            let mut samples: [Vec<(Duration, Duration)>; 2] = [Vec::new(), Vec::new()];
            for _ in 0..instances {
                for (i, links) in [&plain, &delayed].into_iter().enumerate() {
                    let event = event_for(name, seed, doomed);
                    let sample = cold_start(&binary, links, event, None)
                        .await
                        .with_context(|| format!("{name}, {}", variant.label()))?;
                    samples[i].push(sample);
                }
            }
            let median = |samples: &[(Duration, Duration)],
                          pick: fn(&(Duration, Duration)) -> Duration| {
                let mut values: Vec<Duration> = samples.iter().map(pick).collect();
                values.sort();
                ms(percentile(&values, 0.5))
            };
            let (init, total) = (median(&samples[0], |s| s.0), median(&samples[0], |s| s.1));
            let (delayed_init, delayed_total) =
                (median(&samples[1], |s| s.0), median(&samples[1], |s| s.1));
            results.push(ColdResult {
                name: name.to_owned(),
                variant,
                instances,
                init_ms: init,
                total_ms: total,
                delayed_total_ms: delayed_total,
                round_trips: (delayed_total - total) / round_trip_ms,
                init_round_trips: (delayed_init - init) / round_trip_ms,
            });
        }
    }
    Ok(results)
}

/// One round trip through a delay proxy to the cold server (plain `SELECT 1`).
pub async fn round_trip_ms(server: &ColdServer) -> anyhow::Result<f64> {
    measure_round_trip(&super::through_delay(
        server.plain_url(),
        server.cluster.port(),
    )?)
    .await
}

/// The cold table of BENCHMARKS.md.
pub fn markdown_table(results: &[ColdResult]) -> String {
    let mut table = String::from(
        "| function | TLS to the database | init (ms) | spawn → first answer (ms) | same, +1 ms each way (ms) | round trips: all / in init |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for r in results {
        table.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} |\n",
            r.name,
            r.variant.label(),
            r.init_ms,
            r.total_ms,
            r.delayed_total_ms,
            r.round_trips,
            r.init_round_trips,
        ));
    }
    table
}
