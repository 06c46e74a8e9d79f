//! Percent-encoding for the few places that need it (path segments, the
//! query string, URL options). Small enough that a dependency would cost more
//! than it saves.
//!
//! Decoding is strict about the result: bytes that are not UTF-8 once decoded
//! (`%FF`, the overlong `%C0%AF`, the surrogate `%ED%A0%80`) are an error, never
//! U+FFFD, so two different spellings can never name the same user or search.

/// The decoded bytes were not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
pub fn percent_decode(value: &str) -> Result<String, NotUtf8> {
    decode(value, false)
}

/// A value of an `application/x-www-form-urlencoded` query: `+` is a space
/// (what browsers' `URLSearchParams` send), then `%XX` escapes.
pub fn form_decode(value: &str) -> Result<String, NotUtf8> {
    decode(value, true)
}

fn decode(value: &str, plus_is_space: bool) -> Result<String, NotUtf8> {
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .any(|b| *b == b'%' || (plus_is_space && *b == b'+'))
    {
        return Ok(value.to_owned());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && bytes[i] == b'+' {
            b' '
        } else {
            bytes[i]
        });
        i += 1;
    }
    String::from_utf8(out).map_err(|_| NotUtf8)
}

/// The `name=value` pairs of a raw query string, decoded, in order, repeated
/// names kept; `Err` names the first parameter whose name or value is not
/// UTF-8 once decoded.
pub fn query_pairs(raw: &str) -> Result<Vec<(String, String)>, String> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name).map_err(|_| "query".to_owned())?;
            let value = form_decode(value).map_err(|_| name.clone())?;
            Ok((name, value))
        })
        .collect()
}

/// Encodes everything but RFC 3986 unreserved characters, so a user id is
/// always one safe path segment.
pub fn percent_encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for value in ["kX3f9q2LrT", "a b/c", "ü%", "user@example.com", "a+b"] {
            let encoded = percent_encode_segment(value);
            assert_eq!(percent_decode(&encoded).unwrap(), value);
            assert_eq!(form_decode(&encoded).unwrap(), value);
        }
        assert_eq!(percent_encode_segment("a b/c"), "a%20b%2Fc");
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
            assert_eq!(percent_decode(raw), Err(NotUtf8), "{raw}");
            assert_eq!(form_decode(raw), Err(NotUtf8), "{raw}");
        }
        assert_eq!(percent_decode("%EF%BF%BD").unwrap(), "\u{FFFD}");
    }

    #[test]
    fn plus_is_a_space_only_in_queries() {
        assert_eq!(form_decode("buy+milk%2B").unwrap(), "buy milk+");
        assert_eq!(percent_decode("buy+milk").unwrap(), "buy+milk");
    }

    #[test]
    fn queries_keep_order_and_repeats() {
        assert_eq!(
            query_pairs("q=a+b&&limit=5&q=%C3%BC&flag").unwrap(),
            vec![
                ("q".into(), "a b".into()),
                ("limit".into(), "5".into()),
                ("q".into(), "ü".into()),
                ("flag".into(), "".into()),
            ]
        );
        assert_eq!(query_pairs("limit=5&q=%FF"), Err("q".to_owned()));
        assert_eq!(query_pairs("%FF=1"), Err("query".to_owned()));
        assert!(query_pairs("").unwrap().is_empty());
    }
}
