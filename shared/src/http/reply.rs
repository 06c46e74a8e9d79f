//! Every response: a successful [`Reply`] or a [`problem`].

use super::conditional::etag;
use super::{percent_encode, RETRY_AFTER_SECS};
use crate::error::ApiError;
use crate::tasks::model::tasks_json;
use crate::tasks::{TagCount, Task};
use lambda_http::http::header::{
    ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LINK, LOCATION,
    RETRY_AFTER, WWW_AUTHENTICATE,
};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

/// A successful outcome of an endpoint, before it becomes a response.
#[derive(Debug)]
pub enum Reply {
    Task(Task),
    /// 201; `replayed` when an Idempotency-Key answered with the original.
    Created {
        task: Task,
        replayed: bool,
    },
    /// One page; `next` is the URL of the following one, if any.
    Page {
        tasks: Vec<Task>,
        next: Option<String>,
    },
    /// The user's tags with their counts, as a JSON array; no ETag (nothing
    /// to make a request conditional on).
    Tags(Vec<TagCount>),
    NoContent,
    /// 304 to a GET whose `If-None-Match` names the task as it is.
    NotModified(Task),
    /// 204 to a plain OPTIONS, with the route's `Allow`.
    Options(String),
    /// A GET's response without its body, for HEAD.
    Head(Box<Reply>),
}

impl Reply {
    pub fn head(self) -> Self {
        Reply::Head(Box::new(self))
    }

    pub fn into_response(self) -> Response<Body> {
        match self {
            Reply::Head(get) => {
                // The GET's headers, Content-Length included (RFC 9110 §8.6,
                // §9.3.2), without its body.
                let mut response = get.into_response();
                let length = response.body().as_ref().len();
                if length > 0 {
                    response
                        .headers_mut()
                        .insert(CONTENT_LENGTH, HeaderValue::from(length));
                }
                *response.body_mut() = Body::Empty;
                response
            }
            Reply::NotModified(task) => {
                with_etag(response(StatusCode::NOT_MODIFIED, None, Body::Empty), &task)
            }
            Reply::Options(allow) => {
                let mut response = response(StatusCode::NO_CONTENT, None, Body::Empty);
                if let Ok(value) = allow.parse() {
                    response.headers_mut().insert(ALLOW, value);
                }
                response
            }
            Reply::Task(task) => with_etag(json(StatusCode::OK, task.to_json()), &task),
            Reply::Page { tasks, next } => {
                let mut response = json(StatusCode::OK, tasks_json(&tasks));
                if let Some(Ok(link)) = next.map(|url| format!("<{url}>; rel=\"next\"").parse()) {
                    response.headers_mut().insert(LINK, link);
                }
                response
            }
            Reply::Created { task, replayed } => {
                let location = format!("/api/{}/tasks/{}", percent_encode(&task.user_id), task.id);
                let mut response = with_etag(json(StatusCode::CREATED, task.to_json()), &task);
                let headers = response.headers_mut();
                if let Ok(value) = location.parse() {
                    headers.insert(LOCATION, value);
                }
                if replayed {
                    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
                }
                response
            }
            Reply::Tags(tags) => {
                // serde's writer: a tag list is short and off the hot path.
                let text = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned());
                json(StatusCode::OK, text)
            }
            Reply::NoContent => response(StatusCode::NO_CONTENT, None, Body::Empty),
        }
    }
}

