//! Instructions per warm request, counted by valgrind's callgrind: time on a
//! shared machine is noisy, the number of instructions a process retires for
//! the same inputs is not.
//!
//! Each function runs twice under callgrind with the same events: once for
//! `WARM` invocations, once for `WARM + COUNTED`. Both pay the same init and
//! the same shutdown (SIGTERM, which the functions answer by closing their
//! connection and exiting, so callgrind writes its totals), so the
//! difference divided by `COUNTED` is what one warm request costs.

use crate::runtime_api::RuntimeApi;
use anyhow::{bail, Context};
use std::path::Path;
use std::time::Duration;

pub const VALGRIND: &str = "/usr/bin/valgrind";

/// Invocations both runs make: the connection is up, the statements are
/// prepared, the allocator has its arenas.
pub const WARM: usize = 20;

/// Invocations counted beyond `WARM` (the smoke run counts fewer).
pub const COUNTED: usize = 200;

/// The tasks counting `counted` requests may use up (delete-task deletes one
/// per invocation, in both runs).
pub fn tasks_used(counted: usize) -> usize {
    2 * WARM + counted
}

/// Installs Debian's valgrind (as root) when missing.
pub fn ensure_installed() -> anyhow::Result<()> {
    crate::tools::apt_install(&["valgrind"], &[VALGRIND])
}

/// Each of the six functions' instructions per warm request, with the
/// events the timed rows use.
pub(super) async fn run(
    bin_dir: &Path,
    database_url: &str,
    counted: usize,
    seed: &super::Seed,
    doomed: &mut impl Iterator<Item = i64>,
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    ensure_installed()?;
    let mut counts = Vec::new();
    for name in super::FUNCTIONS {
        let mut event = |_: usize| super::event_for(name, seed, doomed);
        let count = per_request(&bin_dir.join(name), database_url, counted, &mut event)
            .await
            .with_context(|| format!("counting {name}'s instructions"))?;
        eprintln!("xtask: bench: {name}: {count:.0} instructions per warm request");
        counts.push((name, count));
    }
    Ok(counts)
}

/// (instructions for WARM + counted) − (for WARM), ÷ counted.
async fn per_request(
    binary: &Path,
    database_url: &str,
    counted: usize,
    event: &mut impl FnMut(usize) -> String,
) -> anyhow::Result<f64> {
    let base = total(binary, database_url, WARM, event).await?;
    let more = total(binary, database_url, WARM + counted, event).await?;
    if more <= base {
        bail!("{counted} more invocations cost no instructions ({base} then {more})");
    }
    Ok((more - base) as f64 / counted as f64)
}

/// The instructions one process retires from exec to exit, serving
/// `invocations` events.
async fn total(
    binary: &Path,
    database_url: &str,
    invocations: usize,
    event: &mut impl FnMut(usize) -> String,
) -> anyhow::Result<u64> {
    let out = std::env::temp_dir().join(format!(
        "task-api-callgrind-{}-{}.out",
        std::process::id(),
        binary.file_name().and_then(|n| n.to_str()).unwrap_or("fn")
    ));
    let _ = std::fs::remove_file(&out);
    let api = RuntimeApi::start().await?;
    let mut valgrind = tokio::process::Command::new(VALGRIND);
    valgrind
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        // Totals only: no per-instruction or per-line tables to write.
        .args(["--dump-instr=no", "--dump-line=no"])
        .arg(binary);
    let mut child = super::in_function_environment(valgrind, &api, database_url, 128)
        .spawn()
        .context("starting valgrind")?;
    // Init under valgrind's JIT takes seconds.
    api.first_poll_within(Duration::from_secs(120)).await?;
    for i in 0..invocations {
        let outcome = api.invoke(format!("req-{i}"), event(i)).await?;
        if !outcome.succeeded() {
            bail!(
                "invocation {i} under callgrind failed: {}",
                String::from_utf8_lossy(&outcome.body)
            );
        }
    }
    let pid = child.id().context("valgrind exited early")?;
    crate::tools::run(std::process::Command::new("kill").args(["-TERM", &pid.to_string()]))?;
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .context("the function did not exit within 60 s of SIGTERM")??;
    if !status.success() {
        bail!("the function under callgrind exited with {status}");
    }
    let text = std::fs::read_to_string(&out).with_context(|| format!("{}", out.display()))?;
    // For `callgrind_annotate`: where the instructions went (the difference
    // of the two runs' inclusive costs is one request's profile).
    match std::env::var_os("XTASK_CALLGRIND_KEEP") {
        Some(dir) => {
            let name = binary.file_name().and_then(|n| n.to_str()).unwrap_or("fn");
            let kept = Path::new(&dir).join(format!("{name}-{invocations}.out"));
            std::fs::create_dir_all(&dir)?;
            std::fs::rename(&out, &kept).or_else(|_| std::fs::copy(&out, &kept).map(drop))?;
        }
        None => std::fs::remove_file(&out)?,
    }
    totals(&text).context("no totals in callgrind's output")
}

/// The `totals:` (or `summary:`) line of a callgrind output file: Ir, the
/// instructions executed, is its first and here only event.
pub fn totals(callgrind_out: &str) -> Option<u64> {
    callgrind_out
        .lines()
        .rev()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::totals;

    #[test]
    fn reads_the_instruction_total() {
        let out = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 12345\n\nfn=(1) main\n3 4\n\ntotals: 12345\n";
        assert_eq!(totals(out), Some(12345));
        assert_eq!(totals("events: Ir\n"), None);
    }
}
