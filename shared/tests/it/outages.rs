//! The database goes away and comes back: requests answer 503 with
//! Retry-After within the timeouts, never hang, and the same instance serves
//! 2xx again once the database is back. No acknowledged write goes missing.

use serde_json::json;
use shared::Endpoint;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use testkit::*;

fn fast_timeouts(url: &str) -> shared::config::Config {
    let mut config = config_for(url);
    config.database.connect_timeout = Duration::from_millis(800);
    config.database.query_timeout = Duration::from_millis(800);
    config
}

async fn call_all(app: &shared::App, user: &User, id: i64) -> Vec<(Endpoint, Reply, Duration)> {
    let mut replies = Vec::new();
    for endpoint in Endpoint::ALL {
        let started = Instant::now();
        let reply = Call::new(endpoint)
            .user(user)
            .id(id)
            .json(json!({"title": "during the outage"}))
            .send(app)
            .await;
        replies.push((endpoint, reply, started.elapsed()));
    }
    replies
}

async fn terminate_and_wait(application: &str) {
    let admin = sql().await;
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1);
    while !admin
        .query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .await
        .unwrap()
        .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_terminated_backend_does_not_fail_the_next_request_of_any_endpoint() {
    let user = User::new("terminated");
    for endpoint in LIFECYCLE_ORDER {
        let (app, application) = counted_app(config_for(&database_url())).await;
        let id = create(&app, &user, "target").await["id"].clone();
        // Kill the backend and wait until it is gone from another thread, while
        // this runtime (the instance) is blocked: like a Lambda instance frozen
        // between invocations, it gets no chance to notice before the next one.
        std::thread::spawn(move || xtask::block_on(terminate_and_wait(&application)))
            .join()
            .unwrap();
        let reply = Call::new(endpoint)
            .user(&user)
            .id(id)
            .json(json!({"title": "after"}))
            .send(&app)
            .await;
        assert!(
            reply.status < 300,
            "{}: {} {}",
            endpoint.name(),
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
}

#[tokio::test]
async fn a_stopped_database_is_503_quickly_and_the_instance_recovers_by_itself() {
    let (cluster, url) = own_database().await;
    let app = app_with(fast_timeouts(&url)).await;
    let user = User::new("outage");
    let mut acknowledged = vec![create(&app, &user, "before").await["id"].as_i64().unwrap()];

    cluster.stop();
    for (endpoint, reply, took) in call_all(&app, &user, acknowledged[0]).await {
        reply.problem(503);
        assert_eq!(
            reply.header("retry-after"),
            Some("1"),
            "{}",
            endpoint.name()
        );
        assert!(
            took < Duration::from_secs(3),
            "{} took {took:?}",
            endpoint.name()
        );
    }

    cluster.start().unwrap();
    let reply = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "after"}))
        .send(&app)
        .await;
    acknowledged.push(reply.expect(201).task_id());

    let listed = Call::new(ListTasks).user(&user).send(&app).await.json();
    let mut ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    acknowledged.sort();
    assert_eq!(
        ids, acknowledged,
        "every acknowledged write, and nothing else"
    );
}

#[tokio::test]
async fn a_database_down_at_cold_start_gives_503_until_it_is_back() {
    let (cluster, url) = own_database().await;
    cluster.stop();
    let app = app_with(fast_timeouts(&url)).await; // init succeeds, logs the failure
    let user = User::new("cold");
    Call::new(ListTasks)
        .user(&user)
        .send(&app)
        .await
        .problem(503);
    cluster.start().unwrap();
    let id = create(&app, &user, "first").await["id"].as_i64().unwrap();
    let got = Call::new(GetTask).user(&user).id(id).send(&app).await;
    assert_eq!(got.status, 200);
}

#[tokio::test]
async fn a_server_that_never_answers_is_503_within_the_connect_timeout() {
    // Accepts TCP connections and then says nothing, like a hung host.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let _keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream);
        }
    });
    let app = app_with(fast_timeouts(&format!(
        "postgres://postgres@127.0.0.1:{port}/tasks?sslmode=disable"
    )))
    .await;
    let user = User::new("silent");
    for (endpoint, reply, took) in call_all(&app, &user, 1).await {
        reply.problem(503);
        assert!(
            took < Duration::from_secs(2),
            "{} took {took:?}",
            endpoint.name()
        );
    }
}

#[tokio::test]
async fn a_statement_stuck_behind_a_lock_is_503_and_the_connection_is_replaced() {
    let (app, application) = counted_app(fast_timeouts(&database_url())).await;
    let user = User::new("locked");
    let id = create(&app, &user, "locked").await["id"].clone();

    let mut locker = sql().await;
    let transaction = locker.transaction().await.unwrap();
    transaction
        .batch_execute("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let reply = Call::new(GetTask)
        .user(&user)
        .id(id.clone())
        .send(&app)
        .await;
    reply.problem(503);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    transaction.rollback().await.unwrap();

    let reply = Call::new(GetTask).user(&user).id(id).send(&app).await;
    assert_eq!(reply.status, 200);
    // The timed-out connection was dropped: the instance holds one, not two.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(connections_of(&application).await, 1);
}
