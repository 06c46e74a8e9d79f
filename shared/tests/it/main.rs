//! The product's integration tests, in one binary (one link, not one per
//! file). They run under `cargo xtask test`, which starts the PostgreSQL, builds the function
//! binaries and installs the tools they use; the harness is `testkit`.

mod auth;
mod better_auth;
mod ca_bundle;
mod contract;
mod database;
mod direct_tls;
mod e2e;
mod hostile;
mod idempotency;
mod isolation;
mod lifecycle;
mod managed;
mod modules;
mod observability;
mod openapi;
mod outages;
mod pagination;
mod planning;
mod quota;
mod rejections;
mod responses;
mod secrets;
mod tags;
mod tls;
mod versions;
