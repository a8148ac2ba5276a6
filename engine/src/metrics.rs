//! Per-script call metrics, with latency histograms.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::ErrorKind;

#[derive(Debug)]
struct Stat {
    calls: u64,
    errors: u64,
    timeouts: u64,
    micros: Histogram<u64>,
}

impl Stat {
    fn new() -> Self {
        Self {
            calls: 0,
            errors: 0,
            timeouts: 0,
            // 1 µs .. 1 hour, 3 significant digits.
            micros: Histogram::new_with_bounds(1, 3_600_000_000, 3)
                .expect("static histogram bounds are valid"),
        }
    }
}

/// A snapshot of one script's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScriptMetrics {
    pub script: String,
    pub calls: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    by_script: Mutex<BTreeMap<String, Stat>>,
}

impl Metrics {
    pub(crate) fn record(&self, script: &str, took: Duration, error: Option<ErrorKind>) {
        let mut map = self
            .by_script
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stat = map.entry(script.to_owned()).or_insert_with(Stat::new);
        stat.calls += 1;
        if let Some(kind) = error {
            stat.errors += 1;
            if kind == ErrorKind::Timeout {
                stat.timeouts += 1;
            }
        }
        stat.micros
            .saturating_record(took.as_micros().clamp(1, u128::from(u64::MAX)) as u64);
    }

    pub(crate) fn snapshot(&self) -> Vec<ScriptMetrics> {
        let map = self
            .by_script
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .map(|(script, s)| ScriptMetrics {
                script: script.clone(),
                calls: s.calls,
                errors: s.errors,
                timeouts: s.timeouts,
                p50_us: s.micros.value_at_quantile(0.50),
                p95_us: s.micros.value_at_quantile(0.95),
                p99_us: s.micros.value_at_quantile(0.99),
                max_us: s.micros.max(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_quantiles() {
        let m = Metrics::default();
        for us in 1..=100u64 {
            m.record("a.py", Duration::from_micros(us), None);
        }
        m.record("a.py", Duration::from_millis(300), Some(ErrorKind::Timeout));
        m.record("b.py", Duration::from_micros(5), Some(ErrorKind::Runtime));
        let s = m.snapshot();
        assert_eq!(s.len(), 2);
        let a = &s[0];
        assert_eq!(
            (a.script.as_str(), a.calls, a.errors, a.timeouts),
            ("a.py", 101, 1, 1)
        );
        // 101 samples: the 51st is 51 µs, the 96th is 96 µs.
        assert_eq!(a.p50_us, 51);
        assert_eq!(a.p95_us, 96);
        assert!((299_900..=300_100).contains(&a.max_us), "{}", a.max_us);
        assert_eq!((s[1].calls, s[1].errors, s[1].timeouts), (1, 1, 0));
    }
}
