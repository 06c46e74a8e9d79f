//! `Idempotency-Key` on create (draft-ietf-httpapi-idempotency-key-header):
//! a client retrying a POST it never got an answer for sends the same key, and
//! gets the original 201 instead of a second task. Keys are per user and kept
//! for [`KEY_LIFETIME_HOURS`]; the whole check happens inside the create
//! statement (see `store::create`), so a first request is still one round trip.
//! The header itself is read in `http::idempotency_key`.

use super::due::DueDate;
use super::input::NewTask;
use super::model::micros;
use super::priority::Priority;
use crate::error::ApiError;
use sha2::{Digest, Sha256};

pub const KEY_LIFETIME_HOURS: u32 = 24;
const MAX_KEY_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key as the client chose it: 1–255 visible ASCII characters,
    /// without spaces or quotes.
    pub fn new(key: &str) -> Result<Self, ApiError> {
        let invalid = |message: &str| ApiError::invalid("Idempotency-Key", message);
        if key.is_empty() || key.len() > MAX_KEY_CHARS {
            return Err(invalid("must be 1–255 characters"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
            return Err(invalid(
                "must be visible ASCII without spaces or quotes (a UUID is a good key)",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What tells a retry from a different request under the same key: a hash of
/// the request as parsed (so `{"title":" a "}` and `{"title":"a"}` are the
/// same request). Each field is length-prefixed (a big-endian u64) and an
/// absent optional one is a 0 byte, a present one a 1 byte first, so no two
/// requests hash the same bytes. `V4__idempotency_response.sql` computes the
/// same for keys stored before it; a new field goes at the end, as a section
/// of its own (a tag byte, then its value) written only when it differs from
/// its default: a request that leaves it out hashes as before the field
/// existed, and still replays a key stored then.
pub fn request_hash(task: &NewTask) -> Vec<u8> {
    let mut hash = Sha256::new();
    text(&mut hash, &task.title);
    match &task.description {
        None => hash.update([0]),
        Some(description) => {
            hash.update([1]);
            text(&mut hash, description);
        }
    }
    if task.priority != Priority::None {
        hash.update([b'p', task.priority.rank() as u8]);
    }
    if !task.tags.is_empty() {
        hash.update([b't']);
        hash.update((task.tags.len() as u64).to_be_bytes());
        for tag in &task.tags {
            text(&mut hash, tag);
        }
    }
    match task.due_date {
        None => {}
        Some(DueDate::AllDay(date)) => {
            hash.update([b'd']);
            hash.update(date.to_julian_day().to_be_bytes());
        }
        Some(DueDate::At(at)) => {
            hash.update([b'a']);
            hash.update(micros(at).to_be_bytes());
        }
    }
    hash.finalize().to_vec()
}

fn text(hash: &mut Sha256, value: &str) {
    hash.update((value.len() as u64).to_be_bytes());
    hash.update(value.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every member of a create that changes the task changes the hash, and
    /// leaving the planning fields at their defaults hashes as before them.
    #[test]
    fn every_member_counts() {
        let plain = NewTask {
            title: "t".into(),
            ..NewTask::default()
        };
        let changed = [
            NewTask {
                title: "u".into(),
                ..plain.clone()
            },
            NewTask {
                description: Some(String::new()),
                ..plain.clone()
            },
            NewTask {
                priority: Priority::Low,
                ..plain.clone()
            },
            NewTask {
                tags: vec!["a".into()],
                ..plain.clone()
            },
            NewTask {
                tags: vec!["a".into(), "b".into()],
                ..plain.clone()
            },
            NewTask {
                due_date: Some(DueDate::AllDay(time::macros::date!(2026 - 01 - 31))),
                ..plain.clone()
            },
            NewTask {
                due_date: Some(DueDate::At(time::macros::datetime!(2026-01-31 00:00 UTC))),
                ..plain.clone()
            },
        ];
        let mut hashes = vec![request_hash(&plain)];
        for task in &changed {
            let hash = request_hash(task);
            assert!(!hashes.contains(&hash), "{task:?}");
            hashes.push(hash);
        }
        // What V4__idempotency_response.sql computes for a title alone.
        let mut before = Sha256::new();
        text(&mut before, "t");
        before.update([0]);
        assert_eq!(request_hash(&plain), before.finalize().to_vec());
    }
}
