//! The happy paths of the task endpoints against a real PostgreSQL (the tag
//! list's are in tags.rs).

use serde_json::{json, Value};
use testkit::*;

fn stamp(task: &Value, field: &str) -> String {
    task[field].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_task_goes_through_its_whole_life() {
    let app = app().await;
    let alice = User::new("alice");

    let created = Call::new(CreateTask)
        .user(&alice)
        .json(json!({"title": "  Buy milk  ", "description": "2 litres, semi-skimmed"}))
        .send(&app)
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let task = created.json();
    let id = created.task_id();
    assert!(id > 0);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/{}/tasks/{id}", alice.id).as_str())
    );
    assert_eq!(task["user_id"], json!(alice.id));
    assert_eq!(task["title"], json!("Buy milk"));
    assert_eq!(task["description"], json!("2 litres, semi-skimmed"));
    assert_eq!(task["completed"], json!(false));
    let created_at = stamp(&task, "created_at");
    assert_eq!(stamp(&task, "updated_at"), created_at);
    assert!(created_at.ends_with('Z') && created_at.len() == "2026-11-24T09:00:00.123456Z".len());

    let got = Call::new(GetTask).user(&alice).id(id).send(&app).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), task);

    let listed = Call::new(ListTasks).user(&alice).send(&app).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json(), json!([task]));

    // PUT without description clears it; without completed keeps it.
    let mut last_updated = created_at.clone();
    let updated = Call::new(UpdateTask)
        .user(&alice)
        .id(id)
        .json(json!({"title": "Buy oat milk"}))
        .send(&app)
        .await;
    assert_eq!(updated.status, 200);
    let body = updated.json();
    assert_eq!(body["title"], json!("Buy oat milk"));
    assert_eq!(body["description"], Value::Null);
    assert_eq!(body["completed"], json!(false));
    assert_eq!(stamp(&body, "created_at"), created_at);
    assert!(stamp(&body, "updated_at") > last_updated);
    last_updated = stamp(&body, "updated_at");

    let updated = Call::new(UpdateTask)
        .user(&alice)
        .id(id)
        .json(
            json!({"title": "Buy oat milk", "description": "barista", "completed": true,
                     "id": 999, "user_id": "mallory", "created_at": "2000-01-01T00:00:00Z"}),
        )
        .send(&app)
        .await;
    let body = updated.json();
    assert_eq!(
        (body["completed"].clone(), body["id"].clone()),
        (json!(true), json!(id))
    );
    assert_eq!(body["user_id"], json!(alice.id));
    assert_eq!(body["description"], json!("barista"));
    assert_eq!(stamp(&body, "created_at"), created_at);
    assert!(stamp(&body, "updated_at") > last_updated);
    last_updated = stamp(&body, "updated_at");

    // PATCH …/complete: explicit values, then toggles with an empty and with no body.
    for (body, expected) in [
        (Some(r#"{"completed": false}"#), false),
        (Some(r#"{"completed": true}"#), true),
        (Some(""), false),
        (None, true),
    ] {
        let mut call = Call::new(CompleteTask).user(&alice).id(id);
        if let Some(body) = body {
            call = call.raw_body(body);
        }
        let reply = call.send(&app).await;
        assert_eq!(reply.status, 200, "{body:?}");
        let task = reply.json();
        assert_eq!(task["completed"], json!(expected), "{body:?}");
        assert_eq!(stamp(&task, "created_at"), created_at);
        assert!(stamp(&task, "updated_at") > last_updated, "{body:?}");
        last_updated = stamp(&task, "updated_at");
    }

    let deleted = Call::new(DeleteTask).user(&alice).id(id).send(&app).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert!(deleted.header("content-type").is_none());
    Call::new(GetTask)
        .user(&alice)
        .id(id)
        .send(&app)
        .await
        .problem(404);
    Call::new(DeleteTask)
        .user(&alice)
        .id(id)
        .send(&app)
        .await
        .problem(404);
    assert_eq!(
        Call::new(ListTasks).user(&alice).send(&app).await.json(),
        json!([])
    );
}

#[tokio::test]
async fn the_users_row_is_created_on_the_first_write_and_refreshed_from_claims() {
    let app = app().await;
    let bob = User::new("bob");
    let users = |id: String| async move {
        sql()
            .await
            .query("SELECT email, name FROM users WHERE id = $1", &[&id])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, Option<String>>(0), r.get::<_, Option<String>>(1)))
            .collect::<Vec<_>>()
    };

    // Reading creates nothing.
    assert_eq!(Call::new(ListTasks).user(&bob).send(&app).await.status, 200);
    assert!(users(bob.id.clone()).await.is_empty());

    create(&app, &bob, "first").await;
    assert_eq!(
        users(bob.id.clone()).await,
        vec![(
            Some(format!("{}@example.com", bob.id)),
            Some(bob.id.clone())
        )]
    );

    // A token with a new email refreshes it; one without profile claims keeps it.
    let renamed = sign_with(
        SECRET,
        json!({"sub": bob.id, "exp": now() + 600, "email": "bob@new.example", "name": "Bob"}),
    );
    let reply = Call::new(CreateTask)
        .path_user(&bob.id)
        .authorization(Some(format!("Bearer {renamed}")))
        .json(json!({"title": "second"}))
        .send(&app)
        .await;
    assert_eq!(reply.status, 201);
    let bare = sign_with(SECRET, json!({"sub": bob.id, "exp": now() + 600}));
    let reply = Call::new(CreateTask)
        .path_user(&bob.id)
        .authorization(Some(format!("Bearer {bare}")))
        .json(json!({"title": "third"}))
        .send(&app)
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        users(bob.id.clone()).await,
        vec![(Some("bob@new.example".into()), Some("Bob".into()))]
    );
}

