//! A task's due date: a whole day, or an instant.
//!
//! Input is parsed by hand, to the letter: a date (RFC 3339 §5.6
//! `full-date`), a date-time with an offset (§5.6 `date-time`), or a
//! date-time without one, as an HTML `datetime-local` input sends it. Tasks
//! have no time zone yet, so that wall time is taken as UTC. Every result,
//! once in UTC, stays in years 1–9999, so it writes back in the same four
//! digits (§5.6 `date-fullyear`).

use crate::timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// What a client is told about any text that is not a due date.
pub const MESSAGE: &str = "must be a date (YYYY-MM-DD) or a date-time (RFC 3339, or \
                           YYYY-MM-DDTHH:MM without an offset), years 1 to 9999";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DueDate {
    /// Due some time that day.
    AllDay(Date),
    /// Due at this instant; always in UTC.
    At(OffsetDateTime),
}

/// A due date from a client: see the module's documentation for the forms.
/// `At` keeps the nanoseconds given; see [`DueDate::to_micros`].
pub fn parse(text: &str) -> Result<DueDate, &'static str> {
    parse_form(text, true).ok_or(MESSAGE)
}

/// What a list's `due_after`/`due_before` must be.
pub const BOUND_MESSAGE: &str =
    "must be a date (YYYY-MM-DD) or an RFC 3339 date-time with an offset, years 1 to 9999";

/// A list's `due_after`/`due_before`: a date (its 00:00 UTC) or a date-time
/// with an offset, as the instant a due date is compared with. No
/// offset-less form: a bound in a link must mean one instant.
pub fn parse_bound(text: &str) -> Result<OffsetDateTime, &'static str> {
    parse_form(text, false)
        .ok_or(BOUND_MESSAGE)?
        .to_micros()
        .map(|due| due.instant())
        .map_err(|_| BOUND_MESSAGE)
}

impl DueDate {
    /// The instant it is due, for ordering and filtering: a day's is its
    /// start, 00:00 UTC.
    pub fn instant(&self) -> OffsetDateTime {
        match *self {
            Self::AllDay(date) => date.midnight().assume_utc(),
            Self::At(at) => at,
        }
    }

    /// How a due date is stored (V6): the instant it counts as, and
    /// whether it is a whole day. [`DueDate::from_columns`] reads it back.
    pub fn columns(due: Option<Self>) -> (Option<OffsetDateTime>, bool) {
        match due {
            None => (None, false),
            Some(due) => (Some(due.instant()), matches!(due, Self::AllDay(_))),
        }
    }

    /// The inverse of [`DueDate::columns`]: a whole day is the UTC date of
    /// its instant (its 00:00 UTC, until tasks carry a time zone).
    pub fn from_columns(at: Option<OffsetDateTime>, all_day: bool) -> Option<Self> {
        at.map(|at| match all_day {
            true => Self::AllDay(at.to_offset(UtcOffset::UTC).date()),
            false => Self::At(at),
        })
    }

    /// Rounds `At` to PostgreSQL's microseconds as PostgreSQL rounds the
    /// fraction of a timestamptz it reads as text (`rint(frac * 1000000)`,
    /// in `double`: so ties go to the even microsecond), so the value bound
    /// in binary (which tokio-postgres truncates) is the one the same text
    /// would have stored. An error if that leaves year 9999.
    pub fn to_micros(self) -> Result<Self, &'static str> {
        let Self::At(at) = self else {
            return Ok(self);
        };
        let nanos = at.nanosecond();
        // nanos and 1e9 are exact in f64, so the quotient is strtod's
        // correctly rounded reading of the same nine digits.
        let micros = ((f64::from(nanos) / 1e9) * 1e6).round_ties_even() as u32;
        let rounded = at
            .replace_nanosecond(0)
            .ok()
            .and_then(|second| second.checked_add(Duration::microseconds(i64::from(micros))))
            .filter(|rounded| in_range(rounded.year()))
            .ok_or(MESSAGE)?;
        Ok(Self::At(rounded))
    }

    /// Appends the due date as a JSON string: `"2026-11-24"` for a day, the
    /// shape of a task's `created_at` for an instant.
    pub fn write_json(&self, out: &mut String) {
        out.push('"');
        self.write_text(out);
        out.push('"');
    }

    fn write_text(&self, out: &mut String) {
        match *self {
            Self::AllDay(date) => write_date(out, date),
            // Writing to a String cannot fail.
            Self::At(at) => {
                let _ = timestamp::write(out, at);
            }
        }
    }
}

