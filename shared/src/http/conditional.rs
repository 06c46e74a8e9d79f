//! Conditional requests (RFC 9110 §13): `If-Match` and `If-None-Match` on
//! PUT, PATCH and DELETE become a [`Precondition`] the change's own statement
//! checks; on GET, `If-None-Match` becomes an [`IfNoneMatch`] that turns an
//! unchanged task into a 304. The ETag is the task's version (`tasks::version`).
//!
//! Parsing follows the grammar exactly: `*` means "any version" only when it
//! is the whole field value (`If-Match = "*" / #entity-tag`); `*garbage` or
//! `"1", *` are lists, and list elements that are not entity tags match
//! nothing. A precondition that cannot be parsed is therefore false for
//! If-Match (412) rather than a syntax error to debate, and never true by
//! accident.

use crate::tasks::version::{self, IfNoneMatch, Precondition, Versions};
use crate::tasks::Task;
use lambda_http::http::header::{IF_MATCH, IF_NONE_MATCH};
use lambda_http::http::{HeaderMap, HeaderName};

/// The ETag of a task as it is now.
pub fn etag(task: &Task) -> String {
    format!("\"{}\"", version::tag(task))
}

/// The precondition of a change, or `None` when the request carries none
/// that can fail, so the plain statement runs. `If-Match: *` alone is such a
/// case: any existing task passes it, and a missing one is a 404 either way.
pub fn precondition(headers: &HeaderMap) -> Option<Precondition> {
    Precondition::new(
        versions_in(headers, &IF_MATCH, false),
        versions_in(headers, &IF_NONE_MATCH, true),
    )
}

/// `If-None-Match` on a GET or HEAD.
pub fn if_none_match_on_read(headers: &HeaderMap) -> Option<IfNoneMatch> {
    versions_in(headers, &IF_NONE_MATCH, true).map(IfNoneMatch)
}

/// The versions a header names, or `None` without the header. Repeated
/// header lines form one list, as if joined with commas (RFC 9110 §5.3).
/// `weak_matches`: If-None-Match compares weakly, so `W/"…"` counts there;
/// If-Match compares strongly, so a weak tag never matches.
fn versions_in(headers: &HeaderMap, name: &HeaderName, weak_matches: bool) -> Option<Versions> {
    let lines: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let value = lines.join(", ");
    if value.trim_matches([' ', '\t']) == "*" {
        return Some(Versions::Any);
    }
    let versions = entity_tags(&value)
        .into_iter()
        .filter(|tag| weak_matches || !tag.weak)
        .filter_map(|tag| version::from_tag(tag.opaque))
        .collect();
    Some(Versions::Listed(versions))
}

struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// The entity tags of a `#entity-tag` list (commas may sit inside a tag);
/// elements that are not tags, `*` among them, are skipped.
fn entity_tags(text: &str) -> Vec<EntityTag<'_>> {
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
        match closed {
            Some((inner, end)) if ends_element(&inner[end + 1..]) => {
                tags.push(EntityTag {
                    weak,
                    opaque: &inner[..end],
                });
                rest = &inner[end + 1..];
            }
            // Not a tag: skip to the next element.
            _ => rest = rest.find(',').map_or("", |comma| &rest[comma..]),
        }
    }
}

