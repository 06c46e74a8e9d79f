//! A cold start loads no CA material that its configuration does not use:
//! native-tls parses the whole system bundle whenever it builds a connector
//! (10–12 ms of CPU measured here), even for `sslmode=require`, which
//! verifies nothing. Seen from outside with strace, on a function binary
//! started as Lambda starts it (no SSL_CERT_FILE in its environment).

const BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The files the get-task binary opens during init with `database_url`
/// (unreachable: init goes on without it, then the binary exits for want of
/// a Runtime API).
fn files_opened_at_init(database_url: &str, jwks_url: Option<&str>) -> String {
    let root = xtask::project_root();
    let trace = std::env::temp_dir().join(testkit::unique("strace"));
    let mut command = std::process::Command::new("strace");
    command
        .args(["-f", "-qq", "-e", "trace=open,openat", "-o"])
        .arg(&trace)
        .arg(root.join("target/debug/get-task"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("BETTER_AUTH_SECRET", testkit::SECRET)
        .env("DATABASE_CONNECT_TIMEOUT_MS", "200");
    if let Some(url) = jwks_url {
        command.env("JWT_JWKS_URL", url);
    }
    command
        .output()
        .expect("strace (installed by `cargo xtask test`) and the get-task binary");
    let opened = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(trace);
    opened
}

#[test]
fn the_system_ca_bundle_is_read_only_when_something_verifies_against_it() {
    assert!(
        std::path::Path::new(BUNDLE).is_file(),
        "this machine has no {BUNDLE} to look for"
    );
    let database = "postgres://app@127.0.0.1:1/db";
    let own_ca = std::env::temp_dir().join(testkit::unique("ca"));
    xtask::certs::authority(&own_ca, "ca").unwrap();
    let own_ca_file = own_ca.join("ca.crt").display().to_string();
    for unused in [
        format!("{database}?sslmode=require"),
        format!("{database}?sslmode=require&sslnegotiation=direct"),
        format!("{database}?sslmode=verify-full&sslrootcert={own_ca_file}"),
        database.to_owned(),
    ] {
        let opened = files_opened_at_init(&unused, Some("http://127.0.0.1:1/jwks"));
        assert!(!opened.is_empty(), "strace saw nothing");
        assert!(!opened.contains(BUNDLE), "{unused} read the CA bundle");
    }
    // Where the roots are needed, they are read (so the check above can fail).
    for (url, jwks) in [
        (format!("{database}?sslmode=verify-full"), None),
        (
            format!("{database}?sslmode=require"),
            Some("https://127.0.0.1:1/jwks"),
        ),
    ] {
        let opened = files_opened_at_init(&url, jwks);
        assert!(
            opened.contains(BUNDLE),
            "{url} {jwks:?} did not read the bundle"
        );
    }
    let _ = std::fs::remove_dir_all(own_ca);
}
