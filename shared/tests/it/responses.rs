//! Responses byte for byte. A fixed set of requests, each answered by its
//! function's own process under a Runtime API, against a fresh database
//! seeded with fixed rows: what each function posted back (status, headers
//! and body, as API Gateway receives them) must equal the recording in
//! `fixtures/responses.json`, made before the work on instructions per
//! request began. Values a successful write makes up on the spot (its
//! timestamps, the version in its ETag) are replaced by placeholders on
//! both sides; nothing else is.
//!
//! `RECORD_RESPONSES=1` rewrites the recording: only for a change to the
//! answers that is meant, reviewed in the diff.

use serde_json::{json, Value};
use shared::Endpoint;
use testkit::instance::Fleet;
use testkit::*;

const RECORDING: &str = "shared/tests/it/fixtures/responses.json";

/// Three tasks of one user and one of another, with fixed ids and times.
const SEED: &str = "
INSERT INTO users (id, email, name) VALUES
  ('golden-user', 'golden@example.com', 'Golden User'), ('golden-other', NULL, NULL);
INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
OVERRIDING SYSTEM VALUE VALUES
  (1, 'golden-user', 'Buy milk', 'two litres, \"semi-skimmed\"', false,
   '2026-01-02T03:04:05.678901Z', '2026-01-02T03:04:05.678901Z'),
  (2, 'golden-user', 'Ünïcödé title ✓', NULL, true,
   '2026-01-03T00:00:00Z', '2026-01-04T12:30:00.5Z'),
  (3, 'golden-user', 'Third', 'line one\nline two\ttabbed', false,
   '2026-01-05T23:59:59.999999Z', '2026-01-05T23:59:59.999999Z'),
  (4, 'golden-other', 'Not yours', NULL, false,
   '2026-01-06T00:00:00Z', '2026-01-06T00:00:00Z');
SELECT setval(pg_get_serial_sequence('tasks', 'id'), 100);
";

/// The versions (ETags) of tasks 1 and 2 as seeded.
const V1: &str = "\"1767323045678901\"";
const V2: &str = "\"1767529800500000\"";

/// Each request: its name, the call, and the task whose new timestamps and
/// version must be masked (a write that succeeds), if any.
fn requests() -> Vec<(&'static str, Call, Option<i64>)> {
    let user = User::named("golden-user");
    let call = |endpoint| Call::new(endpoint).user(&user);
    vec![
        ("get", call(Endpoint::GetTask).id(1), None),
        ("get unicode", call(Endpoint::GetTask).id(2), None),
        (
            "get not modified",
            call(Endpoint::GetTask).id(1).header("if-none-match", V1),
            None,
        ),
        ("get missing", call(Endpoint::GetTask).id(999), None),
        ("get another user's", call(Endpoint::GetTask).id(4), None),
        ("get bad id", call(Endpoint::GetTask).id("abc"), None),
        (
            "get without a token",
            call(Endpoint::GetTask).id(1).authorization(None),
            None,
        ),
        (
            "get with a bad token",
            call(Endpoint::GetTask)
                .id(1)
                .authorization(Some("Bearer not.a.token".into())),
            None,
        ),
        (
            "get another path user",
            call(Endpoint::GetTask).id(1).path_user("golden-other"),
            None,
        ),
        ("head", call(Endpoint::GetTask).id(1).method("HEAD"), None),
        (
            "options",
            call(Endpoint::GetTask).id(1).method("OPTIONS"),
            None,
        ),
        (
            "post to a task",
            call(Endpoint::GetTask).id(1).method("POST"),
            None,
        ),
        ("list", call(Endpoint::ListTasks), None),
        (
            "list, a page of 2",
            call(Endpoint::ListTasks).query("limit", "2"),
            None,
        ),
        (
            "list, completed, by title",
            call(Endpoint::ListTasks)
                .query("status", "completed")
                .query("sort", "title"),
            None,
        ),
        (
            "list, bad limit",
            call(Endpoint::ListTasks).query("limit", "0"),
            None,
        ),
        (
            "create without a title",
            call(Endpoint::CreateTask).json(json!({"description": "x"})),
            None,
        ),
        (
            // Unknown members are ignored (docs/API.md): a new task, 101.
            "create with an unknown field",
            call(Endpoint::CreateTask).json(json!({"title": "t", "colour": 1})),
            Some(101),
        ),
        (
            "update with a stale If-Match",
            call(Endpoint::UpdateTask)
                .id(2)
                .header("if-match", V1)
                .json(json!({"title": "new", "description": null, "completed": false})),
            None,
        ),
        (
            "complete, not a boolean",
            call(Endpoint::CompleteTask)
                .id(1)
                .json(json!({"completed": "yes"})),
            None,
        ),
        ("delete missing", call(Endpoint::DeleteTask).id(999), None),
        (
            "update",
            call(Endpoint::UpdateTask)
                .id(2)
                .header("if-match", V2)
                .json(
                    json!({"title": "Renamed", "description": "now with one", "completed": false}),
                ),
            Some(2),
        ),
        (
            "complete",
            call(Endpoint::CompleteTask)
                .id(3)
                .json(json!({"completed": true})),
            Some(3),
        ),
        (
            "create",
            call(Endpoint::CreateTask)
                .header("idempotency-key", "golden-key-1")
                .json(json!({"title": "Created", "description": "by the recording"})),
            Some(102),
        ),
        (
            "create, replayed",
            call(Endpoint::CreateTask)
                .header("idempotency-key", "golden-key-1")
                .json(json!({"title": "Created", "description": "by the recording"})),
            Some(102),
        ),
        ("delete", call(Endpoint::DeleteTask).id(1), None),
        ("get deleted", call(Endpoint::GetTask).id(1), None),
    ]
}

/// The raw response with the task's new timestamps and version masked.
async fn masked(raw: String, task: Option<i64>, db: &tokio_postgres::Client) -> String {
    let Some(id) = task else { return raw };
    let row = db
        .query_one(
            "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    (extract(epoch FROM updated_at) * 1000000)::bigint::text
             FROM tasks WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let (created, updated, version): (String, String, String) =
        (row.get(0), row.get(1), row.get(2));
    let mut raw = raw
        .replace(&updated, "<updated_at>")
        .replace(&version, "<version>");
    // A seeded task keeps its creation time; only a new one's is made up.
    if id > 100 {
        raw = raw.replace(&created, "<created_at>");
    }
    raw
}

#[tokio::test]
async fn responses_are_byte_for_byte_the_recorded_ones() {
    let (_cluster, url) = own_database().await;
    let db = sql_at(&url).await;
    db.batch_execute(SEED).await.unwrap();
    let fleet = Fleet::start(&url, 1, &[]).await;
    let mut answers = Vec::new();
    for (name, call, task) in requests() {
        let raw = fleet.send_raw(call).await;
        answers.push(json!({"request": name, "response": masked(raw, task, &db).await}));
    }
    let path = xtask::project_root().join(RECORDING);
    if std::env::var_os("RECORD_RESPONSES").is_some() {
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&answers).unwrap() + "\n",
        )
        .unwrap();
    }
    let recorded: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        recorded.len(),
        answers.len(),
        "the recording has other requests"
    );
    for (recorded, answered) in recorded.iter().zip(&answers) {
        assert_eq!(recorded["request"], answered["request"]);
        assert_eq!(
            recorded["response"].as_str(),
            answered["response"].as_str(),
            "{}: the response changed",
            answered["request"]
        );
    }
}
