//! External tools from PyPI, npm and Debian, installed on first use so that a
//! fresh machine needs no manual step, and kept per machine where a clean
//! clone would otherwise install them again.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Pinned so local runs and CI use the same versions.
pub const CARGO_LAMBDA: &str = "cargo-lambda==1.9.2";
pub const SAM_CLI: &str = "aws-sam-cli==1.170.0";
/// A local AWS (Secrets Manager) for the tests.
pub const MOTO: &str = "moto[server]==5.2.5";
/// Fuzzes openapi.yaml against the running API (shared/tests/it/contract.rs).
pub const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// A folder for what this machine keeps between runs and clones: under
/// /var/cache when root (services that run as another user, like PgBouncer
/// as postgres, cannot enter root's home), else the user's cache.
pub fn machine_cache(name: &str) -> PathBuf {
    if crate::postgres::is_root() {
        return PathBuf::from("/var/cache/task-api").join(name);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("task-api").join(name)
}

/// The directory holding `cargo-lambda` (the pinned one).
pub fn cargo_lambda(root: &Path) -> anyhow::Result<PathBuf> {
    pypi_tool(root, CARGO_LAMBDA)
}

/// `.venv/bin`, with `pin` installed there. `.venv` links to one virtualenv
/// per machine, so a clean clone reuses what an earlier one installed (about
/// 50 s for the four tools, most of it aws-sam-cli); each pin is installed
/// once, recorded by a stamp.
pub fn pypi_tool(root: &Path, pin: &str) -> anyhow::Result<PathBuf> {
    let venv = machine_cache("venv");
    if !venv.join("bin/pip").is_file() {
        eprintln!("xtask: creating {}", venv.display());
        std::fs::create_dir_all(venv.parent().unwrap_or(&venv))?;
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let link = root.join(".venv");
    if std::fs::read_link(&link).ok().as_deref() != Some(venv.as_path()) {
        // A folder of its own from before, or a stale link: the cache replaces it.
        if link.is_dir() && !link.is_symlink() {
            std::fs::remove_dir_all(&link)?;
        } else if link.is_symlink() {
            std::fs::remove_file(&link)?;
        }
        std::os::unix::fs::symlink(&venv, &link)
            .with_context(|| format!("linking {} to {}", link.display(), venv.display()))?;
    }
    let stamp = venv
        .join(".xtask-pins")
        .join(pin.replace(['[', ']', '='], "_"));
    if !stamp.is_file() {
        eprintln!("xtask: installing {pin} into {}", venv.display());
        run(Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(pin))?;
        std::fs::create_dir_all(stamp.parent().unwrap_or(&venv))?;
        std::fs::write(&stamp, pin)?;
    }
    Ok(link.join("bin"))
}

/// `git status --porcelain` of the work tree, untracked files listed one by
/// one: what a command that should write nothing (or only its own files)
/// must leave as it found it.
pub fn work_tree_status(root: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain", "--untracked-files=all"])
        .output()
        .context("running git status")?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// Adds a Rust target through rustup when it is missing (cross-compiling for
/// arm64 needs its standard library).
pub fn ensure_rust_target(target: &str) -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the arm64 target")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|t| t.trim() == target)
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", target]))
}

/// PATH with `dir` in front, for child processes.
pub fn path_with(dir: &Path) -> std::ffi::OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&current));
    std::env::join_paths(dirs).unwrap_or(current)
}

/// Runs a command to completion, failing with its name if it fails.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{:?} failed with {status}", command.get_program());
    }
    Ok(())
}

/// `npm ci` in `dir`, unless its node_modules was installed from this very
/// package-lock.json (a stamp records which). Install scripts never run:
/// nothing here needs one, and some only phone home.
pub fn npm_ci(dir: &Path) -> anyhow::Result<()> {
    let lock = std::fs::read(dir.join("package-lock.json"))
        .with_context(|| format!("reading {}/package-lock.json", dir.display()))?;
    let stamp = dir.join("node_modules/.xtask-lock");
    if std::fs::read(&stamp).ok().as_deref() == Some(lock.as_slice()) {
        return Ok(());
    }
    run(Command::new("npm").current_dir(dir).args([
        "ci",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]))
    .with_context(|| format!("npm ci in {}", dir.display()))?;
    std::fs::write(stamp, lock)?;
    Ok(())
}

/// [`npm_ci`] of the packages pinned in `source`, installed into `dest` (a
/// folder under target/, so the repository stays free of node_modules):
/// package.json, package-lock.json and `extra` are copied there first.
pub fn npm_ci_into(source: &Path, extra: &[&str], dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dest)?;
    for file in ["package.json", "package-lock.json"].iter().chain(extra) {
        let text = std::fs::read(source.join(file))
            .with_context(|| format!("reading {}", source.join(file).display()))?;
        if std::fs::read(dest.join(file)).ok().as_deref() != Some(text.as_slice()) {
            std::fs::write(dest.join(file), text)?;
        }
    }
    npm_ci(dest)
}

/// Installs Debian packages (as root, with apt-get) unless every one of
/// `binaries` is already there.
pub fn apt_install(packages: &[&str], binaries: &[&str]) -> anyhow::Result<()> {
    if binaries.iter().all(|b| Path::new(b).is_file()) {
        return Ok(());
    }
    let names = packages.join(" ");
    eprintln!("xtask: installing {names} (apt-get)");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .with_context(|| format!("apt-get install {names} (needs root)"))
}

/// `sam validate` (SAM's own transform) or, with `lint`, `sam validate
/// --lint` (cfn-lint) on `template`, offline: a fixed region, telemetry off,
/// no credentials needed. Fails with what sam printed.
pub fn sam_validate(root: &Path, template: &Path, lint: bool) -> anyhow::Result<()> {
    let bin = pypi_tool(root, SAM_CLI)?;
    let output = Command::new(bin.join("sam"))
        .current_dir(root)
        .arg("validate")
        .args(lint.then_some("--lint"))
        .arg("--template-file")
        .arg(template)
        .env("SAM_CLI_TELEMETRY", "0")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .output()
        .context("starting sam")?;
    if !output.status.success() {
        bail!(
            "sam validate{} rejected {}:\n{}{}",
            if lint { " --lint" } else { "" },
            template.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
