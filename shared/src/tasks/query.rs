//! What a list request asks for: which of the caller's tasks (`status`,
//! `q`, `priority`, `tag`, `due_after`, `due_before`), in which order
//! (`sort`, `order`) and how many (`limit`). Where the page starts is the
//! cursor's business (`cursor.rs`), which depends on this.

use super::due;
use super::priority::Priority;
use super::tags;
use super::text::{contains_nul, NUL_MESSAGE};
use crate::error::{ApiError, FieldError};
use time::OffsetDateTime;

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

/// A parameter of GET /api/{user_id}/tasks, declared once: its names here;
/// its parsing in [`ListQuery::set`]; its canonical text, which both the
/// next page's `Link` and the cursor's fingerprint are made from, in
/// [`ListQuery::pairs`]; and whether a cursor is bound to it in
/// [`Param::binding`]. The tests iterate [`Param::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Status,
    Sort,
    Order,
    Limit,
    Q,
    Priority,
    Tag,
    DueAfter,
    DueBefore,
    Cursor,
}

/// How a cursor is bound to a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Hashed in the fingerprint's first layout (cursors issued before the
    /// planning filters keep working).
    First,
    /// Hashed as a section of its own, when given.
    Section,
    /// Not bound: the page size may change between pages.
    Free,
}

impl Param {
    pub const ALL: [Param; 10] = [
        Param::Status,
        Param::Sort,
        Param::Order,
        Param::Limit,
        Param::Q,
        Param::Priority,
        Param::Tag,
        Param::DueAfter,
        Param::DueBefore,
        Param::Cursor,
    ];

    /// Its names: the first is the one this API writes; the others are the
    /// spellings front ends built for this API send.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Self::Status => &["status"],
            Self::Sort => &["sort", "sort_by"],
            Self::Order => &["order", "sort_order"],
            Self::Limit => &["limit"],
            Self::Q => &["q", "search"],
            Self::Priority => &["priority"],
            Self::Tag => &["tag", "tags"],
            Self::DueAfter => &["due_after"],
            Self::DueBefore => &["due_before"],
            Self::Cursor => &["cursor"],
        }
    }

    pub fn name(self) -> &'static str {
        self.names()[0]
    }

    pub fn binding(self) -> Binding {
        match self {
            Self::Status | Self::Sort | Self::Order | Self::Q => Binding::First,
            Self::Priority | Self::Tag | Self::DueAfter | Self::DueBefore => Binding::Section,
            Self::Limit | Self::Cursor => Binding::Free,
        }
    }

    fn named(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.names().contains(&key))
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
    /// Tasks with any of these priorities, highest first; empty: any.
    pub priorities: Vec<Priority>,
    /// Tasks carrying all of these tags, lower-cased and sorted (the filter
    /// ignores case); empty: any.
    pub tags: Vec<String>,
    /// `due_after ≤ due < due_before`; either leaves undated tasks out.
    pub due_after: Option<OffsetDateTime>,
    pub due_before: Option<OffsetDateTime>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            status: StatusFilter::All,
            sort: SortKey::Created,
            order: SortOrder::Desc,
            search: None,
            limit: LIST_LIMIT_MAX,
            priorities: Vec::new(),
            tags: Vec::new(),
            due_after: None,
            due_before: None,
        }
    }
}

