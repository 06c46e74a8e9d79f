//! CloudWatch metrics without an API call: one Embedded Metric Format line
//! per request on stdout, which CloudWatch Logs turns into metrics. The
//! namespace is `METRICS_NAMESPACE` (template parameter `MetricsNamespace`,
//! read by `Config`); empty turns metrics off.
//!
//! Per request: `DatabaseMs` by function. On an instance's first request:
//! `ColdStart` (1) and `InitMs`. On the failures operators act on: `Errors`
//! (1) by function and problem. Only these problems, so the number of
//! metrics (each billed monthly) stays small.

use crate::json;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The failures worth a metric and an alarm.
pub const ALARMED_PROBLEMS: [&str; 5] = [
    "database_unavailable",
    "database_timeout",
    "auth_refused",
    "keys_unavailable",
    "internal",
];

/// An instance's metrics: where they go, and what only its first request
/// reports (that it was the cold start, and how long init took).
pub struct Metrics {
    directives: Option<Directives>,
    served: AtomicBool,
    init: OnceLock<Duration>,
}

/// The `CloudWatchMetrics` entries, rendered once per instance: only the
/// values and the timestamp differ between requests. The line is written
/// straight into one buffer, in the key order the earlier `serde_json::Value`
/// rendering had (sorted), so the bytes are the same; building that tree
/// cost ~29,000 instructions per request (callgrind).
struct Directives {
    database: String,
    cold: String,
    cold_with_init: String,
    errors: String,
}

