//! The benchmark's deliberately naive get-task, to show what the real one's
//! design buys: it opens a new connection for every request and sends a string
//! query, which tokio-postgres prepares (a named statement) and then executes.
//! Authentication and the response are the same as the real function's.

use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};
use shared::config::Config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    let auth: &'static _ = Box::leak(Box::new(shared::auth::Authenticator::new(&config.auth)?));
    let url: &'static str = Box::leak(config.database.url.into_boxed_str());
    lambda_http::run(service_fn(move |request: Request| async move {
        let principal = match auth.authenticate(request.headers()).await {
            Ok(principal) => principal,
            Err(error) => return Ok::<_, Error>(shared::http::problem(&error)),
        };
        let id: i64 = request
            .path_parameters_ref()
            .and_then(|p| p.first("id"))
            .and_then(|id| id.parse().ok())
            .unwrap_or(0);
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        let rows = client
            .query(
                "SELECT id, user_id, title, description, completed, created_at::text, updated_at::text \
                 FROM tasks WHERE id = $1 AND user_id = $2",
                &[&id, &principal.user_id],
            )
            .await?;
        let body = match rows.first() {
            None => return Ok(shared::http::problem(&shared::ApiError::NotFound)),
            Some(row) => serde_json::json!({
                "id": row.get::<_, i64>(0), "user_id": row.get::<_, String>(1),
                "title": row.get::<_, String>(2), "description": row.get::<_, Option<String>>(3),
                "completed": row.get::<_, bool>(4), "created_at": row.get::<_, String>(5),
                "updated_at": row.get::<_, String>(6),
            }),
        };
        Ok(Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::Text(body.to_string()))?)
    }))
    .await
}
