use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

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

/// Always UTC with microseconds (PostgreSQL's precision), so every timestamp
/// has the same shape and sorts as a string.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn format_timestamp(at: OffsetDateTime) -> String {
    let mut buffer = [0; TIMESTAMP_LEN];
    match write_timestamp(at, &mut buffer) {
        Some(text) => text.to_owned(),
        None => at
            .to_offset(UtcOffset::UTC)
            .format(TIMESTAMP)
            .unwrap_or_else(|_| at.unix_timestamp().to_string()),
    }
}

/// `2026-11-24T09:00:00.123456Z`.
const TIMESTAMP_LEN: usize = 27;

/// [`TIMESTAMP`]'s shape written digit by digit, for years 0–9999 (`time`
/// goes no further; negative years take the general path). The general formatter
/// interprets its format description on every call: callgrind counted
/// ~4,400 instructions per timestamp there, two per task, and so half of
/// a list of 100 tasks. This takes a few hundred.
fn write_timestamp(at: OffsetDateTime, buffer: &mut [u8; TIMESTAMP_LEN]) -> Option<&str> {
    let at = at.to_offset(UtcOffset::UTC);
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let mut put = |at: usize, value: u32, digits: u32| {
        for i in 0..digits {
            let place = 10u32.pow(digits - 1 - i);
            buffer[at + i as usize] = b'0' + ((value / place) % 10) as u8;
        }
    };
    put(0, year, 4);
    put(5, u32::from(u8::from(at.month())), 2);
    put(8, u32::from(at.day()), 2);
    put(11, u32::from(at.hour()), 2);
    put(14, u32::from(at.minute()), 2);
    put(17, u32::from(at.second()), 2);
    put(20, at.microsecond(), 6);
    for (index, byte) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buffer[index] = byte;
    }
    std::str::from_utf8(buffer).ok()
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
        None => serializer.serialize_str(&format_timestamp(*at)),
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

    proptest::proptest! {
        /// The digit-by-digit writer and the general formatter agree on every
        /// instant of years 0–9999, in any offset, to the microsecond.
        #[test]
        fn the_fast_timestamp_is_the_formatters(
            micros in -62_167_219_200_000_000i64..253_402_300_799_999_999,
            offset in -86_399i32..86_400,
        ) {
            let at = from_micros(micros)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(offset).unwrap());
            let general = at.to_offset(UtcOffset::UTC).format(TIMESTAMP).unwrap();
            let mut buffer = [0; TIMESTAMP_LEN];
            proptest::prop_assert_eq!(write_timestamp(at, &mut buffer), Some(general.as_str()));
        }
    }

    #[test]
    fn years_before_0_take_the_general_path() {
        let far = datetime!(-0001-12-31 23:59:59 UTC);
        assert_eq!(write_timestamp(far, &mut [0; TIMESTAMP_LEN]), None);
        assert_eq!(format_timestamp(far), far.format(TIMESTAMP).unwrap());
    }
}