#[tokio::test]
async fn the_list_filters_sorts_searches_and_limits() {
    let app = app().await;
    let carol = User::new("carol");
    let banana = create(&app, &carol, "banana").await;
    let apple = create(&app, &carol, "Apple pie").await;
    let cherry = create(&app, &carol, "cherry 100%").await;
    let done = Call::new(CompleteTask)
        .user(&carol)
        .id(apple["id"].clone())
        .send(&app)
        .await;
    let apple = done.json();

    let ids = |reply: Reply| -> Vec<i64> {
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let id = |task: &Value| task["id"].as_i64().unwrap();
    let list = |pairs: &[(&str, &str)]| {
        let mut call = Call::new(ListTasks).user(&carol);
        for (k, v) in pairs {
            call = call.query(k, v);
        }
        call
    };

    // Default: newest first.
    assert_eq!(
        ids(list(&[]).send(&app).await),
        vec![id(&cherry), id(&apple), id(&banana)]
    );
    assert_eq!(
        ids(list(&[("order", "asc")]).send(&app).await),
        vec![id(&banana), id(&apple), id(&cherry)]
    );
    assert_eq!(
        ids(list(&[("status", "completed")]).send(&app).await),
        vec![id(&apple)]
    );
    assert_eq!(
        ids(list(&[("status", "pending")]).send(&app).await),
        vec![id(&cherry), id(&banana)]
    );
    // Title sorts A→Z by default (C.UTF-8 collation: capitals first).
    assert_eq!(
        ids(list(&[("sort", "title")]).send(&app).await),
        vec![id(&apple), id(&banana), id(&cherry)]
    );
    assert_eq!(
        ids(list(&[("sort", "title"), ("order", "desc")])
            .send(&app)
            .await),
        vec![id(&cherry), id(&banana), id(&apple)]
    );
    // The completed task was modified last.
    assert_eq!(
        ids(list(&[("sort", "updated")]).send(&app).await)[0],
        id(&apple)
    );
    assert_eq!(
        ids(list(&[("q", "APPLE")]).send(&app).await),
        vec![id(&apple)]
    );
    assert_eq!(
        ids(list(&[("q", "0%")]).send(&app).await),
        vec![id(&cherry)]
    );
    assert_eq!(ids(list(&[("q", "%")]).send(&app).await), vec![id(&cherry)]);
    assert_eq!(
        ids(list(&[("limit", "2")]).send(&app).await),
        vec![id(&cherry), id(&apple)]
    );
    // Parameters the API does not define are ignored.
    assert_eq!(ids(list(&[("_", "1700000000")]).send(&app).await).len(), 3);
}

#[tokio::test]
async fn the_unmodified_events_drive_every_function() {
    // The events in events/ are for `cargo lambda invoke`: they carry a token
    // for 'dev-user' signed with the local dev secret. Here the app verifies
    // with the test secret, so swap only the token and keep everything else.
    let app = app().await;
    let dev = User::new("dev");
    let id = create(&app, &dev, "from the event").await["id"].clone();
    for endpoint in LIFECYCLE_ORDER {
        let mut event = event_file(endpoint);
        event["headers"]["authorization"] = json!(format!("Bearer {}", dev.token));
        let path = event["rawPath"]
            .as_str()
            .unwrap()
            .replace("dev-user", &dev.id)
            .replace("/1", &format!("/{id}"));
        event["rawPath"] = json!(path);
        event["pathParameters"]["user_id"] = json!(dev.id);
        if event["pathParameters"].get("id").is_some() {
            event["pathParameters"]["id"] = json!(id.to_string());
        }
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let response = endpoint.respond(&app, request).await;
        let expected = if endpoint == CreateTask {
            201
        } else if endpoint == DeleteTask {
            204
        } else {
            200
        };
        assert_eq!(
            response.status().as_u16(),
            expected,
            "{}: {}",
            endpoint.name(),
            String::from_utf8_lossy(response.body().as_ref())
        );
    }
}
