//! The typed TypeScript client (clients/typescript): its pinned tools
//! (openapi-typescript, tsc, esbuild) installed with `npm ci`, its types kept
//! equal to openapi.yaml, and its bundles for the browser test.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn dir(root: &Path) -> PathBuf {
    root.join("clients/typescript")
}

/// The client's pinned tools, into clients/typescript/node_modules (ignored
/// by git; `npm run generate` there uses them too).
pub fn install(root: &Path) -> anyhow::Result<()> {
    crate::tools::npm_ci(&dir(root)).context("installing the TypeScript client's tools")
}

fn tool(root: &Path, name: &str) -> Command {
    let mut command = Command::new(dir(root).join("node_modules/.bin").join(name));
    command.current_dir(dir(root));
    command
}

fn run_tool(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .output()
        .with_context(|| format!("running {command:?} (run `cargo xtask test` to install it)"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!("{:?} failed:\n{text}", command.get_program());
    }
    Ok(text)
}

/// The types openapi-typescript generates from openapi.yaml now.
pub fn generated_types(root: &Path, scratch: &Path) -> anyhow::Result<String> {
    let out = scratch.join("schema.d.ts");
    run_tool(
        tool(root, "openapi-typescript")
            .arg(root.join("openapi.yaml"))
            .arg("--output")
            .arg(&out),
    )?;
    Ok(std::fs::read_to_string(out)?)
}

/// `tsc --noEmit` over the client and its browser test page.
pub fn typecheck(root: &Path) -> anyhow::Result<String> {
    run_tool(
        tool(root, "tsc")
            .arg("--noEmit")
            .arg("--pretty")
            .arg("false"),
    )
}

/// `entry` (relative to clients/typescript) bundled for a browser page.
pub fn bundle(root: &Path, entry: &str, out: &Path) -> anyhow::Result<()> {
    run_tool(
        tool(root, "esbuild")
            .arg(entry)
            .args([
                "--bundle",
                "--format=iife",
                "--target=es2022",
                "--log-level=warning",
            ])
            .arg(format!("--outfile={}", out.display())),
    )
    .map(drop)
}
