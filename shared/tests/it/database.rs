//! The connection an instance holds: one statement per warm request, a 503
//! when the database is unreachable, and a reconnect after the connection broke.

use serde_json::json;
use shared::Endpoint;
use std::time::Duration;
use testkit::*;

#[tokio::test]
async fn every_warm_request_is_exactly_one_statement() {
    let (app, application) = counted_app(config_for(&database_url())).await;
    let user = User::new("counted");
    let id = create(&app, &user, "warm-up").await["id"].clone();

    let calls: Vec<(Endpoint, Call)> = vec![
        (
            ListTasks,
            Call::new(ListTasks)
                .user(&user)
                .query("status", "pending")
                .query("q", "warm"),
        ),
        (
            CreateTask,
            Call::new(CreateTask)
                .user(&user)
                .json(json!({"title": "counted"})),
        ),
        (GetTask, Call::new(GetTask).user(&user).id(id.clone())),
        (
            UpdateTask,
            Call::new(UpdateTask)
                .user(&user)
                .id(id.clone())
                .json(json!({"title": "u"})),
        ),
        (
            CompleteTask,
            Call::new(CompleteTask).user(&user).id(id.clone()),
        ),
        (ListTags, Call::new(ListTags).user(&user)),
        (DeleteTask, Call::new(DeleteTask).user(&user).id(id.clone())),
    ];
    for (endpoint, call) in calls {
        let before = settled_count(&application).await;
        let reply = call.send(&app).await;
        assert!(
            reply.status < 300,
            "{} -> {}",
            endpoint.name(),
            reply.status
        );
        let after = settled_count(&application).await;
        assert_eq!(
            after - before,
            1,
            "{} ran {} statements",
            endpoint.name(),
            after - before
        );
    }
    // The optional parts (a cursor, If-Match) are inside the one statement.
    create(&app, &user, "second").await;
    let first_page = Call::new(ListTasks)
        .user(&user)
        .query("limit", "1")
        .send(&app)
        .await;
    let link = first_page.header("link").expect("a next page").to_owned();
    let task = create(&app, &user, "conditional").await;
    let id = task["id"].clone();
    let conditional: Vec<(&str, Call)> = vec![
        (
            "list after a cursor",
            Call::new(ListTasks).user(&user).next_page(&link),
        ),
        (
            "PUT with If-Match",
            Call::new(UpdateTask)
                .user(&user)
                .id(id.clone())
                .json(json!({"title": "v2"})),
        ),
        (
            "PATCH with If-Match",
            Call::new(CompleteTask).user(&user).id(id.clone()),
        ),
        (
            "DELETE with If-Match",
            Call::new(DeleteTask).user(&user).id(id.clone()),
        ),
    ];
    for (what, call) in conditional {
        let call = if what.contains("If-Match") {
            let current = Call::new(GetTask)
                .user(&user)
                .id(id.clone())
                .send(&app)
                .await;
            call.header("if-match", current.header("etag").unwrap())
        } else {
            call
        };
        let before = settled_count(&application).await;
        call.send(&app)
            .await
            .expect(if what.starts_with("DELETE") { 204 } else { 200 });
        let ran = settled_count(&application).await - before;
        assert_eq!(ran, 1, "{what} ran {ran} statements");
    }

    // A rejected request runs none.
    let before = settled_count(&application).await;
    Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": ""}))
        .send(&app)
        .await
        .problem(400);
    Call::new(GetTask)
        .user(&user)
        .id("abc")
        .send(&app)
        .await
        .problem(400);
    assert_eq!(settled_count(&application).await, before);
}

/// Measured on the wire: each warm invocation costs exactly one round trip
/// (one ReadyForQuery from the server), for every endpoint.
#[tokio::test]
async fn every_warm_request_is_exactly_one_round_trip() {
    let url = database_url();
    let upstream = port_of(&url);
    let proxy = WireProxy::start(upstream);
    let app = app_with(config_for(
        &url.replace(&format!(":{upstream}/"), &format!(":{}/", proxy.port)),
    ))
    .await;
    assert_eq!(proxy.round_trips(), 1, "the connection is opened at init");
    let user = User::new("wire");
    let id = create(&app, &user, "warm-up").await["id"].clone();

    for call in [
        Call::new(ListTasks)
            .user(&user)
            .query("sort", "title")
            .query("q", "warm"),
        Call::new(CreateTask)
            .user(&user)
            .json(json!({"title": "counted"})),
        Call::new(GetTask).user(&user).id(id.clone()),
        Call::new(UpdateTask)
            .user(&user)
            .id(id.clone())
            .json(json!({"title": "u"})),
        Call::new(UpdateTask)
            .method("PATCH")
            .user(&user)
            .id(id.clone())
            .json(json!({"priority": "high", "tags": ["a"], "due_date": "2026-01-31"})),
        Call::new(CompleteTask)
            .user(&user)
            .id(id.clone())
            .raw_body(""),
        Call::new(ListTags).user(&user),
        Call::new(DeleteTask).user(&user).id(id.clone()),
    ] {
        let before = proxy.round_trips();
        let reply = call.clone().send(&app).await;
        assert!(
            reply.status < 300,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(
            proxy.round_trips() - before,
            1,
            "{:?}",
            call.event()["routeKey"]
        );
    }
}

#[tokio::test]
async fn an_unreachable_database_is_503_with_retry_after_on_every_endpoint() {
    let port = xtask::postgres::free_port().unwrap(); // nothing listens there
    let app = app_for(&format!(
        "postgres://postgres@127.0.0.1:{port}/tasks?sslmode=disable"
    ))
    .await;
    let user = User::new("outage");
    for endpoint in Endpoint::ALL {
        let reply = Call::new(endpoint)
            .user(&user)
            .id(1)
            .json(json!({"title": "t"}))
            .send(&app)
            .await;
        let problem = reply.problem(503);
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert!(!problem["detail"]
            .as_str()
            .unwrap()
            .contains(&port.to_string()));
    }
}

#[tokio::test]
async fn a_broken_connection_is_reopened_by_the_next_request() {
    let (app, application) = counted_app(config_for(&database_url())).await;
    let user = User::new("reconnect");
    let id = create(&app, &user, "survives").await["id"].clone();

    let killed = sql()
        .await
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "the instance holds exactly one connection");
    // Between invocations the connection task sees the server hang up.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let reply = Call::new(GetTask).user(&user).id(id).send(&app).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(connections_of(&application).await, 1);
}
