//! The two numbers every measurement here reports: percentiles and milliseconds.

use std::time::Duration;

/// The `q` quantile (0–1) of sorted durations; zero when there are none.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    match sorted.len() {
        0 => Duration::ZERO,
        n => sorted[((n as f64 * q) as usize).min(n - 1)],
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