impl Directives {
    fn new(namespace: &str) -> Self {
        let directive = |dimensions: &str, metrics: &[(&str, &str)]| {
            let mut out = format!(r#"{{"Dimensions":{dimensions},"Metrics":["#);
            for (i, (name, unit)) in metrics.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!(r#"{{"Name":"{name}","Unit":"{unit}"}}"#));
            }
            out.push_str(r#"],"Namespace":"#);
            let _ = json::write_str(&mut out, namespace);
            out.push('}');
            out
        };
        let function = r#"[["Function"]]"#;
        Self {
            database: directive(function, &[("DatabaseMs", "Milliseconds")]),
            cold: directive(function, &[("ColdStart", "Count")]),
            cold_with_init: directive(
                function,
                &[("ColdStart", "Count"), ("InitMs", "Milliseconds")],
            ),
            errors: directive(r#"[["Function","Problem"]]"#, &[("Errors", "Count")]),
        }
    }
}

impl Metrics {
    /// `None`: no metric lines at all.
    pub fn new(namespace: Option<String>) -> Self {
        Self {
            directives: namespace.as_deref().map(Directives::new),
            served: AtomicBool::new(false),
            init: OnceLock::new(),
        }
    }

    /// Records how long init took (runtime start to ready).
    pub fn init_took(&self, duration: Duration) {
        let _ = self.init.set(duration);
    }

    /// True for the instance's first request only: the one that paid for
    /// the cold start.
    pub fn first_request(&self) -> bool {
        !self.served.swap(true, Ordering::Relaxed)
    }

    /// Writes the request's EMF line, unless metrics are off.
    pub fn emit(&self, request: &RequestMetrics<'_>) {
        let Some(directives) = &self.directives else {
            return;
        };
        let mut line = request.line(directives, self.init.get().copied(), SystemTime::now());
        line.push('\n');
        // One write per line (stdout is line-buffered), so lines of
        // concurrent invocations never interleave.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

/// What one request contributes.
pub struct RequestMetrics<'a> {
    pub function: &'a str,
    pub database: Duration,
    pub cold: bool,
    pub problem: Option<&'a str>,
}

/// Milliseconds with microsecond precision: plenty, and short in a line
/// (the log line uses it too).
pub(crate) fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

impl RequestMetrics<'_> {
    fn line(&self, directives: &Directives, init: Option<Duration>, now: SystemTime) -> String {
        // Writing to a String cannot fail: the writers' `fmt::Result`s are `Ok`.
        let problem = self.problem.filter(|p| ALARMED_PROBLEMS.contains(p));
        let init = init.filter(|_| self.cold);
        let mut out = String::with_capacity(512);
        out.push('{');
        if self.cold {
            out.push_str(r#""ColdStart":1,"#);
        }
        out.push_str(r#""DatabaseMs":"#);
        let _ = json::write_f64(&mut out, millis(self.database));
        if problem.is_some() {
            out.push_str(r#","Errors":1"#);
        }
        out.push_str(r#","Function":"#);
        let _ = json::write_str(&mut out, self.function);
        if let Some(init) = init {
            out.push_str(r#","InitMs":"#);
            let _ = json::write_f64(&mut out, millis(init));
        }
        if let Some(problem) = problem {
            out.push_str(r#","Problem":"#);
            let _ = json::write_str(&mut out, problem);
        }
        out.push_str(r#","_aws":{"CloudWatchMetrics":["#);
        out.push_str(&directives.database);
        if self.cold {
            out.push(',');
            out.push_str(match init {
                Some(_) => &directives.cold_with_init,
                None => &directives.cold,
            });
        }
        if problem.is_some() {
            out.push(',');
            out.push_str(&directives.errors);
        }
        out.push_str(r#"],"Timestamp":"#);
        let timestamp = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        out.push_str(itoa::Buffer::new().format(timestamp));
        out.push_str("}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn line(request: &RequestMetrics<'_>, init: Option<Duration>, now: SystemTime) -> String {
        request.line(&Directives::new("TaskApi"), init, now)
    }

    fn parsed(request: &RequestMetrics<'_>, init: Option<Duration>, now: SystemTime) -> Value {
        serde_json::from_str(&line(request, init, now)).unwrap()
    }

    /// How the line was built before it was written directly: a
    /// `serde_json::Value` tree (whose maps sort their keys).
    fn as_a_tree(request: &RequestMetrics<'_>, init: Option<Duration>, now: SystemTime) -> String {
        let namespace = "TaskApi";
        let mut fields = Map::new();
        fields.insert("Function".into(), json!(request.function));
        fields.insert("DatabaseMs".into(), json!(millis(request.database)));
        let mut directives = vec![json!({
            "Namespace": namespace,
            "Dimensions": [["Function"]],
            "Metrics": [{"Name": "DatabaseMs", "Unit": "Milliseconds"}],
        })];
        if request.cold {
            fields.insert("ColdStart".into(), json!(1));
            let mut metrics = vec![json!({"Name": "ColdStart", "Unit": "Count"})];
            if let Some(init) = init {
                fields.insert("InitMs".into(), json!(millis(init)));
                metrics.push(json!({"Name": "InitMs", "Unit": "Milliseconds"}));
            }
            directives.push(json!({
                "Namespace": namespace,
                "Dimensions": [["Function"]],
                "Metrics": metrics,
            }));
        }
        if let Some(problem) = request.problem.filter(|p| ALARMED_PROBLEMS.contains(p)) {
            fields.insert("Problem".into(), json!(problem));
            fields.insert("Errors".into(), json!(1));
            directives.push(json!({
                "Namespace": namespace,
                "Dimensions": [["Function", "Problem"]],
                "Metrics": [{"Name": "Errors", "Unit": "Count"}],
            }));
        }
        let timestamp = now.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        fields.insert(
            "_aws".into(),
            json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}),
        );
        Value::Object(fields).to_string()
    }

    #[test]
    fn the_line_has_the_bytes_the_value_tree_had() {
        let now = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        for cold in [false, true] {
            for init in [None, Some(Duration::from_micros(5_678_901))] {
                for problem in [None, Some("not_found"), Some("database_unavailable")] {
                    for database in [
                        Duration::ZERO,
                        Duration::from_micros(1234),
                        Duration::from_secs(2),
                    ] {
                        let request = RequestMetrics {
                            function: "get-task",
                            database,
                            cold,
                            problem,
                        };
                        assert_eq!(
                            line(&request, init, now),
                            as_a_tree(&request, init, now),
                            "cold {cold}, init {init:?}, problem {problem:?}, database {database:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_namespace_is_escaped_once_at_init() {
        let directives = Directives::new("Team \"A\"");
        assert!(directives
            .database
            .ends_with(r#""Namespace":"Team \"A\""}"#));
    }

    #[test]
    fn a_plain_request_reports_database_time_only() {
        let line = parsed(
            &RequestMetrics {
                function: "get-task",
                database: Duration::from_micros(1234),
                cold: false,
                problem: Some("not_found"),
            },
            None,
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        );
        assert_eq!(line["DatabaseMs"], 1.234);
        assert_eq!(line["_aws"]["Timestamp"], 1_800_000_000_000u64);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(),
            1
        );
        // A 404 is the client's business: no error metric.
        assert!(line.get("Errors").is_none());
    }

    #[test]
    fn an_outage_counts_by_problem() {
        let line = parsed(
            &RequestMetrics {
                function: "list-tasks",
                database: Duration::ZERO,
                cold: true,
                problem: Some("database_unavailable"),
            },
            None,
            UNIX_EPOCH,
        );
        assert_eq!(line["Problem"], "database_unavailable");
        assert_eq!(line["Errors"], 1);
        assert_eq!(line["ColdStart"], 1);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(),
            3
        );
    }
}
