//! Optimistic concurrency: ETag on every task response, If-Match and
//! If-None-Match on PUT, PATCH and DELETE (412 when another tab changed the
//! task first), If-None-Match on GET (304 while the client's copy is current).

use serde_json::json;
use testkit::*;

fn etag(reply: &Reply) -> String {
    reply
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag on a {} response", reply.status))
        .to_owned()
}

fn put(user: &User, id: i64, title: &str) -> Call {
    Call::new(UpdateTask)
        .user(user)
        .id(id)
        .json(json!({ "title": title }))
}

#[tokio::test]
async fn every_task_response_carries_the_tasks_current_etag() {
    let app = app().await;
    let user = User::new("etags");
    let created = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "v1"}))
        .send(&app)
        .await;
    let id = created.expect(201).task_id();
    let get = || Call::new(GetTask).user(&user).id(id).send(&app);
    let mut tags = vec![etag(&created)];
    assert_eq!(etag(&get().await), tags[0]);
    let changes = [
        put(&user, id, "v2"),
        Call::new(CompleteTask).user(&user).id(id),
        Call::new(CompleteTask)
            .user(&user)
            .id(id)
            .json(json!({"completed": true})),
    ];
    for change in changes {
        let reply = change.send(&app).await;
        reply.expect(200);
        // The response's tag is the one a following GET shows…
        assert_eq!(etag(&reply), etag(&get().await));
        // …and every change, even one that sets what is already set, is a new version.
        assert!(!tags.contains(&etag(&reply)), "{tags:?}");
        tags.push(etag(&reply));
    }
    // Strong tags: quoted, no W/ prefix.
    assert!(tags
        .iter()
        .all(|tag| tag.starts_with('"') && tag.ends_with('"')));
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = app().await;
    let user = User::new("two-tabs");
    let created = create(&app, &user, "shared list").await;
    let id = created["id"].as_i64().unwrap();
    // Both tabs read the task.
    let read = Call::new(GetTask).user(&user).id(id).send(&app).await;
    let seen = etag(&read);

    // Tab A saves first.
    let saved = put(&user, id, "tab A")
        .header("if-match", &seen)
        .send(&app)
        .await;
    saved.expect(200);
    let current = etag(&saved);

    // Tab B's PUT, PATCH and DELETE still carry the old tag: all refused.
    let before = snapshot(&[&user.id]).await;
    let stale = [
        put(&user, id, "tab B"),
        Call::new(CompleteTask).user(&user).id(id),
        Call::new(DeleteTask).user(&user).id(id),
    ];
    for call in stale {
        let problem = call.header("if-match", &seen).send(&app).await.problem(412);
        assert!(
            problem["detail"].as_str().unwrap().contains("changed"),
            "{problem}"
        );
    }
    assert_eq!(snapshot(&[&user.id]).await, before);

    // With the current tag (or one of a list holding it), they go through.
    put(&user, id, "tab B")
        .header("if-match", &format!("\"1\", {current}"))
        .send(&app)
        .await
        .expect(200);
    let now = etag(&Call::new(GetTask).user(&user).id(id).send(&app).await);
    let done = Call::new(CompleteTask)
        .user(&user)
        .id(id)
        .header("if-match", &now)
        .send(&app)
        .await;
    assert_eq!(done.expect(200).json()["completed"], json!(true));
    Call::new(DeleteTask)
        .user(&user)
        .id(id)
        .header("if-match", &etag(&done))
        .send(&app)
        .await
        .expect(204);
}

#[tokio::test]
async fn if_match_edge_cases() {
    let app = app().await;
    let user = User::new("if-match");
    let id = create(&app, &user, "t").await["id"].as_i64().unwrap();
    let tag = etag(&Call::new(GetTask).user(&user).id(id).send(&app).await);

    // `*` matches any existing task, so it behaves as no If-Match at all.
    put(&user, id, "star")
        .header("if-match", "*")
        .send(&app)
        .await
        .expect(200);
    // A weak tag never matches (If-Match compares strongly); neither does a
    // tag this API never issued.
    let weak = format!(
        "W/{}",
        etag(&Call::new(GetTask).user(&user).id(id).send(&app).await)
    );
    for foreign in [weak.as_str(), "\"abc\"", "\"\""] {
        put(&user, id, "x")
            .header("if-match", foreign)
            .send(&app)
            .await
            .problem(412);
    }
    // A missing task is 404 whatever the precondition: the task is not there
    // to have changed.
    for condition in [tag.as_str(), "*"] {
        put(&user, id + 1_000_000, "x")
            .header("if-match", condition)
            .send(&app)
            .await
            .problem(404);
    }
    // Another user's task: 404 too, never 412 (which would reveal it exists).
    let other = User::new("other");
    put(&other, id, "x")
        .header("if-match", &tag)
        .send(&app)
        .await
        .problem(404);
    // Anything that is not an entity tag matches nothing either: 412.
    for garbage in ["abc", "\"1\" \"2\"", "\"unterminated", "0", ""] {
        put(&user, id, "x")
            .header("if-match", garbage)
            .send(&app)
            .await
            .problem(412);
    }
}