impl Serialize for DueDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(27);
        self.write_text(&mut text);
        serializer.serialize_str(&text)
    }
}

/// What [`Serialize`] writes, and what PostgreSQL's JSON writes for a
/// timestamptz (the session's offset, trailing zeros of the fraction
/// dropped); not the offset-less client form.
impl<'de> Deserialize<'de> for DueDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        parse_form(&text, false).ok_or_else(|| D::Error::custom(format!("a due date {MESSAGE}")))
    }
}

fn in_range(year: i32) -> bool {
    (1..=9999).contains(&year)
}

/// The parser behind both: `local` says whether the offset may be left out.
fn parse_form(text: &str, local: bool) -> Option<DueDate> {
    let mut input = Reader(text.as_bytes());
    let year = input.digits(4)?;
    input.expect(b"-")?;
    let month = input.digits(2)?;
    input.expect(b"-")?;
    let day = input.digits(2)?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
        .ok()
        .filter(|date| in_range(date.year()))?;
    if input.is_empty() {
        return Some(DueDate::AllDay(date));
    }

    // §5.6's note: "T" and "Z" may be lower case. HTML's local form has an
    // upper-case "T" only.
    let separator = input.expect(b"Tt")?;
    let hour = input.digits(2)?;
    input.expect(b":")?;
    let minute = input.digits(2)?;
    let mut second = None;
    let mut nanos = 0;
    if input.expect(b":").is_some() {
        second = Some(input.digits(2)?);
        if input.expect(b".").is_some() {
            nanos = input.fraction()?;
        }
    }
    // Leap seconds (§5.7's `60`) are refused here too: `Time` ends at :59.
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second.unwrap_or(0)).ok()?,
        nanos,
    )
    .ok()?;
    let wall = PrimitiveDateTime::new(date, time);

    let offset = match input.expect(b"Zz+-") {
        None if local && separator == b'T' => UtcOffset::UTC,
        None => return None,
        // A `time-offset` follows a `partial-time`, seconds and all (§5.6).
        Some(_) if second.is_none() => return None,
        Some(b'Z' | b'z') => UtcOffset::UTC,
        Some(sign) => {
            let hours = input.digits(2)?;
            input.expect(b":")?;
            let minutes = input.digits(2)?;
            // `time-hour` and `time-minute` (§5.6): 00–23 and 00–59.
            if hours > 23 || minutes > 59 {
                return None;
            }
            let (hours, minutes) = (i8::try_from(hours).ok()?, i8::try_from(minutes).ok()?);
            let (hours, minutes) = if sign == b'-' {
                (-hours, -minutes)
            } else {
                (hours, minutes)
            };
            UtcOffset::from_hms(hours, minutes, 0).ok()?
        }
    };
    if !input.is_empty() {
        return None;
    }
    // Out of `time`'s range is `None`; year 0 is in it, so checked too.
    let at = wall
        .assume_offset(offset)
        .checked_to_offset(UtcOffset::UTC)
        .filter(|at| in_range(at.year()))?;
    Some(DueDate::At(at))
}

/// The text still to read, a byte at a time: every byte the forms accept is
/// ASCII, so anything else fails a match.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next byte, if it is one of `any`.
    fn expect(&mut self, any: &[u8]) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        if !any.contains(&first) {
            return None;
        }
        self.0 = rest;
        Some(first)
    }

    /// Exactly `count` ASCII digits, as a number.
    fn digits(&mut self, count: usize) -> Option<u32> {
        let digits = self.0.get(..count)?;
        let mut value = 0;
        for &byte in digits {
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(byte - b'0');
        }
        self.0 = &self.0[count..];
        Some(value)
    }

    /// `time-secfrac`'s digits after the dot (§5.6), 1–9 of them: nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let count = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return None;
        }
        let digits = self.digits(count)?;
        Some(digits * 10u32.pow(9 - count as u32))
    }
}

