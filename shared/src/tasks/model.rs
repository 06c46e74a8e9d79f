use serde::{Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    #[serde(serialize_with = "rfc3339_utc")]
    pub created_at: OffsetDateTime,
    #[serde(serialize_with = "rfc3339_utc")]
    pub updated_at: OffsetDateTime,
}

/// Always UTC with microseconds (PostgreSQL's precision), so every timestamp
/// has the same shape and sorts as a string.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn format_timestamp(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(TIMESTAMP)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
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
}