/// Stripe's name for "this is the stored answer to an earlier request".
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The task's ETag on a response about it.
fn with_etag(mut response: Response<Body>, task: &Task) -> Response<Body> {
    if let Ok(value) = etag(task).parse() {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

fn response(status: StatusCode, content_type: Option<&str>, body: Body) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        // Per-user data: no shared cache may keep it.
        .header(CACHE_CONTROL, "no-store");
    if let Some(content_type) = content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

fn json(status: StatusCode, text: String) -> Response<Body> {
    response(status, Some("application/json"), Body::Text(text))
}

/// The `type` of the task-limit problem: a tag URI (RFC 4151), a name for
/// clients to compare, not a page to fetch (RFC 9457 §3.1.1). It tells this
/// 409 from the Idempotency-Key one and defines the `limit` and `count`
/// members; every other problem is `about:blank`, its status alone.
pub const TASK_LIMIT_TYPE: &str = "tag:task-api,2026:task-limit-reached";

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [crate::error::FieldError],
    /// The members a typed problem defines beside the standard ones.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    members: Option<TaskLimitMembers>,
}

#[derive(Serialize)]
struct TaskLimitMembers {
    limit: i32,
    count: i32,
}

/// The one place an error becomes a response.
pub fn problem(error: &ApiError) -> Response<Body> {
    let status = error.status();
    let (kind, title, members) = match *error {
        ApiError::TaskLimitReached { limit, count } => (
            TASK_LIMIT_TYPE,
            "Task limit reached",
            Some(TaskLimitMembers { limit, count }),
        ),
        _ => (
            "about:blank",
            status.canonical_reason().unwrap_or("Error"),
            None,
        ),
    };
    let body = Problem {
        kind,
        title,
        status: status.as_u16(),
        detail: error.public_detail(),
        errors: error.field_errors(),
        members,
    };
    let text = serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned());
    let mut response = response(status, Some("application/problem+json"), Body::Text(text));
    let headers = response.headers_mut();
    match error {
        ApiError::Unauthorized(reason) => {
            // RFC 6750 §3: the reason goes in a quoted-string, so no quotes or backslashes.
            let description: String = reason.chars().filter(|c| *c != '"' && *c != '\\').collect();
            let challenge =
                format!(r#"Bearer error="invalid_token", error_description="{description}""#);
            if let Ok(value) = challenge.parse() {
                headers.insert(WWW_AUTHENTICATE, value);
            }
        }
        ApiError::UnsupportedContentEncoding(_) => {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        }
        ApiError::MethodNotAllowed(allow) => {
            if let Ok(value) = allow.parse() {
                headers.insert(ALLOW, value);
            }
        }
        ApiError::Unavailable(_)
        | ApiError::DatabaseTimeout(_)
        | ApiError::KeysUnavailable(_)
        | ApiError::IdempotencyKeyInFlight => {
            headers.insert(RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        _ => {}
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body_json(response: &Response<Body>) -> Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn problems_are_rfc9457() {
        let response = problem(&ApiError::invalid("title", "must be 1–255 characters"));
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        assert_eq!(
            body_json(&response),
            serde_json::json!({
                "type": "about:blank", "title": "Bad Request", "status": 400,
                "detail": "title must be 1–255 characters",
                "errors": [{"field": "title", "message": "must be 1–255 characters"}]
            })
        );
    }

    #[test]
    fn the_task_limit_problem_has_its_own_type_and_names_the_numbers() {
        let response = problem(&ApiError::TaskLimitReached {
            limit: 10_000,
            count: 10_000,
        });
        assert_eq!(response.status(), 409);
        assert!(response.headers().get(RETRY_AFTER).is_none());
        assert_eq!(
            body_json(&response),
            serde_json::json!({
                "type": TASK_LIMIT_TYPE, "title": "Task limit reached", "status": 409,
                "detail": "this user holds 10000 tasks and may hold at most 10000: delete some to create more",
                "limit": 10_000, "count": 10_000
            })
        );
    }

    #[test]
    fn tags_are_a_json_array_and_head_keeps_its_length() {
        let tags = || {
            Reply::Tags(vec![
                TagCount {
                    name: "Work".into(),
                    count: 2,
                },
                TagCount {
                    name: "home".into(),
                    count: 1,
                },
            ])
        };
        let response = tags().into_response();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert!(response.headers().get(ETAG).is_none());
        assert_eq!(
            body_json(&response),
            serde_json::json!([{"name": "Work", "count": 2}, {"name": "home", "count": 1}])
        );
        let head = tags().head().into_response();
        assert!(head.body().as_ref().is_empty());
        assert_eq!(
            head.headers()[CONTENT_LENGTH],
            response.body().as_ref().len().to_string().as_str()
        );
        assert_eq!(
            Reply::Tags(Vec::new()).into_response().body().as_ref(),
            b"[]"
        );
    }

    #[test]
    fn unauthorized_carries_a_bearer_challenge() {
        let response = problem(&ApiError::Unauthorized("token has expired".into()));
        let challenge = response.headers()[WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            challenge.starts_with(r#"Bearer error="invalid_token""#),
            "{challenge}"
        );
        assert!(body_json(&response).get("errors").is_none());
    }

    #[test]
    fn unavailable_says_when_to_retry_and_hides_the_reason() {
        let response = problem(&ApiError::Unavailable("10.0.0.5:5432 refused".into()));
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        assert!(!String::from_utf8_lossy(response.body().as_ref()).contains("10.0.0.5"));
    }

    #[test]
    fn a_browser_can_read_every_header_the_api_sends() {
        use crate::cors::{EXPOSE_HEADERS, SAFELISTED_RESPONSE_HEADERS};
        use time::macros::datetime;
        let task = Task {
            id: 1,
            user_id: "u".into(),
            title: "t".into(),
            description: None,
            completed: false,
            priority: Default::default(),
            tags: Vec::new(),
            due_date: None,
            created_at: datetime!(2026-11-24 09:00 UTC),
            updated_at: datetime!(2026-11-24 09:00 UTC),
        };
        let replies = [
            Reply::Task(task.clone()),
            Reply::Created {
                task: task.clone(),
                replayed: true,
            },
            Reply::Page {
                tasks: vec![task.clone()],
                next: Some("/api/u/tasks?cursor=x".into()),
            },
            Reply::Tags(vec![TagCount {
                name: "work".into(),
                count: 3,
            }]),
            Reply::NoContent,
            Reply::NotModified(task.clone()),
            Reply::Options("GET, HEAD, OPTIONS".into()),
            Reply::Task(task).head(),
        ];
        let errors = [
            ApiError::invalid("title", "is required"),
            ApiError::Unauthorized("expired".into()),
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::MethodNotAllowed("GET".into()),
            ApiError::PayloadTooLarge,
            ApiError::UnsupportedContentEncoding("gzip".into()),
            ApiError::IdempotencyKeyInFlight,
            ApiError::TaskLimitReached { limit: 1, count: 1 },
            ApiError::PreconditionFailed,
            ApiError::IdempotencyKeyReused,
            ApiError::Unavailable("down".into()),
            ApiError::DatabaseTimeout("slow".into()),
            ApiError::KeysUnavailable("down".into()),
            ApiError::Internal("bug".into()),
        ];
        let responses = replies
            .into_iter()
            .map(Reply::into_response)
            .chain(errors.iter().map(problem));
        for response in responses {
            for name in response.headers().keys() {
                let readable = SAFELISTED_RESPONSE_HEADERS.contains(&name.as_str())
                    || EXPOSE_HEADERS
                        .iter()
                        .any(|exposed| exposed.eq_ignore_ascii_case(name.as_str()));
                assert!(readable, "{name} is sent but not exposed to browsers");
            }
        }
    }
}
