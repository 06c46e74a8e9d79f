//! Optimistic concurrency (RFC 9110 §13). A task's version is its `updated_at`,
//! which moves on every change (see `store`'s `touch!`), so it is the task's
//! strong ETag; `If-Match` on PUT, PATCH and DELETE carries it back, and the
//! statement only changes the row while its version is still one of those.

use super::model::{from_micros, micros, Task};
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
    /// and a missing one is a 404 either way. Anything that is not an entity
    /// tag matches nothing: the precondition is false (412), like a tag of a
    /// version that no longer exists, rather than a syntax error to debate.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let mut values = headers.get_all(IF_MATCH).iter().peekable();
        values.peek()?;
        let mut versions = Vec::new();
        for value in values {
            let text = String::from_utf8_lossy(value.as_bytes());
            for tag in entity_tags(&text) {
                match tag {
                    Tag::Any => return None,
                    Tag::Strong(opaque) => versions.extend(version_of(opaque)),
                    // If-Match compares strongly: a weak tag never matches.
                    Tag::Weak => {}
                }
            }
        }
        Some(Self { versions })
    }
}

enum Tag<'a> {
    Any,
    Weak,
    Strong(&'a str),
}

/// The entity tags of a `#entity-tag / "*"` list (commas may sit inside a
/// tag); elements that are not tags are skipped.
fn entity_tags(text: &str) -> Vec<Tag<'_>> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return tags;
        }
        let (weak, quoted) = match rest.strip_prefix("W/") {
            Some(quoted) => (true, quoted),
            None => (false, rest),
        };
        let closed = quoted
            .strip_prefix('"')
            .and_then(|inner| inner.find('"').map(|end| (inner, end)));
        if let Some(after) = rest.strip_prefix('*') {
            tags.push(Tag::Any);
            rest = after;
        } else if let Some((inner, end)) = closed {
            tags.push(if weak {
                Tag::Weak
            } else {
                Tag::Strong(&inner[..end])
            });
            rest = &inner[end + 1..];
        } else {
            // Not a tag: skip to the next element.
            rest = rest.find(',').map_or("", |comma| &rest[comma..]);
        }
    }
}

fn version_of(opaque: &str) -> Option<OffsetDateTime> {
    if opaque.is_empty() || !opaque.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    from_micros(opaque.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn parse(values: &[&str]) -> Option<IfMatch> {
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
        assert_eq!(parse(&[&tag]).unwrap().versions, vec![at]);
    }

    #[test]
    fn lists_weak_and_foreign_tags() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&["*"]), None);
        assert_eq!(parse(&["\"1\", *"]), None);
        let both = parse(&["\"1\", W/\"2\", \"x,y\"", "\"3\""]).unwrap();
        assert_eq!(both.versions.len(), 2);
    }

    #[test]
    fn anything_else_matches_nothing() {
        for value in ["\"abc\"", "abc", "\"unterminated", "W/1", "", " , ", "0"] {
            let condition = parse(&[value]).expect("a precondition");
            assert!(condition.versions.is_empty(), "{value:?}");
        }
        let mixed = parse(&["junk, \"5\", more junk"]).unwrap();
        assert_eq!(mixed.versions.len(), 1);
    }
}
