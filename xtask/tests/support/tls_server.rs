//! A PostgreSQL with `ssl = on`, a certificate from a CA the test makes, and
//! a SCRAM password user `app`: for tls.rs and direct_tls.rs.

use shared::config::DatabaseConfig;
use shared::db::{Database, DbError};
use std::io::Write;
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
        let cluster = Cluster::throwaway_with(|data| {
            for file in ["server.crt", "server.key"] {
                std::fs::copy(certs.join(file), data.join(file))?;
            }
            let key = data.join("server.key");
            std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            let mut conf = std::fs::OpenOptions::new().append(true).open(data.join("postgresql.conf"))?;
            writeln!(conf, "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'")?;
            // The password user `app` authenticates with SCRAM (channel binding
            // needs it); the rest of the file stays trust, as initdb wrote it.
            let hba = std::fs::read_to_string(data.join("pg_hba.conf"))?;
            std::fs::write(
                data.join("pg_hba.conf"),
                format!("hostssl all app 127.0.0.1/32 scram-sha-256\nhost all app 127.0.0.1/32 scram-sha-256\n{hba}"),
            )?;
            Ok(())
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