#[tokio::test]
async fn of_concurrent_saves_from_one_version_exactly_one_wins() {
    let user = User::new("race");
    let instances = instances(6).await;
    let id = create(&instances[0], &user, "v0").await["id"]
        .as_i64()
        .unwrap();
    for round in 0..5 {
        let seen = etag(
            &Call::new(GetTask)
                .user(&user)
                .id(id)
                .send(&instances[0])
                .await,
        );
        let saves = instances.iter().enumerate().map(|(n, app)| {
            let call = if n % 2 == 0 {
                put(&user, id, &format!("round {round} by {n}"))
            } else {
                Call::new(CompleteTask).user(&user).id(id)
            };
            call.header("if-match", &seen).send(app)
        });
        let statuses: Vec<u16> = futures_util::future::join_all(saves)
            .await
            .iter()
            .map(|reply| reply.status)
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert!(statuses.iter().all(|s| *s == 200 || *s == 412));
    }
}

#[tokio::test]
async fn a_star_in_a_list_is_no_wildcard() {
    let fixture = Fixture::new().await;
    let stale = "\"1\"";
    let cases: [&[&str]; 4] = [
        &["*garbage"],
        &[stale, "*"],
        &["\"1\", *"],
        // Two header lines, joined with a comma as API Gateway delivers them.
        &["*", stale],
    ];
    for lines in cases {
        for endpoint in [UpdateTask, CompleteTask, DeleteTask] {
            let mut call = fixture.call(endpoint);
            if endpoint == UpdateTask {
                call = call.json(json!({"title": "changed"}));
            }
            for line in lines {
                call = call.header("if-match", line);
            }
            fixture.rejects(call, 412).await;
        }
    }
}

#[tokio::test]
async fn if_none_match_on_a_change_is_412_when_it_matches() {
    let fixture = Fixture::new().await;
    let tag = etag(&fixture.call(GetTask).send(&fixture.app).await);
    let weak = format!("W/{tag}");
    for condition in ["*", tag.as_str(), weak.as_str()] {
        for endpoint in [UpdateTask, CompleteTask, DeleteTask] {
            let mut call = fixture.call(endpoint).header("if-none-match", condition);
            if endpoint == UpdateTask {
                call = call.json(json!({"title": "changed"}));
            }
            fixture.rejects(call, 412).await;
        }
    }
    // A missing task is a 404 whatever the precondition.
    let id = fixture.id.as_i64().unwrap();
    put(&fixture.user, id + 1_000_000, "x")
        .header("if-none-match", "*")
        .send(&fixture.app)
        .await
        .problem(404);
    // A tag of another version does not match: the change goes through.
    put(&fixture.user, id, "changed")
        .header("if-none-match", "\"1\"")
        .send(&fixture.app)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_get_of_an_unchanged_task_is_304() {
    let fixture = Fixture::new().await;
    let id = fixture.id.as_i64().unwrap();
    let got = fixture.call(GetTask).send(&fixture.app).await;
    let tag = etag(&got);
    let weak = format!("W/{tag}");
    let listed = format!("\"1\", {tag}");
    for condition in [tag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        for method in ["GET", "HEAD"] {
            let reply = fixture
                .call(GetTask)
                .method(method)
                .header("if-none-match", condition)
                .send(&fixture.app)
                .await;
            reply.expect(304);
            assert!(reply.body.is_empty());
            assert_eq!(etag(&reply), tag);
            assert_eq!(reply.header("cache-control"), Some("no-store"));
            assert_eq!(reply.header("content-type"), None);
        }
    }
    // Once the task changes, the old tag gets the new task.
    put(&fixture.user, id, "changed")
        .send(&fixture.app)
        .await
        .expect(200);
    let reply = fixture
        .call(GetTask)
        .header("if-none-match", &tag)
        .send(&fixture.app)
        .await;
    reply.expect(200);
    assert_eq!(reply.json()["title"], "changed");
    // A missing task stays a 404, and garbage matches nothing.
    Call::new(GetTask)
        .user(&fixture.user)
        .id(id + 1_000_000)
        .header("if-none-match", "*")
        .send(&fixture.app)
        .await
        .problem(404);
    fixture
        .call(GetTask)
        .header("if-none-match", "*garbage")
        .send(&fixture.app)
        .await
        .expect(200);
}
