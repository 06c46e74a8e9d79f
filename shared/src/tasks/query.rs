//! What a list request asks for: which of the caller's tasks (`status`,
//! `q`), in which order (`sort`, `order`) and how many (`limit`). Where the
//! page starts is the cursor's business (`cursor.rs`), which depends on this.

use super::input::{contains_nul, NUL_MESSAGE};
use crate::error::{ApiError, FieldError};

pub const LIST_LIMIT_MAX: i64 = 100;
pub const SEARCH_MAX_CHARS: usize = 255;
/// A title of 255 four-byte characters, encoded: anything longer is not ours.
pub const MAX_CURSOR_CHARS: usize = 1400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Pending,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Updated,
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Title => "title",
        }
    }
}

impl SortOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// GET /api/{user_id}/tasks parameters, every one validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub status: StatusFilter,
    pub sort: SortKey,
    pub order: SortOrder,
    pub search: Option<String>,
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            status: StatusFilter::All,
            sort: SortKey::Created,
            order: SortOrder::Desc,
            search: None,
            limit: LIST_LIMIT_MAX,
        }
    }
}

impl ListQuery {
    /// Parameters this API does not define are ignored (as cache-busters must
    /// be); a defined parameter with an unknown value, or given twice, is a 400.
    /// Also answers the `cursor` parameter's text, checked only for length:
    /// decoding it needs the query (see `cursor::PageRequest`).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Self, Option<&'a str>), ApiError> {
        let mut seen: Vec<&str> = Vec::new();
        let mut errors = Vec::new();
        let mut query = Self::default();
        let mut order = None;
        let mut cursor = None;
        for (key, value) in pairs {
            if !matches!(key, "status" | "sort" | "order" | "q" | "limit" | "cursor") {
                continue;
            }
            if seen.contains(&key) {
                errors.push(FieldError::new(key, "must be given at most once"));
                continue;
            }
            seen.push(key);
            let mut bad = |message: &str| errors.push(FieldError::new(key, message));
            match key {
                "status" => match value {
                    "all" => query.status = StatusFilter::All,
                    "pending" => query.status = StatusFilter::Pending,
                    "completed" => query.status = StatusFilter::Completed,
                    _ => bad("must be one of all, pending, completed"),
                },
                "sort" => match value {
                    "created" => query.sort = SortKey::Created,
                    "updated" => query.sort = SortKey::Updated,
                    "title" => query.sort = SortKey::Title,
                    _ => bad("must be one of created, updated, title"),
                },
                "order" => match value {
                    "asc" => order = Some(SortOrder::Asc),
                    "desc" => order = Some(SortOrder::Desc),
                    _ => bad("must be asc or desc"),
                },
                "limit" => match value.parse::<i64>() {
                    Ok(n)
                        if (1..=LIST_LIMIT_MAX).contains(&n)
                            && value.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        query.limit = n
                    }
                    _ => bad("must be an integer from 1 to 100"),
                },
                "q" => {
                    if contains_nul(value) {
                        bad(NUL_MESSAGE);
                    } else if value.chars().count() > SEARCH_MAX_CHARS {
                        bad("must be at most 255 characters");
                    } else if !value.is_empty() {
                        query.search = Some(value.to_owned());
                    }
                }
                "cursor" => match value.len() {
                    0 => {}
                    1..=MAX_CURSOR_CHARS => cursor = Some(value),
                    _ => bad("is not a cursor this API issued"),
                },
                _ => unreachable!("filtered above"),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid_fields(errors));
        }
        // Titles read naturally A→Z; timestamps newest first.
        query.order = order.unwrap_or(match query.sort {
            SortKey::Title => SortOrder::Asc,
            _ => SortOrder::Desc,
        });
        Ok((query, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query alone, without the cursor's text.
    fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ListQuery, ApiError> {
        ListQuery::parse(pairs).map(|(query, _cursor)| query)
    }

    #[test]
    fn list_query_defaults_and_values() {
        assert_eq!(parse([]).unwrap(), ListQuery::default());
        let q = parse([("sort", "title"), ("status", "pending"), ("utm", "x")]).unwrap();
        assert_eq!(
            (q.sort, q.order, q.status),
            (SortKey::Title, SortOrder::Asc, StatusFilter::Pending)
        );
        let q = parse([
            ("sort", "updated"),
            ("order", "asc"),
            ("limit", "5"),
            ("q", "milk"),
        ])
        .unwrap();
        assert_eq!(
            (q.order, q.limit, q.search.as_deref()),
            (SortOrder::Asc, 5, Some("milk"))
        );
    }
}
