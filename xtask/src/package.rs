//! `cargo xtask package`: the arm64 zips `sam build` would deploy.

use crate::{build, project_root, tools};
use anyhow::Context;
use std::process::Command;

/// What one arm64 zip may weigh: the vendored OpenSSL of postgres-native-tls
/// is about half of it, by decision.
const ZIP_BUDGET_BYTES: u64 = 4 * 1024 * 1024;

/// What `sam build` deploys, built the same way: `cargo lambda build --release
/// --arm64`, zipped, with the features the template's build enables.
pub fn command() -> anyhow::Result<()> {
    let root = project_root();
    let lambda_dir = tools::cargo_lambda(&root)?;
    tools::ensure_rust_target("aarch64-unknown-linux-gnu")?;
    tools::run(
        Command::new("cargo")
            .current_dir(&root)
            .env("PATH", tools::path_with(&lambda_dir))
            .args([
                "lambda",
                "build",
                "--release",
                "--arm64",
                "--output-format",
                "zip",
            ])
            .args(build::function_packages()),
    )?;
    println!("\n{:<16} {:>12}", "function", "zip bytes");
    let mut over = Vec::new();
    for endpoint in shared::Endpoint::ALL {
        let zip = root.join(format!("target/lambda/{}/bootstrap.zip", endpoint.name()));
        let bytes = std::fs::metadata(&zip)
            .with_context(|| format!("{} was not built", zip.display()))?
            .len();
        println!(
            "{:<16} {:>12} ({:.2} MiB)",
            endpoint.name(),
            bytes,
            bytes as f64 / 1048576.0
        );
        if bytes >= ZIP_BUDGET_BYTES {
            over.push(endpoint.name());
        }
    }
    if !over.is_empty() {
        eprintln!("xtask: over the 4 MiB budget: {}", over.join(", "));
    }
    Ok(())
}
