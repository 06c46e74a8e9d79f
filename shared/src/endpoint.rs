//! The seven endpoints. Each function binary serves one [`Endpoint`]; what they
//! have in common (authentication, the path-user check, id and body parsing,
//! error mapping, the request log line) happens once, in [`Endpoint::respond`].

use crate::app::App;
use crate::error::ApiError;
use crate::http::{self, body_of, identity_coding, problem, query_pairs, PathParams, Reply};
use crate::metrics::millis;
use crate::tasks::input::parse_task_id;
use crate::tasks::store::{self, Change, Creation, Owner};
use crate::tasks::{CompletionChange, NewTask, PageRequest, Task, TaskChange};
use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ListTasks,
    CreateTask,
    GetTask,
    UpdateTask,
    DeleteTask,
    CompleteTask,
    ListTags,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::ListTasks,
        Endpoint::CreateTask,
        Endpoint::GetTask,
        Endpoint::UpdateTask,
        Endpoint::DeleteTask,
        Endpoint::CompleteTask,
        Endpoint::ListTags,
    ];

    /// The function (binary) name, as `cargo lambda watch` and SAM know it.
    pub fn name(self) -> &'static str {
        match self {
            Self::ListTasks => "list-tasks",
            Self::CreateTask => "create-task",
            Self::GetTask => "get-task",
            Self::UpdateTask => "update-task",
            Self::DeleteTask => "delete-task",
            Self::CompleteTask => "complete-task",
            Self::ListTags => "list-tags",
        }
    }

    /// The methods this endpoint serves: update-task takes a whole
    /// replacement (PUT) and a JSON merge patch (PATCH, RFC 7396).
    pub fn methods(self) -> &'static [Method] {
        match self {
            Self::ListTasks | Self::GetTask | Self::ListTags => &[Method::GET],
            Self::CreateTask => &[Method::POST],
            Self::UpdateTask => &[Method::PUT, Method::PATCH],
            Self::DeleteTask => &[Method::DELETE],
            Self::CompleteTask => &[Method::PATCH],
        }
    }

    /// Whether this endpoint serves `method` (HEAD only as GET's headers).
    pub fn serves(self, method: &Method) -> bool {
        self.methods().contains(method)
    }

    /// The route template of docs/API.md.
    pub fn route(self) -> &'static str {
        match self {
            Self::ListTasks | Self::CreateTask => "/api/{user_id}/tasks",
            Self::GetTask | Self::UpdateTask | Self::DeleteTask => "/api/{user_id}/tasks/{id}",
            Self::CompleteTask => "/api/{user_id}/tasks/{id}/complete",
            Self::ListTags => "/api/{user_id}/tags",
        }
    }

    /// Whether this endpoint's function also answers the methods no endpoint
    /// serves on its route (405 with `Allow`, OPTIONS, HEAD): the first
    /// endpoint of each route. API Gateway sends them there through an `ANY`
    /// route; `cargo lambda watch` through the router's extra methods.
    pub fn answers_other_methods(self) -> bool {
        Self::ALL
            .iter()
            .find(|e| e.route() == self.route())
            .is_some_and(|first| *first == self)
    }

    /// The `Allow` header of this endpoint's route.
    pub fn allowed_methods(self) -> String {
        let mut methods: Vec<String> = Vec::new();
        for endpoint in Self::ALL.iter().filter(|e| e.route() == self.route()) {
            for method in endpoint.methods() {
                methods.push(method.to_string());
                if method == Method::GET {
                    methods.push("HEAD".to_owned());
                }
            }
        }
        methods.push("OPTIONS".to_owned());
        methods.join(", ")
    }

    /// Whether the route names one task: it follows from the route, so an
    /// endpoint added later cannot be listed on the wrong side.
    fn targets_one_task(self) -> bool {
        self.route().contains("{id}")
    }

    /// Handles one request completely: never fails, never panics on input,
    /// and writes the request's one log line.
    pub async fn respond(self, app: &App, request: Request) -> Response<Body> {
        let started = Instant::now();
        let mut trace = Trace {
            cold: app.metrics.first_request(),
            // The path's, as sent (a 403's differs from the token's); bounded,
            // since it is client input.
            user_id: request
                .path_parameters_ref()
                .and_then(|p| p.first("user_id"))
                .map(|id| id.chars().take(128).collect()),
            ..Trace::default()
        };
        let method = request.method();
        let (outcome, database) = crate::db::timed(async {
            if self.serves(method) {
                self.execute(app, &request, &mut trace).await
            } else if *method == Method::HEAD && self.serves(&Method::GET) {
                // The GET's headers without its body (RFC 9110 §9.3.2).
                self.execute(app, &request, &mut trace)
                    .await
                    .map(Reply::head)
            } else if *method == Method::OPTIONS {
                Ok(Reply::Options(self.allowed_methods()))
            } else {
                Err(ApiError::MethodNotAllowed(self.allowed_methods()))
            }
        })
        .await;
        trace.database = database;
        let response = match outcome {
            Ok(reply) => reply.into_response(),
            Err(error) => {
                trace.problem = Some(error.kind());
                trace.error = Some(error.to_string());
                problem(&error)
            }
        };
        app.metrics.emit(&crate::metrics::RequestMetrics {
            function: self.name(),
            database: trace.database,
            cold: trace.cold,
            problem: trace.problem,
        });
        trace.log(self, &request, &response, started);
        response
    }

    async fn execute(
        self,
        app: &App,
        request: &Request,
        trace: &mut Trace,
    ) -> Result<Reply, ApiError> {
        let principal = app.auth.authenticate(request.headers()).await?;
        let path = PathParams::of(request)?;
        if path.user_id != principal.user_id {
            return Err(ApiError::Forbidden);
        }
        let task_id = match (self.targets_one_task(), path.task_id.as_deref()) {
            (true, Some(raw)) => parse_task_id(raw)?,
            (true, None) => return Err(ApiError::NotFound),
            (false, _) => 0,
        };
        if self.targets_one_task() {
            trace.task_id = Some(task_id);
        }
        let body = body_of(request)?;
        identity_coding(request)?;
        let db = &app.db;
        let user = principal.user_id.as_str();
        let headers = request.headers();
        let changed = |change: Change<Task>| match change {
            Change::Done(task) => Ok(task),
            Change::Missing => Err(ApiError::NotFound),
            Change::Stale => Err(ApiError::PreconditionFailed),
        };

        match self {
            Self::ListTasks => {
                let pairs = query_pairs(request)?;
                let pairs = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                let wanted = PageRequest::parse(pairs, user)?;
                let page = store::list(db, user, &wanted).await?;
                let next = page.next.map(|last| {
                    let cursor = last.encode(user, &wanted.query);
                    let query = http::next_page_query(&wanted.query, &cursor);
                    format!("{}?{query}", request.uri().path())
                });
                Ok(Reply::Page {
                    tasks: page.tasks,
                    next,
                })
            }
            Self::CreateTask => {
                let new = NewTask::from_json(body)?;
                let key = http::idempotency_key(headers)?;
                let owner = Owner {
                    user_id: user,
                    email: principal.email.as_deref(),
                    name: principal.name.as_deref(),
                };
                let created = store::create(db, owner, &new, key.as_ref(), app.task_limit).await?;
                let (task, replayed) = match created {
                    Creation::Created(task) => (task, false),
                    Creation::Replayed(task) => (task, true),
                    Creation::KeyReused => return Err(ApiError::IdempotencyKeyReused),
                    Creation::KeyInFlight => return Err(ApiError::IdempotencyKeyInFlight),
                    Creation::LimitReached { limit, count } => {
                        return Err(ApiError::TaskLimitReached { limit, count })
                    }
                };
                trace.task_id = Some(task.id);
                Ok(Reply::Created { task, replayed })
            }
            Self::GetTask => match store::get(db, user, task_id).await? {
                Some(task)
                    if http::if_none_match_on_read(headers)
                        .is_some_and(|c| c.is_current(&task)) =>
                {
                    Ok(Reply::NotModified(task))
                }
                Some(task) => Ok(Reply::Task(task)),
                None => Err(ApiError::NotFound),
            },
            Self::UpdateTask => {
                let requested = if request.method() == Method::PATCH {
                    TaskChange::merge_patch(body)?
                } else {
                    TaskChange::replacement(body)?
                };
                let condition = http::precondition(headers);
                let change =
                    store::change_task(db, user, task_id, &requested, condition.as_ref()).await?;
                changed(change).map(Reply::Task)
            }
            Self::DeleteTask => {
                let condition = http::precondition(headers);
                let change = store::delete(db, user, task_id, condition.as_ref()).await?;
                changed(change).map(|_| Reply::NoContent)
            }
            Self::CompleteTask => {
                let completion = CompletionChange::from_json(body)?;
                let condition = http::precondition(headers);
                let change =
                    store::set_completion(db, user, task_id, completion, condition.as_ref())
                        .await?;
                changed(change).map(Reply::Task)
            }
            // No parameters: the query is not read, so any (a cache-buster)
            // is ignored, as the list ignores the ones it does not define.
            Self::ListTags => Ok(Reply::Tags(store::tag_counts(db, user).await?)),
        }
    }
}

