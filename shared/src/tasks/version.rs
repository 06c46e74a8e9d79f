//! Optimistic concurrency (RFC 9110 §13). A task's version is its `updated_at`,
//! which moves on every change (see `store`'s `touch!`), so it is the task's
//! strong ETag; `If-Match` on PUT, PATCH and DELETE carries it back, and the
//! statement only changes the row while its version is still one of those.

use super::model::{micros, Task};
use crate::error::ApiError;
use lambda_http::http::header::IF_MATCH;
use lambda_http::http::HeaderMap;
use time::OffsetDateTime;

/// The ETag of a task as it is now.
pub fn etag(task: &Task) -> String {
    format!("\"{}\"", micros(task.updated_at))
}

/// An `If-Match` that can fail: the versions the client still accepts. Tags
/// this API never issued (and weak ones, which If-Match compares strongly)
/// match nothing, so they are simply left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch {
    pub versions: Vec<OffsetDateTime>,
}

impl IfMatch {
    /// `None` without the header, and for `*`: any existing task matches it,
    /// and a missing one is a 404 either way.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, ApiError> {
        let mut values = headers.get_all(IF_MATCH).iter().peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let mut tags = Vec::new();
        for value in values {
            let text = value.to_str().map_err(|_| malformed())?;
            tags.extend(entity_tags(text)?);
        }
        if tags.is_empty() {
            return Err(malformed());
        }
        if tags.iter().any(|tag| matches!(tag, Tag::Any)) {
            return match tags.len() {
                1 => Ok(None),
                _ => Err(malformed()),
            };
        }
        let versions = tags
            .into_iter()
            .filter_map(|tag| match tag {
                Tag::Strong(opaque) => version_of(opaque),
                Tag::Weak | Tag::Any => None,
            })
            .collect();
        Ok(Some(Self { versions }))
    }
}

fn malformed() -> ApiError {
    ApiError::invalid(
        "If-Match",
        "must be * or a list of entity tags, such as the ETag of a response",
    )
}

enum Tag<'a> {
    Any,
    Weak,
    Strong(&'a str),
}

/// `#entity-tag / "*"`: a comma-separated list; commas may sit inside tags.
fn entity_tags(text: &str) -> Result<Vec<Tag<'_>>, ApiError> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Ok(tags);
        }
        if let Some(after) = rest.strip_prefix('*') {
            tags.push(Tag::Any);
            rest = after;
        } else {
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(quoted) => (true, quoted),
                None => (false, rest),
            };
            let inner = quoted.strip_prefix('"').ok_or_else(malformed)?;
            let end = inner.find('"').ok_or_else(malformed)?;
            tags.push(if weak {
                Tag::Weak
            } else {
                Tag::Strong(&inner[..end])
            });
            rest = &inner[end + 1..];
        }
        let next = rest.trim_start_matches([' ', '\t']);
        if !(next.is_empty() || next.starts_with(',')) {
            return Err(malformed());
        }
        rest = next;
    }
}

fn version_of(opaque: &str) -> Option<OffsetDateTime> {
    if opaque.is_empty() || !opaque.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: i64 = opaque.parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn parse(values: &[&str]) -> Result<Option<IfMatch>, ApiError> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(IF_MATCH, value.parse().unwrap());
        }
        IfMatch::from_headers(&headers)
    }

    #[test]
    fn the_etag_is_the_version_in_microseconds() {
        let at = datetime!(2026-11-24 09:00:00.123456 UTC);
        let task = Task {
            id: 1,
            user_id: "u".into(),
            title: "t".into(),
            description: None,
            completed: false,
            created_at: at,
            updated_at: at,
        };
        let tag = etag(&task);
        assert_eq!(tag, "\"1795510800123456\"");
        assert_eq!(parse(&[&tag]).unwrap().unwrap().versions, vec![at]);
    }

    #[test]
    fn lists_weak_and_foreign_tags() {
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(parse(&["*"]).unwrap(), None);
        let both = parse(&["\"1\", W/\"2\", \"x,y\"", "\"3\""])
            .unwrap()
            .unwrap();
        assert_eq!(both.versions.len(), 2);
        // Nothing this API issued: a precondition that fails on any task.
        assert!(parse(&["\"abc\""]).unwrap().unwrap().versions.is_empty());
    }

    #[test]
    fn malformed_headers_are_client_errors() {
        for value in [
            "abc",
            "\"unterminated",
            "*, \"1\"",
            "\"1\" \"2\"",
            "W/1",
            "",
            " , ",
        ] {
            assert!(parse(&[value]).is_err(), "{value}");
        }
    }
}
