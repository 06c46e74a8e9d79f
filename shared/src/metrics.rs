//! CloudWatch metrics without an API call: one Embedded Metric Format line
//! per request on stdout, which CloudWatch Logs turns into metrics. The
//! namespace is `METRICS_NAMESPACE` (template parameter `MetricsNamespace`,
//! read by `Config`); empty turns metrics off.
//!
//! Per request: `DatabaseMs` by function. On an instance's first request:
//! `ColdStart` (1) and `InitMs`. On the failures operators act on: `Errors`
//! (1) by function and problem. Only these problems, so the number of
//! metrics (each billed monthly) stays small.

use serde_json::{json, Map, Value};
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
    namespace: Option<String>,
    served: AtomicBool,
    init: OnceLock<Duration>,
}

impl Metrics {
    /// `None`: no metric lines at all.
    pub fn new(namespace: Option<String>) -> Self {
        Self {
            namespace,
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
        let Some(namespace) = self.namespace.as_deref() else {
            return;
        };
        let init = self.init.get().copied();
        let line = request.line(namespace, init, SystemTime::now());
        // One write per line (stdout is line-buffered), so lines of
        // concurrent invocations never interleave.
        println!("{line}");
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
    fn line(&self, namespace: &str, init: Option<Duration>, now: SystemTime) -> Value {
        let mut fields = Map::new();
        fields.insert("Function".into(), json!(self.function));
        fields.insert("DatabaseMs".into(), json!(millis(self.database)));
        let mut directives = vec![json!({
            "Namespace": namespace,
            "Dimensions": [["Function"]],
            "Metrics": [{"Name": "DatabaseMs", "Unit": "Milliseconds"}],
        })];
        if self.cold {
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
        if let Some(problem) = self.problem.filter(|p| ALARMED_PROBLEMS.contains(p)) {
            fields.insert("Problem".into(), json!(problem));
            fields.insert("Errors".into(), json!(1));
            directives.push(json!({
                "Namespace": namespace,
                "Dimensions": [["Function", "Problem"]],
                "Metrics": [{"Name": "Errors", "Unit": "Count"}],
            }));
        }
        let timestamp = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        fields.insert(
            "_aws".into(),
            json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}),
        );
        Value::Object(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_request_reports_database_time_only() {
        let line = RequestMetrics {
            function: "get-task",
            database: Duration::from_micros(1234),
            cold: false,
            problem: Some("not_found"),
        }
        .line(
            "TaskApi",
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
        let line = RequestMetrics {
            function: "list-tasks",
            database: Duration::ZERO,
            cold: true,
            problem: Some("database_unavailable"),
        }
        .line("TaskApi", None, UNIX_EPOCH);
        assert_eq!(line["Problem"], "database_unavailable");
        assert_eq!(line["Errors"], 1);
        assert_eq!(line["ColdStart"], 1);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(),
            3
        );
    }
}
