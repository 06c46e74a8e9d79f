//! list tags — see ../../shared/src/endpoint.rs for what it does.

use shared::Endpoint;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shared::runtime::serve(Endpoint::ListTags).await
}
