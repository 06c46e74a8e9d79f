//! libpq's `sslmode` / `sslrootcert` on top of tokio-postgres, which knows
//! only part of them: the connection string is split, and the TLS connector is
//! built to verify exactly what each mode promises.

use super::DbError;
use native_tls::{Certificate, TlsConnector};
use percent_encoding::percent_decode_str;
use postgres_native_tls::MakeTlsConnector;

/// libpq's `sslmode` values (`allow` is treated as `prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) struct SslOptions {
    pub mode: SslMode,
    pub root_cert: Option<String>,
    /// libpq's `sslnegotiation=direct` (PostgreSQL 17+, Neon): TLS from the
    /// first byte, with ALPN `postgresql`, instead of an SSLRequest first.
    /// One round trip less on every new connection.
    pub direct: bool,
}

/// Takes `sslmode`, `sslrootcert` and `sslnegotiation` out of a connection
/// string (URL or key=value form) because tokio-postgres knows only part of
/// libpq's modes; the rest of the string is left for tokio-postgres to parse.
pub(super) fn split_ssl_options(url: &str) -> Result<(String, SslOptions), DbError> {
    let mut mode = None;
    let mut root_cert = None;
    let mut direct = false;
    let mut take = |pair: &str| -> Result<bool, DbError> {
        let Some((key, value)) = pair.split_once('=') else {
            return Ok(false);
        };
        match key.trim() {
            "sslmode" => {
                mode = Some(match value.trim() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => return Err(DbError::Config(format!("unknown sslmode '{other}'"))),
                });
                Ok(true)
            }
            "sslnegotiation" => {
                direct = match value.trim() {
                    "postgres" => false,
                    "direct" => true,
                    other => {
                        return Err(DbError::Config(format!(
                            "unknown sslnegotiation '{other}' (postgres or direct)"
                        )))
                    }
                };
                Ok(true)
            }
            "sslrootcert" => {
                let path = percent_decode_str(value.trim())
                    .decode_utf8()
                    .map_err(|_| {
                        DbError::Config("sslrootcert is not UTF-8 once percent-decoded".into())
                    })?;
                root_cert = Some(path.into_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    };

    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&') {
                    if !take(pair)? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for pair in url.split_whitespace() {
            if !take(pair)? {
                kept.push(pair);
            }
        }
        kept.join(" ")
    };
    // libpq: with a root certificate at hand, `require` verifies the chain.
    let mode = match (mode.unwrap_or(SslMode::Prefer), &root_cert) {
        (SslMode::Require, Some(_)) => SslMode::VerifyCa,
        (mode, _) => mode,
    };
    // libpq: direct negotiation cannot fall back to plain text, so it needs a
    // mode that insists on TLS.
    if direct && matches!(mode, SslMode::Disable | SslMode::Prefer) {
        return Err(DbError::Config(
            "sslnegotiation=direct needs sslmode=require, verify-ca or verify-full".into(),
        ));
    }
    Ok((
        rest,
        SslOptions {
            mode,
            root_cert,
            direct,
        },
    ))
}

impl SslOptions {
    /// Whether verifying the server needs the system's CA bundle: a
    /// verifying mode without a CA file of its own (or with libpq's
    /// `sslrootcert=system`).
    pub fn uses_system_roots(&self) -> bool {
        matches!(self.mode, SslMode::VerifyCa | SslMode::VerifyFull)
            && self
                .root_cert
                .as_deref()
                .is_none_or(|path| path == "system")
    }
}

pub(super) fn tls_connector(ssl: &SslOptions) -> Result<MakeTlsConnector, DbError> {
    let (mode, root_cert) = (ssl.mode, ssl.root_cert.as_deref());
    let mut builder = TlsConnector::builder();
    if ssl.direct {
        // Without an SSLRequest, ALPN is how the server knows it is PostgreSQL.
        postgres_native_tls::set_postgresql_alpn(&mut builder);
    }
    match mode {
        // libpq's prefer/require encrypt but do not authenticate the server.
        SslMode::Prefer | SslMode::Require => {
            builder.danger_accept_invalid_certs(true);
            builder.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyCa => {
            builder.danger_accept_invalid_hostnames(true);
        }
        SslMode::VerifyFull | SslMode::Disable => {}
    }
    if let Some(path) = root_cert.filter(|p| *p != "system") {
        let pem = std::fs::read(path)
            .map_err(|e| DbError::Config(format!("cannot read sslrootcert {path}: {e}")))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| DbError::Config(format!("sslrootcert {path} is not PEM: {e}")))?;
        builder.add_root_certificate(cert);
    }
    let connector = builder
        .build()
        .map_err(|e| DbError::Config(format!("TLS setup failed: {e}")))?;
    Ok(MakeTlsConnector::new(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (String, SslOptions) {
        split_ssl_options(url).unwrap()
    }

    #[test]
    fn ssl_options_leave_the_url_otherwise_untouched() {
        let (rest, ssl) = split("postgres://u:p@h:5432/db?sslmode=verify-full&application_name=x");
        assert_eq!(rest, "postgres://u:p@h:5432/db?application_name=x");
        assert_eq!(ssl.mode, SslMode::VerifyFull);
        let (rest, ssl) = split("postgresql://u@h/db?sslmode=disable");
        assert_eq!(rest, "postgresql://u@h/db");
        assert_eq!(ssl.mode, SslMode::Disable);
        let (rest, ssl) = split("host=h dbname=db sslmode=require");
        assert_eq!(rest, "host=h dbname=db");
        assert_eq!(ssl.mode, SslMode::Require);
    }

    #[test]
    fn libpq_defaults() {
        assert_eq!(split("postgres://h/db").1.mode, SslMode::Prefer);
        let (_, ssl) = split("postgres://h/db?sslmode=require&sslrootcert=%2Fetc%2Fca.pem");
        assert_eq!(ssl.mode, SslMode::VerifyCa);
        assert_eq!(ssl.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert!(split_ssl_options("postgres://h/db?sslmode=maybe").is_err());
        assert!(!split("postgres://h/db?sslmode=require").1.direct);
    }

    #[test]
    fn only_verifying_without_a_ca_file_needs_the_system_roots() {
        for (url, uses) in [
            ("postgres://h/db?sslmode=require", false),
            ("postgres://h/db", false),
            ("postgres://h/db?sslmode=disable", false),
            (
                "postgres://h/db?sslmode=require&sslrootcert=%2Fca.pem",
                false,
            ),
            (
                "postgres://h/db?sslmode=verify-full&sslrootcert=%2Fca.pem",
                false,
            ),
            ("postgres://h/db?sslmode=verify-full", true),
            ("postgres://h/db?sslmode=verify-ca", true),
            (
                "postgres://h/db?sslmode=verify-full&sslrootcert=system",
                true,
            ),
        ] {
            assert_eq!(split(url).1.uses_system_roots(), uses, "{url}");
        }
    }

    #[test]
    fn direct_negotiation_needs_a_mode_that_insists_on_tls() {
        let (rest, ssl) = split("postgres://h/db?sslmode=require&sslnegotiation=direct&x=1");
        assert_eq!(rest, "postgres://h/db?x=1");
        assert!(ssl.direct);
        assert!(
            split("host=h sslmode=verify-full sslnegotiation=direct")
                .1
                .direct
        );
        assert!(
            !split("postgres://h/db?sslmode=require&sslnegotiation=postgres")
                .1
                .direct
        );
        for refused in [
            "postgres://h/db?sslnegotiation=direct",
            "postgres://h/db?sslmode=prefer&sslnegotiation=direct",
            "postgres://h/db?sslmode=disable&sslnegotiation=direct",
            "postgres://h/db?sslmode=require&sslnegotiation=fast",
        ] {
            let error = split_ssl_options(refused).unwrap_err().to_string();
            assert!(error.contains("sslnegotiation"), "{refused}: {error}");
        }
    }
}
