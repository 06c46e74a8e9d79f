//! One SQL statement per request, each one round trip (see `db::Param`).
//! Every statement filters on the authenticated user, so another user's task
//! is indistinguishable from a missing one.

use super::cursor::{Cursor, PageRequest, SortValue};
use super::due::DueDate;
use super::idempotency::{request_hash, IdempotencyKey};
use super::input::{CompletionChange, NewTask, TaskChange};
use super::limit::TaskLimit;
use super::model::{rfc3339, Task};
use super::priority::Priority;
use super::query::{SortKey, SortOrder, StatusFilter};
use super::tag_counts::TagCount;
use super::version::Precondition;
use crate::db::{Database, DbError, Param};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio_postgres::types::Type;
use tokio_postgres::Row;

/// The columns every statement returns, read by name into [`TaskRow`].
/// A macro, so statements can be assembled with `concat!` at compile time.
macro_rules! task_columns {
    () => {
        "id, user_id, title, description, completed, priority, tags, due_at, due_all_day, \
         created_at, updated_at"
    };
}

/// A task as stored: the row of [`task_columns!`], read from a statement's
/// answer or from an idempotency record's JSON (`to_jsonb` of the row; a
/// record written before a column existed lacks it, hence the defaults,
/// which are the column's).
#[derive(Debug, Deserialize)]
struct TaskRow {
    id: i64,
    user_id: String,
    title: String,
    description: Option<String>,
    completed: bool,
    #[serde(default)]
    priority: i16,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, deserialize_with = "optional_rfc3339")]
    due_at: Option<OffsetDateTime>,
    #[serde(default)]
    due_all_day: bool,
    #[serde(deserialize_with = "rfc3339")]
    created_at: OffsetDateTime,
    #[serde(deserialize_with = "rfc3339")]
    updated_at: OffsetDateTime,
}

