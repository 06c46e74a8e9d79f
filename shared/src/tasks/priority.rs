//! A task's priority: four levels, `none` when a client gives none. The
//! derived order is the rank's, so `sort=priority` and `Ord` agree.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    #[default]
    None,
    Low,
    Medium,
    High,
}

/// What a client is told when `priority` is none of these.
pub const MESSAGE: &str = "must be one of none, low, medium, high (or null)";

impl Priority {
    /// Lowest rank first.
    pub const ALL: [Self; 4] = [Self::None, Self::Low, Self::Medium, Self::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// 0 (none) to 3 (high): the value stored and sorted on, a SMALLINT.
    pub fn rank(self) -> i16 {
        match self {
            Self::None => 0,
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
        }
    }

    pub fn from_rank(rank: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(rank).ok()?).copied()
    }

    /// One of the four names, in any ASCII case (`HIGH`, `High`).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(text))
    }

    /// A body's `priority`: `null` is no priority, like `"none"`.
    pub fn from_json(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Null => Ok(Self::None),
            Value::String(text) => Self::parse(text).ok_or(MESSAGE),
            _ => Err(MESSAGE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_ranks_and_order_agree() {
        for (rank, level) in Priority::ALL.into_iter().enumerate() {
            let rank = i16::try_from(rank).unwrap();
            assert_eq!(level.rank(), rank);
            assert_eq!(Priority::from_rank(rank), Some(level));
            assert_eq!(Priority::parse(level.as_str()), Some(level));
        }
        assert!(Priority::High > Priority::Medium);
        assert!(Priority::Medium > Priority::Low);
        assert!(Priority::Low > Priority::None);
        assert_eq!(Priority::default(), Priority::None);
        for rank in [-1, 4, i16::MIN, i16::MAX] {
            assert_eq!(Priority::from_rank(rank), None, "{rank}");
        }
    }

    #[test]
    fn parse_ignores_ascii_case_only() {
        assert_eq!(Priority::parse("HIGH"), Some(Priority::High));
        assert_eq!(Priority::parse("mEdIuM"), Some(Priority::Medium));
        assert_eq!(Priority::parse("None"), Some(Priority::None));
        for text in [
            "",
            " high",
            "high ",
            "urgent",
            "hi",
            "h\u{130}gh",
            "3",
            "null",
        ] {
            assert_eq!(Priority::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn from_json_takes_the_names_or_null() {
        assert_eq!(Priority::from_json(&json!(null)), Ok(Priority::None));
        assert_eq!(Priority::from_json(&json!("Low")), Ok(Priority::Low));
        assert_eq!(Priority::from_json(&json!("none")), Ok(Priority::None));
        for value in [
            json!("urgent"),
            json!(""),
            json!(3),
            json!(true),
            json!(["high"]),
            json!({"level": "high"}),
        ] {
            assert_eq!(
                Priority::from_json(&value),
                Err("must be one of none, low, medium, high (or null)"),
                "{value}"
            );
        }
    }

    #[test]
    fn serde_uses_the_lower_case_names() {
        for level in Priority::ALL {
            let text = serde_json::to_string(&level).unwrap();
            assert_eq!(text, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<Priority>(&text).unwrap(), level);
        }
        assert!(serde_json::from_str::<Priority>("\"urgent\"").is_err());
    }
}
