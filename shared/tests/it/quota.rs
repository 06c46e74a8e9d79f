//! The per-user task limit (`MAX_TASKS_PER_USER`): exact under concurrency,
//! across instances and inside one, a refusal that stores nothing, and a
//! count the database keeps for rows that existed before it.

use serde_json::{json, Value};
use shared::tasks::TaskLimit;
use shared::App;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use testkit::instance::Instance;
use testkit::*;

const LIMIT: i32 = 20;
const CONCURRENCY: usize = 32;

/// An instance whose deployment allows `limit` tasks per user.
async fn app_limited_to(url: &str, limit: TaskLimit) -> App {
    app_with(shared::config::Config {
        task_limit: limit,
        ..config_for(url)
    })
    .await
}

/// `n` instances, each with its own connection, limited to [`LIMIT`].
async fn limited_instances(n: usize) -> Vec<App> {
    let mut apps = Vec::with_capacity(n);
    for _ in 0..n {
        apps.push(app_limited_to(&database_url(), TaskLimit::AtMost(LIMIT)).await);
    }
    apps
}

/// Gives `user` `tasks` tasks behind the API's back, as any earlier client
/// would have: the database counts them.
async fn holding(user: &User, tasks: i32) {
    let client = sql().await;
    client
        .execute(
            "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&user.id],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO tasks (user_id, title) \
             SELECT $1, 'held ' || n FROM generate_series(1, $2) AS n",
            &[&user.id, &tasks],
        )
        .await
        .unwrap();
}

/// The user's tasks as stored; asserts the kept count agrees.
async fn stored(user: &User) -> i64 {
    let row = sql()
        .await
        .query_one(
            "SELECT (SELECT count(*) FROM tasks WHERE user_id = $1), \
                    (SELECT task_count FROM users WHERE id = $1)",
            &[&user.id],
        )
        .await
        .unwrap();
    let (rows, kept): (i64, i32) = (row.get(0), row.get(1));
    assert_eq!(
        rows,
        i64::from(kept),
        "the kept count drifted from the rows"
    );
    rows
}

fn post(user: &User, title: &str) -> Call {
    Call::new(CreateTask)
        .user(user)
        .json(json!({ "title": title }))
}

