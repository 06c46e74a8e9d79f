//! Two users can neither see nor touch each other's tasks.

use serde_json::json;
use testkit::*;

#[tokio::test]
async fn another_users_path_is_forbidden_on_every_endpoint() {
    let app = app().await;
    let alice = User::new("alice");
    let bob = User::new("bob");
    let id = create(&app, &alice, "alice's").await["id"].clone();
    let before = snapshot(&[&alice.id, &bob.id]).await;

    for endpoint in shared::Endpoint::ALL {
        // Bob's valid token on Alice's path, with a body that would be valid.
        let reply = Call::new(endpoint)
            .user(&bob)
            .path_user(&alice.id)
            .id(id.clone())
            .json(json!({"title": "pwned", "completed": true}))
            .send(&app)
            .await;
        reply.problem(403);
    }
    assert_eq!(snapshot(&[&alice.id, &bob.id]).await, before);
}

#[tokio::test]
async fn another_users_task_is_not_found_and_unchanged() {
    let app = app().await;
    let alice = User::new("alice");
    let bob = User::new("bob");
    let id = create(&app, &alice, "alice's").await["id"].clone();
    create(&app, &bob, "bob's").await;
    let before = snapshot(&[&alice.id, &bob.id]).await;

    // What Bob sees for Alice's task must equal what he sees for no task at all.
    let missing = Call::new(GetTask).user(&bob).id(i64::MAX).send(&app).await;
    let missing_body = missing.problem(404);

    for endpoint in [GetTask, UpdateTask, DeleteTask, CompleteTask] {
        let reply = Call::new(endpoint)
            .user(&bob)
            .id(id.clone())
            .json(json!({"title": "pwned", "completed": true}))
            .send(&app)
            .await;
        assert_eq!(reply.problem(404), missing_body, "{}", endpoint.name());
    }
    let listed = Call::new(ListTasks).user(&bob).send(&app).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["title"], json!("bob's"));
    assert_eq!(snapshot(&[&alice.id, &bob.id]).await, before);
}

#[tokio::test]
async fn integer_looking_user_ids_are_just_strings() {
    let app = app().await;
    let numeric = User::new("123");
    let task = create(&app, &numeric, "mine").await;
    assert_eq!(task["user_id"], json!(numeric.id));
    let other = sign_with(SECRET, json!({"sub": "0123", "exp": now() + 600}));
    Call::new(ListTasks)
        .path_user("123")
        .authorization(Some(format!("Bearer {other}")))
        .send(&app)
        .await
        .problem(403);
}
