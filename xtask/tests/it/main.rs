//! The tooling's integration tests, one binary: the dev server, the
//! post-deploy smoke check, the browser client, the SAM template, the
//! pipeline's workflows and migrations. The harness is `testkit`.

mod browser;
mod charts;
mod cli;
mod devserver;
mod links;
mod migrations;
mod routes;
mod smoke;
mod template;
mod typescript;
mod workflows;
