//! The HTTP edge: it turns what a request carries into typed values (path,
//! query, body, conditional and idempotency headers) and every outcome into a
//! response (`reply`), including the single mapping of [`ApiError`] to
//! problem+json (RFC 9457). Nothing below it sees a header.

mod conditional;
mod idempotency_key;
mod reply;

pub use conditional::{etag, if_none_match_on_read, precondition};
pub use idempotency_key::idempotency_key;
pub use reply::{problem, Reply, TASK_LIMIT_TYPE};

use crate::error::ApiError;
use crate::tasks::ListQuery;
use lambda_http::http::header::CONTENT_ENCODING;
use lambda_http::{Request, RequestExt};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Seconds a client should wait after a 503 before retrying.
pub const RETRY_AFTER_SECS: u32 = 1;

/// The `{user_id}` and `{id}` of the route, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathParams {
    pub user_id: String,
    pub task_id: Option<String>,
}

impl PathParams {
    /// From the route's path parameters (API Gateway, `cargo lambda watch`),
    /// or, when an integration passes none, from the `/api/{user_id}/tasks[/{id}]`
    /// or `/api/{user_id}/tags` path.
    pub fn of(request: &Request) -> Result<Self, ApiError> {
        let params = request.path_parameters_ref();
        if let Some(user_id) = params.and_then(|p| p.first("user_id")) {
            return Ok(Self {
                user_id: path_segment("user_id", user_id)?,
                task_id: params
                    .and_then(|p| p.first("id"))
                    .map(|id| path_segment("id", id))
                    .transpose()?,
            });
        }
        let segments: Vec<&str> = request.uri().path().split('/').collect();
        let Some(i) = segments
            .windows(3)
            .position(|w| w[0] == "api" && matches!(w[2], "tasks" | "tags"))
        else {
            return Err(ApiError::NotFound);
        };
        Ok(Self {
            user_id: path_segment("user_id", segments[i + 1])?,
            task_id: segments
                .get(i + 3)
                .map(|id| path_segment("id", id))
                .transpose()?,
        })
    }
}

fn path_segment(name: &str, raw: &str) -> Result<String, ApiError> {
    percent_decode(raw).ok_or_else(|| not_utf8(name))
}

fn not_utf8(name: &str) -> ApiError {
    ApiError::invalid(name, "must be UTF-8 once percent-decoded")
}

/// The body's bytes, refused past 64 KiB before anything parses them.
pub fn body_of(request: &Request) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(bytes)
}

/// Refuses a body in any content coding but identity (RFC 9110 §8.4, §15.5.16):
/// a gzip body read as JSON is garbage, and a plain body labelled gzip is a
/// client that will break against any proxy that believes the label.
pub fn identity_coding(request: &Request) -> Result<(), ApiError> {
    for value in request.headers().get_all(CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for coding in text.split(',').map(|c| c.trim_matches([' ', '\t'])) {
            if !coding.is_empty() && !coding.eq_ignore_ascii_case("identity") {
                let shown: String = coding
                    .chars()
                    .filter(char::is_ascii_graphic)
                    .take(40)
                    .collect();
                return Err(ApiError::UnsupportedContentEncoding(shown));
            }
        }
    }
    Ok(())
}

/// Query parameters as decoded (name, value) pairs, repeated names kept,
/// read from the raw query string: the decoded map lambda_http also offers
/// turns bytes that are not UTF-8 into U+FFFD, which must be a 400 instead.
pub fn query_pairs(request: &Request) -> Result<Vec<(String, String)>, ApiError> {
    match request.uri().query() {
        Some(raw) => decode_query(raw).map_err(|name| not_utf8(&name)),
        // An event without a raw query string: only the decoded map exists.
        None => Ok(request
            .query_string_parameters_ref()
            .map(|query| {
                query
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default()),
    }
}

/// Everything but RFC 3986's unreserved characters is escaped, so a user id
/// is always one safe path segment and a search one safe query value.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn percent_encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays as it
/// is). Strict about the result: bytes that are not UTF-8 once decoded
/// (`%FF`, the overlong `%C0%AF`, the surrogate `%ED%A0%80`) give `None`,
/// never U+FFFD, so two different spellings can never name the same user or
/// search.
pub fn percent_decode(value: &str) -> Option<String> {
    percent_decode_str(value)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// A value of an `application/x-www-form-urlencoded` query: `+` is a space
/// (what browsers' `URLSearchParams` send), then `%XX` escapes, as strictly
/// as [`percent_decode`].
pub fn form_decode(value: &str) -> Option<String> {
    if value.contains('+') {
        percent_decode(&value.replace('+', " "))
    } else {
        percent_decode(value)
    }
}

/// The `name=value` pairs of a raw query string, decoded, in order, repeated
/// names kept; `Err` names the first parameter whose name or value is not
/// UTF-8 once decoded.
pub fn decode_query(raw: &str) -> Result<Vec<(String, String)>, String> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name).ok_or_else(|| "query".to_owned())?;
            let value = form_decode(value).ok_or_else(|| name.clone())?;
            Ok((name, value))
        })
        .collect()
}