impl TaskRow {
    /// A row of [`task_columns!`] (other columns may follow).
    fn read(row: &Row) -> Result<Self, DbError> {
        let columns = || -> Result<Self, tokio_postgres::Error> {
            Ok(Self {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                title: row.try_get("title")?,
                description: row.try_get("description")?,
                completed: row.try_get("completed")?,
                priority: row.try_get("priority")?,
                tags: row.try_get("tags")?,
                due_at: row.try_get("due_at")?,
                due_all_day: row.try_get("due_all_day")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        };
        read(columns())
    }

    fn into_task(self) -> Result<Task, DbError> {
        let priority = Priority::from_rank(self.priority)
            .ok_or_else(|| DbError::Statement(format!("priority rank {}", self.priority)))?;
        let due_date = DueDate::from_columns(self.due_at, self.due_all_day);
        Ok(Task {
            id: self.id,
            user_id: self.user_id,
            title: self.title,
            description: self.description,
            completed: self.completed,
            priority,
            tags: self.tags,
            due_date,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn task_from_row(row: &Row) -> Result<Task, DbError> {
    TaskRow::read(row)?.into_task()
}

fn optional_rfc3339<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    #[derive(Deserialize)]
    struct At(#[serde(deserialize_with = "rfc3339")] OffsetDateTime);
    Ok(Option::<At>::deserialize(deserializer)?.map(|At(at)| at))
}

/// Who creates a task: the authenticated user and the profile claims that
/// fill their users row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
}

// Every statement is a compile-time constant: nothing is formatted per request.
// Statements with optional parts (a cursor, If-Match, Idempotency-Key) come in
// two variants, so the common request runs the simplest plan.

/// `updated_at` must move on every change, even when two changes land within
/// the clock's resolution or the clock steps back: it is the task's version.
macro_rules! touch {
    () => {
        "updated_at = GREATEST(now(), updated_at + interval '1 microsecond')"
    };
}

/// The list statement for one sort column and direction, optionally resuming
/// after a cursor's (key, id) — a row comparison the (user_id, key, id) index
/// answers as a range. The ORDER BY comes from the query's enums, never from
/// client text.
macro_rules! list_sql {
    ($column:literal, $direction:literal $(, after $compare:literal)?) => {
        concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE user_id = $1 \
               AND ($2::boolean IS NULL OR completed = $2) \
               AND ($3::text IS NULL OR title ILIKE $3 OR description ILIKE $3) \
               AND ($5::smallint[] IS NULL OR priority = ANY($5)) \
               AND ($6::text[] IS NULL OR task_tag_keys(tags) @> task_tag_keys($6)) \
               AND ($7::timestamptz IS NULL OR due_at >= $7) \
               AND ($8::timestamptz IS NULL OR due_at < $8)",
            $(" AND (", $column, ", id) ", $compare, " ($9, $10)",)?
            " ORDER BY ",
            $column,
            " ",
            $direction,
            ", id ",
            $direction,
            " LIMIT $4"
        )
    };
}

/// Creates or refreshes the owner's users row, as part of the create
/// statement, and answers the owner's `task_count` (kept by the database,
/// V5__task_count.sql). Always an update, even when the profile is unchanged:
/// only an update returns the row, at its latest version rather than the
/// statement's snapshot, and holds its lock until the statement commits. So
/// one user's creates take turns here, and each sees the count the one
/// before it left: the limit holds under any concurrency.
macro_rules! upsert_owner {
    () => {
        "owner AS ( \
            INSERT INTO users AS u (id, email, name) VALUES ($1, $2, $3) \
            ON CONFLICT (id) DO UPDATE \
              SET email = COALESCE(EXCLUDED.email, u.email), \
                  name = COALESCE(EXCLUDED.name, u.name) \
            RETURNING task_count \
         )"
    };
}

/// A change under a precondition (`version::Precondition`): `current`
/// tells a missing task (no row) from a stale one (a row of NULLs). The
/// version test sits in the change's own WHERE, so a concurrent change
/// committed in between is re-checked by PostgreSQL and makes this one stale
/// rather than overwriting it.
macro_rules! conditional {
    ($one_of:literal, $none_of:literal, $($change:tt)+) => {
        concat!(
            "WITH current AS (SELECT id FROM tasks WHERE id = $1 AND user_id = $2), \
                  changed AS (",
            $($change)+,
            " AND (", $one_of, "::timestamptz[] IS NULL OR updated_at = ANY(", $one_of, "))",
            " AND (", $none_of, "::timestamptz[] IS NULL OR updated_at <> ALL(", $none_of, "))",
            " RETURNING ",
            task_columns!(),
            ") SELECT changed.* FROM current LEFT JOIN changed ON true"
        )
    };
}

/// PUT and PATCH: each member either kept or set (`TaskChange`); the
/// nullable ones carry a flag, since their NULL is a value.
macro_rules! change_task {
    () => {
        concat!(
            "UPDATE tasks SET title = COALESCE($3, title), \
               description = CASE WHEN $4 THEN $5 ELSE description END, \
               completed = COALESCE($6, completed), \
               priority = COALESCE($7, priority), \
               tags = COALESCE($8, tags), \
               due_at = CASE WHEN $9 THEN $10 ELSE due_at END, \
               due_all_day = CASE WHEN $9 THEN $11 ELSE due_all_day END, ",
            touch!(),
            " WHERE id = $1 AND user_id = $2"
        )
    };
}

macro_rules! set_completion {
    () => {
        concat!(
            "UPDATE tasks SET completed = COALESCE($3, NOT completed), ",
            touch!(),
            " WHERE id = $1 AND user_id = $2"
        )
    };
}

macro_rules! delete_task {
    () => {
        "DELETE FROM tasks WHERE id = $1 AND user_id = $2"
    };
}

/// Create: the owner ($1–$3), the task ($4–$9: title, description,
/// priority rank, tags, due instant, whole day) and the limit ($10, NULL for
/// none). Answers one row: the owner's count before this create, and the
/// task, or NULLs when the owner is at the limit (nothing is inserted then).
const CREATE: &str = concat!(
    "WITH ",
    upsert_owner!(),
    ", created AS ( \
        INSERT INTO tasks (user_id, title, description, priority, tags, due_at, due_all_day) \
        SELECT $1, $4, $5, $6, $7, $8, $9 FROM owner WHERE $10::integer IS NULL OR task_count < $10 \
        RETURNING ",
    task_columns!(),
    " ) SELECT created.*, owner.task_count FROM owner LEFT JOIN created ON true"
);

/// Create under an Idempotency-Key ($10), with the request's hash ($11) and
/// the limit ($12). Below the limit, the key is claimed first, with the id
/// the task will get and the answer to replay (the task's row as this
/// statement creates it: the table's defaults are `false` and `now()`);
/// only a successful claim inserts the task. A key seen before answers with
/// its stored row, whether the request was the same (`same_request`), and
/// `replayed`, at the limit too. A key whose first request is still running
/// blocks the statement until that commits, and then is invisible to its
/// snapshot: no answer, a 409. Expired keys of the user are swept on the
/// way. One row: the owner's count, and the answer (the row as JSON text)
/// if there is one.
///
/// Until V4's contract step, the claim also writes `title`/`description` and a
/// record without a `response` (written by the previous release during a
/// deploy) is read the old way, so either release can run beside the other.
const CREATE_ONCE: &str = concat!(
    "WITH ",
    upsert_owner!(),
    ", expired AS ( \
        DELETE FROM idempotency_keys \
        WHERE user_id = $1 AND key <> $10 AND created_at < now() - interval '24 hours' \
     ), fresh AS ( \
        SELECT nextval(pg_get_serial_sequence('tasks', 'id')) AS id FROM owner \
        WHERE $12::integer IS NULL OR task_count < $12 \
     ), claim AS ( \
        INSERT INTO idempotency_keys AS k \
          (user_id, key, task_id, request_hash, response, title, description) \
        SELECT $1, $10, id, $11, jsonb_build_object( \
                 'id', id, 'user_id', $1::text, 'title', $4::text, 'description', $5::text, \
                 'completed', false, 'priority', $6::smallint, 'tags', $7::text[], \
                 'due_at', $8::timestamptz, 'due_all_day', $9::boolean, \
                 'created_at', now(), 'updated_at', now()), \
               $4, $5 \
        FROM fresh \
        ON CONFLICT (user_id, key) DO UPDATE \
          SET task_id = EXCLUDED.task_id, request_hash = EXCLUDED.request_hash, \
              response = EXCLUDED.response, title = EXCLUDED.title, \
              description = EXCLUDED.description, created_at = now() \
          WHERE k.created_at < now() - interval '24 hours' \
        RETURNING task_id \
     ), created AS ( \
        INSERT INTO tasks (id, user_id, title, description, priority, tags, due_at, due_all_day) \
        OVERRIDING SYSTEM VALUE \
        SELECT task_id, $1, $4, $5, $6, $7, $8, $9 FROM claim \
        RETURNING ",
    task_columns!(),
    " ), answer AS ( \
        SELECT to_jsonb(created)::text AS task, false AS replayed, true AS same_request \
        FROM created \
        UNION ALL \
        SELECT COALESCE(response, jsonb_build_object( \
                 'id', task_id, 'user_id', user_id, 'title', title, 'description', description, \
                 'completed', false, 'created_at', created_at, 'updated_at', created_at))::text, \
               true, \
               COALESCE(request_hash = $11, title = $4 AND description IS NOT DISTINCT FROM $5) \
        FROM idempotency_keys \
        WHERE user_id = $1 AND key = $10 AND created_at >= now() - interval '24 hours' \
          AND NOT EXISTS (SELECT FROM claim) \
     ) SELECT answer.*, owner.task_count FROM owner LEFT JOIN answer ON true"
);
const GET: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE id = $1 AND user_id = $2"
);
const CHANGE: &str = concat!(change_task!(), " RETURNING ", task_columns!());
const CHANGE_IF: &str = conditional!("$12", "$13", change_task!());
const SET_COMPLETION: &str = concat!(set_completion!(), " RETURNING ", task_columns!());
const SET_COMPLETION_IF: &str = conditional!("$4", "$5", set_completion!());
const DELETE: &str = concat!(delete_task!(), " RETURNING ", task_columns!());
const DELETE_IF: &str = conditional!("$3", "$4", delete_task!());

/// The user's tags ($1) with how many of their tasks carry each. Tags are
/// grouped by PostgreSQL's `lower()`, so the database alone decides which
/// spellings are one tag. A group is spelled as its first use: the lowest
/// task id, then the tag's place on that task. The count is of distinct
/// tasks, not of tags: a task never holds two tags equal under Rust's
/// lowercasing (`tags::key`), but may hold two equal under `lower()` (Rust
/// lowercases a final `Σ` to `ς`, `lower()` to `σ`). Most used first, then
/// by the group's key, which is unique per row: the order is total.
const TAG_COUNTS: &str = "\
    SELECT (array_agg(t.tag ORDER BY tasks.id, t.position))[1] AS name, \
           count(DISTINCT tasks.id) AS count \
    FROM tasks CROSS JOIN LATERAL unnest(tasks.tags) WITH ORDINALITY AS t(tag, position) \
    WHERE tasks.user_id = $1 \
    GROUP BY lower(t.tag) \
    ORDER BY count DESC, lower(t.tag)";

/// One page of a list, and where the next one starts (if there is one).
#[derive(Debug)]
pub struct Page {
    pub tasks: Vec<Task>,
    pub next: Option<Cursor>,
}

/// What became of a change to one task.
#[derive(Debug, PartialEq, Eq)]
pub enum Change<T> {
    Done(T),
    /// No such task for this user.
    Missing,
    /// The task exists, but its version fails the precondition.
    Stale,
}

/// What became of a create.
#[derive(Debug, PartialEq, Eq)]
pub enum Creation {
    Created(Task),
    /// The Idempotency-Key was seen before, with the same request: the task
    /// as that request created it.
    Replayed(Task),
    /// The key was seen before with a different request.
    KeyReused,
    /// The key's first request has not finished yet.
    KeyInFlight,
    /// The owner already holds `count` tasks, at or past `limit`: nothing
    /// was stored.
    LimitReached {
        limit: i32,
        count: i32,
    },
}

fn read<T>(value: Result<T, tokio_postgres::Error>) -> Result<T, DbError> {
    value.map_err(|e| DbError::Statement(e.to_string()))
}

fn tasks(rows: Vec<Row>) -> Result<Vec<Task>, DbError> {
    rows.iter().map(task_from_row).collect()
}

fn first(rows: Vec<Row>) -> Result<Option<Task>, DbError> {
    Ok(tasks(rows)?.into_iter().next())
}

/// Reads the answer of a change statement, conditional or not.
fn change_of(rows: Vec<Row>) -> Result<Change<Task>, DbError> {
    let Some(row) = rows.first() else {
        return Ok(Change::Missing);
    };
    match read(row.try_get::<_, Option<i64>>("id"))? {
        None => Ok(Change::Stale),
        Some(_) => Ok(Change::Done(task_from_row(row)?)),
    }
}

fn list_statement(sort: SortKey, order: SortOrder, resuming: bool) -> &'static str {
    use SortKey::{Created, Title, Updated};
    use SortOrder::{Asc, Desc};
    match (sort, order, resuming) {
        (Created, Asc, false) => list_sql!("created_at", "ASC"),
        (Created, Asc, true) => list_sql!("created_at", "ASC", after ">"),
        (Created, Desc, false) => list_sql!("created_at", "DESC"),
        (Created, Desc, true) => list_sql!("created_at", "DESC", after "<"),
        (Updated, Asc, false) => list_sql!("updated_at", "ASC"),
        (Updated, Asc, true) => list_sql!("updated_at", "ASC", after ">"),
        (Updated, Desc, false) => list_sql!("updated_at", "DESC"),
        (Updated, Desc, true) => list_sql!("updated_at", "DESC", after "<"),
        (Title, Asc, false) => list_sql!("title", "ASC"),
        (Title, Asc, true) => list_sql!("title", "ASC", after ">"),
        (Title, Desc, false) => list_sql!("title", "DESC"),
        (Title, Desc, true) => list_sql!("title", "DESC", after "<"),
    }
}

pub async fn list(db: &Database, user_id: &str, request: &PageRequest) -> Result<Page, DbError> {
    let query = &request.query;
    let completed = match query.status {
        StatusFilter::All => None,
        StatusFilter::Pending => Some(false),
        StatusFilter::Completed => Some(true),
    };
    let pattern = query.search.as_deref().map(like_pattern);
    // One row more than asked tells whether another page exists.
    let fetch = query.limit + 1;
    // An empty list filters nothing: NULL, as the statement reads it.
    let ranks: Option<Vec<i16>> =
        (!query.priorities.is_empty()).then(|| query.priorities.iter().map(|p| p.rank()).collect());
    let tags = (!query.tags.is_empty()).then_some(&query.tags);
    let mut params: Vec<Param> = vec![
        (&user_id, Type::TEXT),
        (&completed, Type::BOOL),
        (&pattern, Type::TEXT),
        (&fetch, Type::INT8),
        (&ranks, Type::INT2_ARRAY),
        (&tags, Type::TEXT_ARRAY),
        (&query.due_after, Type::TIMESTAMPTZ),
        (&query.due_before, Type::TIMESTAMPTZ),
    ];
    if let Some(after) = &request.after {
        params.push(match &after.key {
            SortValue::Time(at) => (at, Type::TIMESTAMPTZ),
            SortValue::Title(title) => (title, Type::TEXT),
        });
        params.push((&after.id, Type::INT8));
    }
    let sql = list_statement(query.sort, query.order, request.after.is_some());
    let mut tasks = tasks(db.query_idempotent(sql, &params).await?)?;
    let next = if tasks.len() as i64 > query.limit {
        tasks.truncate(query.limit as usize);
        tasks.last().map(|last| Cursor::after(last, query.sort))
    } else {
        None
    };
    Ok(Page { tasks, next })
}

/// Creates the task, if the owner is below `limit`, and, in the same
/// statement, the owner's users row (or refreshes its email/name when the
/// token carries new ones) and, with an Idempotency-Key, the key's record.
pub async fn create(
    db: &Database,
    owner: Owner<'_>,
    task: &NewTask,
    key: Option<&IdempotencyKey>,
    limit: TaskLimit,
) -> Result<Creation, DbError> {
    let key = key.map(IdempotencyKey::as_str);
    let most = limit.as_param();
    let rank = task.priority.rank();
    let (due_at, all_day) = DueDate::columns(task.due_date);
    let mut params: Vec<Param> = vec![
        (&owner.user_id, Type::TEXT),
        (&owner.email, Type::TEXT),
        (&owner.name, Type::TEXT),
        (&task.title, Type::VARCHAR),
        (&task.description, Type::VARCHAR),
        (&rank, Type::INT2),
        (&task.tags, Type::TEXT_ARRAY),
        (&due_at, Type::TIMESTAMPTZ),
        (&all_day, Type::BOOL),
    ];
    let hash;
    let sql = match &key {
        None => CREATE,
        Some(key) => {
            hash = request_hash(task);
            params.push((key, Type::TEXT));
            params.push((&hash, Type::BYTEA));
            CREATE_ONCE
        }
    };
    params.push((&most, Type::INT4));
    let rows = db.query(sql, &params).await?;
    let row = rows
        .first()
        .ok_or_else(|| DbError::Statement("the create statement answered no row".into()))?;
    let answered = match key {
        None => match read(row.try_get::<_, Option<i64>>("id"))? {
            Some(_) => return Ok(Creation::Created(task_from_row(row)?)),
            None => None,
        },
        Some(_) => read(row.try_get::<_, Option<String>>("task"))?,
    };
    let Some(task) = answered else {
        let count: i32 = read(row.try_get("task_count"))?;
        return match most {
            Some(limit) if count >= limit => Ok(Creation::LimitReached { limit, count }),
            _ if key.is_some() => Ok(Creation::KeyInFlight),
            _ => Err(DbError::Statement(
                "a create below the limit stored nothing".into(),
            )),
        };
    };
    let task = serde_json::from_str::<TaskRow>(&task)
        .map_err(|e| DbError::Statement(format!("a stored answer that is not a task: {e}")))?
        .into_task()?;
    let replayed: bool = read(row.try_get("replayed"))?;
    let same_request: bool = read(row.try_get("same_request"))?;
    Ok(match (replayed, same_request) {
        (false, _) => Creation::Created(task),
        (true, true) => Creation::Replayed(task),
        (true, false) => Creation::KeyReused,
    })
}

pub async fn get(db: &Database, user_id: &str, id: i64) -> Result<Option<Task>, DbError> {
    first(
        db.query_idempotent(GET, &[(&id, Type::INT8), (&user_id, Type::TEXT)])
            .await?,
    )
}

/// Every tag of the user's tasks, with its count; `[]` when they have none.
pub async fn tag_counts(db: &Database, user_id: &str) -> Result<Vec<TagCount>, DbError> {
    let rows = db
        .query_idempotent(TAG_COUNTS, &[(&user_id, Type::TEXT)])
        .await?;
    rows.iter()
        .map(|row| {
            Ok(TagCount {
                name: read(row.try_get("name"))?,
                count: read(row.try_get("count"))?,
            })
        })
        .collect()
}

/// Runs the plain or the conditional variant of a change; `params` are the
/// plain one's, the precondition's versions go last.
async fn change<'a>(
    db: &Database,
    (plain, conditional): (&str, &str),
    params: &mut Vec<Param<'a>>,
    precondition: Option<&'a Precondition>,
) -> Result<Change<Task>, DbError> {
    let sql = match precondition {
        None => plain,
        Some(precondition) => {
            params.push((&precondition.one_of, Type::TIMESTAMPTZ_ARRAY));
            params.push((&precondition.none_of, Type::TIMESTAMPTZ_ARRAY));
            conditional
        }
    };
    change_of(db.query(sql, params).await?)
}

/// PUT and PATCH: the members `change` sets, the others kept.
pub async fn change_task(
    db: &Database,
    user_id: &str,
    id: i64,
    requested: &TaskChange,
    precondition: Option<&Precondition>,
) -> Result<Change<Task>, DbError> {
    let set_description = requested.description.is_some();
    let description = requested.description.as_ref().and_then(Option::as_deref);
    let rank = requested.priority.map(Priority::rank);
    let set_due = requested.due_date.is_some();
    let (due_at, all_day) = DueDate::columns(requested.due_date.flatten());
    let mut params: Vec<Param> = vec![
        (&id, Type::INT8),
        (&user_id, Type::TEXT),
        (&requested.title, Type::VARCHAR),
        (&set_description, Type::BOOL),
        (&description, Type::VARCHAR),
        (&requested.completed, Type::BOOL),
        (&rank, Type::INT2),
        (&requested.tags, Type::TEXT_ARRAY),
        (&set_due, Type::BOOL),
        (&due_at, Type::TIMESTAMPTZ),
        (&all_day, Type::BOOL),
    ];
    change(db, (CHANGE, CHANGE_IF), &mut params, precondition).await
}

pub async fn set_completion(
    db: &Database,
    user_id: &str,
    id: i64,
    completion: CompletionChange,
    precondition: Option<&Precondition>,
) -> Result<Change<Task>, DbError> {
    let completed = completion.as_param();
    let mut params: Vec<Param> = vec![
        (&id, Type::INT8),
        (&user_id, Type::TEXT),
        (&completed, Type::BOOL),
    ];
    change(
        db,
        (SET_COMPLETION, SET_COMPLETION_IF),
        &mut params,
        precondition,
    )
    .await
}

/// Answers the deleted task, as it was.
pub async fn delete(
    db: &Database,
    user_id: &str,
    id: i64,
    precondition: Option<&Precondition>,
) -> Result<Change<Task>, DbError> {
    let mut params: Vec<Param> = vec![(&id, Type::INT8), (&user_id, Type::TEXT)];
    change(db, (DELETE, DELETE_IF), &mut params, precondition).await
}

/// A substring search: the client's `%`, `_` and `\` match themselves.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in search.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_pattern("milk"), "%milk%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