/// What the request log line needs beyond the request and response.
#[derive(Default)]
struct Trace {
    user_id: Option<String>,
    task_id: Option<i64>,
    problem: Option<&'static str>,
    error: Option<String>,
    database: Duration,
    cold: bool,
}

impl Trace {
    /// The request's one log line: ids that join it to API Gateway's access
    /// log, what was asked and answered, and where the time went. Never the
    /// token, a body or anything of the connection string.
    fn log(
        self,
        endpoint: Endpoint,
        request: &Request,
        response: &Response<Body>,
        started: Instant,
    ) {
        let request_id = request
            .lambda_context_ref()
            .map(|context| context.request_id.as_str())
            .unwrap_or("-");
        let api_request_id = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.as_deref(),
            _ => None,
        };
        let route = format!("{} {}", request.method(), endpoint.route());
        let status = response.status().as_u16();
        let duration_ms = millis(started.elapsed());
        let database_ms = millis(self.database);
        let user_id = self.user_id.as_deref();
        let problem = self.problem;
        let error = self.error.as_deref();
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    request_id,
                    api_request_id,
                    function = endpoint.name(),
                    route = route.as_str(),
                    status,
                    problem,
                    duration_ms,
                    database_ms,
                    cold = self.cold,
                    user_id,
                    task_id = self.task_id,
                    error,
                    "request"
                )
            };
        }
        if status >= 500 {
            line!(error);
        } else {
            line!(info);
        }
    }
}
