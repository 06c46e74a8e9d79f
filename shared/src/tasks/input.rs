//! Client input and its rules. Everything here is checked before any SQL runs,
//! so a rejected request never changes the database.

use crate::error::{ApiError, FieldError};
use crate::json::{self, JsonError};
use serde_json::{Map, Value};

pub const TITLE_MAX_CHARS: usize = 255;
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// POST body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
}

/// PUT body: the title is required, a missing description clears it, a missing
/// `completed` keeps the current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskReplacement {
    pub title: String,
    pub description: Option<String>,
    pub completed: Option<bool>,
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
        fields.finish()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            description,
        })
    }
}

impl TaskReplacement {
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        let object = json_object(body)?;
        let mut fields = Fields::new(&object);
        let title = fields.title();
        let description = fields.description();
        let completed = fields.completed();
        fields.finish()?;
        Ok(Self {
            title: title.unwrap_or_default(),
            description,
            completed,
        })
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

    fn fail(&mut self, field: &str, message: impl Into<String>) -> Option<String> {
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
                self.fail("completed", "must be true or false, not null");
                None
            }
            Some(_) => {
                self.fail("completed", "must be a boolean");
                None
            }
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

pub(super) const NUL_MESSAGE: &str = "must not contain NUL (\\u0000) characters";

pub(super) fn contains_nul(text: &str) -> bool {
    text.contains('\0')
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
            TaskReplacement::from_json(br#"{"title": 5, "description": [], "completed": "yes"}"#)
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
        let put = TaskReplacement::from_json(br#"{"title": "t", "description": null}"#).unwrap();
        assert_eq!((put.description, put.completed), (None, None));
        assert!(TaskReplacement::from_json(br#"{"title": null}"#).is_err());
        let null_state = br#"{"title": "t", "completed": null}"#;
        let error = TaskReplacement::from_json(null_state).unwrap_err();
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
