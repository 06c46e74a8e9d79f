//! `Idempotency-Key` on create: a retried POST gets the original 201 and
//! creates nothing; the same key with another body is 422; keys are per user
//! and live 24 hours; still one statement per request.

use serde_json::{json, Value};
use shared::App;
use testkit::*;

fn post(user: &User, key: &str, body: Value) -> Call {
    Call::new(CreateTask)
        .user(user)
        .header("idempotency-key", key)
        .json(body)
}

async fn task_count(user: &User) -> i64 {
    sql()
        .await
        .query_one("SELECT count(*) FROM tasks WHERE user_id = $1", &[&user.id])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_retried_create_returns_the_original_response_and_creates_nothing() {
    let app = app().await;
    let user = User::new("retrying");
    let body = json!({"title": "Pay rent", "description": "before the 5th"});
    let key = unique("key");
    let first = post(&user, &key, body.clone()).send(&app).await;
    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);

    // The task changes after the first response; a late retry still gets
    // what the first request created.
    let id = first.task_id();
    Call::new(CompleteTask)
        .user(&user)
        .id(id)
        .send(&app)
        .await
        .expect(200);
    for _ in 0..2 {
        let retry = post(&user, &key, body.clone()).send(&app).await;
        retry.expect(201);
        assert_eq!(retry.json(), first.json());
        for header in ["location", "etag", "content-type"] {
            assert_eq!(retry.header(header), first.header(header), "{header}");
        }
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    }
    // Quoted (structured-field) and bare spellings are the same key.
    post(&user, &format!("\"{key}\""), body.clone())
        .send(&app)
        .await
        .expect(201);
    assert_eq!(task_count(&user).await, 1);

    // Even after the task is gone.
    Call::new(DeleteTask)
        .user(&user)
        .id(id)
        .send(&app)
        .await
        .expect(204);
    let retry = post(&user, &key, body).send(&app).await;
    assert_eq!(retry.expect(201).json(), first.json());
    assert_eq!(task_count(&user).await, 0);
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_422() {
    let app = app().await;
    let user = User::new("reusing");
    let key = unique("key");
    post(&user, &key, json!({"title": "a"}))
        .send(&app)
        .await
        .expect(201);
    let before = snapshot(&[&user.id]).await;
    for other in [
        json!({"title": "b"}),
        json!({"title": "a", "description": "now with one"}),
    ] {
        let problem = post(&user, &key, other).send(&app).await.problem(422);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{problem}"
        );
    }
    assert_eq!(snapshot(&[&user.id]).await, before);
    // What the rules make equal is the same request: the title is trimmed.
    post(&user, &key, json!({"title": "  a "}))
        .send(&app)
        .await
        .expect(201);
    assert_eq!(task_count(&user).await, 1);
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = app().await;
    let alice = User::new("alice");
    let bob = User::new("bob");
    let key = unique("shared-key");
    let from_alice = post(&alice, &key, json!({"title": "same"}))
        .send(&app)
        .await;
    let from_bob = post(&bob, &key, json!({"title": "same"})).send(&app).await;
    assert_ne!(
        from_alice.expect(201).task_id(),
        from_bob.expect(201).task_id()
    );
    assert_eq!(from_bob.header("idempotent-replayed"), None);
    assert_eq!(from_bob.json()["user_id"], json!(bob.id));
    // Bob using the key with another body is fine too: it is his own key.
    let (a, b) = (task_count(&alice).await, task_count(&bob).await);
    assert_eq!((a, b), (1, 1));
}

#[tokio::test]
async fn a_key_expires_after_24_hours() {
    let app = app().await;
    let user = User::new("expiring");
    let key = unique("old-key");
    let other_key = unique("older-key");
    let first = post(&user, &key, json!({"title": "t"})).send(&app).await;
    post(&user, &other_key, json!({"title": "o"}))
        .send(&app)
        .await
        .expect(201);
    sql()
        .await
        .execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second' \
             WHERE user_id = $1",
            &[&user.id],
        )
        .await
        .unwrap();
    let again = post(&user, &key, json!({"title": "t"})).send(&app).await;
    assert_ne!(again.expect(201).task_id(), first.task_id());
    assert_eq!(again.header("idempotent-replayed"), None);
    // The user's other expired key was swept on the way; the reused one is fresh.
    let keys: Vec<String> = sql()
        .await
        .query(
            "SELECT key FROM idempotency_keys WHERE user_id = $1",
            &[&user.id],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(keys, vec![key]);
}

#[tokio::test]
async fn concurrent_retries_create_one_task() {
    let user = User::new("racing");
    let instances = instances(8).await;
    for round in 0..5 {
        let key = unique(&format!("race-{round}"));
        let posts = instances
            .iter()
            .map(|app| post(&user, &key, json!({"title": "once"})).send(app));
        let replies = futures_util::future::join_all(posts).await;
        let mut ids = Vec::new();
        for reply in &replies {
            match reply.status {
                201 => ids.push(reply.task_id()),
                // The first request was still running: the draft's 409.
                409 => assert_eq!(reply.header("retry-after"), Some("1")),
                other => panic!("round {round}: {other}"),
            }
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "round {round}: {ids:?}");
    }
    assert_eq!(task_count(&user).await, 5);
}

