//! The fields people plan with (priority, tags, due date) on create, PUT
//! and PATCH, against a real PostgreSQL: stored and answered as sent, kept
//! when a client leaves them out, cleared by `null`, and refused by name,
//! with nothing changed, when they are wrong.

use serde_json::{json, Value};
use testkit::*;

/// A PATCH of task `id`, with `headers` (lower-case names).
async fn patch_with(
    app: &shared::App,
    user: &User,
    id: i64,
    headers: &[(&str, &str)],
    body: Value,
) -> Reply {
    let mut call = Call::new(UpdateTask).method("PATCH").user(user).id(id);
    for (name, value) in headers {
        call = call.header(name, value);
    }
    call.json(body).send(app).await
}

async fn patch(app: &shared::App, user: &User, id: i64, body: Value) -> Reply {
    patch_with(app, user, id, &[], body).await
}

fn planning(task: &Value) -> Value {
    json!([task["priority"], task["tags"], task["due_date"]])
}

#[tokio::test]
async fn every_form_of_every_field_is_stored_and_answered() {
    let app = app().await;
    let user = User::new("planner");
    let cases = [
        (
            json!({"priority": "HIGH", "tags": [" Work ", "home", "WORK"], "due_date": "2026-01-31"}),
            json!(["high", ["Work", "home"], "2026-01-31"]),
        ),
        (
            json!({"priority": "low", "due_date": "2026-01-31T09:30:00+02:00"}),
            json!(["low", [], "2026-01-31T07:30:00.000000Z"]),
        ),
        (
            json!({"priority": null, "tags": null, "due_date": "2026-01-31T09:30"}),
            json!(["none", [], "2026-01-31T09:30:00.000000Z"]),
        ),
        (
            json!({"due_date": "2026-03-29T01:59:59.1234567Z"}),
            json!(["none", [], "2026-03-29T01:59:59.123457Z"]),
        ),
        (json!({}), json!(["none", [], null])),
    ];
    for (fields, answered) in cases {
        let mut body = fields.clone();
        body["title"] = json!("plan");
        let created = Call::new(CreateTask)
            .user(&user)
            .json(body)
            .send(&app)
            .await;
        created.expect(201);
        assert_eq!(planning(&created.json()), answered, "{fields}");
        let got = Call::new(GetTask)
            .user(&user)
            .id(created.task_id())
            .send(&app)
            .await;
        assert_eq!(got.json(), created.json(), "{fields}");
    }
}

#[tokio::test]
async fn put_keeps_what_it_does_not_name_and_null_clears() {
    let app = app().await;
    let user = User::new("put-keeps");
    let created = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "t", "priority": "medium", "tags": ["a"], "due_date": "2026-05-01"}))
        .send(&app)
        .await;
    let id = created.task_id();
    // A client that knows only title, description and completed.
    let put = Call::new(UpdateTask)
        .user(&user)
        .id(id)
        .json(json!({"title": "renamed", "completed": true}))
        .send(&app)
        .await;
    put.expect(200);
    assert_eq!(
        planning(&put.json()),
        json!(["medium", ["a"], "2026-05-01"])
    );
    let put = Call::new(UpdateTask)
        .user(&user)
        .id(id)
        .json(json!({"title": "renamed", "priority": null, "tags": null, "due_date": null}))
        .send(&app)
        .await;
    assert_eq!(planning(&put.json()), json!(["none", [], null]));
    assert_eq!(put.json()["completed"], json!(true));
}

#[tokio::test]
async fn patch_changes_one_member_at_a_time() {
    let app = app().await;
    let user = User::new("patcher");
    let created = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "t", "description": "d"}))
        .send(&app)
        .await;
    let id = created.task_id();
    let mut expected = created.json();
    let mut etag = created.header("etag").unwrap().to_owned();
    let steps = [
        json!({"priority": "High"}),
        json!({"tags": ["x", "y"]}),
        json!({"due_date": "2026-12-31T23:59:59Z"}),
        json!({"title": " new title "}),
        json!({"completed": true}),
        json!({"description": null}),
        json!({"priority": null}),
        json!({"tags": null}),
        json!({"due_date": null}),
        json!({"description": "again", "id": 1, "user_id": "mallory", "created_at": "2000-01-01T00:00:00Z"}),
        json!({}),
    ];
    let answers = [
        ("priority", json!("high")),
        ("tags", json!(["x", "y"])),
        ("due_date", json!("2026-12-31T23:59:59.000000Z")),
        ("title", json!("new title")),
        ("completed", json!(true)),
        ("description", Value::Null),
        ("priority", json!("none")),
        ("tags", json!([])),
        ("due_date", Value::Null),
        ("description", json!("again")),
        ("title", json!("new title")),
    ];
    for (step, (member, value)) in steps.into_iter().zip(answers) {
        let reply = patch(&app, &user, id, step.clone()).await;
        reply.expect(200);
        let task = reply.json();
        expected[member] = value;
        assert!(
            task["updated_at"].as_str() > expected["updated_at"].as_str(),
            "{step}"
        );
        expected["updated_at"] = task["updated_at"].clone();
        assert_eq!(task, expected, "{step}");
        let moved = reply.header("etag").unwrap().to_owned();
        assert_ne!(moved, etag, "{step}");
        etag = moved;
    }
}

