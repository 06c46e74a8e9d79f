//! Keyset pagination. A page ends at the (sort key, id) of its last task; the
//! next page starts strictly after it, so tasks inserted or deleted between
//! pages never shift what the client has not seen yet (as OFFSET would).
//!
//! The cursor is opaque to clients: base64url of a version byte, a fingerprint
//! of the query it was made for (the user, and every parameter that
//! `query::Param::binding` binds) and the position. The fingerprint is what makes a cursor from another user, sort or
//! filter a 400 instead of a silently wrong page. It is not a signature: a
//! forged cursor can only move within the caller's own tasks, because every
//! statement filters on the authenticated user anyway. So a keyed MAC would
//! buy nothing but a key to manage (none exists in a JWKS-only setup);
//! instead every decoded field is checked against what its column can hold
//! before it reaches SQL, and whatever passes is a position PostgreSQL can
//! compare against (at worst, before the first or after the last task).

use super::model::{from_micros, micros, Task};
use super::query::{Binding, ListQuery, SortKey, MAX_CURSOR_CHARS};
use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

const VERSION: u8 = 1;
const FINGERPRINT_BYTES: usize = 8;
const HEADER_BYTES: usize = 1 + FINGERPRINT_BYTES + 8;
/// Timestamps this API can have issued a cursor for. PostgreSQL's own range
/// (4713 BC to 294276 AD) is wider than what `now()` writes, but narrower
/// than what eight arbitrary bytes decode to: a year -6000 position would
/// make the statement fail, so it is refused here as a client error.
const TIMESTAMP_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// One list request: what to list, and after which position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub query: ListQuery,
    /// Where the previous page ended (`cursor`); `None` for the first page.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The query parameters, then the cursor checked against them: `user_id`
    /// is the caller, and a cursor is only valid for the user (and the sort
    /// and filters) it was made for.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        user_id: &str,
    ) -> Result<Self, ApiError> {
        let (query, cursor) = ListQuery::parse(pairs)?;
        let after = cursor
            .map(|text| Cursor::decode(text, user_id, &query))
            .transpose()?;
        Ok(Self { query, after })
    }
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: SortValue,
    pub id: i64,
}

/// The sort column's value at the position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Time(OffsetDateTime),
    Title(String),
}

impl Cursor {
    /// The position right after `task` in a list sorted by `sort`.
    pub fn after(task: &Task, sort: SortKey) -> Self {
        let key = match sort {
            SortKey::Created => SortValue::Time(task.created_at),
            SortKey::Updated => SortValue::Time(task.updated_at),
            SortKey::Title => SortValue::Title(task.title.clone()),
        };
        Self { key, id: task.id }
    }