impl ListQuery {
    /// Parameters this API does not define are ignored (as cache-busters must
    /// be); a defined parameter with an unknown value, or given twice (under
    /// one name or both), is a 400. Also answers the `cursor` parameter's
    /// text, checked only for length: decoding it needs the query (see
    /// `cursor::PageRequest`).
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Self, Option<&'a str>), ApiError> {
        let mut seen: Vec<(Param, &str)> = Vec::new();
        let mut errors = Vec::new();
        let mut query = Self::default();
        let mut order = None;
        let mut cursor = None;
        for (key, value) in pairs {
            let Some(param) = Param::named(key) else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(p, _)| *p == param) {
                let message = if *first == key {
                    "must be given at most once".to_owned()
                } else {
                    format!("is another name of {first}: give one of them")
                };
                errors.push(FieldError::new(key, message));
                continue;
            }
            seen.push((param, key));
            let set = match param {
                // Read here, not in `set`: the default order follows the sort.
                Param::Order => {
                    order = match value {
                        "asc" => Some(SortOrder::Asc),
                        "desc" => Some(SortOrder::Desc),
                        _ => None,
                    };
                    order.map(|_| ()).ok_or("must be asc or desc".to_owned())
                }
                Param::Cursor if value.len() > MAX_CURSOR_CHARS => {
                    Err("is not a cursor this API issued".to_owned())
                }
                Param::Cursor => {
                    cursor = Some(value).filter(|text| !text.is_empty());
                    Ok(())
                }
                _ => query.set(param, value),
            };
            if let Err(message) = set {
                errors.push(FieldError::new(key, message));
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

    /// One parameter's value (`order` and `cursor` are `parse`'s).
    fn set(&mut self, param: Param, value: &str) -> Result<(), String> {
        match param {
            Param::Status => {
                self.status = match value {
                    "all" => StatusFilter::All,
                    "pending" => StatusFilter::Pending,
                    "completed" => StatusFilter::Completed,
                    _ => return Err("must be one of all, pending, completed".into()),
                }
            }
            Param::Sort => {
                self.sort = match value {
                    "created" | "created_at" => SortKey::Created,
                    "updated" | "updated_at" => SortKey::Updated,
                    "title" => SortKey::Title,
                    _ => return Err("must be one of created, updated, title".into()),
                }
            }
            Param::Limit => match value.parse::<i64>() {
                Ok(n)
                    if (1..=LIST_LIMIT_MAX).contains(&n)
                        && value.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    self.limit = n
                }
                _ => return Err("must be an integer from 1 to 100".into()),
            },
            Param::Q => {
                if contains_nul(value) {
                    return Err(NUL_MESSAGE.into());
                } else if value.chars().count() > SEARCH_MAX_CHARS {
                    return Err("must be at most 255 characters".into());
                } else if !value.is_empty() {
                    self.search = Some(value.to_owned());
                }
            }
            Param::Priority if value.is_empty() => {}
            Param::Priority => {
                let mut levels = value
                    .split(',')
                    .map(Priority::parse)
                    .collect::<Option<Vec<_>>>()
                    .ok_or("must be none, low, medium or high, or a comma list of them")?;
                levels.sort_unstable_by(|a, b| b.cmp(a));
                levels.dedup();
                self.priorities = levels;
            }
            Param::Tag if value.is_empty() => {}
            Param::Tag => {
                // The filter ignores case and order: so does its canonical
                // form, which a cursor is bound to (`tag=Work,home` and
                // `tags=HOME,work` are one filter).
                let mut keys: Vec<String> = tags::from_texts(value.split(','))?
                    .iter()
                    .map(|tag| tags::key(tag))
                    .collect();
                keys.sort_unstable();
                self.tags = keys;
            }
            Param::DueAfter => self.due_after = Some(due::parse_bound(value)?),
            Param::DueBefore => self.due_before = Some(due::parse_bound(value)?),
            Param::Order | Param::Cursor => unreachable!("parse reads these"),
        }
        Ok(())
    }

