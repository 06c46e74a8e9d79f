//! Client input and its rules. Everything here is checked before any SQL runs,
//! so a rejected request never changes the database.

use super::due::{self, DueDate};
use super::priority::Priority;
use super::tags;
use super::text::{contains_nul, NUL_MESSAGE};
use crate::error::{ApiError, FieldError};
use crate::json::{self, JsonError};
use serde_json::{Map, Value};

pub const TITLE_MAX_CHARS: usize = 255;
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// POST body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due_date: Option<DueDate>,
}

/// What a PUT or PATCH body changes: `None` keeps a member's value, and the
/// inner `None` of a nullable member clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskChange {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub completed: Option<bool>,
    pub priority: Option<Priority>,
    pub tags: Option<Vec<String>>,
    pub due_date: Option<Option<DueDate>>,
}

/// PATCH …/complete body: `Set` from `{"completed": b}`, `Toggle` from an empty
/// body (or an object without `completed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionChange {
    Set(bool),
    Toggle,
}

impl NewTask {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let object = json_object(body)?;
        let mut fields = Fields::new(&object);
        let title = fields.title();
        let description = fields.description();
        let priority = fields.priority();
        let tags = fields.tags();
        let due_date = fields.due_date();
        fields.finish()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            description,
            priority: priority.unwrap_or_default(),
            tags: tags.unwrap_or_default(),
            due_date: due_date.flatten(),
        })
    }
}

impl TaskChange {
    /// PUT: the title is required and a missing description clears it, as
    /// before the planning fields; `completed` and the planning fields keep
    /// their value when absent, so a client that knows only the first fields
    /// never erases the others.
    pub fn replacement(body: &[u8]) -> Result<Self, ApiError> {
        Self::read(body, |fields| (fields.title(), Some(fields.description())))
    }

    /// PATCH: a JSON merge patch (RFC 7396). A member present sets, `null`
    /// clears (none, [], null), an absent one keeps; `title` and `completed`
    /// cannot be cleared, so their `null` is a 400.
    pub fn merge_patch(body: &[u8]) -> Result<Self, ApiError> {
        Self::read(body, |fields| {
            let title = match fields.object.get("title") {
                None => None,
                Some(Value::Null) => {
                    fields.fail("title", "cannot be null: a task always has a title")
                }
                Some(_) => fields.title(),
            };
            let description = fields
                .object
                .get("description")
                .map(|_| fields.description());
            (title, description)
        })
    }

    /// The body's rules: title and description as `read_text` says (where PUT
    /// and PATCH differ), the other members alike (absent keeps).
    fn read(
        body: &[u8],
        read_text: impl FnOnce(&mut Fields) -> (Option<String>, Option<Option<String>>),
    ) -> Result<Self, ApiError> {
        let object = json_object(body)?;
        let mut fields = Fields::new(&object);
        let (title, description) = read_text(&mut fields);
        let change = Self {
            title,
            description,
            completed: fields.completed(),
            priority: fields.priority(),
            tags: fields.tags(),
            due_date: fields.due_date(),
        };
        fields.finish()?;
        Ok(change)
    }
}

impl CompletionChange {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::Toggle);
        }
        let object = json_object(body)?;
        let mut fields = Fields::new(&object);
        let completed = fields.completed();
        fields.finish()?;
        Ok(completed.map_or(Self::Toggle, Self::Set))
    }

    /// The value bound to the statement: NULL means "flip it".
    pub fn as_param(self) -> Option<bool> {
        match self {
            Self::Set(value) => Some(value),
            Self::Toggle => None,
        }
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("body", "is required (a JSON object)"));
    }
    match json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::invalid("body", "must be a JSON object")),
        Err(JsonError::Duplicate(path)) => Err(ApiError::invalid(
            &path,
            "is given more than once: member names must be unique (I-JSON, RFC 7493)",
        )),
        Err(JsonError::Syntax(e)) => {
            Err(ApiError::invalid("body", format!("is not valid JSON: {e}")))
        }
    }
}

