//! Why `rebalance-ev` leaves a channel alone, said in the node's log (the rebalance decision
//! has no field for what was not proposed): one line per cycle with the counts, and one line
//! per channel that is short of liquidity but gets no refill — at `info` when nothing at all
//! is proposed, at `debug` otherwise.

use core::fmt;
use guest_support::log::{self, Level};

/// A short channel id as `BLOCKxTXxOUT`.
pub struct Scid(pub u64);

impl fmt::Display for Scid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.0;
        write!(f, "{}x{}x{}", id >> 40, (id >> 16) & 0xFF_FFFF, id & 0xFFFF)
    }
}

/// Why a channel gets no refill this cycle. Amounts in msat, shares in %.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    Inactive,
    NotShort {
        share: u64,
        short: u64,
    },
    NoDemand,
    TooSmall {
        amount: u64,
        min: u64,
    },
    NoSource {
        amount: u64,
        full: u64,
    },
    NotWorth {
        gross: u64,
        wanted: u64,
    },
    CapBelowCost {
        cap: u64,
        route_cost: u64,
        max_fee_ppm: u32,
    },
    /// Chosen, but another move this cycle already uses one of its channels.
    ChannelTaken,
    /// Chosen, but the cycle's moves are all taken (`max-moves`, the host's concurrency).
    NoSlot,
    /// Chosen, but its fee cap does not fit what is left of the budget.
    Budget {
        max_fee: u64,
        remaining: u64,
    },
    /// Chosen, but its fee cap would take the week's rebalance fees past `spend-share-pct` of
    /// the week's revenue.
    SpendShare {
        cost: u64,
        allowed: u64,
        share: u64,
    },
}

impl Skip {
    /// Short of liquidity, yet not refilled: worth a line of its own.
    fn is_short(&self) -> bool {
        !matches!(self, Skip::Inactive | Skip::NotShort { .. })
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sat = |msat: &u64| msat / 1000;
        match self {
            Skip::Inactive => write!(f, "inactive"),
            Skip::NotShort { share, short } => {
                write!(f, "not short: {share} % local (refills below {short} %)")
            }
            Skip::NoDemand => write!(
                f,
                "short, but no outbound demand in 7 days (nothing sold, no sender turned away)"
            ),
            Skip::TooSmall { amount, min } => write!(
                f,
                "short, but its refill ({} sat: days of demand, up to half the capacity) is below min-move-sat {}",
                sat(amount),
                sat(min)
            ),
            Skip::NoSource { amount, full } => write!(
                f,
                "no source: no other peer's channel above {full} % local with {} sat to spare",
                sat(amount)
            ),
            Skip::NotWorth { gross, wanted } => write!(
                f,
                "not worth it: earns {gross} msat net of opportunity cost, needs {wanted} msat (route cost plus margin-pct)"
            ),
            Skip::CapBelowCost {
                cap,
                route_cost,
                max_fee_ppm,
            } => write!(
                f,
                "the host's fee ceiling ({max_fee_ppm} ppm: {cap} msat) is below the expected route cost {route_cost} msat"
            ),
            Skip::ChannelTaken => write!(f, "a better move this cycle uses one of its channels"),
            Skip::NoSlot => write!(
                f,
                "no move left this cycle (max-moves, in-flight rebalances)"
            ),
            Skip::Budget { max_fee, remaining } => write!(
                f,
                "budget: its fee cap {max_fee} msat is above the {remaining} msat left"
            ),
            Skip::SpendShare {
                cost,
                allowed,
                share,
            } => write!(
                f,
                "spend pacing: its expected cost {cost} msat is above the {allowed} msat left of {share} % of the week's revenue"
            ),
        }
    }
}

/// Counts of channels by reason, for the cycle's summary line.
#[derive(Default)]
struct Counts {
    inactive: usize,
    not_short: usize,
    short: usize,
}

/// Logs why the channels in `skipped` get nothing; `proposed` moves were made.
pub fn report(skipped: &[(u64, Skip)], proposed: usize) {
    let mut counts = Counts::default();
    for (_, skip) in skipped {
        match skip {
            Skip::Inactive => counts.inactive += 1,
            Skip::NotShort { .. } => counts.not_short += 1,
            _ => counts.short += 1,
        }
    }
    let level = if proposed == 0 {
        Level::Info
    } else {
        Level::Debug
    };
    guest_support::log!(
        Info,
        "rebalance-ev: {proposed} moves proposed; {} channels short of liquidity without a move, {} not short, {} inactive",
        counts.short,
        counts.not_short,
        counts.inactive
    );
    for (id, skip) in skipped.iter().filter(|(_, s)| s.is_short()) {
        log::write_fmt(level, format_args!("rebalance-ev: {}: {skip}", Scid(*id)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn scids_and_reasons_read_as_the_operator_writes_them() {
        let id = (103u64 << 40) | (2 << 16) | 1;
        assert_eq!(format!("{}", Scid(id)), "103x2x1");
        let text = format!(
            "{}",
            Skip::TooSmall {
                amount: 20_000_000,
                min: 50_000_000
            }
        );
        assert!(
            text.contains("20000 sat") && text.contains("min-move-sat 50000"),
            "{text}"
        );
    }

    #[test]
    fn nothing_proposed_says_why_per_short_channel_at_info() {
        let _ = log::take_captured();
        report(
            &[
                (
                    1,
                    Skip::NotShort {
                        share: 50,
                        short: 25,
                    },
                ),
                (2, Skip::NoDemand),
                (3, Skip::Inactive),
            ],
            0,
        );
        let lines = log::take_captured();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].1.contains("0 moves proposed; 1 channels short"),
            "{lines:?}"
        );
        assert_eq!(lines[1].0, Level::Info);
        assert!(
            lines[1].1.contains("0x0x2: short, but no outbound demand"),
            "{lines:?}"
        );
    }
}
