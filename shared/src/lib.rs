//! The library every Task API function is built from. See ARCHITECTURE.md for
//! the map; in short: `runtime::serve` → `Endpoint::respond` → `auth`,
//! `http`, `tasks::input` → one `tasks::store` statement on `db`. No module
//! imports one that imports it back (checked by `tests/it/modules.rs`).

pub mod app;
pub mod auth;
pub mod config;
pub mod cors;
pub mod db;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod json;
pub mod logging;
pub mod metrics;
pub mod outbound;
pub mod runtime;
pub mod secrets;
pub mod tasks;
pub mod timestamp;

pub use app::App;
pub use endpoint::Endpoint;
pub use error::ApiError;
