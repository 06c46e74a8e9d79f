use super::due::DueDate;
use super::priority::Priority;
use crate::json;
use crate::timestamp::{self, format_timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// A task, as the API answers it. Read back from JSON too: an idempotency
/// record stores the created task that way (`store::create`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub due_date: Option<DueDate>,
    #[serde(serialize_with = "rfc3339_utc", deserialize_with = "rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339_utc", deserialize_with = "rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Task {
    /// Appends the task's JSON to `out`: the bytes serde_json writes for it
    /// (a test checks), but with the member names as literals. Through serde,
    /// a page of 100 tasks took ~450,000 instructions (callgrind).
    pub fn write_json(&self, out: &mut String) {
        out.push_str(r#"{"id":"#);
        out.push_str(itoa::Buffer::new().format(self.id));
        out.push_str(r#","user_id":"#);
        json_string(out, &self.user_id);
        out.push_str(r#","title":"#);
        json_string(out, &self.title);
        out.push_str(r#","description":"#);
        match &self.description {
            Some(text) => json_string(out, text),
            None => out.push_str("null"),
        }
        out.push_str(if self.completed {
            r#","completed":true,"priority":""#
        } else {
            r#","completed":false,"priority":""#
        });
        out.push_str(self.priority.as_str());
        out.push_str(r#"","tags":["#);
        for (i, tag) in self.tags.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(out, tag);
        }
        out.push_str(r#"],"due_date":"#);
        match &self.due_date {
            Some(due) => due.write_json(out),
            None => out.push_str("null"),
        }
        out.push_str(r#","created_at":"#);
        json_timestamp(out, self.created_at);
        out.push_str(r#","updated_at":"#);
        json_timestamp(out, self.updated_at);
        out.push('}');
    }

    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_json(&mut out);
        out
    }
}

/// A page's body: the tasks as a JSON array.
pub fn tasks_json(tasks: &[Task]) -> String {
    let mut out = String::with_capacity(2 + tasks.len() * 256);
    out.push('[');
    for (i, task) in tasks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        task.write_json(&mut out);
    }
    out.push(']');
    out
}

// Writing to a String cannot fail: the writers' `fmt::Result`s are `Ok`.
fn json_string(out: &mut String, text: &str) {
    let _ = json::write_str(out, text);
}

fn json_timestamp(out: &mut String, at: OffsetDateTime) {
    out.push('"');
    let _ = timestamp::write(out, at);
    out.push('"');
}

/// Microseconds since the Unix epoch: PostgreSQL's precision, so exact.
/// The form a timestamp takes in ETags and cursors.
pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1000) as i64
}

/// The inverse of [`micros`]; `None` outside the representable range.
pub(crate) fn from_micros(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()
}

fn rfc3339_utc<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(*at))
}

/// Any RFC 3339 timestamp, as PostgreSQL's JSON writes them (offset of the
/// session's time zone, trailing zeros of the fraction dropped).
pub(crate) fn rfc3339<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<OffsetDateTime, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn serializes_with_the_contract_shape() {
        let task = Task {
            id: 42,
            user_id: "kX3f9q2LrT".into(),
            title: "Buy milk".into(),
            description: None,
            completed: false,
            priority: Priority::High,
            tags: vec!["work".into(), "Urgent".into()],
            due_date: Some(DueDate::AllDay(time::macros::date!(2026 - 01 - 31))),
            created_at: datetime!(2026-11-24 10:00:00.123456 +01:00),
            updated_at: datetime!(2026-11-24 09:00:00 UTC),
        };
        let json = serde_json::to_value(&task).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "id": 42,
                "user_id": "kX3f9q2LrT",
                "title": "Buy milk",
                "description": null,
                "completed": false,
                "priority": "high",
                "tags": ["work", "Urgent"],
                "due_date": "2026-01-31",
                "created_at": "2026-11-24T09:00:00.123456Z",
                "updated_at": "2026-11-24T09:00:00.000000Z"
            })
        );
    }

    #[test]
    fn reads_back_what_postgresql_writes_as_json() {
        let json = r#"{"id": 7, "user_id": "u", "title": "t", "description": null,
            "completed": false, "created_at": "2026-11-24T10:00:00.1234+01:00",
            "updated_at": "2026-11-24T09:00:00+00:00"}"#;
        let task: Task = serde_json::from_str(json).unwrap();
        assert_eq!(task.created_at, datetime!(2026-11-24 09:00:00.1234 UTC));
        assert_eq!(
            serde_json::to_value(&task).unwrap()["created_at"],
            "2026-11-24T09:00:00.123400Z"
        );
    }

    /// The planning fields of a generated task: a priority rank, tags, and a
    /// due date (none, a day as days since 0001-01-01, or an instant in µs).
    type Planning = (i16, Vec<String>, Option<(bool, i64)>);

    fn task(
        id: i64,
        text: (String, String, Option<String>),
        completed: bool,
        micros: (i64, i64),
        (rank, tags, due): Planning,
    ) -> Task {
        let due_date = due.map(|(all_day, value)| {
            if all_day {
                let first = time::macros::date!(0001 - 01 - 01);
                DueDate::AllDay(first + time::Duration::days(value.rem_euclid(3_652_059)))
            } else {
                DueDate::At(from_micros(value).unwrap())
            }
        });
        Task {
            id,
            user_id: text.0,
            title: text.1,
            description: text.2,
            completed,
            priority: Priority::from_rank(rank).unwrap(),
            tags,
            due_date,
            created_at: from_micros(micros.0).unwrap(),
            updated_at: from_micros(micros.1).unwrap(),
        }
    }

    proptest::proptest! {
        /// The hand-written JSON is serde_json's, for any task and any page.
        #[test]
        fn the_written_json_is_serde_jsons(
            tasks in proptest::collection::vec(
                (
                    proptest::num::i64::ANY,
                    ("\\PC*", "[\\x00-\\x7f]*|\\PC*", proptest::option::of("\\PC*|\"\\\\\n")),
                    proptest::bool::ANY,
                    (-62_167_219_200_000_000i64..253_402_300_799_999_999, 0i64..4_102_444_800_000_000),
                    (
                        0i16..4,
                        proptest::collection::vec("\\PC{1,8}|\"\\\\", 0..3),
                        proptest::option::of((
                            proptest::bool::ANY,
                            -62_135_596_800_000_000i64..253_402_300_799_999_999,
                        )),
                    ),
                ),
                0..4,
            )
        ) {
            let tasks: Vec<Task> = tasks
                .into_iter()
                .map(|(id, text, completed, micros, planning)| {
                    task(id, text, completed, micros, planning)
                })
                .collect();
            for task in &tasks {
                proptest::prop_assert_eq!(task.to_json(), serde_json::to_string(task).unwrap());
            }
            proptest::prop_assert_eq!(tasks_json(&tasks), serde_json::to_string(&tasks).unwrap());
        }
    }
}