/// Collects every broken rule of a body before answering, so a client sees
/// all of them in one 400. Unknown fields (including server-owned ones a
/// client echoes back) are ignored.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            errors: Vec::new(),
        }
    }

    fn fail<T>(&mut self, field: &str, message: impl Into<String>) -> Option<T> {
        self.errors.push(FieldError::new(field, message));
        None
    }

    fn title(&mut self) -> Option<String> {
        let range = format!("must be 1–{TITLE_MAX_CHARS} characters");
        match self.object.get("title") {
            None | Some(Value::Null) => self.fail("title", "is required"),
            Some(Value::String(raw)) => {
                let title = raw.trim();
                let chars = title.chars().count();
                if contains_nul(title) {
                    self.fail("title", NUL_MESSAGE)
                } else if chars == 0 || chars > TITLE_MAX_CHARS {
                    self.fail("title", range)
                } else {
                    Some(title.to_owned())
                }
            }
            Some(_) => self.fail("title", "must be a string"),
        }
    }

    fn description(&mut self) -> Option<String> {
        match self.object.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if contains_nul(text) => {
                self.fail("description", NUL_MESSAGE)
            }
            Some(Value::String(text)) if text.chars().count() > DESCRIPTION_MAX_CHARS => self.fail(
                "description",
                format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
            ),
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => self.fail("description", "must be a string or null"),
        }
    }

    /// Absent means "keep" (PUT) or "toggle" (PATCH); `null` is neither a
    /// state nor an absence but a client bug, and acting on it (flipping the
    /// task) would be the one wrong answer.
    fn completed(&mut self) -> Option<bool> {
        match self.object.get("completed") {
            None => None,
            Some(Value::Bool(value)) => Some(*value),
            Some(Value::Null) => {
                self.fail::<bool>("completed", "must be true or false, not null");
                None
            }
            Some(_) => {
                self.fail::<bool>("completed", "must be a boolean");
                None
            }
        }
    }

    /// Absent is `None`; `null` is "none".
    fn priority(&mut self) -> Option<Priority> {
        let value = self.object.get("priority")?;
        match Priority::from_json(value) {
            Ok(priority) => Some(priority),
            Err(message) => self.fail("priority", message),
        }
    }

    /// Absent is `None`; `null` is no tags.
    fn tags(&mut self) -> Option<Vec<String>> {
        match self.object.get("tags")? {
            Value::Null => Some(Vec::new()),
            value => match tags::from_json(value) {
                Ok(tags) => Some(tags),
                Err(message) => self.fail("tags", message),
            },
        }
    }

    /// Absent is `None`; `null` is `Some(None)`, no due date. An instant is
    /// rounded to PostgreSQL's microseconds here, so what is hashed and
    /// stored is what will be answered.
    fn due_date(&mut self) -> Option<Option<DueDate>> {
        match self.object.get("due_date")? {
            Value::Null => Some(None),
            Value::String(text) => match due::parse(text).and_then(DueDate::to_micros) {
                Ok(due) => Some(Some(due)),
                Err(message) => self.fail("due_date", message),
            },
            _ => self.fail("due_date", due::MESSAGE),
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_fields(self.errors))
        }
    }
}

