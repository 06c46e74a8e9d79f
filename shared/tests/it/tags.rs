//! `GET /api/{user_id}/tags`: each of the caller's tags once, whatever its
//! letter case, spelled as on their oldest task carrying it, with how many
//! of their tasks carry it; most used first, then by name ignoring case.
//! That it is one statement is checked with the others in database.rs.

use serde_json::{json, Value};
use testkit::*;

/// Creates a task with these tags; returns its id.
async fn tagged(app: &shared::App, user: &User, tags: Value) -> i64 {
    Call::new(CreateTask)
        .user(user)
        .json(json!({"title": "tagged", "tags": tags}))
        .send(app)
        .await
        .expect(201)
        .task_id()
}

async fn retag(app: &shared::App, user: &User, id: i64, tags: Value) {
    Call::new(UpdateTask)
        .method("PATCH")
        .user(user)
        .id(id)
        .json(json!({ "tags": tags }))
        .send(app)
        .await
        .expect(200);
}

/// The user's tag list, checked to be a plain JSON answer.
async fn tags_of(app: &shared::App, user: &User) -> Value {
    let reply = Call::new(ListTags).user(user).send(app).await;
    reply.expect(200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("etag"), None);
    reply.json()
}

#[tokio::test]
async fn tags_are_counted_ignoring_case_most_used_first_then_by_name() {
    let app = app().await;
    let alice = User::new("tags");
    let first = tagged(&app, &alice, json!(["Work", "home"])).await;
    tagged(&app, &alice, json!(["work", "Errands"])).await;
    tagged(&app, &alice, json!(["WORK", "errands", "Zulu"])).await;
    tagged(&app, &alice, json!([])).await;
    tagged(&app, &alice, json!(["apple"])).await;

    // Ties by name ignoring case: "Zulu" sorts after "home", though 'Z'
    // comes before 'h' byte-wise.
    assert_eq!(
        tags_of(&app, &alice).await,
        json!([
            {"name": "Work", "count": 3},
            {"name": "Errands", "count": 2},
            {"name": "apple", "count": 1},
            {"name": "home", "count": 1},
            {"name": "Zulu", "count": 1},
        ])
    );

    // The spelling is the oldest task's that still carries the tag: once the
    // first task drops "Work", the next one's "work" names it.
    retag(&app, &alice, first, json!(["home"])).await;
    assert_eq!(
        tags_of(&app, &alice).await,
        json!([
            {"name": "Errands", "count": 2},
            {"name": "work", "count": 2},
            {"name": "apple", "count": 1},
            {"name": "home", "count": 1},
            {"name": "Zulu", "count": 1},
        ])
    );
    // And a new spelling on the oldest task wins over the later tasks'.
    retag(&app, &alice, first, json!(["wOrK", "home"])).await;
    let listed = tags_of(&app, &alice).await;
    assert_eq!(listed[0], json!({"name": "wOrK", "count": 3}));
}

#[tokio::test]
async fn letter_case_is_the_databases_lower_beyond_ascii() {
    let app = app().await;
    let user = User::new("tags-unicode");
    tagged(&app, &user, json!(["ÉTÉ"])).await;
    tagged(&app, &user, json!(["été", "Straße"])).await;
    // Distinct tags to the API's own rule (a final Σ lowercases to ς, a
    // medial one to σ), one to PostgreSQL's lower(): one task holds both,
    // and counts once.
    let greek = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "greek", "tags": ["ΟΔΟΣ", "οδοσ"]}))
        .send(&app)
        .await;
    assert_eq!(greek.expect(201).json()["tags"], json!(["ΟΔΟΣ", "οδοσ"]));

    assert_eq!(
        tags_of(&app, &user).await,
        json!([
            {"name": "ÉTÉ", "count": 2},
            {"name": "Straße", "count": 1},
            {"name": "ΟΔΟΣ", "count": 1},
        ])
    );
}

#[tokio::test]
async fn another_users_tags_are_never_counted() {
    let app = app().await;
    let alice = User::new("tags-alice");
    let bob = User::new("tags-bob");
    tagged(&app, &alice, json!(["shared"])).await;
    // Bob's tasks are older than Alice's second one and spell it otherwise.
    tagged(&app, &bob, json!(["SHARED", "bob only"])).await;
    tagged(&app, &bob, json!(["Shared"])).await;
    tagged(&app, &alice, json!(["Shared", "alice only"])).await;

    assert_eq!(
        tags_of(&app, &alice).await,
        json!([
            {"name": "shared", "count": 2},
            {"name": "alice only", "count": 1},
        ])
    );
    assert_eq!(
        tags_of(&app, &bob).await,
        json!([
            {"name": "SHARED", "count": 2},
            {"name": "bob only", "count": 1},
        ])
    );
    // Alice's token on Bob's path reads nothing of his.
    Call::new(ListTags)
        .user(&alice)
        .path_user(&bob.id)
        .send(&app)
        .await
        .problem(403);
}

#[tokio::test]
async fn no_tags_is_an_empty_list() {
    let app = app().await;
    let user = User::new("tags-none");
    assert_eq!(tags_of(&app, &user).await, json!([]));
    create(&app, &user, "untagged").await;
    let id = tagged(&app, &user, json!(["gone"])).await;
    retag(&app, &user, id, Value::Null).await;
    assert_eq!(tags_of(&app, &user).await, json!([]));
}

#[tokio::test]
async fn parameters_are_ignored_and_head_is_the_get_without_its_body() {
    let app = app().await;
    let user = User::new("tags-head");
    tagged(&app, &user, json!(["a", "b"])).await;
    let plain = Call::new(ListTags).user(&user).send(&app).await;
    let busted = Call::new(ListTags)
        .user(&user)
        .query("_", "1700000000")
        .query("limit", "nope")
        .send(&app)
        .await;
    assert_eq!((busted.status, &busted.body), (200, &plain.body));
    let head = Call::new(ListTags)
        .user(&user)
        .method("HEAD")
        .send(&app)
        .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(plain.body.len().to_string().as_str())
    );
}
