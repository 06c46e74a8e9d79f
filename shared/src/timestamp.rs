//! Timestamps as this API writes them, in task bodies and log lines:
//! RFC 3339, always UTC, always microseconds (PostgreSQL's precision), so
//! every one has the same shape and sorts as a string.

use std::fmt;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The shape, for the general formatter.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Writes `at` in the API's shape: digit by digit, or through `time`'s
/// formatter for the years that path does not take.
pub fn write(out: &mut impl fmt::Write, at: OffsetDateTime) -> fmt::Result {
    let mut buffer = [0; TIMESTAMP_LEN];
    match write_timestamp(at, &mut buffer) {
        Some(text) => out.write_str(text),
        None => out.write_str(
            &at.to_offset(UtcOffset::UTC)
                .format(TIMESTAMP)
                .unwrap_or_else(|_| at.unix_timestamp().to_string()),
        ),
    }
}

pub fn format_timestamp(at: OffsetDateTime) -> String {
    let mut out = String::with_capacity(TIMESTAMP_LEN);
    let _ = write(&mut out, at);
    out
}

/// `2026-11-24T09:00:00.123456Z`.
const TIMESTAMP_LEN: usize = 27;

/// [`TIMESTAMP`]'s shape written digit by digit, for years 0–9999 (`time`
/// goes no further; negative years take the general path). The general formatter
/// interprets its format description on every call: callgrind counted
/// ~4,400 instructions per timestamp there, two per task, and so half of
/// a list of 100 tasks. This takes a few hundred.
fn write_timestamp(at: OffsetDateTime, buffer: &mut [u8; TIMESTAMP_LEN]) -> Option<&str> {
    let at = at.to_offset(UtcOffset::UTC);
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let mut put = |at: usize, value: u32, digits: u32| {
        for i in 0..digits {
            let place = 10u32.pow(digits - 1 - i);
            buffer[at + i as usize] = b'0' + ((value / place) % 10) as u8;
        }
    };
    put(0, year, 4);
    put(5, u32::from(u8::from(at.month())), 2);
    put(8, u32::from(at.day()), 2);
    put(11, u32::from(at.hour()), 2);
    put(14, u32::from(at.minute()), 2);
    put(17, u32::from(at.second()), 2);
    put(20, at.microsecond(), 6);
    for (index, byte) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buffer[index] = byte;
    }
    std::str::from_utf8(buffer).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    proptest::proptest! {
        /// The digit-by-digit writer and the general formatter agree on every
        /// instant of years 0–9999, in any offset, to the microsecond.
        #[test]
        fn the_fast_timestamp_is_the_formatters(
            micros in -62_167_219_200_000_000i64..253_402_300_799_999_999,
            offset in -86_399i32..86_400,
        ) {
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                .unwrap()
                .to_offset(UtcOffset::from_whole_seconds(offset).unwrap());
            let general = at.to_offset(UtcOffset::UTC).format(TIMESTAMP).unwrap();
            let mut buffer = [0; TIMESTAMP_LEN];
            proptest::prop_assert_eq!(write_timestamp(at, &mut buffer), Some(general.as_str()));
        }
    }

    #[test]
    fn years_before_0_take_the_general_path() {
        let far = datetime!(-0001-12-31 23:59:59 UTC);
        assert_eq!(write_timestamp(far, &mut [0; TIMESTAMP_LEN]), None);
        assert_eq!(format_timestamp(far), far.format(TIMESTAMP).unwrap());
    }
}
