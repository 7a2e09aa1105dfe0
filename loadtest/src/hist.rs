//! Latency histograms: one shape for every recorder, V2 serialization
//! (base64) so workers can ship them to the coordinator, merging, and the
//! percentiles the reports print.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

/// Latencies in microseconds.
pub type Hist = Histogram<u64>;

/// A histogram of 1 µs .. 1 h at 3 significant figures.
pub fn new_hist() -> Hist {
    // Constant bounds that hdrhistogram accepts: this cannot fail.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("constant histogram bounds")
}

/// Serializes with the V2 format, base64.
pub fn encode(h: &Hist) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| anyhow::anyhow!("serializing histogram: {e:?}"))?;
    Ok(STANDARD.encode(buf))
}

/// Reads what [`encode`] wrote.
pub fn decode(s: &str) -> anyhow::Result<Hist> {
    let bytes = STANDARD.decode(s).context("histogram base64")?;
    let h: Hist = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("deserializing histogram: {e:?}"))?;
    Ok(h)
}

/// Adds every serialized histogram into `into`.
pub fn merge_encoded<'a>(
    into: &mut Hist,
    parts: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<()> {
    for p in parts {
        let h = decode(p)?;
        into.add(&h).context("merging histograms")?;
    }
    Ok(())
}

/// The percentiles a report shows, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest sample.
    pub max_ms: f64,
}

impl Percentiles {
    /// Percentiles of a µs histogram (all zero when empty).
    pub fn of(h: &Hist) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |v: u64| v as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p90_ms: ms(h.value_at_quantile(0.9)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_merge_match_a_single_histogram() {
        let mut a = new_hist();
        let mut b = new_hist();
        let mut all = new_hist();
        for v in 1..=1000u64 {
            a.record(v * 100).unwrap();
            all.record(v * 100).unwrap();
        }
        for v in 1..=10u64 {
            b.record(v * 1_000_000).unwrap();
            all.record(v * 1_000_000).unwrap();
        }
        let parts = [encode(&a).unwrap(), encode(&b).unwrap()];
        let mut merged = new_hist();
        merge_encoded(&mut merged, parts.iter().map(String::as_str)).unwrap();
        assert_eq!(merged.len(), 1010);
        assert_eq!(merged.max(), all.max());
        for q in [0.5, 0.9, 0.99, 0.999] {
            assert_eq!(merged.value_at_quantile(q), all.value_at_quantile(q));
        }
        let p = Percentiles::of(&merged);
        assert_eq!(p.count, 1010);
        assert!((p.p50_ms - 51.0).abs() < 0.5, "{p:?}");
        assert!((p.max_ms - 10_000.0).abs() < 10.0, "{p:?}");
    }

    #[test]
    fn empty_and_garbage() {
        let e = new_hist();
        assert_eq!(Percentiles::of(&e), Percentiles::default());
        assert_eq!(decode(&encode(&e).unwrap()).unwrap().len(), 0);
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
    }
}