/// A tag must be followed by the end of the list or (after spaces) a comma:
/// `"1"junk` is not a tag.
fn ends_element(after: &str) -> bool {
    let after = after.trim_start_matches([' ', '\t']);
    after.is_empty() || after.starts_with(',')
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::OffsetDateTime;

    fn headers(name: HeaderName, values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(name.clone(), value.parse().unwrap());
        }
        headers
    }

    fn if_match(values: &[&str]) -> Option<Precondition> {
        precondition(&headers(IF_MATCH, values))
    }

    fn if_none_match(values: &[&str]) -> Option<Precondition> {
        precondition(&headers(IF_NONE_MATCH, values))
    }

    fn at(micros: i64) -> OffsetDateTime {
        version::from_tag(&micros.to_string()).unwrap()
    }

    fn task_at(updated_at: OffsetDateTime) -> Task {
        Task {
            id: 1,
            user_id: "u".into(),
            title: "t".into(),
            description: None,
            completed: false,
            priority: Default::default(),
            tags: Vec::new(),
            due_date: None,
            created_at: updated_at,
            updated_at,
        }
    }

    #[test]
    fn the_etag_is_the_version_in_microseconds() {
        let at = datetime!(2026-11-24 09:00:00.123456 UTC);
        let tag = etag(&task_at(at));
        assert_eq!(tag, "\"1795510800123456\"");
        assert_eq!(if_match(&[&tag]).unwrap().one_of, Some(vec![at]));
    }

    #[test]
    fn a_star_is_only_a_wildcard_as_the_whole_value() {
        assert_eq!(if_match(&[]), None);
        assert_eq!(if_match(&["*"]), None);
        assert_eq!(if_match(&[" * "]), None);
        // A list with a star in it, or a star with more after it, is not `*`.
        let listed = |values: &[&str]| if_match(values).unwrap().one_of.unwrap();
        assert_eq!(listed(&["\"1\", *"]), vec![at(1)]);
        assert_eq!(listed(&["*", "\"1\""]), vec![at(1)]);
        assert!(listed(&["*garbage"]).is_empty());
        assert!(listed(&["**"]).is_empty());
        assert!(listed(&["*, *"]).is_empty());
    }

    #[test]
    fn lists_weak_and_foreign_tags() {
        let both = if_match(&["\"1\", W/\"2\", \"x,y\"", "\"3\""]).unwrap();
        assert_eq!(both.one_of, Some(vec![at(1), at(3)]));
        assert_eq!(both.none_of, None);
    }

    #[test]
    fn anything_else_matches_nothing() {
        for value in [
            "\"abc\"",
            "abc",
            "\"unterminated",
            "W/1",
            "",
            " , ",
            "0",
            "\"1\"junk",
        ] {
            let condition = if_match(&[value]).expect("a precondition");
            assert_eq!(condition.one_of, Some(vec![]), "{value:?}");
        }
        let mixed = if_match(&["junk, \"5\", more junk"]).unwrap();
        assert_eq!(mixed.one_of, Some(vec![at(5)]));
    }

    #[test]
    fn if_none_match_on_a_change() {
        // `*`: fails for any existing task, as an If-Match no version meets.
        assert_eq!(
            if_none_match(&["*"]),
            Some(Precondition {
                one_of: Some(vec![]),
                none_of: None
            })
        );
        // Weak comparison: W/"2" names version 2 too.
        assert_eq!(
            if_none_match(&["\"1\", W/\"2\""]).unwrap().none_of,
            Some(vec![at(1), at(2)])
        );
        let mut both = headers(IF_MATCH, &["\"1\""]);
        both.append(IF_NONE_MATCH, "\"2\"".parse().unwrap());
        assert_eq!(
            precondition(&both),
            Some(Precondition {
                one_of: Some(vec![at(1)]),
                none_of: Some(vec![at(2)])
            })
        );
    }

    #[test]
    fn if_none_match_on_a_read() {
        let task = task_at(at(7));
        let current = |values: &[&str]| {
            if_none_match_on_read(&headers(IF_NONE_MATCH, values))
                .map(|condition| condition.is_current(&task))
        };
        assert_eq!(current(&[]), None);
        assert_eq!(current(&["\"7\""]), Some(true));
        assert_eq!(current(&["W/\"7\""]), Some(true));
        assert_eq!(current(&["\"1\", \"7\""]), Some(true));
        assert_eq!(current(&["*"]), Some(true));
        assert_eq!(current(&["\"8\""]), Some(false));
        assert_eq!(current(&["*garbage"]), Some(false));
        assert_eq!(current(&["\"8\", *"]), Some(false));
    }
}
