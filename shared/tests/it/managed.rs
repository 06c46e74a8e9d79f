//! Lambda Managed Instances: one execution environment per function serving 32
//! invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY = 32`), the real binaries
//! under a local Runtime API, every request's statement pipelined on the
//! instance's one connection. Correct answers, isolation and the races hold
//! as they do across separate instances; faults cost one reconnect, not one
//! per request.

use serde_json::json;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::instance::{Fleet, Instance};
use testkit::*;
use xtask::delay_proxy::DelayProxy;

const CONCURRENCY: usize = 32;

/// `url` re-pointed at a proxy listening on `port`.
fn through(url: &str, port: u16) -> String {
    url.replace(&format!(":{}/", port_of(url)), &format!(":{port}/"))
}

/// The most sessions named `application` seen every 10 ms until `stop`.
fn watch_sessions(application: String) -> (Arc<AtomicUsize>, tokio::sync::oneshot::Sender<()>) {
    let most = Arc::new(AtomicUsize::new(0));
    let seen = most.clone();
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        while stopped.try_recv().is_err() {
            seen.fetch_max(connections_of(&application).await, Ordering::AcqRel);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (most, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_clients_of_sixteen_users_get_their_own_answers_over_one_connection_per_function(
) {
    let application = unique("managed-mix");
    let fleet =
        Arc::new(Fleet::start(&named(&database_url(), &application), CONCURRENCY, &[]).await);
    let outsider = User::new("managed-outsider");
    let foreign = fleet
        .send(
            Call::new(CreateTask)
                .user(&outsider)
                .json(json!({"title": "not yours"})),
        )
        .await;
    let foreign = foreign.expect(201).task_id();
    let users: Vec<Arc<User>> = (0..CONCURRENCY / 2)
        .map(|_| Arc::new(User::new("managed-mix")))
        .collect();
    let (most, stop) = watch_sessions(application.clone());

    let clients = (0..CONCURRENCY).map(|client| {
        let fleet = fleet.clone();
        let user = users[client % users.len()].clone();
        tokio::spawn(async move {
            for round in 0..5 {
                let title = format!("client {client} round {round}");
                let created = fleet
                    .send(
                        Call::new(CreateTask)
                            .user(&user)
                            .json(json!({"title": title})),
                    )
                    .await;
                let task = created.expect(201).json();
                assert_eq!(task["title"], title.as_str());
                assert_eq!(task["user_id"], user.id.as_str());
                let id = task["id"].as_i64().unwrap();

                let read = fleet.send(Call::new(GetTask).user(&user).id(id)).await;
                assert_eq!(read.expect(200).json(), task);

                let renamed = format!("{title}, renamed");
                let put = fleet
                    .send(
                        Call::new(UpdateTask)
                            .user(&user)
                            .id(id)
                            .json(json!({"title": renamed})),
                    )
                    .await;
                assert_eq!(put.expect(200).json()["title"], renamed.as_str());

                let done = fleet
                    .send(
                        Call::new(CompleteTask)
                            .user(&user)
                            .id(id)
                            .json(json!({"completed": true})),
                    )
                    .await;
                let done = done.expect(200).json();
                assert_eq!(done["completed"], true);
                assert_eq!(done["title"], renamed.as_str());

                // The list holds this task and only this user's tasks.
                let list = fleet
                    .send(Call::new(ListTasks).user(&user).query("limit", "100"))
                    .await;
                let list = list.expect(200).json();
                let items = list.as_array().expect("a JSON array");
                assert!(items.iter().all(|t| t["user_id"] == user.id.as_str()));
                assert!(items.iter().any(|t| t["id"] == id), "{id} not listed");

                // Someone else's task is not found, on every route that names one.
                for endpoint in [GetTask, UpdateTask, CompleteTask, DeleteTask] {
                    fleet
                        .send(
                            Call::new(endpoint)
                                .user(&user)
                                .id(foreign)
                                .json(json!({"title": "taken over", "completed": true})),
                        )
                        .await
                        .problem(404);
                }

                fleet
                    .send(Call::new(DeleteTask).user(&user).id(id))
                    .await
                    .expect(204);
                fleet
                    .send(Call::new(GetTask).user(&user).id(id))
                    .await
                    .problem(404);
            }
        })
    });
    for client in futures_util::future::join_all(clients).await {
        client.expect("a client's checks");
    }
    let _ = stop.send(());

    // One connection per function, all along.
    assert_eq!(most.load(Ordering::Acquire), shared::Endpoint::ALL.len());
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let left = sql()
        .await
        .query_one(
            "SELECT count(*) FROM tasks WHERE user_id = ANY($1)",
            &[&ids],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(left, 0, "every client deleted what it created");
    let kept = Call::new(GetTask).user(&outsider).id(foreign);
    assert_eq!(
        fleet.send(kept).await.expect(200).json()["title"],
        "not yours"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_and_if_match_race_correctly_inside_one_instance() {
    let url = database_url();
    let create = Arc::new(Instance::start(CreateTask, &url, CONCURRENCY, &[]).await);
    let update = Arc::new(Instance::start(UpdateTask, &url, CONCURRENCY, &[]).await);
    let user = Arc::new(User::new("managed-race"));

    // 32 retries of one create, all in flight together: one task.
    let key = unique("managed-key");
    let posts = (0..CONCURRENCY).map(|_| {
        let call = Call::new(CreateTask)
            .user(&user)
            .header("idempotency-key", &key)
            .json(json!({"title": "exactly once"}));
        let create = create.clone();
        async move { create.send(call).await }
    });
    let mut ids = Vec::new();
    for reply in futures_util::future::join_all(posts).await {
        match reply.status {
            201 => ids.push(reply.task_id()),
            409 => assert_eq!(reply.header("retry-after"), Some("1")),
            other => panic!("{other}: {}", String::from_utf8_lossy(&reply.body)),
        }
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let id = ids[0];

    // 32 edits from the same version: one wins, the rest are 412.
    let read = Call::new(GetTask)
        .user(&user)
        .id(id)
        .send(&app().await)
        .await;
    let tag = read.header("etag").unwrap().to_owned();
    let puts = (0..CONCURRENCY).map(|n| {
        let call = Call::new(UpdateTask)
            .user(&user)
            .id(id)
            .header("if-match", &tag)
            .json(json!({"title": format!("edit {n}")}));
        let update = update.clone();
        async move { update.send(call).await }
    });
    let replies = futures_util::future::join_all(puts).await;
    let winners: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1);
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 412));
    let stored = Call::new(GetTask)
        .user(&user)
        .id(id)
        .send(&app().await)
        .await;
    assert_eq!(stored.json()["title"], winners[0].json()["title"]);
    let rows = sql()
        .await
        .query_one("SELECT count(*) FROM tasks WHERE user_id = $1", &[&user.id])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_killed_under_32_statements_retries_reads_on_one_new_connection_and_never_resends_writes(
) {
    let url = database_url();
    let upstream = port_of(&url);
    // 25 ms each way: everything sent is still on the wire when the kill lands.
    let reads_link = DelayProxy::start(upstream, Duration::from_millis(25)).unwrap();
    let writes_link = DelayProxy::start(upstream, Duration::from_millis(25)).unwrap();
    let (reads_app, writes_app) = (unique("managed-reads"), unique("managed-writes"));
    let reader = Arc::new(
        Instance::start(
            GetTask,
            &named(&through(&url, reads_link.port), &reads_app),
            CONCURRENCY,
            &[],
        )
        .await,
    );
    let writer = Arc::new(
        Instance::start(
            CreateTask,
            &named(&through(&url, writes_link.port), &writes_app),
            CONCURRENCY,
            &[],
        )
        .await,
    );
    let user = Arc::new(User::new("managed-kill"));
    let target = create(&app().await, &user, "read under fire").await["id"]
        .as_i64()
        .unwrap();
    // Both connections answered once before the storm.
    reader
        .send(Call::new(GetTask).user(&user).id(target))
        .await
        .expect(200);
    assert_eq!((reads_link.accepted(), writes_link.accepted()), (1, 1));

    let reads = (0..CONCURRENCY).map(|_| {
        let reader = reader.clone();
        let call = Call::new(GetTask).user(&user).id(target);
        tokio::spawn(async move { reader.send(call).await })
    });
    let keys: Vec<String> = (0..CONCURRENCY).map(|_| unique("inflight")).collect();
    let writes = keys.iter().map(|key| {
        let writer = writer.clone();
        let call = Call::new(CreateTask)
            .user(&user)
            .header("idempotency-key", key)
            .json(json!({"title": key}));
        tokio::spawn(async move { writer.send(call).await })
    });
    let (reads, writes): (Vec<_>, Vec<_>) = (reads.collect(), writes.collect());
    tokio::time::sleep(Duration::from_millis(10)).await;
    let killed = sql()
        .await
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = ANY($1)",
            &[&vec![reads_app.clone(), writes_app.clone()]],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 2);

    for read in reads {
        read.await.unwrap().expect(200);
    }
    // All 32 reads went again over one new connection, not one each.
    assert_eq!(reads_link.accepted(), 2);

    let admin = sql().await;
    let mut failed = 0;
    for (key, write) in keys.iter().zip(writes) {
        let reply = write.await.unwrap();
        let stored = admin
            .query_one(
                "SELECT count(*) FROM tasks WHERE user_id = $1 AND title = $2",
                &[&user.id, key],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        match reply.status {
            201 => assert_eq!(stored, 1, "an acknowledged write is stored once"),
            503 => {
                failed += 1;
                assert_eq!(reply.header("retry-after"), Some("1"));
                // Sent before the kill, never re-sent after it.
                assert_eq!(stored, 0, "a failed write was not sent twice");
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&reply.body)),
        }
    }
    assert!(failed > 0, "no write was in flight when the backend died");
    // The writes did not reconnect to re-send; the next request does.
    assert_eq!(writes_link.accepted(), 1);
    writer
        .send(
            Call::new(CreateTask)
                .user(&user)
                .json(json!({"title": "after the kill"})),
        )
        .await
        .expect(201);
    assert_eq!(writes_link.accepted(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_stuck_on_a_lock_does_not_hold_back_the_statements_pipelined_behind_it() {
    let application = unique("managed-lock");
    let updater = Arc::new(
        Instance::start(
            UpdateTask,
            &named(&database_url(), &application),
            CONCURRENCY,
            &[("DATABASE_QUERY_TIMEOUT_MS", "1000")],
        )
        .await,
    );
    let app = app().await;
    let user = Arc::new(User::new("managed-lock"));
    let stuck = create(&app, &user, "locked elsewhere").await["id"]
        .as_i64()
        .unwrap();
    let mut others = Vec::new();
    for n in 1..CONCURRENCY {
        others.push(
            create(&app, &user, &format!("free {n}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }

    let mut locker = sql().await;
    let transaction = locker.transaction().await.unwrap();
    transaction
        .execute("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", &[&stuck])
        .await
        .unwrap();
    let blocked = {
        let updater = updater.clone();
        let call = Call::new(UpdateTask)
            .user(&user)
            .id(stuck)
            .json(json!({"title": "never"}));
        tokio::spawn(async move { updater.send(call).await })
    };
    // The stuck statement is on the connection; the others queue behind it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let behind = others.iter().map(|&id| {
        let updater = updater.clone();
        let call = Call::new(UpdateTask)
            .user(&user)
            .id(id)
            .json(json!({"title": "done behind the lock"}));
        tokio::spawn(async move {
            let started = Instant::now();
            let reply = updater.send(call).await;
            (reply, started.elapsed())
        })
    });
    let behind: Vec<_> = behind.collect();

    blocked.await.unwrap().problem(503);
    for waiting in behind {
        let (reply, took) = waiting.await.unwrap();
        reply.expect(200);
        // Answered within its own timeout, not failed by its neighbour's.
        assert!(took < Duration::from_millis(1000), "took {took:?}");
    }
    transaction.rollback().await.unwrap();
    let read = Call::new(GetTask).user(&user).id(stuck).send(&app).await;
    assert_eq!(read.json()["title"], "locked elsewhere");
    // The timed-out connection was replaced, and the old one is gone.
    updater
        .send(
            Call::new(UpdateTask)
                .user(&user)
                .id(stuck)
                .json(json!({"title": "after the lock"})),
        )
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(connections_of(&application).await, 1);
}

/// A proxy to the database that keeps the last bytes each client sent before
/// it closed: a clean goodbye ends with PostgreSQL's Terminate message.
struct GoodbyeProxy {
    port: u16,
    last_words: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl GoodbyeProxy {
    fn start(upstream: u16) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let last_words = Arc::new(Mutex::new(Vec::new()));
        let words = last_words.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let (mut from_server, mut to_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || std::io::copy(&mut from_server, &mut to_client));
                let words = words.clone();
                std::thread::spawn(move || {
                    let (mut from_client, mut to_server) = (client, server);
                    let mut tail = Vec::new();
                    let mut buffer = [0u8; 16 * 1024];
                    while let Ok(n @ 1..) = from_client.read(&mut buffer) {
                        tail.extend_from_slice(&buffer[..n]);
                        let keep = tail.len().saturating_sub(5);
                        tail.drain(..keep);
                        if to_server.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown(std::net::Shutdown::Write);
                    words.lock().unwrap().push(tail);
                });
            }
        });
        Self { port, last_words }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_database_session_cleanly_and_the_process_with_0() {
    let url = database_url();
    let proxy = GoodbyeProxy::start(port_of(&url));
    let application = unique("managed-sigterm");
    let instance = Instance::start(
        GetTask,
        &named(&through(&url, proxy.port), &application),
        CONCURRENCY,
        &[],
    )
    .await;
    let user = User::new("managed-sigterm");
    let id = create(&app().await, &user, "before scale-in").await["id"]
        .as_i64()
        .unwrap();
    instance
        .send(Call::new(GetTask).user(&user).id(id))
        .await
        .expect(200);
    assert_eq!(connections_of(&application).await, 1);

    let status = instance.terminate().await;
    assert!(status.success(), "{status:?}");
    // The session said goodbye (Terminate: 'X', length 4) before the socket closed.
    let deadline = Instant::now() + Duration::from_secs(2);
    while proxy.last_words.lock().unwrap().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        proxy.last_words.lock().unwrap().as_slice(),
        [vec![b'X', 0, 0, 0, 4]]
    );
    while connections_of(&application).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the session outlived its instance"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
