//! CLBOSS's size and balance fee modifiers, pure.

use guest_support::rng::Rng;

/// FeeModderBySize's curve. `position` is where we stand among the competitors reaching the
/// peer, 0 (everyone is bigger) to 1 (everyone is smaller); `competitors` is how many there are.
/// Below the middle the multiplier falls to 0.5 (√0.5 squared); above it, it rises towards a
/// limit that shrinks with the number of competitors: `16 − ln(competitors)`, at least 2.
pub fn size_multiplier(position: f64, competitors: u32) -> f64 {
    if competitors == 0 {
        return 1.0;
    }
    let position = position.clamp(0.0, 1.0);
    let root = if position < 0.5 {
        let low = libm::sqrt(0.5);
        let t = position * 2.0;
        low + t * (1.0 - low)
    } else {
        let limit = (16.0 - libm::log(f64::from(competitors))).max(2.0);
        let t = position * 2.0 - 1.0;
        1.0 + t * (libm::sqrt(limit) - 1.0)
    };
    root * root
}

/// Our position for [`size_multiplier`]. CLBOSS ranks our node's total capacity against each
/// competitor's; the snapshot has no competitor sizes, so this compares our channel with a
/// typical competitor channel of `reference_msat`: equal sizes stand in the middle.
pub fn size_position(capacity_msat: u64, reference_msat: u64) -> f64 {
    let (ours, theirs) = (capacity_msat as f64, reference_msat.max(1) as f64);
    ours / (ours + theirs)
}

/// Bin width FeeModderByBalance prefers: 0.002 BTC.
const PREFERRED_BIN_MSAT: u64 = 200_000_000;
const MIN_BINS: u16 = 4;
const MAX_BINS: u16 = 50;

/// How many balance bins a channel of `capacity_msat` gets: one per 0.002 BTC, 4 to 50.
pub fn bin_count(capacity_msat: u64) -> u16 {
    let rounded = (capacity_msat + PREFERRED_BIN_MSAT / 2) / PREFERRED_BIN_MSAT;
    rounded.clamp(u64::from(MIN_BINS), u64::from(MAX_BINS)) as u16
}

/// The multiplier of a bin: `exp(ln 50 · (0.5 − share))` at the bin's centre share, so a full
/// channel costs 1/7 of the median and an empty one 7 times it (the `feeadjuster` curve).
pub fn bin_multiplier(bin: u16, bins: u16) -> f64 {
    let centre = f64::from(2 * bin + 1) / f64::from(2 * bins.max(1));
    libm::exp(libm::log(50.0) * (0.5 - centre))
}

/// The fractional bin a balance falls in (can equal `bins` when everything is ours).
fn actual_bin(local_msat: u64, capacity_msat: u64, bins: u16) -> f64 {
    local_msat as f64 / capacity_msat.max(1) as f64 * f64::from(bins)
}

/// The bin a channel starts in.
pub fn starting_bin(local_msat: u64, capacity_msat: u64, bins: u16) -> u16 {
    (libm::floor(actual_bin(local_msat, capacity_msat, bins)) as u16).min(bins - 1)
}

/// The bin after the balance moved. CLBOSS leaves the bin alone while the balance stays in it;
/// when it leaves, the new bin is the one it entered or, with a probability growing with the
/// distance from its near edge, the one next to it on the way back: a random hysteresis that
/// hides the exact balance and damps flapping at a border.
pub fn next_bin(
    current: u16,
    local_msat: u64,
    capacity_msat: u64,
    bins: u16,
    rng: &mut Rng,
) -> u16 {
    let actual = actual_bin(local_msat, capacity_msat, bins);
    let target = libm::floor(actual) as u16;
    if target == current {
        return current;
    }
    let fraction = actual - f64::from(target);
    let draw = rng.unit_f64();
    let bin = if target < current {
        // Moving down: stay one bin up with probability `fraction`.
        if draw < 1.0 - fraction {
            target
        } else {
            target + 1
        }
    } else if draw < fraction {
        target
    } else {
        target.saturating_sub(1)
    };
    bin.min(bins - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn size_curve_matches_clboss_at_its_anchor_points() {
        assert!(close(size_multiplier(0.0, 10), 0.5), "smallest: (√0.5)²");
        assert!(close(size_multiplier(0.5, 10), 1.0), "the middle");
        // Biggest among 10: (√(16 − ln 10))².
        assert!(close(size_multiplier(1.0, 10), 16.0 - libm::log(10.0)));
        // A peer with a huge number of channels caps the limit at 2.
        assert!(close(size_multiplier(1.0, u32::MAX), 2.0));
        assert!(
            close(size_multiplier(0.9, 0), 1.0),
            "no competitors: no modifier"
        );
        // CLBOSS's own log line: 14 smaller of 82, 68 bigger → 0.651441.
        assert!((size_multiplier(14.0 / 82.0, 82) - 0.651441).abs() < 1e-5);
    }

    #[test]
    fn size_position_is_even_at_the_reference() {
        assert!(close(size_position(5, 5), 0.5));
        assert!(size_position(10, 5) > 0.5 && size_position(1, 5) < 0.5);
    }

    #[test]
    fn balance_bins_follow_the_channel_size() {
        assert_eq!(bin_count(100_000_000), 4, "tiny channels: at least 4");
        assert_eq!(bin_count(5_000_000_000), 25, "0.05 BTC: 25 bins of 0.002");
        assert_eq!(bin_count(100_000_000_000), 50, "at most 50");
        // CLBOSS's log: bin 1 of 25 → 5.59174.
        assert!((bin_multiplier(1, 25) - 5.591_74).abs() < 1e-4);
        assert!(
            close(bin_multiplier(0, 2) * bin_multiplier(1, 2), 1.0),
            "symmetric"
        );
        assert_eq!(
            starting_bin(5_000_000_000, 5_000_000_000, 25),
            24,
            "all ours"
        );
        assert_eq!(starting_bin(0, 5_000_000_000, 25), 0);
    }

    #[test]
    fn bins_move_only_when_the_balance_leaves_them() {
        let mut rng = Rng::new(1);
        let cap = 1_000_000_000; // 5 bins of 20 %
        assert_eq!(next_bin(2, 500_000_000, cap, 5, &mut rng), 2);
        for _ in 0..100 {
            let down = next_bin(3, 300_000_000, cap, 5, &mut rng);
            assert!(down == 1 || down == 2, "{down}");
            let up = next_bin(1, 700_000_000, cap, 5, &mut rng);
            assert!(up == 2 || up == 3, "{up}");
        }
        // At the very bottom of the new bin it lands there for sure.
        assert_eq!(next_bin(3, 200_000_000, cap, 5, &mut rng), 1);
    }
}
