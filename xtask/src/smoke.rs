//! `cargo xtask smoke --url URL`: does a deployed stage (or the dev server)
//! actually work? On a task of its own, every route, a browser's CORS
//! preflight, a request without a token and one from another user; then it
//! deletes what it made. One line per step; the first failure names its step
//! and ends the run non-zero.

use anyhow::{anyhow, bail, Context};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub struct Options {
    pub url: String,
    /// The user the token is for (the path's `user_id`).
    pub user: String,
    pub token: String,
    /// A different user and their token, for the isolation step (skipped
    /// without).
    pub other: Option<(String, String)>,
    /// The origin of the preflight: the first the deployment allows.
    pub origin: String,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn expect(&self, status: u16) -> anyhow::Result<&Self> {
        if self.status != status {
            bail!("expected {status}, got {}: {}", self.status, self.body);
        }
        Ok(self)
    }
}

struct Client {
    agent: ureq::Agent,
    base: String,
}

impl Client {
    fn new(base: &str) -> anyhow::Result<Self> {
        let tls = native_tls::TlsConnector::new().context("TLS for the smoke test")?;
        Ok(Self {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .tls_connector(Arc::new(tls))
                .build(),
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let mut request = self.agent.request(method, &format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => return Err(anyhow!("{method} {path}: {error}")),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| Some((name.clone(), response.header(&name)?.to_owned())))
            .collect();
        let text = response.into_string().unwrap_or_default();
        Ok(Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        })
    }
}

/// Runs every step; returns the first failure, named.
pub fn run(options: &Options) -> anyhow::Result<()> {
    let client = Client::new(&options.url)?;
    let bearer = format!("Bearer {}", options.token);
    let auth: [(&str, &str); 1] = [("Authorization", bearer.as_str())];
    let tasks = format!("/api/{}/tasks", options.user);
    let tags = format!("/api/{}/tags", options.user);
    let mut task_id: Option<i64> = None;

    let step = |name: &str, work: &mut dyn FnMut() -> anyhow::Result<String>| match work() {
        Ok(note) => {
            println!(
                "ok    {name}{}",
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            );
            Ok(())
        }
        Err(error) => {
            println!("FAIL  {name}: {error:#}");
            Err(anyhow!("smoke step '{name}' failed: {error:#}"))
        }
    };

    let result = (|| -> anyhow::Result<()> {
        step("CORS preflight", &mut || {
            let answer = client.call(
                "OPTIONS",
                &tasks,
                &[
                    ("Origin", options.origin.as_str()),
                    ("Access-Control-Request-Method", "POST"),
                    (
                        "Access-Control-Request-Headers",
                        "authorization,content-type",
                    ),
                ],
                None,
            )?;
            match answer.header("access-control-allow-origin") {
                Some(origin) if origin == options.origin => {
                    Ok(format!("{} allowed", options.origin))
                }
                other => bail!(
                    "{} not allowed (status {}, allow-origin {other:?})",
                    options.origin,
                    answer.status
                ),
            }
        })?;
        step("no token is 401", &mut || {
            client.call("GET", &tasks, &[], None)?.expect(401)?;
            Ok(String::new())
        })?;
        step("create", &mut || {
            let answer = client.call(
                "POST",
                &tasks,
                &auth,
                Some(&json!({"title": "smoke test", "description": "deleted at the end"})),
            )?;
            if answer.status == 409 && answer.body["type"] == shared::http::TASK_LIMIT_TYPE {
                bail!(
                    "{} already holds {} tasks, the deployment's MAX_TASKS_PER_USER ({}): \
                     delete some, or smoke as another --user",
                    options.user,
                    answer.body["count"],
                    answer.body["limit"]
                );
            }
            answer.expect(201)?;
            let id = answer.body["id"]
                .as_i64()
                .context("no id in the created task")?;
            task_id = Some(id);
            Ok(format!("task {id}"))
        })?;
        let id = task_id.context("no task")?;
        let task = format!("{tasks}/{id}");
        let mut etag = String::new();
        step("get", &mut || {
            let answer = client.call("GET", &task, &auth, None)?;
            answer.expect(200)?;
            etag = answer.header("etag").context("no ETag")?.to_owned();
            Ok(String::new())
        })?;
        step("list", &mut || {
            let answer = client.call("GET", &tasks, &auth, None)?;
            answer.expect(200)?;
            let listed = answer
                .body
                .as_array()
                .is_some_and(|items| items.iter().any(|t| t["id"] == id));
            if !listed {
                bail!("task {id} is not in the first page");
            }
            Ok(String::new())
        })?;
        step("update", &mut || {
            let headers = [auth[0], ("If-Match", etag.as_str())];
            let answer = client.call(
                "PUT",
                &task,
                &headers,
                Some(&json!({"title": "smoke test, renamed"})),
            )?;
            answer.expect(200)?;
            Ok(String::new())
        })?;
        step("patch", &mut || {
            let answer = client.call(
                "PATCH",
                &task,
                &auth,
                Some(&json!({"priority": "high", "tags": ["smoke"], "due_date": "2026-12-31"})),
            )?;
            let body = &answer.expect(200)?.body;
            if (&body["priority"], &body["due_date"]) != (&json!("high"), &json!("2026-12-31")) {
                bail!("not patched: {body}");
            }
            Ok(String::new())
        })?;
        step("tags", &mut || {
            let answer = client.call("GET", &tags, &auth, None)?;
            let body = &answer.expect(200)?.body;
            // Spelled as the user first wrote it, which an older task may
            // have done in another letter case.
            let count = body.as_array().and_then(|tags| {
                tags.iter()
                    .find(|tag| tag["name"].as_str().map(str::to_lowercase) == Some("smoke".into()))
                    .and_then(|tag| tag["count"].as_i64())
            });
            match count {
                Some(count) if count >= 1 => Ok(format!("smoke on {count} task(s)")),
                _ => bail!("the tag smoke is not listed: {body}"),
            }
        })?;
        step("complete", &mut || {
            let answer = client.call(
                "PATCH",
                &format!("{task}/complete"),
                &auth,
                Some(&json!({"completed": true})),
            )?;
            if answer.expect(200)?.body["completed"] != true {
                bail!("not completed: {}", answer.body);
            }
            Ok(String::new())
        })?;
        step("another user's task is 404", &mut || {
            let Some((other_user, other_token)) = &options.other else {
                return Ok("skipped: no second user's token (--secret mints one)".into());
            };
            let other_bearer = format!("Bearer {other_token}");
            // The other user asks for this task under their own path.
            let path = format!("/api/{other_user}/tasks/{id}");
            client
                .call(
                    "GET",
                    &path,
                    &[("Authorization", other_bearer.as_str())],
                    None,
                )?
                .expect(404)?;
            Ok(String::new())
        })?;
        Ok(())
    })();

    // Clean up whatever happened above.
    let cleanup = match task_id {
        Some(id) => step("delete", &mut || {
            let task = format!("{tasks}/{id}");
            client.call("DELETE", &task, &auth, None)?.expect(204)?;
            client.call("GET", &task, &auth, None)?.expect(404)?;
            Ok("gone".into())
        }),
        None => Ok(()),
    };
    result.and(cleanup)
}

/// `cargo xtask smoke`: the token is `token` (for `user`), or minted for
/// `user` from `secret` or BETTER_AUTH_SECRET.
pub fn command(
    url: String,
    user: String,
    token: Option<String>,
    secret: Option<String>,
    origin: Option<String>,
) -> anyhow::Result<()> {
    let secret = secret.or_else(|| std::env::var("BETTER_AUTH_SECRET").ok());
    let lifetime = Duration::from_secs(600);
    let token = match (token, &secret) {
        (Some(token), _) => token,
        (None, Some(secret)) => crate::token::mint(secret, &user, lifetime),
        (None, None) => bail!("give --token, or --secret (or BETTER_AUTH_SECRET) to mint one"),
    };
    let other = secret.as_ref().map(|secret| {
        let other_user = format!("{user}-other");
        let token = crate::token::mint(secret, &other_user, lifetime);
        (other_user, token)
    });
    let origin = origin.unwrap_or_else(|| shared::cors::DEV_ORIGINS[0].to_owned());
    run(&Options {
        url,
        user,
        token,
        other,
        origin,
    })
}
