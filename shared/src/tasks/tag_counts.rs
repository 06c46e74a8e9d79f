//! A user's tags and how many of their tasks carry each: the answer of
//! `GET /api/{user_id}/tags`, read by `store::tag_counts`.

use serde::{Deserialize, Serialize};

/// One of the user's tags, spelled as first used (on their oldest task that
/// carries it, by id), and how many of their tasks carry it in any letter
/// case. Serialized by serde: the list is not on the hot path that made the
/// tasks' JSON hand-written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub name: String,
    pub count: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_count_is_its_name_and_count() {
        let tags = [
            TagCount {
                name: "Work".into(),
                count: 3,
            },
            TagCount {
                name: "été \"quoted\"".into(),
                count: 1,
            },
        ];
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            r#"[{"name":"Work","count":3},{"name":"été \"quoted\"","count":1}]"#
        );
    }
}
