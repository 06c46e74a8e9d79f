//! Throwaway certificates made with the openssl CLI: a CA, and server
//! certificates it signs, for TLS tests and the cold-path bench.

use anyhow::{bail, Context};
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Runs the openssl CLI in `dir`.
fn openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .context("running the openssl CLI")?;
    if !output.status.success() {
        bail!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `openssl req` with a new P-256 key, unencrypted, written to `key_file`;
/// `rest` says what to make with it.
fn request_with_new_key(dir: &Path, key_file: &str, rest: &[&str]) -> anyhow::Result<()> {
    let mut args = vec![
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key_file,
    ];
    args.extend_from_slice(rest);
    openssl(dir, &args)
}

/// `<name>.crt` and `<name>.key` in `dir`: a P-256 CA valid for two days.
pub fn authority(dir: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    request_with_new_key(
        dir,
        &format!("{name}.key"),
        &[
            "-x509",
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=Task API test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )
}

/// `server.crt` and `server.key` in `dir`, signed by the CA `ca` there, for
/// `subject_alt_names` (e.g. `DNS:localhost`).
pub fn server(dir: &Path, ca: &str, subject_alt_names: &str) -> anyhow::Result<()> {
    request_with_new_key(
        dir,
        "server.key",
        &["-out", "server.csr", "-subj", "/CN=localhost"],
    )?;
    std::fs::write(
        dir.join("server.ext"),
        format!("subjectAltName={subject_alt_names}\nextendedKeyUsage=serverAuth\n"),
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    )
}

/// Turns TLS on in a PostgreSQL data directory with the `server.crt` and
/// `server.key` of `certs`, and puts `hba_lines` (SCRAM rules for the
/// password users) before initdb's trust rules.
pub fn enable_ssl(data: &Path, certs: &Path, hba_lines: &str) -> anyhow::Result<()> {
    for file in ["server.crt", "server.key"] {
        std::fs::copy(certs.join(file), data.join(file))?;
    }
    std::fs::set_permissions(
        data.join("server.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    let mut conf = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("postgresql.conf"))?;
    writeln!(
        conf,
        "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'"
    )?;
    let hba = std::fs::read_to_string(data.join("pg_hba.conf"))?;
    std::fs::write(data.join("pg_hba.conf"), format!("{hba_lines}{hba}"))?;
    Ok(())
}
