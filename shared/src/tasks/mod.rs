//! The task resource: its model, the rules its input must follow, and the one
//! SQL statement behind each endpoint.

pub mod cursor;
pub mod due;
pub mod idempotency;
pub mod input;
pub mod limit;
pub mod model;
pub mod priority;
pub mod query;
pub mod store;
pub mod tag_counts;
pub mod tags;
pub mod text;
pub mod version;

pub use cursor::PageRequest;
pub use idempotency::IdempotencyKey;
pub use input::{CompletionChange, NewTask, TaskChange};
pub use limit::TaskLimit;
pub use model::Task;
pub use query::{ListQuery, SortKey, SortOrder, StatusFilter};
pub use tag_counts::TagCount;
pub use version::{IfNoneMatch, Precondition};
