//! PgBouncer built from Debian trixie's source package: bookworm ships 1.18,
//! which predates `max_prepared_statements` (1.21), and Neon's pooled
//! endpoint runs 1.22+ with it on. Trixie's *binaries* would pull in a newer
//! libc, so only its source is taken (with Debian's patches applied) and
//! built against bookworm's libraries, once per machine.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::run;

/// Where the build is kept (see `tools::machine_cache`: PgBouncer runs as the
/// postgres user when we are root).
fn cache_dir() -> PathBuf {
    crate::tools::machine_cache("pgbouncer-trixie")
}

/// The cached binary, built first when it is missing or too old.
pub fn ensure_built() -> anyhow::Result<PathBuf> {
    let binary = cache_dir().join("pgbouncer");
    if binary.is_file() && super::tracks_prepared_statements(&binary) {
        return Ok(binary);
    }
    if !crate::postgres::is_root() {
        bail!(
            "PgBouncer 1.21+ is built from Debian's source package with apt-get, which \
             needs root; run `cargo xtask test` once as root, or place a build at {}",
            binary.display()
        );
    }
    let work =
        std::env::temp_dir().join(format!("task-api-pgbouncer-build-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let built = build_into(&work, &binary);
    let _ = std::fs::remove_dir_all(&work);
    built?;
    if !super::tracks_prepared_statements(&binary) {
        bail!(
            "the PgBouncer built from trixie's source ({}) is older than 1.21",
            super::version_of(&binary)
        );
    }
    Ok(binary)
}

fn build_into(work: &Path, binary: &Path) -> anyhow::Result<()> {
    eprintln!("xtask: building PgBouncer from Debian trixie's source package (once per machine)");
    // Bookworm's -dev packages for what the pooler links (PAM and systemd
    // integration are left out: the tests start it by hand). Installed
    // before trixie's index is fetched, because apt_install's own
    // `apt-get update` drops indexes the machine's sources do not name.
    crate::tools::apt_install(
        &[
            "libevent-dev",
            "libssl-dev",
            "libc-ares-dev",
            "pkgconf",
            "dpkg-dev",
        ],
        &[
            "/usr/include/event2/event.h",
            "/usr/include/openssl/ssl.h",
            "/usr/include/ares.h",
            "/usr/bin/pkg-config",
            "/usr/bin/dpkg-source",
        ],
    )?;
    // A source list of our own, used only by the two commands below: the
    // machine's apt configuration never sees trixie, so nothing can install
    // a trixie binary by accident.
    let list = work.join("trixie-src.list");
    std::fs::write(
        &list,
        format!(
            "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {} trixie main\n",
            machine_mirror()
        ),
    )?;
    let only_trixie = [
        format!("-oDir::Etc::SourceList={}", list.display()),
        "-oDir::Etc::SourceParts=-".to_owned(),
        // Keeps the indexes of the machine's own sources.
        "-oAPT::Get::List-Cleanup=0".to_owned(),
    ];
    run(Command::new("apt-get")
        .args(["update", "-qq"])
        .args(&only_trixie))
    .context("apt-get update for trixie's sources")?;
    // apt downloads as its unprivileged _apt user, which must own the folder.
    let _ = Command::new("chown").arg("_apt").arg(work).status();
    run(Command::new("apt-get")
        .current_dir(work)
        .args(["source", "--download-only", "-qq"])
        .args(&only_trixie)
        .arg("pgbouncer/trixie"))
    .context("apt-get source pgbouncer/trixie")?;
    let dsc = std::fs::read_dir(work)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "dsc"))
        .context("apt-get source left no .dsc")?;
    let tree = work.join("tree");
    // dpkg-source applies Debian's patches (security fixes among them).
    run(Command::new("dpkg-source")
        .arg("--no-check")
        .arg("-x")
        .arg(&dsc)
        .arg(&tree)
        .stdout(std::process::Stdio::null()))?;
    run(Command::new("./configure")
        .current_dir(&tree)
        .args(["--with-cares=yes", "--without-pam", "--without-systemd"])
        .stdout(std::process::Stdio::null()))?;
    run(Command::new("make")
        .current_dir(&tree)
        .args(["-j", &num_jobs(), "pgbouncer"])
        .stdout(std::process::Stdio::null()))?;
    let dir = binary.parent().context("cache path")?;
    std::fs::create_dir_all(dir)?;
    // Rename into place, so an interrupted copy never looks like a build.
    let partial = dir.join("pgbouncer.partial");
    std::fs::copy(tree.join("pgbouncer"), &partial)?;
    std::fs::write(
        dir.join("SOURCE"),
        format!(
            "{}\n",
            dsc.file_name().unwrap_or_default().to_string_lossy()
        ),
    )?;
    std::fs::rename(&partial, binary)?;
    Ok(())
}

fn num_jobs() -> String {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .to_string()
}

/// The Debian mirror the machine already uses for bookworm, so the build
/// reaches only what the machine's own sources reach.
fn machine_mirror() -> String {
    let mut texts = vec![std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default()];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        texts.extend(
            paths
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "sources" || e == "list"))
                .filter_map(|p| std::fs::read_to_string(p).ok()),
        );
    }
    texts
        .iter()
        .find_map(|text| mirror_in(text))
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned())
}

/// The URI serving the `bookworm` suite, from one-line or deb822 sources.
fn mirror_in(text: &str) -> Option<String> {
    // One-line format: `deb [options] URI suite components`.
    for line in text.lines() {
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| !w.starts_with('[') && !w.ends_with(']'))
            .collect();
        if let ["deb", uri, "bookworm", ..] = words.as_slice() {
            return Some((*uri).to_owned());
        }
    }
    // deb822: stanzas separated by blank lines.
    text.split("\n\n").find_map(|stanza| {
        let field = |name: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
        };
        let suites = field("Suites:")?;
        suites
            .split_whitespace()
            .any(|s| s == "bookworm")
            .then(|| field("URIs:"))
            .flatten()
            .and_then(|uris| uris.split_whitespace().next().map(str::to_owned))
    })
}

#[cfg(test)]
mod tests {
    use super::mirror_in;

    #[test]
    fn finds_the_bookworm_mirror_in_either_format() {
        let deb822 = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\n\
                      Suites: bookworm bookworm-updates\nComponents: main\n\n\
                      Types: deb\nURIs: http://security.example/debian-security\n\
                      Suites: bookworm-security\n";
        assert_eq!(
            mirror_in(deb822).as_deref(),
            Some("http://mirror.example/debian")
        );
        let one_line = "deb http://security.example/x bookworm-security main\n\
                        deb [arch=amd64] http://other.example/debian bookworm main\n";
        assert_eq!(
            mirror_in(one_line).as_deref(),
            Some("http://other.example/debian")
        );
        assert_eq!(mirror_in("deb http://x/ trixie main\n"), None);
    }
}
