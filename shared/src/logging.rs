//! The function's log: one JSON object per line on stdout (Lambda's JSON
//! log format), or plain text when the function is configured with
//! `LogFormat: Text`.
//!
//! The JSON lines are written by [`JsonLines`], not by tracing-subscriber's
//! own JSON formatter: the same keys in the same order (`timestamp`,
//! `level`, then the event's fields, `message` first), but written straight
//! into the line instead of through serde's map serializer and a
//! `Value` per field. callgrind counted ~22,000 instructions per request
//! line with tracing-subscriber's; see ARCHITECTURE.md's decisions.

use crate::json;
use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber the environment asks for.
pub fn init() {
    let settings = LogSettings::from_lookup(|name| std::env::var(name).ok());
    // `Targets` understands RUST_LOG's common form ("info", "shared=debug,warn")
    // without the regex engine EnvFilter brings, which would add to every binary.
    let filter: Targets = settings
        .filter
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(Level::INFO))
        // At TRACE the runtime logs every raw event: the token, the body.
        // Nothing else there is worth that, at any level a deployer picks.
        .with_target("lambda_runtime::layers::api_response", Level::DEBUG);
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(false)
        .with_max_level(Level::TRACE);
    let _ = if settings.json {
        // The JSON lines show no spans, so the runtime's per-invocation span
        // ("Lambda runtime invoke", which the text format prefixes to each
        // line) would cost ~13,000 instructions a request for nothing.
        let filter = filter.with_target("lambda_runtime::layers::trace", Level::WARN);
        builder
            .event_format(JsonLines)
            .finish()
            .with(filter)
            .try_init()
    } else {
        builder.finish().with(filter).try_init()
    };
}

/// `{"timestamp":"…Z","level":"INFO","message":"…",<fields>}`, as
/// tracing-subscriber's JSON format with `flatten_event` writes it.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writer.write_str(r#"{"timestamp":""#)?;
        crate::timestamp::write(&mut writer, time::OffsetDateTime::now_utc())?;
        write!(
            writer,
            r#"","level":"{}""#,
            event.metadata().level().as_str()
        )?;
        let mut fields = JsonFields {
            out: &mut writer,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str("}\n")
    }
}

/// Writes each field as `,"name":value`, values as serde_json writes them.
struct JsonFields<'a, 'w> {
    out: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl JsonFields<'_, '_> {
    fn entry(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self
                .out
                .write_char(',')
                .and_then(|()| json::write_str(self.out, field.name()))
                .and_then(|()| self.out.write_char(':'))
                .and_then(|()| value(self.out));
        }
    }
}

impl Visit for JsonFields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, |out| json::write_str(out, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `message`, and `%`/`?` fields: their text as a string.
        self.entry(field, |out| {
            let mut text = String::new();
            write!(text, "{value:?}")?;
            json::write_str(out, &text)
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, |out| write!(out, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, |out| json::write_f64(out, value));
    }
}

#[derive(Debug, PartialEq, Eq)]
struct LogSettings {
    filter: String,
    json: bool,
}

impl LogSettings {
    /// `RUST_LOG` wins (developers' knob); else Lambda's `AWS_LAMBDA_LOG_LEVEL`
    /// (the template's `ApplicationLogLevel`); else `info`.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let filter = lookup("RUST_LOG")
            .filter(|f| !f.trim().is_empty())
            .or_else(|| {
                lookup("AWS_LAMBDA_LOG_LEVEL").map(|level| {
                    match level.to_ascii_uppercase().as_str() {
                        "TRACE" => "trace".into(),
                        "DEBUG" => "debug".into(),
                        "WARN" => "warn".into(),
                        "ERROR" | "FATAL" => "error".into(),
                        _ => "info".into(),
                    }
                })
            })
            .unwrap_or_else(|| "info".into());
        let json = !lookup("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"));
        Self { filter, json }
    }
}

#[cfg(test)]
mod tests {
    use super::{JsonLines, LogSettings};
    use std::sync::{Arc, Mutex};
    use tracing::Level;

    /// Everything a subscriber writes, for comparing formatters.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The events a function writes: the request line with each kind of
    /// value (absent options included), text that needs escaping, and the
    /// `%`/`?` fields of the init and outage lines.
    fn events() {
        let detail: Option<&str> = None;
        let task_id: Option<i64> = Some(42);
        for duration_ms in [0.0, 1.25, 2.305, 1e-7, 1e21, 12345.678] {
            tracing::info!(
                request_id = "req-1",
                api_request_id = detail,
                function = "get-task",
                route = "GET /api/{user_id}/tasks/{id}",
                status = 200u16,
                duration_ms,
                cold = false,
                task_id,
                "request"
            );
        }
        tracing::error!(
            user_id = "quote \" backslash \\ newline \n tab \t bell \u{7} nul \0 del \u{7f} é ✓",
            status = 503u16,
            error = %"the database is unavailable: \"connection refused\"",
            "request"
        );
        tracing::warn!(reason = ?Some("x"), negative = -5i64, "init failed: {}", "because");
    }

    /// Lines as `format` writes them, with the timestamps cut out.
    fn written_by(json_lines: bool) -> Vec<String> {
        let captured = Captured::default();
        let writer = captured.clone();
        let builder = tracing_subscriber::fmt()
            .with_target(false)
            .with_ansi(false)
            .with_max_level(Level::TRACE)
            .with_writer(move || writer.clone());
        if json_lines {
            tracing::subscriber::with_default(builder.event_format(JsonLines).finish(), events);
        } else {
            let json = builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish();
            tracing::subscriber::with_default(json, events);
        }
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                let (head, rest) = line.split_at(r#"{"timestamp":""#.len());
                assert_eq!(head, r#"{"timestamp":""#);
                assert_eq!(&rest[26..28], "Z\"", "{line}");
                rest[28..].to_owned()
            })
            .collect()
    }

    #[test]
    fn json_lines_are_tracing_subscribers_json_lines() {
        let ours = written_by(true);
        assert_eq!(ours.len(), 8);
        assert_eq!(ours, written_by(false));
    }

    fn settings(vars: &[(&str, &str)]) -> LogSettings {
        LogSettings::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn lambda_log_configuration_is_honoured() {
        assert_eq!(
            settings(&[]),
            LogSettings {
                filter: "info".into(),
                json: true
            }
        );
        let lambda = settings(&[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ]);
        assert_eq!(
            lambda,
            LogSettings {
                filter: "debug".into(),
                json: true
            }
        );
        let text = settings(&[
            ("AWS_LAMBDA_LOG_LEVEL", "FATAL"),
            ("AWS_LAMBDA_LOG_FORMAT", "Text"),
        ]);
        assert_eq!(
            text,
            LogSettings {
                filter: "error".into(),
                json: false
            }
        );
        let rust_log = settings(&[
            ("RUST_LOG", "shared=trace"),
            ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
        ]);
        assert_eq!(rust_log.filter, "shared=trace");
    }
}
