//! Project automation behind `cargo xtask`, also used by the integration tests
//! (through `testkit`, their harness).

pub mod background;
pub mod bench;
pub mod browser;
pub mod build;
pub mod burst;
pub mod certs;
pub mod delay_proxy;
pub mod dev;
pub mod direct_tls;
pub mod emulator;
pub mod jwks_server;
pub mod load;
pub mod migrate;
pub mod package;
pub mod pgbouncer;
pub mod postgres;
pub mod runtime_api;
pub mod smoke;
pub mod stats;
pub mod suite;
pub mod token;
pub mod tools;
pub mod typescript;

use std::path::PathBuf;

/// The user `cargo xtask dev` prints a token for, and the docs call as.
pub const DEV_USER: &str = "dev-user";

/// The workspace root (this crate sits one level below it).
pub fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Runs a future to completion on a fresh current-thread runtime, for the
/// synchronous command-line code.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}