/// Asserts the task-limit problem and returns its body.
#[track_caller]
fn refused(reply: &Reply, limit: i32, count: i32) -> Value {
    let body = reply.json();
    assert_eq!(reply.status, 409, "{body}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(body["type"], json!(shared::http::TASK_LIMIT_TYPE), "{body}");
    assert_eq!(
        (body["limit"].clone(), body["count"].clone()),
        (json!(limit), json!(count))
    );
    assert!(
        reply.header("retry-after").is_none(),
        "waiting does not help"
    );
    body
}

/// Exactly one of `replies` is a 201; the others are the refusal at the limit.
#[track_caller]
fn one_admitted(replies: &[Reply]) {
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 201) {
        refused(reply, LIMIT, LIMIT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_instances_at_one_below_the_limit_store_exactly_one_task() {
    let user = User::new("quota-race");
    holding(&user, LIMIT - 1).await;
    let apps = limited_instances(CONCURRENCY).await;

    let posts = apps.iter().map(|app| post(&user, "the last one").send(app));
    one_admitted(&futures_util::future::join_all(posts).await);
    assert_eq!(stored(&user).await, i64::from(LIMIT));

    // A delete frees one slot, and again only one of 32 gets it: creates
    // under Idempotency-Keys race the same way.
    let last = Call::new(ListTasks)
        .user(&user)
        .query("limit", "1")
        .send(&apps[0])
        .await;
    let id = last.json()[0]["id"].as_i64().unwrap();
    Call::new(DeleteTask)
        .user(&user)
        .id(id)
        .send(&apps[0])
        .await
        .expect(204);
    let posts = apps.iter().map(|app| {
        post(&user, "keyed")
            .header("idempotency-key", &unique("quota-key"))
            .send(app)
    });
    one_admitted(&futures_util::future::join_all(posts).await);
    assert_eq!(stored(&user).await, i64::from(LIMIT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_invocations_inside_one_managed_instance_store_exactly_one_task() {
    let user = Arc::new(User::new("quota-managed"));
    holding(&user, LIMIT - 1).await;
    let limit = LIMIT.to_string();
    let create = Arc::new(
        Instance::start(
            CreateTask,
            &database_url(),
            CONCURRENCY,
            &[("MAX_TASKS_PER_USER", &limit)],
        )
        .await,
    );
    let posts = (0..CONCURRENCY).map(|n| {
        let create = create.clone();
        let call = post(&user, &format!("invocation {n}"));
        async move { create.send(call).await }
    });
    one_admitted(&futures_util::future::join_all(posts).await);
    assert_eq!(stored(&user).await, i64::from(LIMIT));
}

/// Creates and deletes racing at the limit: the user is never over it, and
/// afterwards can fill it exactly, no slot lost or gained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_creates_and_deletes_at_the_limit_never_pass_it_nor_lose_a_slot() {
    const ROUNDS: usize = 10;
    let user = Arc::new(User::new("quota-churn"));
    holding(&user, LIMIT).await;
    let apps = Arc::new(limited_instances(16).await);

    // Watches the stored rows all along, from outside the API.
    let most = Arc::new(AtomicI64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (most, done, id) = (most.clone(), done.clone(), user.id.clone());
        tokio::spawn(async move {
            let client = sql().await;
            while !done.load(Ordering::Acquire) {
                let rows: i64 = client
                    .query_one("SELECT count(*) FROM tasks WHERE user_id = $1", &[&id])
                    .await
                    .unwrap()
                    .get(0);
                most.fetch_max(rows, Ordering::AcqRel);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    // Half the instances delete one of the oldest tasks each round, the other
    // half create: every create meets a full or a just-freed collection.
    let workers = (0..apps.len()).map(|n| {
        let (apps, user) = (apps.clone(), user.clone());
        async move {
            let (app, mut moved) = (&apps[n], 0_i64);
            for round in 0..ROUNDS {
                if n % 2 == 0 {
                    let oldest = Call::new(ListTasks)
                        .user(&user)
                        .query("sort", "created")
                        .query("order", "asc")
                        .query("limit", "8")
                        .send(app)
                        .await;
                    let Some(task) = oldest.json().get(n / 2).cloned() else {
                        continue;
                    };
                    let id = task["id"].as_i64().unwrap();
                    // Another deleter may have taken it first: a 404.
                    let reply = Call::new(DeleteTask).user(&user).id(id).send(app).await;
                    match reply.status {
                        204 => moved -= 1,
                        404 => {}
                        other => panic!("{other}: {}", String::from_utf8_lossy(&reply.body)),
                    }
                } else {
                    let reply = post(&user, &format!("churn {n}.{round}")).send(app).await;
                    match reply.status {
                        201 => moved += 1,
                        _ => _ = refused(&reply, LIMIT, LIMIT),
                    }
                }
            }
            moved
        }
    });
    let moved: i64 = futures_util::future::join_all(workers)
        .await
        .into_iter()
        .sum();
    done.store(true, Ordering::Release);
    watcher.await.unwrap();

    assert!(
        most.load(Ordering::Acquire) <= i64::from(LIMIT),
        "seen over the limit"
    );
    assert_eq!(stored(&user).await, i64::from(LIMIT) + moved);
    // Every freed slot can be filled again, and no more.
    let app = &apps[0];
    let mut filled = stored(&user).await;
    loop {
        let reply = post(&user, "refill").send(app).await;
        if reply.status != 201 {
            refused(&reply, LIMIT, LIMIT);
            break;
        }
        filled += 1;
    }
    assert_eq!(filled, i64::from(LIMIT));
    assert_eq!(stored(&user).await, i64::from(LIMIT));
}

#[tokio::test]
async fn a_refusal_stores_nothing_and_a_replay_at_the_limit_still_answers_its_201() {
    let app = app_limited_to(&database_url(), TaskLimit::AtMost(3)).await;
    let user = User::new("quota-replay");
    holding(&user, 2).await;
    let key = unique("last-slot");
    let keyed = |title: &str, key: &str| post(&user, title).header("idempotency-key", key);
    let original = keyed("the third", &key).send(&app).await;
    original.expect(201);

    let keys = || async {
        sql()
            .await
            .query_one(
                "SELECT count(*) FROM idempotency_keys WHERE user_id = $1",
                &[&user.id],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let (before, keys_before) = (snapshot(&[&user.id]).await, keys().await);
    let problem = refused(&post(&user, "a fourth").send(&app).await, 3, 3);
    assert_eq!(
        problem["detail"],
        json!("this user holds 3 tasks and may hold at most 3: delete some to create more")
    );
    refused(
        &keyed("a fourth", &unique("new-key")).send(&app).await,
        3,
        3,
    );
    assert_eq!(snapshot(&[&user.id]).await, before);
    assert_eq!(keys().await, keys_before);

    // The retry of the create that filled the collection is not a new task.
    let replay = keyed("the third", &key).send(&app).await;
    assert_eq!(replay.expect(201).json(), original.json());
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    keyed("not the third", &key).send(&app).await.expect(422);

    // Another user is not affected, and a deployment without a limit
    // (MAX_TASKS_PER_USER = 0) lets this one go on.
    create(&app, &User::new("quota-neighbour"), "mine").await;
    let unlimited = app_limited_to(&database_url(), TaskLimit::Unlimited).await;
    post(&user, "a fourth").send(&unlimited).await.expect(201);
    // A lowered limit names the count as it is.
    refused(&post(&user, "a fifth").send(&app).await, 3, 4);
}

#[tokio::test]
async fn a_create_and_its_refusal_are_one_statement_each() {
    let mut config = config_for(&database_url());
    config.task_limit = TaskLimit::AtMost(2);
    let (app, application) = counted_app(config).await;
    let user = User::new("quota-counted");
    create(&app, &user, "warm-up").await;
    for (call, status) in [
        (post(&user, "second"), 201),
        (post(&user, "third"), 409),
        (
            post(&user, "third").header("idempotency-key", &unique("k")),
            409,
        ),
    ] {
        let before = settled_count(&application).await;
        assert_eq!(call.send(&app).await.status, status);
        assert_eq!(settled_count(&application).await - before, 1);
    }
}

/// Users who had tasks before V5__task_count.sql start with their true count,
/// and the previous release's statements (which know nothing of it) keep it
/// true during the deploy.
#[tokio::test]
async fn existing_tasks_are_counted_by_the_migration_and_old_statements_keep_the_count() {
    let (_cluster, url) = own_database_at(Some(4)).await;
    let client = sql_at(&url).await;
    let (busy, idle) = (User::new("before-v5"), User::new("before-v5-idle"));
    client
        .execute(
            "INSERT INTO users (id) VALUES ($1), ($2)",
            &[&busy.id, &idle.id],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO tasks (user_id, title) SELECT $1, 'old ' || n FROM generate_series(1, 5) n",
            &[&busy.id],
        )
        .await
        .unwrap();
    xtask::migrate::run(&url).await.unwrap();
    let count = |id: String| {
        let client = &client;
        async move {
            client
                .query_one("SELECT task_count FROM users WHERE id = $1", &[&id])
                .await
                .unwrap()
                .get::<_, i32>(0)
        }
    };
    assert_eq!(
        (count(busy.id.clone()).await, count(idle.id.clone()).await),
        (5, 0)
    );

    // V4's create statement, as the previous release still sends it.
    client
        .execute(
            "WITH owner AS (INSERT INTO users (id) VALUES ($1) ON CONFLICT (id) DO UPDATE \
               SET email = users.email WHERE false) \
             INSERT INTO tasks (user_id, title) VALUES ($1, 'during the deploy')",
            &[&busy.id],
        )
        .await
        .unwrap();
    client
        .execute(
            "DELETE FROM tasks WHERE id = (SELECT min(id) FROM tasks WHERE user_id = $1)",
            &[&busy.id],
        )
        .await
        .unwrap();
    assert_eq!(count(busy.id.clone()).await, 5);

    let app = app_limited_to(&url, TaskLimit::AtMost(6)).await;
    post(&busy, "sixth").send(&app).await.expect(201);
    refused(&post(&busy, "seventh").send(&app).await, 6, 6);
    post(&idle, "first").send(&app).await.expect(201);
}