/// `{id}` in the path: a positive 64-bit integer, digits only.
pub fn parse_task_id(raw: &str) -> Result<i64, ApiError> {
    let invalid = || ApiError::invalid("id", "must be a positive integer below 2^63");
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(error: ApiError) -> Vec<(String, String)> {
        error
            .field_errors()
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect()
    }

    #[test]
    fn title_is_trimmed_and_bounded() {
        let ok = NewTask::from_json(br#"{"title": "  Buy milk \n"}"#).unwrap();
        assert_eq!(ok.title, "Buy milk");
        assert_eq!(ok.description, None);
        let max = format!(r#"{{"title": "{}"}}"#, "é".repeat(255));
        assert_eq!(
            NewTask::from_json(max.as_bytes())
                .unwrap()
                .title
                .chars()
                .count(),
            255
        );
        for body in [
            r#"{"title": ""}"#.to_owned(),
            r#"{"title": "   \t "}"#.to_owned(),
            format!(r#"{{"title": "{}"}}"#, "x".repeat(256)),
        ] {
            let errors = fields_of(NewTask::from_json(body.as_bytes()).unwrap_err());
            assert_eq!(
                errors,
                vec![("title".into(), "must be 1–255 characters".into())]
            );
        }
    }

    #[test]
    fn description_is_bounded_and_nullable() {
        let at_limit = format!(r#"{{"title": "t", "description": "{}"}}"#, "d".repeat(1000));
        assert!(NewTask::from_json(at_limit.as_bytes()).is_ok());
        let over = format!(r#"{{"title": "t", "description": "{}"}}"#, "d".repeat(1001));
        assert_eq!(
            fields_of(NewTask::from_json(over.as_bytes()).unwrap_err())[0].0,
            "description"
        );
        let null = NewTask::from_json(br#"{"title": "t", "description": null}"#).unwrap();
        assert_eq!(null.description, None);
    }

    #[test]
    fn nul_characters_are_client_errors() {
        let err =
            NewTask::from_json(br#"{"title": "a\u0000b", "description": "c\u0000"}"#).unwrap_err();
        let fields: Vec<_> = fields_of(err).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["title", "description"]);
    }

    #[test]
    fn wrong_types_and_shapes_are_reported() {
        let err =
            TaskChange::replacement(br#"{"title": 5, "description": [], "completed": "yes"}"#)
                .unwrap_err();
        assert_eq!(
            fields_of(err),
            vec![
                ("title".into(), "must be a string".into()),
                ("description".into(), "must be a string or null".into()),
                ("completed".into(), "must be a boolean".into()),
            ]
        );
        for body in [
            &b"[]"[..],
            b"\"title\"",
            b"null",
            b"{",
            b"",
            b"{\"title\": \"\\ud800\"}",
        ] {
            let err = NewTask::from_json(body).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{body:?}");
        }
    }

    #[test]
    fn null_clears_a_description_but_is_no_completion_state() {
        let put = TaskChange::replacement(br#"{"title": "t", "description": null}"#).unwrap();
        assert_eq!((put.description, put.completed), (Some(None), None));
        assert!(TaskChange::replacement(br#"{"title": null}"#).is_err());
        let null_state = br#"{"title": "t", "completed": null}"#;
        let error = TaskChange::replacement(null_state).unwrap_err();
        assert_eq!(fields_of(error)[0].0, "completed");
        let error = CompletionChange::from_json(br#"{"completed": null}"#).unwrap_err();
        assert_eq!(
            fields_of(error),
            vec![("completed".into(), "must be true or false, not null".into())]
        );
    }

    #[test]
    fn duplicate_members_are_refused_by_name() {
        let error = NewTask::from_json(br#"{"title": "a", "title": "b"}"#).unwrap_err();
        assert_eq!(fields_of(error)[0].0, "title");
        let error =
            CompletionChange::from_json(br#"{"completed": true, "completed": false}"#).unwrap_err();
        assert_eq!(fields_of(error)[0].0, "completed");
        let error = NewTask::from_json(br#"{"title": "a", "meta": {"k": 1, "k": 2}}"#).unwrap_err();
        assert_eq!(fields_of(error)[0].0, "meta.k");
    }

    #[test]
    fn server_owned_and_unknown_fields_are_ignored() {
        let body = br#"{"id": 9, "user_id": "x", "created_at": 1, "title": "t", "extra": true}"#;
        assert_eq!(NewTask::from_json(body).unwrap().title, "t");
    }

    #[test]
    fn completion_change() {
        assert_eq!(
            CompletionChange::from_json(b"").unwrap(),
            CompletionChange::Toggle
        );
        assert_eq!(
            CompletionChange::from_json(b" \n").unwrap(),
            CompletionChange::Toggle
        );
        assert_eq!(
            CompletionChange::from_json(b"{}").unwrap(),
            CompletionChange::Toggle
        );
        assert_eq!(
            CompletionChange::from_json(br#"{"completed": false}"#).unwrap(),
            CompletionChange::Set(false)
        );
        assert!(CompletionChange::from_json(br#"{"completed": 1}"#).is_err());
        assert!(CompletionChange::from_json(b"true").is_err());
    }

    #[test]
    fn planning_fields_on_create() {
        let task = NewTask::from_json(
            br#"{"title": "t", "priority": "HIGH", "tags": [" work", "Work", "home"],
                 "due_date": "2026-01-31"}"#,
        )
        .unwrap();
        assert_eq!(task.priority, Priority::High);
        assert_eq!(task.tags, ["work", "home"]);
        assert_eq!(
            task.due_date,
            Some(DueDate::AllDay(time::macros::date!(2026 - 01 - 31)))
        );
        let nulls = NewTask::from_json(
            br#"{"title": "t", "priority": null, "tags": null, "due_date": null}"#,
        )
        .unwrap();
        assert_eq!(
            (nulls.priority, nulls.tags.len(), nulls.due_date),
            (Priority::None, 0, None)
        );
        let local =
            NewTask::from_json(br#"{"title": "t", "due_date": "2026-01-31T09:30"}"#).unwrap();
        assert_eq!(
            local.due_date,
            Some(DueDate::At(time::macros::datetime!(2026-01-31 09:30 UTC)))
        );
        let error = NewTask::from_json(
            br#"{"title": "t", "priority": "urgent", "tags": "work",
                 "due_date": "9999-12-31T23:59:59-01:00"}"#,
        )
        .unwrap_err();
        let fields: Vec<String> = fields_of(error).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["priority", "tags", "due_date"]);
        for due in ["2026-02-30", "31/01/2026", "", "2026-01-31T25:00"] {
            let body = serde_json::json!({"title": "t", "due_date": due}).to_string();
            let error = NewTask::from_json(body.as_bytes()).unwrap_err();
            assert_eq!(fields_of(error)[0].0, "due_date", "{due}");
        }
        let error = NewTask::from_json(br#"{"title": "t", "due_date": 20260131}"#).unwrap_err();
        assert_eq!(fields_of(error)[0].0, "due_date");
    }

    #[test]
    fn put_keeps_absent_planning_fields_and_null_clears_them() {
        let put = TaskChange::replacement(br#"{"title": "t"}"#).unwrap();
        assert_eq!((put.priority, put.tags, put.due_date), (None, None, None));
        let put = TaskChange::replacement(
            br#"{"title": "t", "priority": null, "tags": null, "due_date": null}"#,
        )
        .unwrap();
        assert_eq!(
            (put.priority, put.tags, put.due_date),
            (Some(Priority::None), Some(vec![]), Some(None))
        );
    }

    #[test]
    fn merge_patch_sets_clears_and_keeps() {
        let empty = TaskChange::merge_patch(b"{}").unwrap();
        assert_eq!(empty, TaskChange::default());
        let patch = TaskChange::merge_patch(
            br#"{"description": null, "priority": "low", "due_date": null, "id": 5}"#,
        )
        .unwrap();
        assert_eq!(
            patch,
            TaskChange {
                description: Some(None),
                priority: Some(Priority::Low),
                due_date: Some(None),
                ..TaskChange::default()
            }
        );
        let title = TaskChange::merge_patch(br#"{"title": "  new  "}"#).unwrap();
        assert_eq!(title.title.as_deref(), Some("new"));
        let error = TaskChange::merge_patch(br#"{"title": null, "completed": null}"#).unwrap_err();
        let fields: Vec<String> = fields_of(error).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["title", "completed"]);
        for body in [&b""[..], b"[]", b"null"] {
            assert!(TaskChange::merge_patch(body).is_err());
        }
    }

    #[test]
    fn task_ids() {
        assert_eq!(parse_task_id("42").unwrap(), 42);
        assert_eq!(parse_task_id("9223372036854775807").unwrap(), i64::MAX);
        for raw in [
            "abc",
            "0",
            "-1",
            "+1",
            "1.0",
            "",
            " 1",
            "99999999999999999999",
            "9223372036854775808",
        ] {
            assert!(parse_task_id(raw).is_err(), "{raw}");
        }
    }
}
