//! How many requests the dev proxy hands `cargo lambda watch` at once: per
//! function, at most as many as the emulator runs instances of it. The rest
//! wait here, in arrival order (tokio's semaphore is fair), which is what
//! API Gateway and Lambda do for the deployed API.
//!
//! Why it is needed: cargo lambda watch (1.9.2) queues a function's
//! invocations in a channel of 100, and pushes into it while holding the
//! write lock of its map of queues; an instance must take that map's read
//! lock to pop. When a 101st invocation of one function arrives before the
//! instances have drained the queue, the push waits for room that only a
//! pop can make, and the pop waits for the lock the push holds: every
//! function stops answering for good (ARCHITECTURE.md, "Decisions"). With
//! at most `instances` in flight per function, that queue never holds more
//! than `instances`.

use hyper::Method;
use shared::Endpoint;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One lane per function, each as wide as the function's instances.
#[derive(Debug, Clone)]
pub struct Admission {
    lanes: HashMap<&'static str, Arc<Semaphore>>,
}

impl Admission {
    pub fn new(per_function: u32) -> Self {
        let lanes = Endpoint::ALL
            .iter()
            .map(|e| (e.name(), Arc::new(Semaphore::new(per_function as usize))))
            .collect();
        Self { lanes }
    }

    /// Waits for a free place in `function`'s lane; the place is held until
    /// the permit is dropped (when the emulator has answered).
    pub async fn enter(&self, function: &str) -> Option<OwnedSemaphorePermit> {
        let lane = self.lanes.get(function)?.clone();
        lane.acquire_owned().await.ok()
    }
}

/// The function `cargo lambda watch`'s router (Cargo.toml) sends a request
/// to: the endpoint of the route and method, else the endpoint that answers
/// the route's other methods. `None` for a path no route matches (the
/// emulator answers those itself, without a function).
pub fn function_of(method: &Method, path: &str) -> Option<&'static str> {
    let on_route: Vec<Endpoint> = Endpoint::ALL
        .into_iter()
        .filter(|e| matches_route(e.route(), path))
        .collect();
    on_route
        .iter()
        .find(|e| e.serves(method))
        .or_else(|| on_route.iter().find(|e| e.answers_other_methods()))
        .map(|e| e.name())
}

/// A route template's `{name}` matches one non-empty path segment.
fn matches_route(template: &str, path: &str) -> bool {
    let mut path = path.split('/');
    for part in template.split('/') {
        match path.next() {
            Some(segment) if part.starts_with('{') => {
                if segment.is_empty() {
                    return false;
                }
            }
            Some(segment) if segment == part => {}
            _ => return false,
        }
    }
    path.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_go_to_the_function_the_router_picks() {
        let cases = [
            ("GET", "/api/u/tasks", Some("list-tasks")),
            ("POST", "/api/u/tasks", Some("create-task")),
            ("DELETE", "/api/u/tasks", Some("list-tasks")),
            ("PUT", "/api/u/tasks/7", Some("update-task")),
            ("POST", "/api/u/tasks/7", Some("get-task")),
            ("PATCH", "/api/u/tasks/7", Some("update-task")),
            ("PATCH", "/api/u%2F/tasks/7/complete", Some("complete-task")),
            ("GET", "/api/u/tasks/7/complete", Some("complete-task")),
            ("GET", "/api/u/tags", Some("list-tags")),
            ("POST", "/api/u/tags", Some("list-tags")),
            ("GET", "/api/u/tags/7", None),
            ("GET", "/api//tasks", None),
            ("GET", "/api/u/tasks/7/complete/x", None),
            ("GET", "/", None),
        ];
        for (method, path, function) in cases {
            let method: Method = method.parse().unwrap();
            assert_eq!(function_of(&method, path), function, "{method} {path}");
        }
    }
}
