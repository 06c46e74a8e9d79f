//! `sslnegotiation=direct` with libpq's meaning: TLS from the first byte with
//! ALPN `postgresql`, no SSLRequest (one round trip less per connection).
//! PostgreSQL 15 here does not speak it, so xtask's direct TLS front stands
//! in for PostgreSQL 17 or Neon's proxy and counts what it sees on the wire.

use shared::db::DbError;
use std::time::{Duration, Instant};
use testkit::tls_server::{database, server, TlsServer};
use xtask::direct_tls::DirectTlsFront;

fn front(s: &TlsServer) -> DirectTlsFront {
    DirectTlsFront::start(
        s.cluster.port(),
        &s.certs.join("server.crt"),
        &s.certs.join("server.key"),
    )
    .expect("a direct TLS front")
}

#[tokio::test]
async fn direct_negotiation_sends_no_ssl_request() {
    let s = server().await;
    let front = front(&s);
    let url = |options: &str| {
        format!(
            "postgres://app:app-password@localhost:{}/postgres?{options}",
            front.port
        )
    };
    for options in [
        "sslmode=require&sslnegotiation=direct".to_owned(),
        format!(
            "sslmode=verify-full&sslrootcert={}&sslnegotiation=direct",
            s.ca()
        ),
    ] {
        let rows = database(&url(&options))
            .unwrap()
            .query_idempotent("SELECT 1", &[])
            .await
            .unwrap_or_else(|e| panic!("{options}: {e}"));
        assert_eq!(rows.len(), 1);
    }
    assert_eq!(
        (
            front.ssl_requests(),
            front.direct_handshakes(),
            front.refused()
        ),
        (0, 2, 0)
    );
    // The usual negotiation opens with an SSLRequest, which this front
    // refuses: it sees (and counts) what the client really sends.
    let error = database(&url("sslmode=require"))
        .unwrap()
        .query_idempotent("SELECT 1", &[])
        .await
        .unwrap_err();
    assert!(matches!(error, DbError::Unavailable(_)), "{error}");
    assert_eq!(front.ssl_requests(), 1);
}

/// Against a server that does not speak direct TLS (PostgreSQL 15), the
/// connection fails with a reason, at once: no hang until the timeout.
#[tokio::test]
async fn direct_negotiation_against_a_server_without_it_fails_at_once() {
    let s = server().await;
    let url = s.url(
        "app:app-password",
        "localhost",
        "sslmode=require&sslnegotiation=direct",
    );
    let db = database(&url).unwrap();
    let started = Instant::now();
    let error = db.query_idempotent("SELECT 1", &[]).await.unwrap_err();
    let DbError::Unavailable(reason) = &error else {
        panic!("expected unavailable (503), got {error:?}");
    };
    assert!(!reason.contains("timed out"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(3), "{reason}");
}

/// A mode that would allow plain text cannot go with direct negotiation:
/// the function refuses to start, with one log line naming the parameter.
#[test]
fn direct_negotiation_with_a_weak_sslmode_fails_init() {
    let binary = xtask::project_root().join("target/debug/get-task");
    let line = testkit::init_failure(
        &binary,
        &[
            (
                "DATABASE_URL",
                "postgres://app@127.0.0.1:1/postgres?sslmode=prefer&sslnegotiation=direct",
            ),
            ("BETTER_AUTH_SECRET", testkit::SECRET),
        ],
    );
    assert!(
        line["error"].as_str().unwrap().contains("sslnegotiation"),
        "{line}"
    );
}
