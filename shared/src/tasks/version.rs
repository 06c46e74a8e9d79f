//! A task's version is its `updated_at`, which moves on every change (see
//! `store`'s `touch!`), so it can be the task's strong ETag. A change can be
//! made conditional on that version inside its own statement; a read can
//! tell whether the client's copy is current. The HTTP headers that carry
//! these conditions (RFC 9110 §13) are read in `http::conditional`.

use super::model::{from_micros, micros, Task};
use time::OffsetDateTime;

/// The opaque text of a task's version, as it goes inside an entity tag.
pub fn tag(task: &Task) -> String {
    micros(task.updated_at).to_string()
}

/// The version an entity tag's opaque text names, if this API could have
/// issued it.
pub fn from_tag(opaque: &str) -> Option<OffsetDateTime> {
    if opaque.is_empty() || !opaque.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    from_micros(opaque.parse().ok()?)
}

/// The versions a condition names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versions {
    /// `*`: any current version.
    Any,
    /// These versions (possibly none).
    Listed(Vec<OffsetDateTime>),
}

/// The preconditions of a change, as the statement checks them: the task's
/// version must be one of `one_of` (when set) and none of `none_of`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Precondition {
    /// From `If-Match` (strong comparison); `If-None-Match: *` makes it empty,
    /// since any existing task fails that.
    pub one_of: Option<Vec<OffsetDateTime>>,
    /// From `If-None-Match` with entity tags (weak comparison).
    pub none_of: Option<Vec<OffsetDateTime>>,
}

impl Precondition {
    /// The condition "a version in `must_match`, none in `must_not_match`".
    /// `None` when nothing can fail, so the plain statement runs. Matching
    /// any version alone is such a case: any existing task passes it, and a
    /// missing one is a 404 either way.
    pub fn new(must_match: Option<Versions>, must_not_match: Option<Versions>) -> Option<Self> {
        let mut condition = Self::default();
        if let Some(Versions::Listed(versions)) = must_match {
            condition.one_of = Some(versions);
        }
        match must_not_match {
            Some(Versions::Any) => condition.one_of = Some(Vec::new()),
            Some(Versions::Listed(versions)) => condition.none_of = Some(versions),
            None => {}
        }
        (condition != Self::default()).then_some(condition)
    }
}

/// A read's condition: whether the client's copy is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfNoneMatch(pub Versions);

impl IfNoneMatch {
    /// True when the client already holds `task` as it is: answer 304.
    pub fn is_current(&self, task: &Task) -> bool {
        match &self.0 {
            Versions::Any => true,
            Versions::Listed(versions) => versions.contains(&task.updated_at),
        }
    }
}
