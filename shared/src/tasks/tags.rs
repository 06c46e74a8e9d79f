//! A task's tags: short labels, unique ignoring case, in the order given.
//! [`key`] is the one comparison rule, for bodies and filters alike.

use super::text::{contains_nul, NUL_MESSAGE};
use serde_json::Value;

pub const TAG_MAX_CHARS: usize = 50;
pub const TAGS_MAX: usize = 20;

/// What two tags are compared by: `Work` and `work` are one tag.
pub fn key(tag: &str) -> String {
    tag.to_lowercase()
}

/// A body's `tags`: an array of strings, each trimmed (Unicode white space)
/// and checked; a later spelling of a tag already given is dropped. `null`
/// is an error here: what it means is the caller's to say. Items are named
/// by their 0-based index, as in a JSON path (`tags[3]`).
pub fn from_json(value: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err("must be an array of strings".to_owned());
    };
    checked(items.iter().map(Value::as_str))
}

/// A list filter's comma-separated tags, by the same rules.
pub fn from_texts<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    checked(items.into_iter().map(Some))
}

/// The rules, item by item in order (`None`: an item that is not a text),
/// so the first broken rule is the one named.
fn checked<'a>(items: impl IntoIterator<Item = Option<&'a str>>) -> Result<Vec<String>, String> {
    let mut tags = Vec::new();
    let mut keys = Vec::new();
    for (index, raw) in items.into_iter().enumerate() {
        let Some(raw) = raw else {
            return Err(format!("item {index} must be a string"));
        };
        let tag = raw.trim();
        let chars = tag.chars().count();
        if contains_nul(tag) {
            return Err(format!("item {index} {NUL_MESSAGE}"));
        }
        if chars == 0 || chars > TAG_MAX_CHARS {
            return Err(format!(
                "item {index} must be 1 to {TAG_MAX_CHARS} characters after trimming"
            ));
        }
        // Commas separate tags where a list of them is one text (a query
        // string's filter).
        if tag.contains(',') {
            return Err(format!("item {index} must not contain commas"));
        }
        let tag_key = key(tag);
        if keys.contains(&tag_key) {
            continue;
        }
        if tags.len() == TAGS_MAX {
            return Err(format!(
                "must have at most {TAGS_MAX} tags (item {index} is one more; \
                 tags that differ only in case count once)"
            ));
        }
        keys.push(tag_key);
        tags.push(tag.to_owned());
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tags(value: Value) -> Result<Vec<String>, String> {
        from_json(&value)
    }

    #[test]
    fn tags_are_trimmed_and_kept_in_order() {
        assert_eq!(
            tags(json!(["  work ", "home\n", "\u{3000}errands\u{a0}"])).unwrap(),
            ["work", "home", "errands"]
        );
        assert_eq!(tags(json!([])).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn duplicates_ignoring_case_keep_the_first_spelling() {
        assert_eq!(
            tags(json!([
                "Work", "home", "WORK", " work", "Home", "ÉTÉ", "été"
            ]))
            .unwrap(),
            ["Work", "home", "ÉTÉ"]
        );
        assert_eq!(key("ÉTÉ"), "été");
        assert_eq!(key("Work"), key("wORK"));
    }

    #[test]
    fn length_counts_characters_after_trimming() {
        let max = "é".repeat(TAG_MAX_CHARS);
        assert_eq!(tags(json!([format!(" {max} ")])).unwrap(), [max]);
        for (value, index) in [
            (json!(["ok", "x".repeat(TAG_MAX_CHARS + 1)]), 1),
            (json!([""]), 0),
            (json!(["a", "b", "c", " \t\n "]), 3),
        ] {
            assert_eq!(
                tags(value),
                Err(format!(
                    "item {index} must be 1 to 50 characters after trimming"
                ))
            );
        }
    }

    #[test]
    fn nul_and_commas_are_refused() {
        assert_eq!(
            tags(json!(["a", "b\u{0}"])),
            Err("item 1 must not contain NUL (\\u0000) characters".to_owned())
        );
        assert_eq!(
            tags(json!(["a,b"])),
            Err("item 0 must not contain commas".to_owned())
        );
    }

    #[test]
    fn only_an_array_of_strings_will_do() {
        for value in [json!(null), json!("work"), json!({"0": "work"}), json!(3)] {
            assert_eq!(
                tags(value.clone()),
                Err("must be an array of strings".to_owned()),
                "{value}"
            );
        }
        assert_eq!(
            tags(json!(["a", null])),
            Err("item 1 must be a string".to_owned())
        );
        assert_eq!(
            tags(json!([["a"]])),
            Err("item 0 must be a string".to_owned())
        );
    }

    #[test]
    fn at_most_twenty_distinct_tags() {
        let twenty: Vec<String> = (0..TAGS_MAX).map(|i| format!("t{i}")).collect();
        assert_eq!(tags(json!(twenty)).unwrap(), twenty);
        // Duplicates do not count.
        let mut with_duplicates = twenty.clone();
        with_duplicates.extend(twenty.iter().map(|t| t.to_uppercase()));
        assert_eq!(tags(json!(with_duplicates)).unwrap(), twenty);
        let mut over = twenty;
        over.push("T0".to_owned());
        over.push("one more".to_owned());
        let error = tags(json!(over)).unwrap_err();
        assert!(
            error.starts_with("must have at most 20 tags (item 21"),
            "{error}"
        );
    }

    /// Whether `raw` alone would be accepted.
    fn valid(raw: &str) -> bool {
        from_json(&json!([raw])).is_ok()
    }

    proptest::proptest! {
        #[test]
        fn output_is_the_first_spelling_of_each_tag_in_order(
            input in proptest::collection::vec(
                // Mostly valid tags, many of them the same but for case.
                proptest::prop_oneof![
                    40 => "[ \u{3000}]?[aAbBéÉ][a-dA-D]{0,2}[ \t]?",
                    1 => "[aA ]{0,2}[,\u{0}]?",
                    1 => "\\PC{0,60}",
                ],
                0..35,
            )
        ) {
            let result = from_json(&json!(input));
            let trimmed: Vec<&str> = input.iter().map(|raw| raw.trim()).collect();
            let keys: Vec<String> = trimmed.iter().map(|tag| key(tag)).collect();
            let mut distinct = keys.clone();
            distinct.sort();
            distinct.dedup();
            match result {
                Ok(output) => {
                    proptest::prop_assert!(output.len() <= TAGS_MAX);
                    proptest::prop_assert_eq!(output.len(), distinct.len());
                    let mut last = None;
                    for tag in &output {
                        // The input's first item with this key, as given.
                        let first = keys.iter().position(|k| *k == key(tag)).unwrap();
                        proptest::prop_assert_eq!(trimmed[first], tag.as_str());
                        proptest::prop_assert!(last < Some(first));
                        last = Some(first);
                    }
                }
                Err(_) => proptest::prop_assert!(
                    distinct.len() > TAGS_MAX || !input.iter().all(|raw| valid(raw))
                ),
            }
        }
    }
}
