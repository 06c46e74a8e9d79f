//! Rules every client text follows, whichever field or parameter carries it.

/// NUL cannot be stored in a PostgreSQL text: refused before any SQL runs.
pub const NUL_MESSAGE: &str = "must not contain NUL (\\u0000) characters";

pub fn contains_nul(text: &str) -> bool {
    text.contains('\0')
}
