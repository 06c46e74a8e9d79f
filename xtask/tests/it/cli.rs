//! `cargo xtask`'s command line: every command answers `--help` with its usage
//! and exits 0 without starting, building or writing anything; an unknown
//! option is a usage error (exit 2).

use std::process::{Command, Output};
use std::time::SystemTime;

const COMMANDS: [&str; 8] = [
    "dev", "test", "migrate", "load", "bench", "package", "token", "smoke",
];

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(xtask::project_root())
        .args(args)
        .output()
        .unwrap()
}

/// What a command that did something would leave behind: the work tree's
/// state and the outputs the commands write.
fn traces() -> (Vec<String>, Vec<Option<SystemTime>>) {
    let root = xtask::project_root();
    let written = [
        "BENCHMARKS.md",
        "bench/results.json",
        "bench/warm.svg",
        "target/lambda",
        "target/debug/get-task",
        ".dev",
    ]
    .iter()
    .map(|path| {
        std::fs::metadata(root.join(path))
            .and_then(|m| m.modified())
            .ok()
    })
    .collect();
    (xtask::tools::work_tree_status(&root).unwrap(), written)
}

#[test]
fn every_command_answers_help_and_does_nothing_else() {
    let before = traces();
    for command in COMMANDS {
        let output = xtask(&[command, "--help"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{command} --help: {output:?}");
        assert!(
            stdout.contains(&format!("Usage: cargo xtask {command}")),
            "{command} --help printed:\n{stdout}"
        );
        // Every command says "xtask: …" once it does something.
        assert!(output.stderr.is_empty(), "{command} --help: {output:?}");
    }
    assert_eq!(traces(), before, "--help started, built or wrote something");
}

#[test]
fn no_command_help_and_the_help_command_list_every_command() {
    for args in [&[][..], &["--help"], &["help"]] {
        let output = xtask(args);
        assert!(output.status.success(), "{args:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        for command in COMMANDS {
            assert!(
                stdout.lines().any(|l| l.trim_start().starts_with(command)),
                "{args:?} does not list {command}:\n{stdout}"
            );
        }
    }
}

#[test]
fn an_unknown_option_is_a_usage_error() {
    for args in [
        &["bench", "--nope"][..],
        &["smoke", "--user", "u"],
        &["nope"],
    ] {
        let output = xtask(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("Usage: cargo xtask"),
            "{args:?}: {output:?}"
        );
    }
}
