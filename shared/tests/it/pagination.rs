//! The list endpoint's pages and search: keyset pagination with `limit`, an
//! opaque `cursor` and `Link: <…>; rel="next"`; `q` served by trigram indexes.

use serde_json::json;
use shared::App;
use std::collections::HashSet;
use testkit::*;

const SORTS: [&str; 3] = ["created", "updated", "title"];
const ORDERS: [&str; 2] = ["asc", "desc"];

fn list(user: &User, pairs: &[(&str, &str)]) -> Call {
    pairs
        .iter()
        .fold(Call::new(ListTasks).user(user), |call, (k, v)| {
            call.query(k, v)
        })
}

fn ids_of(reply: &Reply) -> Vec<i64> {
    reply.expect(200);
    reply
        .json()
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|task| task["id"].as_i64().unwrap())
        .collect()
}

/// Follows `Link: rel="next"` from the first page to the last and returns
/// every id in the order served. `insert_between` tasks are created through
/// the API after each page, as another tab would.
async fn walk(app: &App, user: &User, pairs: &[(&str, &str)], insert_between: usize) -> Vec<i64> {
    let mut call = list(user, pairs);
    let mut ids = Vec::new();
    for page in 1.. {
        assert!(page < 1000, "the pages never end");
        let reply = call.send(app).await;
        let served = ids_of(&reply);
        // A next page is only announced when it has something on it.
        assert!(
            page == 1 || !served.is_empty(),
            "page {page} of {pairs:?} is empty"
        );
        ids.extend(served);
        let Some(link) = reply.header("link") else {
            break;
        };
        let prefix = format!("/api/{}/tasks?", user.id);
        assert!(link_target(link).starts_with(&prefix), "{link}");
        for i in 0..insert_between {
            create(app, user, &format!("inserted {page}.{i}")).await;
        }
        call = Call::new(ListTasks).user(user).next_page(link);
    }
    ids
}

/// 250 tasks with many equal titles, 125 of them sharing one created_at and
/// updated_at (inserted by one statement), a third completed: every sort key
/// has ties, so the id tie-breaker is exercised on every sort.
async fn seed_250(app: &App, user: &User) {
    for i in 0..125 {
        create(app, user, &format!("title {}", i % 20)).await;
    }
    let db = sql().await;
    db.execute(
        "INSERT INTO tasks (user_id, title) \
         SELECT $1, 'title ' || (i % 20) FROM generate_series(1, 125) AS i",
        &[&user.id],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE tasks SET completed = true WHERE user_id = $1 AND id % 3 = 0",
        &[&user.id],
    )
    .await
    .unwrap();
}

