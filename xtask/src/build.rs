//! Building the functions the way `cargo lambda watch` and `sam build` do.

use std::path::Path;
use std::process::Command;

/// Debug builds of the functions, as `cargo lambda watch` runs them.
pub fn functions(root: &Path) -> anyhow::Result<()> {
    functions_in(root, false)
}

/// The functions on their own: built together with xtask, cargo would
/// unify xtask's dependency features into them, and the next build of the
/// functions alone (`cargo lambda watch`'s) would compile them all over again.
pub fn functions_in(root: &Path, release: bool) -> anyhow::Result<()> {
    let mut build = Command::new("cargo");
    build
        .current_dir(root)
        .args(["build", "--bins"])
        .args(function_packages());
    if release {
        build.arg("--release");
    }
    crate::tools::run(&mut build)
}

/// `-p <function>` for each of them.
pub fn function_packages() -> Vec<String> {
    shared::Endpoint::ALL
        .iter()
        .flat_map(|e| ["-p".to_owned(), e.name().to_owned()])
        .collect()
}
