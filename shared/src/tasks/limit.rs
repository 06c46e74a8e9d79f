//! How many tasks one user may hold. Sign-up is open, so without a bound one
//! account could fill the database for everyone. Every stored task counts,
//! completed or not: the bound is on storage, and deleting frees a slot.

/// The limit a deployment sets with `MAX_TASKS_PER_USER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskLimit {
    /// `0`: no limit (a deployment that bounds accounts some other way).
    Unlimited,
    /// At most this many tasks per user; never more than `i32::MAX`, the
    /// range of the count the database keeps.
    AtMost(i32),
}

impl Default for TaskLimit {
    fn default() -> Self {
        TaskLimit::AtMost(10_000)
    }
}

impl TaskLimit {
    /// A `MAX_TASKS_PER_USER` value: a whole number, `0` meaning no limit.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().parse::<i32>() {
            Ok(0) => Ok(TaskLimit::Unlimited),
            Ok(most) if most > 0 => Ok(TaskLimit::AtMost(most)),
            _ => Err(format!(
                "expected a whole number of tasks from 0 (no limit) to {}",
                i32::MAX
            )),
        }
    }

    /// The create statement's parameter: NULL when there is no limit.
    pub(crate) fn as_param(self) -> Option<i32> {
        match self {
            TaskLimit::Unlimited => None,
            TaskLimit::AtMost(most) => Some(most),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TaskLimit;

    #[test]
    fn zero_means_no_limit_and_nonsense_is_refused() {
        assert_eq!(TaskLimit::parse("0"), Ok(TaskLimit::Unlimited));
        assert_eq!(TaskLimit::parse(" 250 "), Ok(TaskLimit::AtMost(250)));
        assert_eq!(
            TaskLimit::parse("2147483647"),
            Ok(TaskLimit::AtMost(i32::MAX))
        );
        for bad in ["-1", "1e4", "ten", "2147483648", "10_000"] {
            assert!(TaskLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TaskLimit::default(), TaskLimit::AtMost(10_000));
    }
}
