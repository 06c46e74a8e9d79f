use crate::timestamp::{write_timestamp, TIMESTAMP_LEN};
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
    #[serde(serialize_with = "rfc3339_utc", deserialize_with = "rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339_utc", deserialize_with = "rfc3339")]
    pub updated_at: OffsetDateTime,
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
    let mut buffer = [0; TIMESTAMP_LEN];
    match write_timestamp(*at, &mut buffer) {
        Some(text) => serializer.serialize_str(text),
        None => serializer.serialize_str(&crate::timestamp::format_timestamp(*at)),
    }
}

/// Any RFC 3339 timestamp, as PostgreSQL's JSON writes them (offset of the
/// session's time zone, trailing zeros of the fraction dropped).
fn rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
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
}
