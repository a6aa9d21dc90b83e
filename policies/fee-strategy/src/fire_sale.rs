//! Fire sale with the momentum guard (spec: fee cycle rule 3, items 11.7 and 11.8).

use crate::state::ChannelState;

const DAY_SECS: u64 = 86_400;
const MIN_AGE_DAYS: u64 = 90;
const GUARD_MAX_AGE_DAYS: u64 = 180;
/// −50 % in basis points.
const DEEP_LOSS_BP: i32 = -5_000;
/// +5 % in basis points.
const MOMENTUM_BP: i32 = 500;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Class {
    Unknown,
    Profitable,
    BreakEven,
    Underwater,
    Bleeder,
    StagnantCandidate,
    Zombie,
}

/// Keeps the last two distinct marginal-ROI readings of the host's analyses.
pub fn record_marginal_roi(state: &mut ChannelState, marginal_bp: Option<i32>) {
    let Some(reading) = marginal_bp else {
        return;
    };
    if state.marginal_roi_readings > 0 && state.marginal_roi_bp[1] == reading {
        return;
    }
    state.marginal_roi_bp = [state.marginal_roi_bp[1], reading];
    state.marginal_roi_readings = state.marginal_roi_readings.saturating_add(1).min(2);
}

/// Marginal ROI above 5 % and rising over the last two analyses, on a channel open < 180 days.
pub fn momentum_guard(state: &ChannelState, age_secs: u64) -> bool {
    let [previous, latest] = state.marginal_roi_bp;
    state.marginal_roi_readings >= 2
        && latest > MOMENTUM_BP
        && latest > previous
        && age_secs < GUARD_MAX_AGE_DAYS * DAY_SECS
}

/// Open more than 90 days and a zombie, or underwater with ROI below −50 %, unless the
/// momentum guard holds.
pub fn applies(class: Class, roi_bp: Option<i32>, age_secs: u64, state: &ChannelState) -> bool {
    let old_enough = age_secs > MIN_AGE_DAYS * DAY_SECS;
    let losing = class == Class::Zombie
        || (class == Class::Underwater && roi_bp.is_some_and(|roi| roi < DEEP_LOSS_BP));
    old_enough && losing && !momentum_guard(state, age_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: u64 = 120 * DAY_SECS;

    #[test]
    fn zombies_and_deep_losers_go_on_sale_when_old() {
        let state = ChannelState::default();
        assert!(applies(Class::Zombie, None, OLD, &state));
        assert!(applies(Class::Underwater, Some(-5_001), OLD, &state));
        assert!(
            !applies(Class::Underwater, Some(-5_000), OLD, &state),
            "exactly −50 % is not below"
        );
        assert!(!applies(Class::Underwater, None, OLD, &state));
        assert!(
            !applies(Class::Zombie, None, 90 * DAY_SECS, &state),
            "90 days is not more than 90"
        );
        assert!(!applies(Class::Profitable, Some(-9_000), OLD, &state));
    }

    #[test]
    fn momentum_guard_protects_a_recovering_channel() {
        let mut state = ChannelState::default();
        record_marginal_roi(&mut state, Some(300));
        record_marginal_roi(&mut state, Some(300));
        assert_eq!(
            state.marginal_roi_readings, 1,
            "repeated readings count once"
        );
        record_marginal_roi(&mut state, Some(700));
        assert!(momentum_guard(&state, OLD));
        assert!(!applies(Class::Zombie, None, OLD, &state));
        // Not past 180 days.
        assert!(!momentum_guard(&state, 180 * DAY_SECS));
        // Falling, or not above 5 %: no protection.
        record_marginal_roi(&mut state, Some(600));
        assert!(!momentum_guard(&state, OLD));
        record_marginal_roi(&mut state, Some(500));
        record_marginal_roi(&mut state, Some(500));
        assert!(!momentum_guard(&state, OLD));
    }
}
