//! The task resource: its model, the rules its input must follow, and the one
//! SQL statement behind each endpoint.

pub mod input;
pub mod model;
pub mod store;

pub use input::{
    CompletionChange, ListQuery, NewTask, SortKey, SortOrder, StatusFilter, TaskReplacement,
};
pub use model::Task;