    /// The query in canonical form, parameter by parameter (first names,
    /// canonical values; the filters only when given; not the cursor): what
    /// the next page's `Link` carries and what a cursor is bound to.
    pub fn pairs(&self) -> Vec<(Param, String)> {
        let stamp = |at: OffsetDateTime| crate::timestamp::format_timestamp(at);
        let mut pairs = Vec::with_capacity(9);
        for param in Param::ALL {
            let text = match param {
                Param::Status => Some(self.status.as_str().to_owned()),
                Param::Sort => Some(self.sort.as_str().to_owned()),
                Param::Order => Some(self.order.as_str().to_owned()),
                Param::Limit => Some(self.limit.to_string()),
                Param::Q => self.search.clone(),
                Param::Priority => (!self.priorities.is_empty()).then(|| {
                    let names: Vec<&str> = self.priorities.iter().map(|p| p.as_str()).collect();
                    names.join(",")
                }),
                Param::Tag => (!self.tags.is_empty()).then(|| self.tags.join(",")),
                Param::DueAfter => self.due_after.map(stamp),
                Param::DueBefore => self.due_before.map(stamp),
                Param::Cursor => None,
            };
            if let Some(text) = text {
                pairs.push((param, text));
            }
        }
        pairs
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
    fn other_names_are_the_same_parameters() {
        let spelled = parse([
            ("sort_by", "updated_at"),
            ("sort_order", "asc"),
            ("search", "milk"),
            ("tags", "Work"),
        ])
        .unwrap();
        let canonical = parse([
            ("sort", "updated"),
            ("order", "asc"),
            ("q", "milk"),
            ("tag", "Work"),
        ])
        .unwrap();
        assert_eq!(spelled, canonical);
        for pairs in [
            [("sort", "title"), ("sort_by", "created")],
            [("q", "a"), ("search", "a")],
            [("tags", "a"), ("tag", "a")],
            [("order", "asc"), ("order", "asc")],
        ] {
            let error = parse(pairs).unwrap_err();
            assert_eq!(error.field_errors()[0].field, pairs[1].0, "{pairs:?}");
        }
    }

    #[test]
    fn planning_filters() {
        let q = parse([
            ("priority", "low,HIGH,low"),
            ("tag", " work ,Urgent,WORK"),
            ("due_after", "2026-01-01"),
            ("due_before", "2026-02-01T00:00:00+01:00"),
        ])
        .unwrap();
        assert_eq!(q.priorities, [Priority::High, Priority::Low]);
        assert_eq!(q.tags, ["urgent", "work"]);
        assert_eq!(
            (q.due_after, q.due_before),
            (
                Some(time::macros::datetime!(2026-01-01 00:00 UTC)),
                Some(time::macros::datetime!(2026-01-31 23:00 UTC))
            )
        );
        let empty = parse([("priority", ""), ("tag", "")]).unwrap();
        assert_eq!(empty, ListQuery::default());
        for (name, value) in [
            ("priority", "urgent"),
            ("priority", "high,"),
            ("priority", " high"),
            ("tag", "a,,b"),
            ("tag", " "),
            ("tag", "a\0"),
            ("due_after", "2026-01-31T09:30"),
            ("due_after", "2026-02-30"),
            ("due_before", "9999-12-31T23:59:59-01:00"),
            ("due_before", "soon"),
        ] {
            let error = parse([(name, value)]).unwrap_err();
            assert_eq!(error.field_errors()[0].field, name, "{name}={value}");
        }
    }

    /// Every parameter's canonical text reads back as the same query: the
    /// next page's link asks for what the first page asked.
    #[test]
    fn the_canonical_pairs_read_back_as_the_same_query() {
        let first = parse([
            ("status", "pending"),
            ("sort_by", "title"),
            ("limit", "7"),
            ("search", "a&b=c, d"),
            ("priority", "medium,none"),
            ("tags", "x,Y"),
            ("due_after", "2026-01-01"),
            ("due_before", "2026-03-01T12:00:00.5-03:00"),
        ])
        .unwrap();
        let pairs = first.pairs();
        let again = parse(pairs.iter().map(|(p, text)| (p.name(), text.as_str()))).unwrap();
        assert_eq!(again, first);
        let named: Vec<&str> = pairs.iter().map(|(p, _)| p.name()).collect();
        let every: Vec<&str> = Param::ALL
            .iter()
            .filter(|p| **p != Param::Cursor)
            .map(|p| p.name())
            .collect();
        assert_eq!(named, every, "each parameter given has its place");
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