#[tokio::test]
async fn bad_keys_are_400_and_store_nothing() {
    let app = app().await;
    let user = User::new("bad-keys");
    create(&app, &user, "existing").await;
    let before = snapshot(&[&user.id]).await;
    let long = "k".repeat(256);
    for key in ["", "\"\"", long.as_str(), "tab\there", "ключ"] {
        let problem = post(&user, key, json!({"title": "t"}))
            .send(&app)
            .await
            .problem(400);
        assert_eq!(
            problem["errors"][0]["field"],
            json!("Idempotency-Key"),
            "{key:?}"
        );
    }
    // An invalid body under a good key stores no key: fixed, it may be sent again.
    let key = unique("key");
    post(&user, &key, json!({"title": ""}))
        .send(&app)
        .await
        .problem(400);
    assert_eq!(snapshot(&[&user.id]).await, before);
    post(&user, &key, json!({"title": "fixed"}))
        .send(&app)
        .await
        .expect(201);
}

async fn one_statement_each(app: &App, application: &str, calls: Vec<Call>) {
    for call in calls {
        let before = settled_count(application).await;
        let reply = call.send(app).await;
        assert!(reply.status < 300, "{}", reply.status);
        assert_eq!(settled_count(application).await - before, 1);
    }
}

#[tokio::test]
async fn first_requests_and_replays_are_one_statement() {
    let (app, application) = counted_app(config_for(&database_url())).await;
    let user = User::new("counted");
    create(&app, &user, "warm-up").await;
    let key = unique("key");
    let body = json!({"title": "once"});
    one_statement_each(
        &app,
        &application,
        vec![post(&user, &key, body.clone()), post(&user, &key, body)],
    )
    .await;
}

/// Writes a create under `key` the way the V3 statement did (the task, and
/// its title and description copied into the key's row); answers what that
/// statement answered on a replay.
async fn create_the_v3_way(
    client: &tokio_postgres::Client,
    user: &User,
    (key, id, title, description): (&str, i64, &str, Option<&str>),
) -> Value {
    client
        .execute(
            "INSERT INTO tasks (id, user_id, title, description) OVERRIDING SYSTEM VALUE \
             VALUES ($1, $2, $3, $4)",
            &[&id, &user.id, &title, &description],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO idempotency_keys (user_id, key, task_id, title, description) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&user.id, &key, &id, &title, &description],
        )
        .await
        .unwrap();
    let row = client
        .query_one(
            "SELECT task_id, user_id, title, description, false, created_at, created_at \
             FROM idempotency_keys WHERE user_id = $1 AND key = $2",
            &[&user.id, &key],
        )
        .await
        .unwrap();
    let task = shared::tasks::Task {
        id: row.get(0),
        user_id: row.get(1),
        title: row.get(2),
        description: row.get(3),
        completed: row.get(4),
        priority: Default::default(),
        tags: Vec::new(),
        due_date: None,
        created_at: row.get(5),
        updated_at: row.get(6),
    };
    serde_json::to_value(&task).unwrap()
}

/// Keys stored before `V4__idempotency_response.sql` (the task's title and
/// description copied into the key's row), or by the previous release while
/// a deploy replaces it, still answer their original 201 after it, and a
/// different body under them is still a 422.
#[tokio::test]
async fn keys_stored_before_the_response_was_kept_still_replay() {
    let (_cluster, url) = own_database_at(Some(3)).await;
    let client = sql_at(&url).await;
    let user = User::new("before-v4");
    client
        .execute("INSERT INTO users (id) VALUES ($1)", &[&user.id])
        .await
        .unwrap();
    let old = [
        (
            "with-description",
            41_i64,
            "Pay rent",
            Some("before the 5th"),
        ),
        ("without", 42, "Buy milk", None),
    ];
    let mut answered = Vec::new();
    for create in old {
        answered.push(create_the_v3_way(&client, &user, create).await);
    }
    xtask::migrate::run(&url).await.unwrap();
    // The previous release's functions keep writing the old way until the
    // deploy replaces them: a record without a response.
    let late = ("written-during-the-deploy", 43_i64, "Water plants", None);
    answered.push(create_the_v3_way(&client, &user, late).await);

    let app = app_for(&url).await;
    let keys = old.into_iter().chain([late]);
    for ((key, _, title, description), original) in keys.zip(answered) {
        let body = json!({"title": title, "description": description});
        let replay = post(&user, key, body).send(&app).await;
        assert_eq!(replay.expect(201).json(), original, "{key}");
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        post(&user, key, json!({"title": "something else"}))
            .send(&app)
            .await
            .expect(422);
    }
}