/// The order the API must serve, straight from the database.
async fn expected(user: &User, sort: &str, order: &str, pending_only: bool) -> Vec<i64> {
    let column = match sort {
        "created" => "created_at",
        "updated" => "updated_at",
        _ => "title",
    };
    let sql_text = format!(
        "SELECT id FROM tasks WHERE user_id = $1 AND (NOT $2 OR NOT completed) \
         ORDER BY {column} {order}, id {order}"
    );
    sql()
        .await
        .query(&sql_text, &[&user.id, &pending_only])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn every_page_under_every_sort_serves_each_task_once_in_order() {
    let app = app().await;
    let user = User::new("pages");
    seed_250(&app, &user).await;
    for sort in SORTS {
        for order in ORDERS {
            for (status, limit) in [("all", "50"), ("pending", "7")] {
                let pairs = [
                    ("sort", sort),
                    ("order", order),
                    ("status", status),
                    ("limit", limit),
                ];
                let served = walk(&app, &user, &pairs, 0).await;
                let want = expected(&user, sort, order, status == "pending").await;
                assert_eq!(served, want, "{pairs:?}");
            }
        }
    }
    // The default page is 100 tasks: three pages, the last one of 50.
    let first = list(&user, &[]).send(&app).await;
    assert_eq!(ids_of(&first).len(), 100);
    assert_eq!(walk(&app, &user, &[], 0).await.len(), 250);
}

#[tokio::test]
async fn pages_stay_exact_while_tasks_are_inserted_between_them() {
    let app = app().await;
    let user = User::new("inserting");
    seed_250(&app, &user).await;
    let originals: HashSet<i64> = expected(&user, "created", "asc", false)
        .await
        .into_iter()
        .collect();
    for sort in SORTS {
        for order in ORDERS {
            let pairs = [("sort", sort), ("order", order), ("limit", "40")];
            let served = walk(&app, &user, &pairs, 2).await;
            let mut seen = HashSet::new();
            for id in &served {
                assert!(seen.insert(*id), "{pairs:?}: task {id} served twice");
            }
            let missing: Vec<_> = originals.difference(&seen).collect();
            assert!(missing.is_empty(), "{pairs:?}: never served {missing:?}");
        }
    }
}

#[tokio::test]
async fn a_cursor_only_works_for_the_user_sort_and_filters_it_was_made_for() {
    let app = app().await;
    let alice = User::new("alice");
    let bob = User::new("bob");
    for i in 0..3 {
        create(&app, &alice, &format!("milk {i}")).await;
        create(&app, &bob, &format!("milk {i}")).await;
    }
    let first = list(&alice, &[("limit", "1"), ("q", "milk")])
        .send(&app)
        .await;
    let link = first.header("link").expect("a next page").to_owned();
    let next = || Call::new(ListTasks).user(&alice).next_page(&link);
    next().send(&app).await.expect(200);
    // The page size may change on the way.
    next().query("limit", "2").send(&app).await.expect(400); // given twice
    let resized = link.replace("limit=1", "limit=2");
    let page = Call::new(ListTasks)
        .user(&alice)
        .next_page(&resized)
        .send(&app)
        .await;
    assert_eq!(ids_of(&page).len(), 2);

    let before = snapshot(&[&alice.id, &bob.id]).await;
    let cursor = cursor_in(&link);
    let reuse = |user: &User, pairs: &[(&str, &str)]| list(user, pairs).query("cursor", &cursor);
    let refused = [
        reuse(&bob, &[("q", "milk")]),
        reuse(&alice, &[("q", "milk"), ("sort", "title")]),
        reuse(&alice, &[("q", "milk"), ("order", "asc")]),
        reuse(&alice, &[("q", "milk"), ("status", "pending")]),
        reuse(&alice, &[("q", "MILK")]),
        reuse(&alice, &[]),
    ];
    for call in refused {
        let problem = call.send(&app).await.problem(400);
        assert_eq!(problem["errors"][0]["field"], json!("cursor"), "{problem}");
    }
    for garbage in ["x", "not a cursor", "AAAA", &"A".repeat(5000)] {
        let problem = list(&alice, &[("cursor", garbage)])
            .send(&app)
            .await
            .problem(400);
        assert_eq!(problem["errors"][0]["field"], json!("cursor"), "{problem}");
    }
    assert_eq!(snapshot(&[&alice.id, &bob.id]).await, before);
}

/// The plan PostgreSQL chose for the last statement of `application`, from
/// auto_explain's entry in the server log.
fn last_plan(application: &str) -> String {
    let log = std::fs::read_to_string(std::env::var("TEST_DATABASE_LOG").unwrap()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let start = lines
        .iter()
        .rposition(|line| line.starts_with(&format!("{application}|")) && line.contains("plan:"))
        .expect("auto_explain logged a plan");
    lines[start + 1..]
        .iter()
        .take_while(|line| line.starts_with(['\t', ' ']))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn search_uses_the_trigram_indexes_on_ten_thousand_tasks() {
    let user = User::new("searcher");
    // This instance's session asks auto_explain to log the plan of every
    // statement it runs, so the plan checked is the request's own.
    let url = format!(
        "{}&options={}",
        database_url(),
        "-c%20session_preload_libraries%3Dauto_explain\
         %20-c%20auto_explain.log_min_duration%3D0"
    );
    let (app, application) = counted_app(config_for(&url)).await;
    create(&app, &user, "first").await;
    let db = sql().await;
    db.execute(
        "INSERT INTO tasks (user_id, title, description) \
         SELECT $1, 'Task ' || md5(i::text), \
                CASE WHEN i % 2 = 0 THEN 'note ' || md5((i * 7919)::text) END \
         FROM generate_series(1, 10000) AS i",
        &[&user.id],
    )
    .await
    .unwrap();
    // What autovacuum does after a bulk insert: GIN indexes keep fresh
    // entries in a pending list, which the planner rightly prices as a scan.
    db.batch_execute("VACUUM ANALYZE tasks").await.unwrap();

    // Eight characters from one title and one description, upper-cased: the
    // match is case-insensitive.
    for needle_sql in [
        "SELECT upper(substr(md5('4242'), 9, 8))",
        "SELECT upper(substr(md5((1234 * 7919)::text), 3, 8))",
    ] {
        let needle: String = db.query_one(needle_sql, &[]).await.unwrap().get(0);
        let want: Vec<i64> = db
            .query(
                "SELECT id FROM tasks WHERE user_id = $1 \
                   AND (title ILIKE '%' || $2 || '%' OR description ILIKE '%' || $2 || '%') \
                 ORDER BY created_at DESC, id DESC",
                &[&user.id, &needle],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert!(!want.is_empty());
        let served = ids_of(&list(&user, &[("q", &needle)]).send(&app).await);
        assert_eq!(served, want, "q={needle}");
        let plan = last_plan(&application);
        for index in ["tasks_title_trgm_idx", "tasks_description_trgm_idx"] {
            assert!(
                plan.contains(&format!("Bitmap Index Scan on {index}")),
                "q={needle} did not use {index}:\n{plan}"
            );
        }
    }
}
