//! JSON bodies as I-JSON (RFC 7493) reads them: an object with two members of
//! the same name is an error, not "the last one wins". Two parsers in a chain
//! that disagree about which duplicate counts (a gateway or WAF reading the
//! first, this API the last) are how input checks get bypassed.
//!
//! serde_json's own `Value` keeps the last duplicate silently, so this builds
//! the same `Value` through a visitor that refuses them. The happy path costs
//! one map lookup per member; the duplicate's path is only assembled while
//! the error unwinds.
//!
//! And JSON out, on the request path: [`write_str`] and [`write_f64`] write
//! text and numbers exactly as serde_json does, into any buffer, for the
//! writers that skip serde (task bodies, the EMF line, log lines; see
//! ARCHITECTURE.md's decisions).

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// Writes `text` as a JSON string, escaped as serde_json escapes (RFC 8259
/// §7: quote, backslash and control characters; `\b \f \n \r \t` by name,
/// the others as `\u00XX`); text with nothing to escape is written whole.
pub fn write_str(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    // Most text has nothing to escape: one scan, one copy (a page of 100
    // tasks went ~26,000 instructions cheaper than through the loop below).
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.write_str(text)?;
        return out.write_char('"');
    }
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.write_str(&text[start..index])?;
        if escaped.is_empty() {
            write!(out, "\\u{byte:04x}")?;
        } else {
            out.write_str(escaped)?;
        }
        start = index + 1;
    }
    out.write_str(&text[start..])?;
    out.write_char('"')
}

/// A finite number as serde_json writes it (the shortest text that reads
/// back the same, by zmij, serde_json's own); `null` otherwise.
pub fn write_f64(out: &mut impl fmt::Write, value: f64) -> fmt::Result {
    if value.is_finite() {
        out.write_str(zmij::Buffer::new().format_finite(value))
    } else {
        out.write_str("null")
    }
}

/// Why a body is not acceptable JSON.
#[derive(Debug)]
pub enum JsonError {
    /// A member name given twice in one object; the path to it, as
    /// `title` or `extra.items[2].name`.
    Duplicate(String),
    /// Not JSON at all (or nested too deep, or trailing bytes).
    Syntax(serde_json::Error),
}

/// Parses one JSON value, refusing duplicate member names at any depth.
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = UniqueValue {
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(path)) => Err(JsonError::Duplicate(path)),
        (Ok(value), None) => Ok(value),
        (Err(error), None) => Err(JsonError::Syntax(error)),
    }
}

#[derive(Clone, Copy)]
struct UniqueValue<'a> {
    /// Set when a duplicate is found; parents prefix their part of the path.
    duplicate: &'a RefCell<Option<String>>,
}

impl UniqueValue<'_> {
    /// Prefixes the path of a duplicate found below `part`.
    fn within(&self, part: impl FnOnce(&str) -> String) {
        if let Some(path) = self.duplicate.borrow_mut().as_mut() {
            *path = part(path);
        }
    }
}

impl<'de> DeserializeSeed<'de> for UniqueValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueValue<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(error) => {
                    let index = items.len();
                    self.within(|below| format!("[{index}]{}", dotted(below)));
                    return Err(error);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if object.contains_key(&name) {
                *self.duplicate.borrow_mut() = Some(name);
                return Err(A::Error::custom("duplicate member name"));
            }
            match map.next_value_seed(self) {
                Ok(value) => {
                    object.insert(name, value);
                }
                Err(error) => {
                    self.within(|below| format!("{name}{}", dotted(below)));
                    return Err(error);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// How a child's path continues its parent's: `.name`, or `[i]` as it is.
fn dotted(below: &str) -> String {
    if below.starts_with('[') {
        below.to_owned()
    } else {
        format!(".{below}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn duplicate(text: &str) -> Option<String> {
        match from_slice(text.as_bytes()) {
            Err(JsonError::Duplicate(path)) => Some(path),
            _ => None,
        }
    }

    #[test]
    fn parses_what_serde_json_parses() {
        for text in [
            r#"{"title": "a", "n": [1, -2, 3.5, 18446744073709551615], "x": {"y": null, "z": true}}"#,
            "[]",
            "\"s\"",
            " 7 ",
            r#"{"a": "\u00e9\ud83d\ude00"}"#,
        ] {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(from_slice(text.as_bytes()).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn names_the_duplicate_wherever_it_is() {
        assert_eq!(
            duplicate(r#"{"title":"a","title":"b"}"#).as_deref(),
            Some("title")
        );
        assert_eq!(
            duplicate(r#"{"x": {"ok": 1, "list": [0, {"n": 1, "n": 2}]}}"#).as_deref(),
            Some("x.list[1].n")
        );
        assert_eq!(duplicate(r#"[{"a":1,"a":1}]"#).as_deref(), Some("[0].a"));
        // Same name in different objects is fine.
        assert_eq!(
            from_slice(br#"{"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]}"#).unwrap(),
            json!({"a": {"a": 1}, "b": [{"a": 2}, {"a": 3}]})
        );
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        for text in ["{", "{\"a\":1}x", "", "[1,]", "{\"a\" 1}"] {
            assert!(
                matches!(from_slice(text.as_bytes()), Err(JsonError::Syntax(_))),
                "{text}"
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(
            from_slice(deep.as_bytes()),
            Err(JsonError::Syntax(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn strings_are_escaped_as_serde_json_escapes(text in "\\PC*|[\\x00-\\x7f]*") {
            let mut out = String::new();
            write_str(&mut out, &text).unwrap();
            proptest::prop_assert_eq!(out, serde_json::to_string(&text).unwrap());
        }
    }
}