/// `YYYY-MM-DD`: digit by digit for years 0–9999 (a page of tasks writes
/// many), else through `time`'s formatter.
fn write_date(out: &mut String, date: Date) {
    const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
    let year = match u32::try_from(date.year()) {
        Ok(year) if year <= 9999 => year,
        _ => return out.push_str(&date.format(DATE).unwrap_or_default()),
    };
    let (month, day) = (u32::from(u8::from(date.month())), u32::from(date.day()));
    let digits = [
        year / 1000,
        year / 100 % 10,
        year / 10 % 10,
        year % 10,
        month / 10,
        month % 10,
        day / 10,
        day % 10,
    ];
    let mut buffer = *b"0000-00-00";
    for (index, digit) in [0, 1, 2, 3, 5, 6, 8, 9].into_iter().zip(digits) {
        buffer[index] = b'0' + digit as u8;
    }
    out.push_str(std::str::from_utf8(&buffer).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_read_back_as_the_due_date() {
        for due in [
            None,
            Some(DueDate::AllDay(time::macros::date!(2026 - 01 - 31))),
            Some(DueDate::At(time::macros::datetime!(2026-01-31 00:00 UTC))),
        ] {
            let (at, all_day) = DueDate::columns(due);
            assert_eq!(DueDate::from_columns(at, all_day), due);
        }
    }
    use time::format_description::well_known::Rfc3339;
    use time::macros::{date, datetime};

    fn at(text: &str) -> OffsetDateTime {
        match parse(text) {
            Ok(DueDate::At(at)) => {
                assert_eq!(at.offset(), UtcOffset::UTC, "{text}");
                at
            }
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn rfc_3339_examples() {
        // §5.8, in order; the leap second is refused.
        assert_eq!(
            at("1985-04-12T23:20:50.52Z"),
            datetime!(1985-04-12 23:20:50.52 UTC)
        );
        assert_eq!(
            at("1996-12-19T16:39:57-08:00"),
            datetime!(1996-12-20 00:39:57 UTC)
        );
        assert_eq!(parse("1990-12-31T23:59:60Z"), Err(MESSAGE));
        assert_eq!(parse("1990-12-31T15:59:60-08:00"), Err(MESSAGE));
        assert_eq!(
            at("1937-01-01T12:00:27.87+00:20"),
            datetime!(1937-01-01 11:40:27.87 UTC)
        );
    }

    #[test]
    fn a_date_is_a_whole_day() {
        assert_eq!(
            parse("2026-02-28"),
            Ok(DueDate::AllDay(date!(2026 - 02 - 28)))
        );
        assert_eq!(
            parse("2024-02-29"),
            Ok(DueDate::AllDay(date!(2024 - 02 - 29)))
        );
        assert_eq!(
            parse("0001-01-01"),
            Ok(DueDate::AllDay(date!(0001 - 01 - 01)))
        );
        assert_eq!(
            parse("9999-12-31"),
            Ok(DueDate::AllDay(date!(9999 - 12 - 31)))
        );
        assert_eq!(
            DueDate::AllDay(date!(2026 - 02 - 28)).instant(),
            datetime!(2026-02-28 00:00 UTC)
        );
    }

    #[test]
    fn date_times_with_an_offset() {
        assert_eq!(
            at("2026-11-24T10:00:00+01:00"),
            datetime!(2026-11-24 09:00 UTC)
        );
        assert_eq!(at("2026-11-24t10:00:00z"), datetime!(2026-11-24 10:00 UTC));
        // §4.3: -00:00 is UTC with the local offset unknown.
        assert_eq!(
            at("2026-11-24T10:00:00-00:00"),
            datetime!(2026-11-24 10:00 UTC)
        );
        assert_eq!(
            at("2026-11-24T10:00:00.123456789Z"),
            datetime!(2026-11-24 10:00:00.123456789 UTC)
        );
        assert_eq!(
            at("2026-11-24T10:00:00.1-23:59"),
            datetime!(2026-11-25 09:59:00.1 UTC)
        );
        // The offset can cross a year boundary and stay in range.
        assert_eq!(
            at("9999-12-31T23:59:59+01:00"),
            datetime!(9999-12-31 22:59:59 UTC)
        );
        assert_eq!(
            at("0001-01-01T00:30:00-01:00"),
            datetime!(0001-01-01 01:30 UTC)
        );
        let instant = DueDate::At(datetime!(2026-11-24 10:00 UTC)).instant();
        assert_eq!(instant, datetime!(2026-11-24 10:00 UTC));
    }

    #[test]
    fn local_date_times_are_wall_time_in_utc() {
        assert_eq!(at("2026-01-31T09:30"), datetime!(2026-01-31 09:30 UTC));
        assert_eq!(
            at("2026-01-31T09:30:15"),
            datetime!(2026-01-31 09:30:15 UTC)
        );
        assert_eq!(
            at("2026-01-31T09:30:15.5"),
            datetime!(2026-01-31 09:30:15.5 UTC)
        );
        assert_eq!(
            at("2026-01-31T09:30:15.000000001"),
            datetime!(2026-01-31 09:30:15.000000001 UTC)
        );
        assert_eq!(at("9999-12-31T23:59"), datetime!(9999-12-31 23:59 UTC));
    }

    #[test]
    fn everything_else_is_refused() {
        for text in [
            // Days and times that do not exist.
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
            "2026-01-31T24:00",
            "2026-01-31T24:00:00Z",
            "2026-01-31T09:60",
            "2026-01-31T09:30:60",
            "2026-01-31T09:30:61Z",
            // Years outside 1–9999, also once the offset is applied.
            "0000-01-01",
            "0000-12-31T23:59:59Z",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:30:00+01:00",
            "10000-01-01",
            "-0001-01-01",
            "+2026-01-01",
            // Offsets out of range or misshapen.
            "2026-01-31T09:30:00+24:00",
            "2026-01-31T09:30:00+01:60",
            "2026-01-31T09:30:00+0100",
            "2026-01-31T09:30:00+01",
            "2026-01-31T09:30:00+01:00:00",
            "2026-01-31T09:30:00UTC",
            "2026-01-31T09:30:00ZZ",
            // An offset needs seconds; the local form has an upper-case T.
            "2026-01-31T09:30Z",
            "2026-01-31T09:30+01:00",
            "2026-01-31t09:30",
            "2026-01-31t09:30:00",
            // Fractions: 1–9 digits, after seconds only.
            "2026-01-31T09:30:00.Z",
            "2026-01-31T09:30:00.",
            "2026-01-31T09:30:00.1234567890Z",
            "2026-01-31T09:30.5",
            "2026-01-31T09:30:00,5Z",
            // Other shapes.
            "",
            " 2026-01-31",
            "2026-01-31 ",
            "2026-01-31T09:30 ",
            " 2026-01-31T09:30:00Z",
            "2026-01-31T09:30:00Z ",
            "2026-01-31 09:30:00Z",
            "2026-01-31T",
            "2026-01-31T9:30",
            "2026-01-31T09:3",
            "2026-1-31",
            "26-01-31",
            "2026/01/31",
            "20260131",
            "2026-01-31T0930",
            "２０２６-01-31",
            "2026-01-31T09:30:00\u{0}",
            "tomorrow",
        ] {
            assert_eq!(parse(text), Err(MESSAGE), "{text:?}");
        }
    }

    #[test]
    fn to_micros_rounds_as_postgresql_reads_text() {
        let micros = |text: &str| DueDate::At(at(text)).to_micros();
        let due = |at: OffsetDateTime| Ok(DueDate::At(at));
        // Checked against PostgreSQL 15's `'…'::timestamptz`: ties go to
        // the even microsecond.
        for (text, expected) in [
            (
                "2026-01-01T00:00:00.0000005Z",
                datetime!(2026-01-01 00:00 UTC),
            ),
            (
                "2026-01-01T00:00:00.0000015Z",
                datetime!(2026-01-01 00:00:00.000002 UTC),
            ),
            (
                "2026-01-01T00:00:00.0000025Z",
                datetime!(2026-01-01 00:00:00.000002 UTC),
            ),
            (
                "2026-01-01T00:00:00.000000501Z",
                datetime!(2026-01-01 00:00:00.000001 UTC),
            ),
            (
                "2026-01-01T00:00:00.000000499Z",
                datetime!(2026-01-01 00:00 UTC),
            ),
            (
                "1960-01-01T00:00:00.0000025Z",
                datetime!(1960-01-01 00:00:00.000002 UTC),
            ),
            (
                "2026-01-01T00:00:00.1234565Z",
                datetime!(2026-01-01 00:00:00.123456 UTC),
            ),
            (
                "2025-12-31T23:59:59.9999995Z",
                datetime!(2026-01-01 00:00 UTC),
            ),
            (
                "2026-01-01T00:00:00.123456Z",
                datetime!(2026-01-01 00:00:00.123456 UTC),
            ),
        ] {
            assert_eq!(micros(text), due(expected), "{text}");
        }
        assert_eq!(micros("9999-12-31T23:59:59.9999995Z"), Err(MESSAGE));
        assert_eq!(
            micros("9999-12-31T23:59:59.9999994Z"),
            due(datetime!(9999-12-31 23:59:59.999999 UTC))
        );
        let day = DueDate::AllDay(date!(2026 - 01 - 31));
        assert_eq!(day.to_micros(), Ok(day));
    }

    #[test]
    fn json_is_the_api_shape() {
        let json = |due: DueDate| {
            let mut out = String::new();
            due.write_json(&mut out);
            assert_eq!(serde_json::to_string(&due).unwrap(), out);
            out
        };
        assert_eq!(
            json(DueDate::AllDay(date!(0042 - 03 - 09))),
            r#""0042-03-09""#
        );
        assert_eq!(
            json(DueDate::At(datetime!(2026-11-24 09:00 UTC))),
            r#""2026-11-24T09:00:00.000000Z""#
        );
    }

    #[test]
    fn reads_back_what_postgresql_writes_as_json() {
        let read = |text: &str| serde_json::from_str::<DueDate>(text);
        assert_eq!(
            read(r#""2026-11-24T10:00:00.1234+01:00""#).unwrap(),
            DueDate::At(datetime!(2026-11-24 09:00:00.1234 UTC))
        );
        assert_eq!(
            read(r#""2026-11-24T09:00:00+00:00""#).unwrap(),
            DueDate::At(datetime!(2026-11-24 09:00 UTC))
        );
        assert_eq!(
            read(r#""2026-11-24""#).unwrap(),
            DueDate::AllDay(date!(2026 - 11 - 24))
        );
        // Only a client may leave the offset out.
        for text in [
            r#""2026-11-24T09:00""#,
            r#""2026-02-30""#,
            "20261124",
            "null",
        ] {
            assert!(read(text).is_err(), "{text}");
        }
    }

    /// Microseconds since the epoch of 0001-01-01T00:00:00Z and of
    /// 9999-12-31T23:59:59.999999Z.
    const FIRST_MICROS: i64 = -62_135_596_800_000_000;
    const LAST_MICROS: i64 = 253_402_300_799_999_999;

    fn from_micros(micros: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*|[0-9T:.Zz+-]{0,40}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{0,20}([Zz]|[+-][0-9]{2}:[0-9]{2})?") {
            let _ = parse(&text);
            let _ = parse_form(&text, false);
        }

        #[test]
        fn an_instant_in_any_offset_reads_back(
            micros in FIRST_MICROS..=LAST_MICROS,
            offset_minutes in -(23 * 60 + 59)..=(23 * 60 + 59),
            lower_case in proptest::bool::ANY,
        ) {
            let utc = from_micros(micros);
            let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let local = utc.checked_to_offset(offset);
            proptest::prop_assume!(local.is_some_and(|local| in_range(local.year())));
            let mut text = local.unwrap().format(&Rfc3339).unwrap();
            if lower_case {
                text = text.to_lowercase();
            }
            proptest::prop_assert_eq!(parse(&text), Ok(DueDate::At(utc)), "{}", text);
        }

        #[test]
        fn a_day_reads_back(day in Date::MIN.to_julian_day()..=Date::MAX.to_julian_day()) {
            let day = Date::from_julian_day(day).unwrap();
            proptest::prop_assume!(in_range(day.year()));
            let text = format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day());
            proptest::prop_assert_eq!(parse(&text), Ok(DueDate::AllDay(day)));
        }

        #[test]
        fn written_json_deserializes_to_the_same_due_date(
            micros in FIRST_MICROS..=LAST_MICROS,
            all_day in proptest::bool::ANY,
        ) {
            let at = from_micros(micros);
            let due = if all_day { DueDate::AllDay(at.date()) } else { DueDate::At(at) };
            let mut out = String::new();
            due.write_json(&mut out);
            proptest::prop_assert_eq!(serde_json::from_str::<DueDate>(&out).unwrap(), due);
            proptest::prop_assert_eq!(due.to_micros(), Ok(due));
        }
    }
}
