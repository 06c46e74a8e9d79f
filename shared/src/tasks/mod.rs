//! The task resource: its model, the rules its input must follow, and the one
//! SQL statement behind each endpoint.

pub mod cursor;
pub mod idempotency;
pub mod input;
pub mod model;
pub mod store;
pub mod version;

pub use idempotency::IdempotencyKey;
pub use input::{
    CompletionChange, ListQuery, NewTask, SortKey, SortOrder, StatusFilter, TaskReplacement,
};
pub use model::Task;
pub use version::{IfNoneMatch, Precondition};
