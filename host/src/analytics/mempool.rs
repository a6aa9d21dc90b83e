//! The host's side of the Vegas reflex (spec: item 13): detect an on-chain fee shock — the
//! current `opening` feerate at least 4× its 24 h average — so the fee cycle can run at once.
//! The policy keeps the intensity; the host only decides when to re-price.

use crate::model::FeerateSample;

pub const IMMEDIATE_TRIGGER: f64 = 4.0;
const DAY_SECS: u64 = 86_400;

/// Current feerate (the newest sample) over the average of the samples of the last 24 h.
pub fn spike_ratio(samples: &[FeerateSample], now: u64) -> Option<f64> {
    let current = samples.last()?.opening_perkb;
    let window: Vec<f64> = samples
        .iter()
        .filter(|s| s.at_secs + DAY_SECS > now)
        .map(|s| f64::from(s.opening_perkb))
        .collect();
    let average = window.iter().sum::<f64>() / window.len().max(1) as f64;
    (average > 0.0).then(|| f64::from(current) / average)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[u32]) -> Vec<FeerateSample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| FeerateSample {
                at_secs: 1_000_000 + i as u64 * 600,
                opening_perkb: v,
            })
            .collect()
    }

    #[test]
    fn shock_is_four_times_the_day_average() {
        let mut calm = vec![1000; 143];
        calm.push(4600);
        let now = 1_000_000 + 143 * 600;
        assert!(spike_ratio(&samples(&calm), now).unwrap() >= IMMEDIATE_TRIGGER);
        let mut mild = vec![1000; 143];
        mild.push(3000);
        assert!(spike_ratio(&samples(&mild), now).unwrap() < IMMEDIATE_TRIGGER);
        assert_eq!(spike_ratio(&[], now), None);
    }
}
