//! Which channels make money: per channel over 1, 7 and 30 days — volume, fees earned (once, on
//! the outgoing channel), rebalance costs, net, annualised return on capacity — and a class.
//! Pure: the ledgers' totals and the channel list in, the report out.

use super::defibrillator::{DiagnosticHistory, Probe, zombie_reason};
use crate::{
    model::ProfitabilityClass,
    money::Msat,
    node::{NodeChannel, OnchainFee},
    scid::ShortChannelId,
    store::ChannelActivity,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub const WINDOW_DAYS: [u64; 3] = [1, 7, 30];
const BLOCKS_PER_DAY: u32 = 144;
/// Open at least this long with no forward in a week: a stagnant candidate (spec: defibrillator).
const STAGNANT_AGE_DAYS: u32 = 7;
/// Annualised net return on capacity at or above this counts as profitable, basis points.
const PROFITABLE_ROI_BP: i64 = 10;
const DAY_SECS: u64 = 86_400;

/// A channel's history beyond its forwards, at `now`: how long revops has watched, the
/// defibrillator's attempts and probes, and open costs (see `Store::channel_history`).
#[derive(Clone, Debug, Default)]
pub struct ChannelHistory {
    pub now: u64,
    /// Since when the forward ledger is complete: a week without forwards means something only
    /// once revops has watched for a week.
    pub observed_since: Option<u64>,
    /// Diagnostic attempts in the last 14 days.
    pub histories: HashMap<ShortChannelId, DiagnosticHistory>,
    pub probes: HashMap<ShortChannelId, Probe>,
    /// What opening each channel cost on chain, where the bookkeeper knows (`open_costs`).
    pub open_costs: Option<HashMap<ShortChannelId, Msat>>,
}

/// Each channel's open cost: the on-chain fees the bookkeeper books to its account (the
/// channel id). A channel the peer opened has none of ours.
pub fn open_costs(channels: &[NodeChannel], fees: &[OnchainFee]) -> HashMap<ShortChannelId, Msat> {
    let mut by_account: HashMap<&str, i64> = HashMap::new();
    for fee in fees {
        *by_account.entry(fee.account.as_str()).or_default() += fee.fee_msat;
    }
    channels
        .iter()
        .filter_map(|c| {
            let paid = c
                .channel_id
                .as_deref()
                .and_then(|account| by_account.get(account))
                .copied()
                .unwrap_or(0);
            Some((
                c.short_channel_id?,
                Msat::new(u64::try_from(paid).unwrap_or(0)),
            ))
        })
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowFigures {
    pub days: u64,
    pub forwards_out: u64,
    pub forwards_in: u64,
    pub out_volume_msat: u64,
    pub in_volume_msat: u64,
    pub fees_earned_msat: u64,
    pub sourced_fees_msat: u64,
    pub rebalance_costs_msat: u64,
    /// Fees earned minus rebalance costs.
    pub net_msat: i64,
    /// `net` over the window, annualised, per unit of capacity, in basis points.
    pub roi_annual_bp: i64,
    /// Outgoing volume over capacity, in percent.
    pub turnover_pct: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelProfitability {
    pub channel: ShortChannelId,
    pub peer_id: String,
    pub capacity_msat: u64,
    pub local_msat: u64,
    pub age_days: Option<u32>,
    pub last_forward_at: Option<u64>,
    pub class: ProfitabilityClass,
    pub class_reason: String,
    pub diagnostic_attempts_14d: u32,
    /// When the channel's zero-fee probe ends, while one is open.
    pub probe_until: Option<u64>,
    /// What opening it cost on chain (`None`: unknown — no bookkeeper plugin).
    pub open_cost_msat: Option<u64>,
    /// Days of the last 30 days' net earnings it takes to earn the open cost back (`None`
    /// when unknown or while it earns nothing).
    pub open_cost_payback_days: Option<u64>,
    /// One entry per `WINDOW_DAYS`, shortest first.
    pub windows: Vec<WindowFigures>,
}

/// Builds the report for every channel with a short channel id; `activity[i]` holds the
/// totals since `WINDOW_DAYS[i]` days ago.
pub fn profitability(
    channels: &[NodeChannel],
    blockheight: u32,
    activity: &[BTreeMap<ShortChannelId, ChannelActivity>; 3],
    defib: &ChannelHistory,
) -> Vec<ChannelProfitability> {
    let watched_days = defib
        .observed_since
        .map(|since| defib.now.saturating_sub(since) / DAY_SECS);
    channels
        .iter()
        .filter_map(|c| c.short_channel_id.map(|scid| (scid, c)))
        .map(|(scid, c)| {
            let none = ChannelActivity::default();
            let windows: Vec<WindowFigures> = WINDOW_DAYS
                .iter()
                .zip(activity)
                .map(|(&days, totals)| figures(days, c.total, totals.get(&scid).unwrap_or(&none)))
                .collect();
            let age_days = c
                .funding_height
                .map(|h| blockheight.saturating_sub(h) / BLOCKS_PER_DAY);
            let last_forward_at = activity[2]
                .get(&scid)
                .and_then(|a| a.last_forward_ms)
                .map(|ms| ms / 1000);
            let history = defib.histories.get(&scid).cloned().unwrap_or_default();
            let open_cost_msat = defib
                .open_costs
                .as_ref()
                .map(|costs| costs.get(&scid).map_or(0, |m| m.msat()));
            let zombie = zombie_reason(&history, last_forward_at, defib.now);
            let (class, class_reason) =
                classify(age_days, watched_days, &windows[1], &windows[2], zombie);
            ChannelProfitability {
                channel: scid,
                peer_id: c.peer_id.clone(),
                capacity_msat: c.total.msat(),
                local_msat: c.to_us.msat(),
                age_days,
                last_forward_at,
                class,
                class_reason,
                diagnostic_attempts_14d: history.attempts,
                probe_until: defib.probes.get(&scid).map(|p| p.until),
                open_cost_msat,
                open_cost_payback_days: open_cost_msat.and_then(|cost| {
                    let per_day = windows[2].net_msat / 30;
                    (per_day > 0).then(|| cost.div_ceil(per_day as u64))
                }),
                windows,
            }
        })
        .collect()
}

fn figures(days: u64, capacity: Msat, a: &ChannelActivity) -> WindowFigures {
    let net = i128::from(a.fees_earned.msat()) - i128::from(a.rebalance_fees.msat());
    let turnover = u128::from(a.out_volume.msat()) * 100 / u128::from(capacity.msat().max(1));
    WindowFigures {
        days,
        forwards_out: a.forwards_out,
        forwards_in: a.forwards_in,
        out_volume_msat: a.out_volume.msat(),
        in_volume_msat: a.in_volume.msat(),
        fees_earned_msat: a.fees_earned.msat(),
        sourced_fees_msat: a.sourced_fees.msat(),
        rebalance_costs_msat: a.rebalance_fees.msat(),
        net_msat: clamp_i64(net),
        roi_annual_bp: annualised_bp(net, capacity, days),
        turnover_pct: u64::try_from(turnover).unwrap_or(u64::MAX),
    }
}

/// `net` earned over `days` on `capacity`, as a yearly return in basis points.
pub fn annualised_bp(net_msat: i128, capacity: Msat, days: u64) -> i64 {
    let capacity = i128::from(capacity.msat().max(1));
    clamp_i64(net_msat * 10_000 * 365 / (capacity * i128::from(days.max(1))))
}

fn clamp_i64(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// The class from the defibrillator's verdict, the week and the month. `watched_days`: how
/// long the ledger has been complete (an idle week is only known after a week of watching).
pub fn classify(
    age_days: Option<u32>,
    watched_days: Option<u64>,
    week: &WindowFigures,
    month: &WindowFigures,
    zombie: Option<String>,
) -> (ProfitabilityClass, String) {
    if let Some(reason) = zombie {
        return (ProfitabilityClass::Zombie, reason);
    }
    let idle_week = week.forwards_out == 0 && week.forwards_in == 0;
    let week_known = watched_days.is_some_and(|d| d >= u64::from(STAGNANT_AGE_DAYS));
    if idle_week && week_known && age_days.is_some_and(|d| d >= STAGNANT_AGE_DAYS) {
        return (
            ProfitabilityClass::StagnantCandidate,
            format!("open {} days, no forward in 7 days", age_days.unwrap_or(0)),
        );
    }
    if month.net_msat < 0 && week.net_msat < 0 {
        return (
            ProfitabilityClass::Bleeder,
            format!(
                "rebalancing cost more than it earned this week and this month (30 d net {} msat)",
                month.net_msat
            ),
        );
    }
    if month.net_msat < 0 {
        return (
            ProfitabilityClass::Underwater,
            format!("30 d net {} msat", month.net_msat),
        );
    }
    if month.roi_annual_bp >= PROFITABLE_ROI_BP {
        return (
            ProfitabilityClass::Profitable,
            format!("{} bp a year on capacity", month.roi_annual_bp),
        );
    }
    if month.forwards_out == 0 && month.forwards_in == 0 {
        return (
            ProfitabilityClass::Unknown,
            "no forwards recorded yet".to_owned(),
        );
    }
    (
        ProfitabilityClass::BreakEven,
        format!(
            "{} bp a year on capacity (profitable from {PROFITABLE_ROI_BP})",
            month.roi_annual_bp
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: u64, fees: u64, costs: u64, forwards: u64) -> WindowFigures {
        figures(
            days,
            Msat::new(1_000_000_000),
            &ChannelActivity {
                forwards_out: forwards,
                fees_earned: Msat::new(fees),
                rebalance_fees: Msat::new(costs),
                ..ChannelActivity::default()
            },
        )
    }

    const WATCHED: Option<u64> = Some(30);

    #[test]
    fn roi_is_annualised_per_capacity() {
        // 1,000 sat net in 30 days on 1 M sat: 0.1 % a month → 121 bp a year.
        let w = window(30, 1_000_000, 0, 5);
        assert_eq!(w.net_msat, 1_000_000);
        assert_eq!(w.roi_annual_bp, 121);
    }

    #[test]
    fn a_quiet_old_channel_is_a_stagnant_candidate_but_a_young_one_is_not() {
        let idle = window(7, 0, 0, 0);
        let month = window(30, 500_000, 0, 3);
        assert_eq!(
            classify(Some(30), WATCHED, &idle, &month, None).0,
            ProfitabilityClass::StagnantCandidate
        );
        assert_eq!(
            classify(Some(6), WATCHED, &idle, &month, None).0,
            ProfitabilityClass::Profitable
        );
        assert_eq!(
            classify(None, WATCHED, &idle, &month, None).0,
            ProfitabilityClass::Profitable
        );
    }

    #[test]
    fn losses_split_into_bleeders_and_underwater() {
        let month = window(30, 1_000, 5_000, 4);
        assert_eq!(
            classify(Some(60), WATCHED, &window(7, 100, 900, 1), &month, None).0,
            ProfitabilityClass::Bleeder
        );
        assert_eq!(
            classify(Some(60), WATCHED, &window(7, 900, 0, 1), &month, None).0,
            ProfitabilityClass::Underwater
        );
    }

    #[test]
    fn tiny_earnings_are_break_even_and_nothing_is_unknown() {
        let week = window(7, 10, 0, 1);
        assert_eq!(
            classify(Some(60), WATCHED, &week, &window(30, 10, 0, 1), None).0,
            ProfitabilityClass::BreakEven
        );
        assert_eq!(
            classify(
                Some(3),
                WATCHED,
                &window(7, 0, 0, 0),
                &window(30, 0, 0, 0),
                None
            )
            .0,
            ProfitabilityClass::Unknown
        );
    }

    #[test]
    fn an_idle_week_means_nothing_before_a_week_of_watching() {
        let idle = window(7, 0, 0, 0);
        let month = window(30, 0, 0, 0);
        assert_eq!(
            classify(Some(200), Some(6), &idle, &month, None).0,
            ProfitabilityClass::Unknown
        );
        assert_eq!(
            classify(Some(200), None, &idle, &month, None).0,
            ProfitabilityClass::Unknown
        );
        assert_eq!(
            classify(Some(200), Some(7), &idle, &month, None).0,
            ProfitabilityClass::StagnantCandidate
        );
    }

    #[test]
    fn the_defibrillators_verdict_comes_first() {
        let busy = window(7, 900, 0, 3);
        let (class, reason) = classify(
            Some(200),
            WATCHED,
            &busy,
            &window(30, 900, 0, 3),
            Some("zombie: test".into()),
        );
        assert_eq!(
            (class, reason.as_str()),
            (ProfitabilityClass::Zombie, "zombie: test")
        );
    }

    #[test]
    fn the_report_carries_attempts_probes_and_zombies() {
        use crate::{model::Opener, money::Ppm};
        let scid: ShortChannelId = "100x1x0".parse().unwrap();
        let channel = NodeChannel {
            peer_id: "02aa".into(),
            peer_connected: true,
            state: "CHANNELD_NORMAL".into(),
            short_channel_id: Some(scid),
            opener: Opener::Local,
            total: Msat::from_sat(1_000_000).unwrap(),
            to_us: Msat::ZERO,
            fee_base: Msat::ZERO,
            fee_ppm: Ppm::new(100),
            htlc_min: Msat::ZERO,
            htlc_max: Msat::ZERO,
            max_accepted_htlcs: 483,
            htlcs: Vec::new(),
            funding_height: Some(100),
            remote_fee: None,
            channel_id: Some("ab".repeat(32)),
        };
        let now = 60 * DAY_SECS;
        let mut defib = ChannelHistory {
            now,
            observed_since: Some(0),
            histories: HashMap::from([(
                scid,
                DiagnosticHistory {
                    attempts: 2,
                    ..DiagnosticHistory::default()
                },
            )]),
            probes: HashMap::from([(
                scid,
                Probe {
                    started_at: now - 10,
                    until: now + 100,
                },
            )]),
            open_costs: None,
        };
        let activity: [BTreeMap<ShortChannelId, ChannelActivity>; 3] = Default::default();
        let fees = [
            OnchainFee {
                account: "ab".repeat(32),
                fee_msat: 308_000,
                at: 0,
            },
            OnchainFee {
                account: "wallet".into(),
                fee_msat: 0,
                at: 0,
            },
        ];
        defib.open_costs = Some(open_costs(std::slice::from_ref(&channel), &fees));
        let report = profitability(&[channel], 100 + 144 * 60, &activity, &defib);
        assert_eq!(report[0].open_cost_msat, Some(308_000));
        assert_eq!(report[0].open_cost_payback_days, None, "it earns nothing");
        assert_eq!(report[0].class, ProfitabilityClass::Zombie);
        assert_eq!(report[0].diagnostic_attempts_14d, 2);
        assert_eq!(report[0].probe_until, Some(now + 100));
    }
}
