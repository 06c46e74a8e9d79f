//! A PostgreSQL with `ssl = on`, a certificate from a CA the test makes, and
//! a SCRAM password user `app`: for tls.rs and direct_tls.rs.

use shared::config::DatabaseConfig;
use shared::db::{Database, DbError};
use std::path::{Path, PathBuf};
use std::time::Duration;
use xtask::postgres::Cluster;

pub struct TlsServer {
    pub cluster: Cluster,
    pub certs: PathBuf,
}

impl TlsServer {
    pub fn ca(&self) -> String {
        self.certs.join("ca.crt").display().to_string()
    }

    pub fn other_ca(&self) -> String {
        self.certs.join("other-ca.crt").display().to_string()
    }

    pub fn url(&self, user: &str, host: &str, options: &str) -> String {
        format!(
            "postgres://{user}@{host}:{}/postgres?{options}",
            self.cluster.port()
        )
    }
}

/// A CA, a server certificate it signs for DNS name `localhost` only, and an
/// unrelated CA.
pub fn make_certificates(dir: &Path) {
    for ca in ["ca", "other-ca"] {
        xtask::certs::authority(dir, ca).unwrap();
    }
    xtask::certs::server(dir, "ca", "DNS:localhost").unwrap();
}

/// Each test (its own process under nextest) gets its own server.
pub async fn server() -> TlsServer {
    {
        let certs = std::env::temp_dir().join(super::unique("tls-certs"));
        make_certificates(&certs);
        // The password user `app` authenticates with SCRAM (channel binding
        // needs it); the rest of pg_hba.conf stays trust, as initdb wrote it.
        let cluster = Cluster::throwaway_with(|data| {
            xtask::certs::enable_ssl(
                data,
                &certs,
                "hostssl all app 127.0.0.1/32 scram-sha-256\nhost all app 127.0.0.1/32 scram-sha-256\n",
            )
        })
        .expect("a TLS-enabled PostgreSQL");
        let (client, connection) =
            tokio_postgres::connect(&cluster.url("postgres"), tokio_postgres::NoTls)
                .await
                .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute("CREATE ROLE app LOGIN PASSWORD 'app-password'")
            .await
            .unwrap();
        TlsServer { cluster, certs }
    }
}

/// A database handle for `url`, with 3 s timeouts.
pub fn database(url: &str) -> Result<Database, DbError> {
    Database::new(&DatabaseConfig {
        url: url.to_owned(),
        connect_timeout: Duration::from_secs(3),
        query_timeout: Duration::from_secs(3),
    })
}
