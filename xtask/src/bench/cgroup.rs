//! A CPU share as Lambda gives it, enforced by a cgroup (v1 `cpu`
//! controller): what `quota` measures under and `cold` starts functions in.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;

const CGROUP_CPU: &str = "/sys/fs/cgroup/cpu";
/// Lambda's memory size that comes with one full vCPU.
const MB_PER_VCPU: u64 = 1769;
const PERIOD_US: u64 = 100_000;

/// A cgroup whose processes get `memory_mb / 1769` of one CPU; removed on drop.
pub struct CpuQuota {
    pub memory_mb: u64,
    dir: PathBuf,
}

impl CpuQuota {
    pub fn new(memory_mb: u64) -> anyhow::Result<Self> {
        let dir = Path::new(CGROUP_CPU)
            .join(format!("task-api-bench-{}-{memory_mb}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| {
            format!("creating {} (needs root and cgroup v1 cpu)", dir.display())
        })?;
        let quota_us = PERIOD_US * memory_mb / MB_PER_VCPU;
        std::fs::write(dir.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
        std::fs::write(dir.join("cpu.cfs_quota_us"), quota_us.to_string())?;
        Ok(Self { memory_mb, dir })
    }

    /// `binary`, started inside the cgroup before it runs a single
    /// instruction of its own (the shell joins, then execs it).
    pub fn command(&self, binary: &Path) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(format!(
                "echo $$ > {}/cgroup.procs && exec \"$0\"",
                self.dir.display()
            ))
            .arg(binary);
        command
    }
}

impl Drop for CpuQuota {
    fn drop(&mut self) {
        // Its processes are gone (killed on drop); an empty cgroup is removed.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