#[tokio::test]
async fn bad_values_are_refused_by_name_and_change_nothing() {
    let app = app().await;
    let user = User::new("planner-bad");
    let created = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "t", "priority": "low", "tags": ["keep"]}))
        .send(&app)
        .await;
    let id = created.task_id();
    let before = snapshot(&[&user.id]).await;
    let long = "x".repeat(51);
    let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let bad = [
        (json!({"priority": "urgent"}), "priority"),
        (json!({"priority": 3}), "priority"),
        (json!({"tags": "work"}), "tags"),
        (json!({"tags": ["a,b"]}), "tags"),
        (json!({"tags": [" "]}), "tags"),
        (json!({"tags": [long]}), "tags"),
        (json!({"tags": many}), "tags"),
        (json!({"tags": ["a\u{0}"]}), "tags"),
        (json!({"tags": [1]}), "tags"),
        (json!({"due_date": "2026-02-30"}), "due_date"),
        (json!({"due_date": "9999-12-31T23:59:59-01:00"}), "due_date"),
        (json!({"due_date": "0001-01-01T00:30:00+01:00"}), "due_date"),
        (json!({"due_date": "tomorrow"}), "due_date"),
        (json!({"due_date": 1_767_225_600}), "due_date"),
        (json!({"title": null}), "title"),
        (json!({"completed": null}), "completed"),
    ];
    for (body, field) in bad {
        let reply = patch(&app, &user, id, body.clone()).await;
        assert_eq!(Fixture::field_of(&reply.problem(400)), [field], "{body}");
        if field != "title" {
            let mut put = body.clone();
            put["title"] = json!("t");
            let reply = Call::new(UpdateTask)
                .user(&user)
                .id(id)
                .json(put.clone())
                .send(&app)
                .await;
            assert_eq!(Fixture::field_of(&reply.problem(400)), [field], "{put}");
            if field == "completed" {
                continue; // A create has no `completed` member to refuse.
            }
            let reply = Call::new(CreateTask)
                .user(&user)
                .json(put.clone())
                .send(&app)
                .await;
            assert_eq!(Fixture::field_of(&reply.problem(400)), [field], "{put}");
        }
    }
    assert_eq!(snapshot(&[&user.id]).await, before);
}

#[tokio::test]
async fn patch_is_conditional_like_put() {
    let app = app().await;
    let user = User::new("patch-if");
    let created = Call::new(CreateTask)
        .user(&user)
        .json(json!({"title": "t"}))
        .send(&app)
        .await;
    let id = created.task_id();
    let etag = created.header("etag").unwrap().to_owned();
    let high = json!({"priority": "high"});
    let low = json!({"priority": "low"});
    let first = patch_with(&app, &user, id, &[("if-match", &etag)], high).await;
    first.expect(200);
    let stale = patch_with(&app, &user, id, &[("if-match", &etag)], low.clone()).await;
    stale.problem(412);
    let exists = patch_with(&app, &user, id, &[("if-none-match", "*")], low).await;
    exists.problem(412);
    let other = User::new("patch-other");
    let hidden = patch(&app, &other, id, json!({"priority": "low"})).await;
    hidden.problem(404);
    let now = Call::new(GetTask).user(&user).id(id).send(&app).await;
    assert_eq!(now.json()["priority"], json!("high"));
}

#[tokio::test]
async fn a_keyed_retry_must_carry_the_same_planning_fields() {
    let app = app().await;
    let user = User::new("planner-key");
    let body = json!({"title": "t", "priority": "high", "tags": ["a"], "due_date": "2026-01-31"});
    let create = |body: Value| {
        Call::new(CreateTask)
            .user(&user)
            .header("idempotency-key", "plan-key")
            .json(body)
    };
    let first = create(body.clone()).send(&app).await;
    first.expect(201);
    // The same request as parsed: another letter case, spacing, a duplicate tag.
    let same =
        json!({"title": " t ", "priority": "HIGH", "tags": ["a", "A"], "due_date": "2026-01-31"});
    let replay = create(same).send(&app).await;
    replay.expect(201);
    assert_eq!(replay.json(), first.json());
    for (member, other) in [
        ("priority", json!("low")),
        ("tags", json!(["b"])),
        ("due_date", json!("2026-01-31T00:00:00Z")),
        ("due_date", Value::Null),
    ] {
        let mut changed = body.clone();
        changed[member] = other;
        let reply = create(changed.clone()).send(&app).await;
        assert_eq!(reply.status, 422, "{changed}");
    }
}

/// A list's parameters, as (name, value) pairs.
type Query<'a> = &'a [(&'a str, &'a str)];

