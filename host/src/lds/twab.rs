//! The 72-hour time-weighted average balance of an investor wallet (spec: LDS snapshots).
//! Pure: hourly snapshots in, an average out.
//!
//! Each snapshot's balance holds from its time until the next snapshot, but never longer than
//! `MAX_HOLD_SECS`: a snapshot the hourly job missed (LNbits down, revops stopped) leaves a gap
//! that is *not covered*, rather than stretching an old balance over it. A wallet absent from
//! a snapshot counts 0 for that interval (spec). The average is over covered time only, so a
//! young deployment with 10 hours of snapshots averages those 10 hours; with no covered time
//! at all (the only snapshot was taken this second) it is the latest snapshot's balance.

use crate::money::Msat;
use std::collections::BTreeMap;

pub const TWAB_WINDOW_SECS: u64 = 72 * 3600;
/// How long one hourly snapshot may stand for: a missed hour or two is bridged, not more.
pub const MAX_HOLD_SECS: u64 = 2 * 3600;

/// The balances read at one instant; wallets missing from it held nothing (or were unreadable).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BalanceSnapshot {
    pub at: u64,
    pub balances: BTreeMap<String, Msat>,
}

/// What the average rests on: the average and the seconds of the window it covers.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Twab {
    pub average: Msat,
    pub covered_secs: u64,
}

/// `wallet`'s time-weighted average over `[now - TWAB_WINDOW_SECS, now]`. `snapshots` must be
/// sorted by time (the store returns them so); those after `now` are ignored.
pub fn twab(snapshots: &[BalanceSnapshot], wallet: &str, now: u64) -> Twab {
    let start = now.saturating_sub(TWAB_WINDOW_SECS);
    let mut weighted: u128 = 0;
    let mut covered: u64 = 0;
    let mut latest = None;
    for (i, snapshot) in snapshots.iter().enumerate() {
        if snapshot.at > now {
            break;
        }
        latest = Some(snapshot);
        let next = snapshots.get(i + 1).map_or(now, |n| n.at.min(now));
        let end = next.min(snapshot.at.saturating_add(MAX_HOLD_SECS));
        let from = snapshot.at.max(start);
        if end <= from {
            continue;
        }
        let secs = end - from;
        let balance = snapshot.balances.get(wallet).copied().unwrap_or_default();
        weighted += u128::from(balance.msat()) * u128::from(secs);
        covered += secs;
    }
    let average = match weighted.checked_div(u128::from(covered)) {
        Some(average) => Msat::new(u64::try_from(average).unwrap_or(u64::MAX)),
        None => latest
            .and_then(|s| s.balances.get(wallet).copied())
            .unwrap_or_default(),
    };
    Twab {
        average,
        covered_secs: covered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;
    const NOW: u64 = 1_000 * HOUR;

    fn snap(at: u64, alice: Option<u64>) -> BalanceSnapshot {
        BalanceSnapshot {
            at,
            balances: alice
                .map(|m| BTreeMap::from([("alice".to_owned(), Msat::new(m))]))
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_steady_balance_averages_to_itself() {
        let snaps: Vec<_> = (0..100)
            .map(|h| snap(NOW - 99 * HOUR + h * HOUR, Some(5_000)))
            .collect();
        let t = twab(&snaps, "alice", NOW);
        assert_eq!(t.average, Msat::new(5_000));
        assert_eq!(t.covered_secs, TWAB_WINDOW_SECS);
    }

    #[test]
    fn intervals_are_weighted_by_time() {
        // 1,000 for 48 h, then 4,000 for the last 24 h: (48×1,000 + 24×4,000) / 72 = 2,000.
        let mut snaps: Vec<_> = (0..48)
            .map(|h| snap(NOW - 72 * HOUR + h * HOUR, Some(1_000)))
            .collect();
        snaps.extend((48..72).map(|h| snap(NOW - 72 * HOUR + h * HOUR, Some(4_000))));
        assert_eq!(twab(&snaps, "alice", NOW).average, Msat::new(2_000));
    }

    #[test]
    fn absence_from_a_snapshot_counts_zero() {
        let snaps = vec![
            snap(NOW - 4 * HOUR, Some(8_000)),
            snap(NOW - 3 * HOUR, None),
            snap(NOW - 2 * HOUR, None),
            snap(NOW - HOUR, Some(8_000)),
        ];
        let t = twab(&snaps, "alice", NOW);
        assert_eq!(t.average, Msat::new(4_000));
        assert_eq!(t.covered_secs, 4 * HOUR);
    }

    #[test]
    fn a_long_gap_is_not_bridged_by_an_old_balance() {
        // One snapshot 10 h ago, one 1 h ago: the first stands for 2 h, not 9.
        let snaps = vec![
            snap(NOW - 10 * HOUR, Some(9_000)),
            snap(NOW - HOUR, Some(0)),
        ];
        let t = twab(&snaps, "alice", NOW);
        assert_eq!(t.covered_secs, 3 * HOUR);
        assert_eq!(t.average, Msat::new(6_000));
    }

    #[test]
    fn a_snapshot_taken_this_second_counts_as_the_balance() {
        let t = twab(&[snap(NOW, Some(7_000))], "alice", NOW);
        assert_eq!((t.average, t.covered_secs), (Msat::new(7_000), 0));
        assert_eq!(
            twab(&[snap(NOW + 1, Some(7_000))], "alice", NOW).average,
            Msat::ZERO
        );
    }

    #[test]
    fn only_the_last_72_hours_count_and_nothing_is_no_balance() {
        let snaps = vec![
            snap(NOW - 100 * HOUR, Some(1_000_000)),
            snap(NOW - HOUR, Some(10)),
        ];
        assert_eq!(twab(&snaps, "alice", NOW).average, Msat::new(10));
        assert_eq!(twab(&[], "alice", NOW).average, Msat::ZERO);
        assert_eq!(twab(&snaps, "bob", NOW).average, Msat::ZERO);
    }
}
