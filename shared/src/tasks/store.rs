//! One SQL statement per endpoint, each one round trip (see `db::Param`).
//! Every statement filters on the authenticated user, so another user's task
//! is indistinguishable from a missing one.

use super::input::{
    CompletionChange, ListQuery, NewTask, SortKey, SortOrder, StatusFilter, TaskReplacement,
};
use super::model::{task_columns, Task};
use crate::auth::Principal;
use crate::db::{Database, DbError};
use tokio_postgres::types::Type;
use tokio_postgres::Row;

// Every statement is a compile-time constant: nothing is formatted per request.

/// `updated_at` must move on every change, even when two changes land within
/// the clock's resolution or the clock steps back.
macro_rules! touch {
    () => {
        "updated_at = GREATEST(now(), updated_at + interval '1 microsecond')"
    };
}

/// The list statement for one sort column and direction. The ORDER BY comes
/// from the query's enums, never from client text.
macro_rules! list_sql {
    ($column:literal, $direction:literal) => {
        concat!(
            "SELECT ",
            task_columns!(),
            " FROM tasks WHERE user_id = $1 \
               AND ($2::boolean IS NULL OR completed = $2) \
               AND ($3::text IS NULL OR title ILIKE $3 OR description ILIKE $3) \
             ORDER BY ",
            $column,
            " ",
            $direction,
            ", id ",
            $direction,
            " LIMIT $4"
        )
    };
}

const CREATE: &str = concat!(
    "WITH owner AS ( \
        INSERT INTO users (id, email, name) VALUES ($1, $2, $3) \
        ON CONFLICT (id) DO UPDATE \
          SET email = COALESCE(EXCLUDED.email, users.email), \
              name = COALESCE(EXCLUDED.name, users.name) \
          WHERE (EXCLUDED.email IS NOT NULL AND EXCLUDED.email IS DISTINCT FROM users.email) \
             OR (EXCLUDED.name IS NOT NULL AND EXCLUDED.name IS DISTINCT FROM users.name) \
     ) \
     INSERT INTO tasks (user_id, title, description) VALUES ($1, $4, $5) \
     RETURNING ",
    task_columns!()
);
const GET: &str = concat!(
    "SELECT ",
    task_columns!(),
    " FROM tasks WHERE id = $1 AND user_id = $2"
);
const REPLACE: &str = concat!(
    "UPDATE tasks SET title = $3, description = $4, completed = COALESCE($5, completed), ",
    touch!(),
    " WHERE id = $1 AND user_id = $2 RETURNING ",
    task_columns!()
);
const SET_COMPLETION: &str = concat!(
    "UPDATE tasks SET completed = COALESCE($3, NOT completed), ",
    touch!(),
    " WHERE id = $1 AND user_id = $2 RETURNING ",
    task_columns!()
);
const DELETE: &str = "DELETE FROM tasks WHERE id = $1 AND user_id = $2 RETURNING id";

fn tasks(rows: Vec<Row>) -> Result<Vec<Task>, DbError> {
    rows.iter()
        .map(|row| Task::from_row(row).map_err(|e| DbError::Statement(e.to_string())))
        .collect()
}

fn first(rows: Vec<Row>) -> Result<Option<Task>, DbError> {
    Ok(tasks(rows)?.into_iter().next())
}

pub async fn list(db: &Database, user_id: &str, query: &ListQuery) -> Result<Vec<Task>, DbError> {
    let sql = match (query.sort, query.order) {
        (SortKey::Created, SortOrder::Asc) => list_sql!("created_at", "ASC"),
        (SortKey::Created, SortOrder::Desc) => list_sql!("created_at", "DESC"),
        (SortKey::Updated, SortOrder::Asc) => list_sql!("updated_at", "ASC"),
        (SortKey::Updated, SortOrder::Desc) => list_sql!("updated_at", "DESC"),
        (SortKey::Title, SortOrder::Asc) => list_sql!("title", "ASC"),
        (SortKey::Title, SortOrder::Desc) => list_sql!("title", "DESC"),
    };
    let completed = match query.status {
        StatusFilter::All => None,
        StatusFilter::Pending => Some(false),
        StatusFilter::Completed => Some(true),
    };
    let pattern = query.search.as_deref().map(like_pattern);
    let rows = db
        .query_idempotent(
            sql,
            &[
                (&user_id, Type::TEXT),
                (&completed, Type::BOOL),
                (&pattern, Type::TEXT),
                (&query.limit, Type::INT8),
            ],
        )
        .await?;
    tasks(rows)
}

/// Creates the task and, in the same statement, the owner's users row (or
/// refreshes its email/name when the token carries new ones).
pub async fn create(db: &Database, owner: &Principal, task: &NewTask) -> Result<Task, DbError> {
    let rows = db
        .query(
            CREATE,
            &[
                (&owner.user_id, Type::TEXT),
                (&owner.email, Type::TEXT),
                (&owner.name, Type::TEXT),
                (&task.title, Type::VARCHAR),
                (&task.description, Type::VARCHAR),
            ],
        )
        .await?;
    first(rows)?.ok_or_else(|| DbError::Statement("INSERT returned no row".into()))
}

pub async fn get(db: &Database, user_id: &str, id: i64) -> Result<Option<Task>, DbError> {
    first(
        db.query_idempotent(GET, &[(&id, Type::INT8), (&user_id, Type::TEXT)])
            .await?,
    )
}

pub async fn replace(
    db: &Database,
    user_id: &str,
    id: i64,
    task: &TaskReplacement,
) -> Result<Option<Task>, DbError> {
    let rows = db
        .query(
            REPLACE,
            &[
                (&id, Type::INT8),
                (&user_id, Type::TEXT),
                (&task.title, Type::VARCHAR),
                (&task.description, Type::VARCHAR),
                (&task.completed, Type::BOOL),
            ],
        )
        .await?;
    first(rows)
}

pub async fn set_completion(
    db: &Database,
    user_id: &str,
    id: i64,
    change: CompletionChange,
) -> Result<Option<Task>, DbError> {
    let completed = change.as_param();
    let rows = db
        .query(
            SET_COMPLETION,
            &[
                (&id, Type::INT8),
                (&user_id, Type::TEXT),
                (&completed, Type::BOOL),
            ],
        )
        .await?;
    first(rows)
}

/// True when a task was deleted.
pub async fn delete(db: &Database, user_id: &str, id: i64) -> Result<bool, DbError> {
    let rows = db
        .query(DELETE, &[(&id, Type::INT8), (&user_id, Type::TEXT)])
        .await?;
    Ok(!rows.is_empty())
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
