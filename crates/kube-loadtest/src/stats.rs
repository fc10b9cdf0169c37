//! Latency samples and their percentiles (nearest rank over every sample: runs are bounded,
//! so all samples are kept and nothing is estimated).

use std::time::Duration;

use serde_json::{json, Value};

#[derive(Debug, Default, Clone)]
pub struct Samples {
    nanos: Vec<u64>,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.nanos
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn extend(&mut self, other: Samples) {
        self.nanos.extend(other.nanos);
    }

    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    pub fn summary(&self) -> Summary {
        let mut v = self.nanos.clone();
        v.sort_unstable();
        let pick = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            ms(v[rank.clamp(1, v.len()) - 1])
        };
        let mean = if v.is_empty() {
            0.0
        } else {
            ms((v.iter().map(|&n| n as u128).sum::<u128>() / v.len() as u128) as u64)
        };
        Summary {
            count: v.len(),
            p50: pick(50.0),
            p90: pick(90.0),
            p99: pick(99.0),
            max: v.last().map(|&n| ms(n)).unwrap_or(0.0),
            mean,
        }
    }
}

fn ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

/// Milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    pub fn human(&self) -> String {
        format!(
            "p50 {} p90 {} p99 {} max {} (mean {})",
            fmt_ms(self.p50),
            fmt_ms(self.p90),
            fmt_ms(self.p99),
            fmt_ms(self.max),
            fmt_ms(self.mean)
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "p50": round3(self.p50),
            "p90": round3(self.p90),
            "p99": round3(self.p99),
            "max": round3(self.max),
            "mean": round3(self.mean),
        })
    }
}

pub fn fmt_ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut s = Samples::default();
        for i in 1..=100u64 {
            s.push(Duration::from_millis(i));
        }
        let m = s.summary();
        assert_eq!(m.count, 100);
        assert_eq!(m.p50, 50.0);
        assert_eq!(m.p90, 90.0);
        assert_eq!(m.p99, 99.0);
        assert_eq!(m.max, 100.0);
        assert_eq!(m.mean, 50.5);
        let mut one = Samples::default();
        one.push(Duration::from_micros(1500));
        assert_eq!(one.summary().p50, 1.5);
        assert_eq!(Samples::default().summary().p99, 0.0);
    }
}