    pub fn encode(&self, user_id: &str, query: &ListQuery) -> String {
        let mut bytes = Vec::with_capacity(HEADER_BYTES + 16);
        bytes.push(VERSION);
        bytes.extend_from_slice(&fingerprint(user_id, query));
        bytes.extend_from_slice(&self.id.to_be_bytes());
        match &self.key {
            SortValue::Time(at) => bytes.extend_from_slice(&micros(*at).to_be_bytes()),
            SortValue::Title(title) => bytes.extend_from_slice(title.as_bytes()),
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a cursor back, refusing any that this query did not produce.
    pub fn decode(text: &str, user_id: &str, query: &ListQuery) -> Result<Self, ApiError> {
        let foreign = || ApiError::invalid("cursor", "is not a cursor this API issued");
        if text.len() > MAX_CURSOR_CHARS {
            return Err(foreign());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| foreign())?;
        if bytes.len() < HEADER_BYTES || bytes[0] != VERSION {
            return Err(foreign());
        }
        if bytes[1..1 + FINGERPRINT_BYTES] != fingerprint(user_id, query) {
            return Err(ApiError::invalid(
                "cursor",
                "belongs to a different user, sort, order or filter: \
                 start again without a cursor",
            ));
        }
        let id = i64::from_be_bytes(
            bytes[1 + FINGERPRINT_BYTES..HEADER_BYTES]
                .try_into()
                .unwrap(),
        );
        let rest = &bytes[HEADER_BYTES..];
        let key = match query.sort {
            SortKey::Created | SortKey::Updated => {
                let micros = i64::from_be_bytes(rest.try_into().map_err(|_| foreign())?);
                let at = from_micros(micros)
                    .filter(|at| TIMESTAMP_YEARS.contains(&at.year()))
                    .ok_or_else(foreign)?;
                SortValue::Time(at)
            }
            SortKey::Title => {
                let title = std::str::from_utf8(rest).map_err(|_| foreign())?;
                if title.contains('\0') {
                    return Err(foreign());
                }
                SortValue::Title(title.to_owned())
            }
        };
        Ok(Self { key, id })
    }
}

fn fingerprint(user_id: &str, query: &ListQuery) -> [u8; FINGERPRINT_BYTES] {
    let mut hash = Sha256::new();
    // Length-prefixed, so no two different queries hash the same bytes.
    for part in [
        user_id,
        query.sort.as_str(),
        query.order.as_str(),
        query.status.as_str(),
        query.search.as_deref().unwrap_or(""),
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.update([u8::from(query.search.is_some())]);
    // Later parameters, each only when given, in their declared order: a
    // query without them hashes as before they existed.
    for (param, text) in query.pairs() {
        if param.binding() == Binding::Section {
            for part in [param.name(), text.as_str()] {
                hash.update((part.len() as u64).to_be_bytes());
                hash.update(part.as_bytes());
            }
        }
    }
    let digest = hash.finalize();
    let mut out = [0u8; FINGERPRINT_BYTES];
    out.copy_from_slice(&digest[..FINGERPRINT_BYTES]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::query::{SortOrder, StatusFilter};
    use time::macros::datetime;

    fn query(sort: SortKey) -> ListQuery {
        ListQuery {
            sort,
            ..ListQuery::default()
        }
    }

    #[test]
    fn round_trips_each_kind_of_position() {
        for (sort, key) in [
            (
                SortKey::Created,
                SortValue::Time(datetime!(2026-11-24 09:00:00.123456 UTC)),
            ),
            (SortKey::Title, SortValue::Title("Ünïcode ☃ title".into())),
        ] {
            let cursor = Cursor { key, id: 42 };
            let text = cursor.encode("alice", &query(sort));
            assert!(text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert_eq!(
                Cursor::decode(&text, "alice", &query(sort)).unwrap(),
                cursor
            );
        }
    }

    #[test]
    fn a_cursor_only_fits_its_own_query() {
        let made_for = query(SortKey::Created);
        let text = Cursor {
            key: SortValue::Time(datetime!(2026-01-01 0:00 UTC)),
            id: 1,
        }
        .encode("alice", &made_for);
        let others = [
            ("bob", made_for.clone()),
            ("alice", query(SortKey::Updated)),
            (
                "alice",
                ListQuery {
                    order: SortOrder::Asc,
                    ..made_for.clone()
                },
            ),
            (
                "alice",
                ListQuery {
                    status: StatusFilter::Pending,
                    ..made_for.clone()
                },
            ),
            (
                "alice",
                ListQuery {
                    search: Some("milk".into()),
                    ..made_for.clone()
                },
            ),
        ];
        for (user, other) in others {
            let error = Cursor::decode(&text, user, &other).unwrap_err();
            assert_eq!(error.field_errors()[0].field, "cursor", "{user} {other:?}");
        }
        // The page size may change between pages.
        let bigger = ListQuery {
            limit: 7,
            ..made_for.clone()
        };
        assert!(Cursor::decode(&text, "alice", &bigger).is_ok());
    }

    /// A cursor is bound to every parameter `Param::binding` says it is:
    /// one with another value of any of them is refused. The sample values
    /// are an exhaustive match, so a new parameter cannot be left out.
    #[test]
    fn every_bound_parameter_is_in_the_fingerprint() {
        use crate::tasks::query::{Binding, Param};
        let sample = |param: Param| match param {
            Param::Status => Some("pending"),
            Param::Sort => Some("title"),
            Param::Order => Some("asc"),
            Param::Limit => Some("5"),
            Param::Q => Some("milk"),
            Param::Priority => Some("high"),
            Param::Tag => Some("work"),
            Param::DueAfter => Some("2026-01-01"),
            Param::DueBefore => Some("2026-02-01"),
            Param::Cursor => None,
        };
        let plain = ListQuery::default();
        for param in Param::ALL {
            let Some(value) = sample(param) else { continue };
            for name in param.names() {
                let (other, _) = ListQuery::parse([(*name, value)]).unwrap();
                assert_ne!(other, plain, "{name}={value} changes the query");
                let bound = fingerprint("alice", &other) != fingerprint("alice", &plain);
                assert_eq!(bound, param.binding() != Binding::Free, "{name}");
            }
        }
    }

    #[test]
    fn garbage_is_a_client_error() {
        let q = query(SortKey::Title);
        for text in [
            "",
            "x",
            "!!!!",
            "AQ",
            &"A".repeat(2000),
            "AAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(Cursor::decode(text, "alice", &q).is_err(), "{text}");
        }
    }

    /// A cursor made for `q`, with its position's bytes replaced.
    fn forged(q: &ListQuery, id: i64, key: &[u8]) -> String {
        let genuine = Cursor {
            key: SortValue::Title(String::new()),
            id: 1,
        }
        .encode("alice", q);
        let mut bytes = URL_SAFE_NO_PAD.decode(genuine).unwrap();
        bytes.truncate(1 + FINGERPRINT_BYTES);
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.extend_from_slice(key);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn forged_positions_outside_the_columns_range_are_refused() {
        let q = query(SortKey::Created);
        let year = |y: i32| {
            datetime!(2000-01-01 0:00 UTC)
                .replace_year(y)
                .unwrap()
                .unix_timestamp_nanos()
                / 1000
        };
        for micros in [i64::MIN, i64::MAX, year(-6000) as i64, year(0) as i64] {
            let text = forged(&q, 5, &micros.to_be_bytes());
            assert!(Cursor::decode(&text, "alice", &q).is_err(), "{micros}");
        }
        for micros in [0, year(1) as i64, year(9999) as i64] {
            let text = forged(&q, 5, &micros.to_be_bytes());
            assert!(Cursor::decode(&text, "alice", &q).is_ok(), "{micros}");
        }
        let titles = query(SortKey::Title);
        assert!(Cursor::decode(&forged(&titles, -1, b"\xff"), "alice", &titles).is_err());
        assert!(Cursor::decode(&forged(&titles, -1, b"a\0"), "alice", &titles).is_err());
        assert!(Cursor::decode(&forged(&titles, i64::MIN, b"z"), "alice", &titles).is_ok());
    }

    #[test]
    fn list_query_rejects_unknown_values() {
        for pairs in [
            vec![("status", "done")],
            vec![("status", "")],
            vec![("sort", "id")],
            vec![("order", "up")],
            vec![("limit", "0")],
            vec![("limit", "101")],
            vec![("limit", "+5")],
            vec![("q", "a\0")],
            vec![("status", "all"), ("status", "pending")],
            vec![("cursor", "not-a-cursor")],
        ] {
            assert!(PageRequest::parse(pairs.clone(), "u").is_err(), "{pairs:?}");
        }
    }
}
