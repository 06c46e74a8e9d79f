//! `sslmode` as libpq documents it, against a PostgreSQL with `ssl = on` and a
//! certificate from a CA this test makes: what connects, what is refused (and
//! how), that SNI carries the host name, and `channel_binding`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::tls_server::{database, server};

/// Whether the session is encrypted, or why it could not be had.
async fn encrypted(url: &str) -> Result<bool, String> {
    let db = database(url).map_err(|e| e.to_string())?;
    let rows = db
        .query_idempotent(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows[0].get(0))
}

#[tokio::test]
async fn each_sslmode_connects_or_refuses_as_libpq_does() {
    let s = server().await;
    let (ca, other) = (s.ca(), s.other_ca());
    let cases: Vec<(String, Result<bool, &str>)> = vec![
        (s.url("postgres", "127.0.0.1", "sslmode=disable"), Ok(false)),
        (s.url("postgres", "127.0.0.1", "sslmode=prefer"), Ok(true)),
        (s.url("postgres", "127.0.0.1", ""), Ok(true)), // libpq's default is prefer
        (s.url("postgres", "127.0.0.1", "sslmode=require"), Ok(true)),
        // require with a root certificate verifies the chain, as libpq does.
        (
            s.url(
                "postgres",
                "127.0.0.1",
                &format!("sslmode=require&sslrootcert={other}"),
            ),
            Err("certificate"),
        ),
        (
            s.url(
                "postgres",
                "127.0.0.1",
                &format!("sslmode=verify-ca&sslrootcert={ca}"),
            ),
            Ok(true),
        ),
        (
            s.url(
                "postgres",
                "127.0.0.1",
                &format!("sslmode=verify-ca&sslrootcert={other}"),
            ),
            Err("certificate"),
        ),
        (
            s.url(
                "postgres",
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            Ok(true),
        ),
        // The certificate names localhost, not 127.0.0.1.
        (
            s.url(
                "postgres",
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
            Err("certificate"),
        ),
        // The system roots do not know the test CA.
        (
            s.url("postgres", "localhost", "sslmode=verify-full"),
            Err("certificate"),
        ),
    ];
    for (url, expected) in cases {
        let got = encrypted(&url).await;
        match (expected, &got) {
            (Ok(want), Ok(have)) => assert_eq!(*have, want, "{url}"),
            (Err(needle), Err(reason)) => assert!(reason.contains(needle), "{url}: {reason}"),
            _ => panic!("{url}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[tokio::test]
async fn a_refused_certificate_is_a_503_with_the_reason_logged_not_a_panic() {
    let s = server().await;
    let url = s.url(
        "postgres",
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", s.ca()),
    );
    let mut config = testkit::config_for(&url);
    config.database.connect_timeout = Duration::from_secs(3);
    let app = testkit::app_with(config).await; // init logs the refusal and carries on
    let user = testkit::User::new("tls");
    let reply = testkit::Call::new(testkit::ListTasks)
        .user(&user)
        .send(&app)
        .await;
    reply.problem(503);
    // The reason (what the request's log line carries) names the problem.
    let reason = database(&url)
        .unwrap()
        .query("SELECT 1", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(reason.contains("certificate verify failed"), "{reason}");
    assert_eq!(reason.lines().count(), 1, "{reason}");
}

#[tokio::test]
async fn channel_binding_works_as_libpq_does() {
    let s = server().await;
    let with = |options: &str| s.url("app:app-password", "localhost", options);
    assert_eq!(
        encrypted(&with("sslmode=require&channel_binding=require")).await,
        Ok(true)
    );
    assert_eq!(
        encrypted(&with(&format!(
            "sslmode=verify-full&sslrootcert={}&channel_binding=prefer",
            s.ca()
        )))
        .await,
        Ok(true)
    );
    assert_eq!(
        encrypted(&with("sslmode=disable&channel_binding=prefer")).await,
        Ok(false)
    );
    // Without TLS there is nothing to bind to: require must refuse.
    assert!(encrypted(&with("sslmode=disable&channel_binding=require"))
        .await
        .is_err());
}

/// Sits between client and server, lets the SSLRequest through and reads the
/// server name out of the TLS ClientHello that follows.
fn sni_proxy(upstream: u16) -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let mut server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
            let mut ssl_request = [0u8; 8];
            client.read_exact(&mut ssl_request).unwrap();
            server.write_all(&ssl_request).unwrap();
            let mut answer = [0u8; 1];
            server.read_exact(&mut answer).unwrap();
            client.write_all(&answer).unwrap();
            let mut header = [0u8; 5];
            client.read_exact(&mut header).unwrap();
            let mut hello = vec![0u8; u16::from_be_bytes([header[3], header[4]]) as usize];
            client.read_exact(&mut hello).unwrap();
            record.lock().unwrap().push(server_name(&hello));
            server.write_all(&header).unwrap();
            server.write_all(&hello).unwrap();
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut c2, &mut s2));
            std::thread::spawn(move || std::io::copy(&mut server, &mut client));
        }
    });
    (port, seen)
}

/// The server_name extension of a ClientHello handshake message, if any.
fn server_name(hello: &[u8]) -> Option<String> {
    let u16_at = |i: usize| u16::from_be_bytes([hello[i], hello[i + 1]]) as usize;
    let mut i = 4 + 2 + 32; // handshake header, version, random
    i += 1 + hello[i] as usize; // session id
    i += 2 + u16_at(i); // cipher suites
    i += 1 + hello[i] as usize; // compression methods
    let end = i + 2 + u16_at(i);
    i += 2;
    while i + 4 <= end {
        let (kind, length) = (u16_at(i), u16_at(i + 2));
        if kind == 0 {
            let name_length = u16_at(i + 4 + 3);
            return Some(
                String::from_utf8_lossy(&hello[i + 4 + 5..i + 4 + 5 + name_length]).into_owned(),
            );
        }
        i += 4 + length;
    }
    None
}

#[tokio::test]
async fn sni_carries_the_host_name() {
    let s = server().await;
    let (port, seen) = sni_proxy(s.cluster.port());
    let url = format!("postgres://postgres@localhost:{port}/postgres?sslmode=require");
    assert_eq!(encrypted(&url).await, Ok(true));
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [Some("localhost".to_owned())]
    );
}
