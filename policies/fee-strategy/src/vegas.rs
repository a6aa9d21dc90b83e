//! The Vegas reflex (spec: item 13): an on-chain fee shock raises the fee floor, with an
//! intensity that fades on its own — no latch an attacker could hold open cheaply.

use crate::state::NodeState;

/// The reference cycle of the decay: 0.85 per 7 minutes, a ~30 minute half-life.
const DECAY_PER_REFERENCE: f64 = 0.85;
const REFERENCE_SECS: f64 = 420.0;
const DAY_SECS: u64 = 86_400;

/// Current feerate over its 24 h moving average (the last sample is the current one).
pub fn spike_ratio(feerates: &[(u64, u32)], now: u64) -> Option<f64> {
    let (_, current) = *feerates.last()?;
    let window: alloc::vec::Vec<f64> = feerates
        .iter()
        .filter(|(at, _)| *at + DAY_SECS > now)
        .map(|(_, rate)| f64::from(*rate))
        .collect();
    let average = window.iter().sum::<f64>() / window.len() as f64;
    (average > 0.0).then(|| f64::from(current) / average)
}

/// Time-correct decay: the same fade whatever the cycle interval.
pub fn decay(intensity: f64, elapsed_secs: u64) -> f64 {
    intensity * libm::pow(DECAY_PER_REFERENCE, elapsed_secs as f64 / REFERENCE_SECS)
}

/// Updates the intensity for this cycle. `uniform` is a draw in [0, 1) from the host's seed.
pub fn update(state: &mut NodeState, ratio: Option<f64>, now: u64, uniform: f64) -> Trigger {
    if let Some(last) = state.vegas_updated_at {
        state.vegas_intensity = decay(state.vegas_intensity, now.saturating_sub(last));
    }
    state.vegas_updated_at = Some(now);
    let Some(r) = ratio else {
        state.spike_readings = 0;
        return Trigger::None;
    };
    if r >= 4.0 {
        state.spike_readings = state.spike_readings.saturating_add(1);
        state.vegas_intensity = 1.0;
        return Trigger::Immediate;
    }
    if r >= 2.0 {
        state.spike_readings = state.spike_readings.saturating_add(1);
        let b = (r - 2.0) / 2.0;
        if state.spike_readings >= 2 || uniform < 0.5 * b {
            state.vegas_intensity = (state.vegas_intensity + 0.3 * b).min(1.0);
            return Trigger::Early;
        }
        return Trigger::None;
    }
    state.spike_readings = 0;
    Trigger::None
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    None,
    /// A 2–4× spike, confirmed or drawn.
    Early,
    /// ≥ 4×: re-price now.
    Immediate,
}

/// `1 + 2·√I` once the intensity matters (I ≥ 0.01).
pub fn floor_multiplier(intensity: f64) -> f64 {
    if intensity >= 0.01 {
        1.0 + 2.0 * libm::sqrt(intensity)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(base: u32, current: u32) -> alloc::vec::Vec<(u64, u32)> {
        let mut samples: alloc::vec::Vec<(u64, u32)> =
            (0..143).map(|i| (100_000 + i * 600, base)).collect();
        samples.push((100_000 + 143 * 600, current));
        samples
    }

    const NOW: u64 = 100_000 + 143 * 600;

    #[test]
    fn four_times_triggers_at_once() {
        let mut state = NodeState::default();
        let ratio = spike_ratio(&history(1000, 4200), NOW);
        assert!(ratio.unwrap() >= 4.0);
        assert_eq!(update(&mut state, ratio, NOW, 0.99), Trigger::Immediate);
        assert_eq!(state.vegas_intensity, 1.0);
        assert_eq!(floor_multiplier(1.0), 3.0);
    }

    #[test]
    fn two_times_is_probabilistic_then_confirmed() {
        // r ≈ 3: b ≈ 0.5, trigger probability 0.25.
        let ratio = spike_ratio(&history(1000, 3030), NOW);
        let mut lucky = NodeState::default();
        assert_eq!(update(&mut lucky, ratio, NOW, 0.1), Trigger::Early);
        let mut unlucky = NodeState::default();
        assert_eq!(update(&mut unlucky, ratio, NOW, 0.9), Trigger::None);
        assert_eq!(unlucky.vegas_intensity, 0.0);
        // A second consecutive spike reading triggers whatever the draw.
        assert_eq!(update(&mut unlucky, ratio, NOW + 600, 0.9), Trigger::Early);
        assert!(unlucky.vegas_intensity > 0.1);
        // Just under 2× is no spike at all.
        let calm = spike_ratio(&history(1000, 1990), NOW);
        let mut state = NodeState::default();
        assert_eq!(update(&mut state, calm, NOW, 0.0), Trigger::None);
    }

    #[test]
    fn decay_half_life_is_about_thirty_minutes_whatever_the_interval() {
        let half = decay(1.0, 1790);
        assert!((half - 0.5).abs() < 0.01, "{half}");
        // Ten 3-minute steps equal one 30-minute step.
        let mut stepped = 1.0;
        for _ in 0..10 {
            stepped = decay(stepped, 180);
        }
        assert!((stepped - decay(1.0, 1800)).abs() < 1e-12);
        assert!((decay(1.0, 420) - 0.85).abs() < 1e-12);
    }

    #[test]
    fn intensity_fades_once_the_spike_is_over() {
        let mut state = NodeState::default();
        update(&mut state, Some(5.0), NOW, 0.5);
        update(&mut state, Some(1.0), NOW + 4 * 3600, 0.5);
        assert!(state.vegas_intensity < 0.01, "{}", state.vegas_intensity);
        assert_eq!(floor_multiplier(state.vegas_intensity), 1.0);
    }
}