/// The query string of the page that starts at `cursor`: the list query's
/// parameters, spelled out, plus the cursor.
pub fn next_page_query(query: &ListQuery, cursor: &str) -> String {
    let mut text = String::new();
    for (param, value) in query.pairs() {
        text.push_str(param.name());
        text.push('=');
        text.push_str(&percent_encode(&value));
        text.push('&');
    }
    text.push_str("cursor=");
    text.push_str(cursor);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for value in ["kX3f9q2LrT", "a b/c", "ü%", "user@example.com", "a+b"] {
            let encoded = percent_encode(value);
            assert_eq!(percent_decode(&encoded).unwrap(), value);
            assert_eq!(form_decode(&encoded).unwrap(), value);
        }
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn stray_percent_signs_stay() {
        assert_eq!(percent_decode("a%2Fb").unwrap(), "a/b");
        assert_eq!(percent_decode("100%").unwrap(), "100%");
        assert_eq!(percent_decode("%zz").unwrap(), "%zz");
        assert_eq!(percent_decode("%4").unwrap(), "%4");
        assert_eq!(percent_decode("%41").unwrap(), "A");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_refused() {
        for raw in ["%FF", "a%C0%AFb", "%ED%A0%80", "%E2%82", "%80"] {
            assert_eq!(percent_decode(raw), None, "{raw}");
            assert_eq!(form_decode(raw), None, "{raw}");
        }
        assert_eq!(percent_decode("%EF%BF%BD").unwrap(), "\u{FFFD}");
    }

    #[test]
    fn without_path_parameters_the_path_names_the_user_and_task() {
        let of = |path: &str| {
            let request = lambda_http::http::Request::builder()
                .uri(path)
                .body(lambda_http::Body::Empty)
                .unwrap();
            PathParams::of(&request).map_err(|e| e.status().as_u16())
        };
        let params = |user: &str, id: Option<&str>| {
            Ok(PathParams {
                user_id: user.to_owned(),
                task_id: id.map(str::to_owned),
            })
        };
        assert_eq!(of("/api/a%20b/tasks"), params("a b", None));
        assert_eq!(of("/api/u/tasks/7/complete"), params("u", Some("7")));
        assert_eq!(of("/api/u/tags"), params("u", None));
        assert_eq!(of("/api/u/other"), Err(404));
    }

    #[test]
    fn plus_is_a_space_only_in_queries() {
        assert_eq!(form_decode("buy+milk%2B").unwrap(), "buy milk+");
        assert_eq!(percent_decode("buy+milk").unwrap(), "buy+milk");
    }

    #[test]
    fn queries_keep_order_and_repeats() {
        assert_eq!(
            decode_query("q=a+b&&limit=5&q=%C3%BC&flag").unwrap(),
            vec![
                ("q".into(), "a b".into()),
                ("limit".into(), "5".into()),
                ("q".into(), "ü".into()),
                ("flag".into(), "".into()),
            ]
        );
        assert_eq!(decode_query("limit=5&q=%FF"), Err("q".to_owned()));
        assert_eq!(decode_query("%FF=1"), Err("query".to_owned()));
        assert!(decode_query("").unwrap().is_empty());
    }

    #[test]
    fn the_next_page_repeats_the_query_with_a_cursor() {
        use crate::tasks::cursor::{Cursor, PageRequest, SortValue};
        let first =
            PageRequest::parse([("sort", "title"), ("q", "a b&c=d"), ("limit", "5")], "u").unwrap();
        let last = Cursor {
            key: SortValue::Title("x".into()),
            id: 3,
        };
        let next = next_page_query(&first.query, &last.encode("u", &first.query));
        let pairs: Vec<(String, String)> = next
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_owned(), percent_decode(v).unwrap())
            })
            .collect();
        let again =
            PageRequest::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), "u").unwrap();
        assert_eq!(
            again,
            PageRequest {
                after: Some(last),
                ..first
            }
        );
    }
}