/// The ids of every page of a list, following each page's `Link`.
async fn walk(app: &shared::App, user: &User, query: Query<'_>) -> Vec<i64> {
    let mut call = Call::new(ListTasks).user(user);
    for (name, value) in query {
        call = call.query(name, value);
    }
    let mut ids = Vec::new();
    loop {
        let page = call.clone().send(app).await;
        page.expect(200);
        ids.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page.header("link") {
            Some(link) => call = Call::new(ListTasks).user(user).next_page(link),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn the_list_filters_by_priority_tags_and_due_date_across_pages() {
    let app = app().await;
    let user = User::new("filters");
    let tasks = [
        json!({"priority": "high", "tags": ["Work", "urgent"], "due_date": "2026-01-10"}),
        json!({"priority": "low", "tags": ["work"], "due_date": "2026-01-20T12:00:00Z"}),
        json!({"priority": "high", "tags": ["home"], "due_date": "2026-02-01"}),
        json!({"priority": "medium", "tags": ["WORK", "Urgent"]}),
        json!({"priority": "high"}),
        json!({"tags": ["work"], "due_date": "2025-12-31T23:59:59Z"}),
    ];
    let mut ids = Vec::new();
    for (i, fields) in tasks.iter().enumerate() {
        let mut body = fields.clone();
        body["title"] = json!(format!("task {i}"));
        let created = Call::new(CreateTask)
            .user(&user)
            .json(body)
            .send(&app)
            .await;
        ids.push(created.task_id());
    }
    let pick = |which: &[usize]| -> Vec<i64> {
        // Newest first, the list's default order.
        let mut picked: Vec<i64> = which.iter().map(|i| ids[*i]).collect();
        picked.sort_unstable_by(|a, b| b.cmp(a));
        picked
    };
    let cases: [(Query, Vec<i64>); 8] = [
        (&[("priority", "high")], pick(&[0, 2, 4])),
        (&[("priority", "HIGH,medium")], pick(&[0, 2, 3, 4])),
        (&[("tag", "work")], pick(&[0, 1, 3, 5])),
        (&[("tags", "urgent,WORK")], pick(&[0, 3])),
        (&[("due_after", "2026-01-10")], pick(&[0, 1, 2])),
        (&[("due_before", "2026-01-20T12:00:00Z")], pick(&[0, 5])),
        (
            &[
                ("due_after", "2026-01-01"),
                ("due_before", "2026-02-01"),
                ("tag", "work"),
            ],
            pick(&[0, 1]),
        ),
        (&[("priority", "none"), ("search", "task")], pick(&[5])),
    ];
    for (query, expected) in cases {
        let mut paged = query.to_vec();
        paged.push(("limit", "1"));
        assert_eq!(walk(&app, &user, &paged).await, expected, "{query:?}");
    }

    // A cursor belongs to its filters.
    let first = Call::new(ListTasks)
        .user(&user)
        .query("tag", "work")
        .query("limit", "1")
        .send(&app)
        .await;
    let cursor = cursor_in(first.header("link").unwrap());
    let others: [Query; 4] = [
        &[("tag", "home")],
        &[("tag", "work"), ("priority", "high")],
        &[("tags", "work"), ("due_after", "2026-01-01")],
        &[("tag", "work"), ("due_before", "2027-01-01")],
    ];
    for other in others {
        let mut call = Call::new(ListTasks).user(&user).query("cursor", &cursor);
        for (name, value) in other {
            call = call.query(name, value);
        }
        let reply = call.send(&app).await;
        assert_eq!(
            Fixture::field_of(&reply.problem(400)),
            ["cursor"],
            "{other:?}"
        );
    }
    // The other name of the same filter is the same filter.
    let same = Call::new(ListTasks)
        .user(&user)
        .query("tags", "WORK")
        .query("cursor", &cursor)
        .send(&app)
        .await;
    same.expect(200);
}

/// A front end written for this API's spec, as it sends its list requests:
/// `sort_by`, `sort_order` and `search`, with a bare-date due date created.
#[tokio::test]
async fn a_front_ends_spellings_are_understood() {
    let app = app().await;
    let user = User::new("front-end");
    for title in ["Buy milk", "Pay rent", "Buy bread"] {
        Call::new(CreateTask)
            .user(&user)
            .json(json!({"title": title, "due_date": "2026-01-31", "priority": null}))
            .send(&app)
            .await
            .expect(201);
    }
    let listed = Call::new(ListTasks)
        .user(&user)
        .raw_query("sort_by=title&sort_order=desc&search=buy&tags=")
        .send(&app)
        .await;
    listed.expect(200);
    let titles: Vec<Value> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Buy milk"), json!("Buy bread")]);
    let both = Call::new(ListTasks)
        .user(&user)
        .raw_query("sort=title&sort_by=created_at")
        .send(&app)
        .await;
    assert_eq!(Fixture::field_of(&both.problem(400)), ["sort_by"]);
}
