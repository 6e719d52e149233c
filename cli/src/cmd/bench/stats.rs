//! The statistics every bench mode reports: medians of repeated runs,
//! latency percentiles, microseconds.

use std::time::Duration;

/// The median of `runs` (the upper one of an even count); 0 if there are none.
pub(crate) fn median(runs: &mut [f64]) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs.get(runs.len() / 2).copied().unwrap_or(0.0)
}

/// Latency samples, sorted.
#[derive(Debug, Clone)]
pub(crate) struct Latencies(Vec<Duration>);

impl Latencies {
    pub(crate) fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Latencies(samples)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The sample at fraction `p` (0.0..=1.0) of the sorted samples, nearest
    /// rank; zero if there are none.
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        let Some(last) = self.0.len().checked_sub(1) else { return Duration::ZERO };
        let idx = (last as f64 * p.clamp(0.0, 1.0)).round() as usize;
        self.0.get(idx.min(last)).copied().unwrap_or(Duration::ZERO)
    }

    pub(crate) fn p50(&self) -> Duration {
        self.percentile(0.5)
    }

    pub(crate) fn p99(&self) -> Duration {
        self.percentile(0.99)
    }
}

/// Microseconds, as a float.
pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Microseconds with one decimal, as the tables print them.
pub(crate) fn fmt_us(d: Duration) -> String {
    format!("{:.1}", us(d))
}

/// `a / b` as the tables print ratios (`0.93×`), or `n/a` when `b` is not
/// positive (an added latency lost in the noise, say).
pub(crate) fn fmt_ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "n/a".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_percentiles() {
        assert_eq!(median(&mut []), 0.0);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        let l = Latencies::new((1..=100).rev().map(Duration::from_micros).collect());
        assert_eq!(l.len(), 100);
        assert_eq!(l.p50(), Duration::from_micros(51));
        assert_eq!(l.p99(), Duration::from_micros(99));
        assert_eq!(l.percentile(1.0), Duration::from_micros(100));
        assert_eq!(Latencies::new(Vec::new()).p99(), Duration::ZERO);
        assert_eq!(fmt_us(Duration::from_nanos(12_345)), "12.3");
        assert_eq!(fmt_ratio(1.0, 2.0), "0.50×");
        assert_eq!(fmt_ratio(1.0, -2.0), "n/a");
    }
}
