//! openapi.yaml, fuzzed by schemathesis against the seven functions served by
//! the real `cargo lambda watch`: every check, a fixed seed and example count
//! (xtask/contract/schemathesis.toml), and stateful runs along the links of
//! create → get/update/complete/delete.

use std::process::Command;
use testkit::*;

#[test]
fn schemathesis_finds_nothing() {
    let root = xtask::project_root();
    let api = emulator(2);
    let user = User::new("contract");
    let contract = root.join("xtask/contract");
    // Its own working directory: schemathesis keeps nothing in the tree.
    let scratch = root.join("target/xtask/contract");
    std::fs::create_dir_all(&scratch).unwrap();
    let output = Command::new(root.join(".venv/bin/schemathesis"))
        .current_dir(&scratch)
        .arg("--config-file")
        .arg(contract.join("schemathesis.toml"))
        .arg("run")
        .arg(root.join("openapi.yaml"))
        .args(["--url", &api.base_url, "--checks", "all", "--no-color"])
        .env("TASK_API_CONTRACT_DIR", &contract)
        .env("TASK_API_USER", &user.id)
        .env("TASK_API_TOKEN", &user.token)
        .output()
        .expect("schemathesis is installed by `cargo xtask test`");
    let report = String::from_utf8_lossy(&output.stdout);
    // The summary, always; the whole report when something was found.
    let summary = report
        .rfind("SUMMARY")
        .map_or(&report[..], |at| &report[at..]);
    eprintln!("{summary}");
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("No issues found"), "{report}");
}
