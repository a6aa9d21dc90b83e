//! `rebalance-ev`: move liquidity only when it pays (spec: rebalance).
//!
//! For each channel running short of local liquidity that has shown outbound demand (what it
//! sold, and a share of what senders could not send through it while it was empty), it values
//! a refill at the channel's last *broadcast* fee (price truth), sized to about two days of the
//! demand it has shown (never past half the capacity); from that it subtracts the estimated route
//! cost and the opportunity cost of taking the liquidity from the source (what the source would
//! have earned selling it itself). Only moves with positive expected value are proposed, best
//! first, with the fee cap set where the move stops paying, and never past `spend-share-pct`
//! (30 %) of the week's revenue in rebalance fees over the week. The host's guards still
//! decide.
//!
//! The defibrillator's half (spec: channel defibrillator): a stagnant candidate that is not on a
//! probe yet gets a diagnostic rebalance of 50,000 sat from the fullest healthy channel, capped
//! at the host's diagnostic fee — a deliberate small loss to learn whether it can route at all.
//!
//! Every channel it leaves alone gets a reason in the node's log (`reasons`).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod reasons;
mod spend;

use alloc::{format, string::String, vec::Vec};
use guest_support::{
    money::{ppm_of, ratio_percent, sat_to_msat},
    schema::{IntParam, Schema},
    types::Param,
};
use reasons::Skip;

wit_bindgen::generate!({
    world: "rebalance-policy",
    path: "../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

use guest_support::types::{Channel, ProfitabilityClass, RebalanceKind, RebalanceProposal};

guest_support::panic_handler!();

const SHORT_SHARE_PCT: IntParam = IntParam::new(
    "short-share-pct",
    "A channel with less local share than this may be refilled, %.",
    25,
)
.range(1, 49);
const FULL_SHARE_PCT: IntParam = IntParam::new(
    "full-share-pct",
    "A channel with more local share than this may give, %.",
    60,
)
.range(51, 99);
const ROUTE_PPM: IntParam = IntParam::new(
    "route-ppm",
    "Expected route cost, ppm of the amount (conservative: real routes vary and some fail).",
    700,
)
.range(0, 100_000);
const MIN_MOVE_SAT: IntParam =
    IntParam::new("min-move-sat", "Smallest move worth making, sat.", 50_000)
        .range(1_000, 100_000_000);
const DEMAND_DAYS: IntParam = IntParam::new(
    "demand-days",
    "Size a refill to this many days of shown demand.",
    2,
)
.range(1, 30);
const MAX_MOVES: IntParam =
    IntParam::new("max-moves", "Most moves proposed per cycle.", 2).range(1, 20);
const MARGIN_PCT: IntParam = IntParam::new(
    "margin-pct",
    "Expected income net of opportunity cost must beat the route cost by this much, %.",
    100,
)
.range(0, 1_000);
const DIAGNOSTIC_SAT: IntParam = IntParam::new(
    "diagnostic-sat",
    "Size of a diagnostic rebalance into a stagnant channel, sat.",
    50_000,
)
.range(1_000, 50_000);
const MAX_DIAGNOSTICS: IntParam = IntParam::new(
    "max-diagnostics",
    "Most diagnostic rebalances proposed per cycle (0: none).",
    1,
)
.range(0, 10);

const SPEND_SHARE_PCT: IntParam = IntParam::new(
    "spend-share-pct",
    "Spend at most this share of the last 7 days' revenue on rebalance fees (what moves paid, as the host books it, plus each new move at its expected route cost), %.",
    30,
)
.range(0, 100);
const FAILED_DEMAND_PCT: IntParam = IntParam::new(
    "failed-demand-pct",
    "Count this share of the amounts senders failed to send through a channel (local failures: it was empty) as demand a refill would serve, %.",
    50,
)
.range(0, 100);

const SCHEMA: Schema = Schema::new(&[
    &SHORT_SHARE_PCT,
    &FULL_SHARE_PCT,
    &ROUTE_PPM,
    &MIN_MOVE_SAT,
    &DEMAND_DAYS,
    &MAX_MOVES,
    &MARGIN_PCT,
    &DIAGNOSTIC_SAT,
    &MAX_DIAGNOSTICS,
    &SPEND_SHARE_PCT,
    &FAILED_DEMAND_PCT,
]);

struct Settings {
    short_share_pct: u64,
    full_share_pct: u64,
    route_ppm: u32,
    min_move_msat: u64,
    demand_days: u64,
    max_moves: usize,
    margin_pct: u64,
    diagnostic_msat: u64,
    max_diagnostics: usize,
    spend_share_pct: u64,
    failed_demand_pct: u64,
}

impl Settings {
    fn read(params: &[Param]) -> Self {
        Self {
            short_share_pct: SHORT_SHARE_PCT.get_u64(params),
            full_share_pct: FULL_SHARE_PCT.get_u64(params),
            route_ppm: ROUTE_PPM.get_u32(params),
            min_move_msat: sat_to_msat(MIN_MOVE_SAT.get_u64(params)),
            demand_days: DEMAND_DAYS.get_u64(params),
            max_moves: MAX_MOVES.get_usize(params),
            margin_pct: MARGIN_PCT.get_u64(params),
            diagnostic_msat: sat_to_msat(DIAGNOSTIC_SAT.get_u64(params)),
            max_diagnostics: MAX_DIAGNOSTICS.get_usize(params),
            spend_share_pct: SPEND_SHARE_PCT.get_u64(params),
            failed_demand_pct: FAILED_DEMAND_PCT.get_u64(params),
        }
    }
}

/// Local share of the capacity, % (rounded down; an empty channel counts as capacity 1).
fn share_pct(c: &Channel) -> u64 {
    ratio_percent(c.local_msat, c.capacity_msat.max(1)).unwrap_or(u64::MAX)
}

/// What a refill of `amount` into `dest` should earn: sold at its last broadcast fee.
fn income(dest: &Channel, amount: u64) -> u64 {
    ppm_of(amount, dest.last_broadcast_ppm.unwrap_or(dest.fee_ppm))
}

/// What the source would have earned selling the same liquidity itself over the horizon.
fn opportunity(source: &Channel, amount: u64, days: u64) -> u64 {
    let own_sales = (source.flow.out_msat_7d / 7)
        .saturating_mul(days)
        .min(amount);
    ppm_of(own_sales, source.fee_ppm)
}

struct Candidate {
    source: usize,
    destination: usize,
    amount: u64,
    value: u64,
    max_fee: u64,
    /// The expected route cost (what spend pacing counts).
    route_cost: u64,
}

/// The moves worth making, best first, and why every other channel gets none.
fn candidates(
    channels: &[Channel],
    s: &Settings,
    max_fee_ppm: u32,
) -> (Vec<Candidate>, Vec<(usize, Skip)>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for (d, dest) in channels.iter().enumerate() {
        match assess(channels, d, dest, s, max_fee_ppm) {
            Ok(candidate) => found.push(candidate),
            Err(skip) => skipped.push((d, skip)),
        }
    }
    found.sort_by_key(|c| core::cmp::Reverse(c.value));
    (found, skipped)
}

/// The refill of channel `d`, or why there is none.
fn assess(
    channels: &[Channel],
    d: usize,
    dest: &Channel,
    s: &Settings,
    max_fee_ppm: u32,
) -> Result<Candidate, Skip> {
    if !dest.active {
        return Err(Skip::Inactive);
    }
    let share = share_pct(dest);
    if share >= s.short_share_pct {
        return Err(Skip::NotShort {
            share,
            short: s.short_share_pct,
        });
    }
    // What sold, plus a share of what senders tried to send and could not (an empty channel
    // that senders still want shows demand only there).
    let failed = dest.flow.failed_out_msat_7d / 100 * s.failed_demand_pct;
    let demand_per_day = dest.flow.out_msat_7d.saturating_add(failed) / 7;
    if demand_per_day == 0 {
        return Err(Skip::NoDemand);
    }
    let deficit = (dest.capacity_msat / 2).saturating_sub(dest.local_msat);
    let amount = deficit.min(demand_per_day.saturating_mul(s.demand_days));
    if amount < s.min_move_msat {
        return Err(Skip::TooSmall {
            amount,
            min: s.min_move_msat,
        });
    }
    let route_cost = ppm_of(amount, s.route_ppm) + 1_000;
    let cap = ppm_of(amount, max_fee_ppm);
    let (source, opp) = channels
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            *i != d && c.active && c.peer != dest.peer && share_pct(c) > s.full_share_pct
        })
        .filter(|(_, c)| c.local_msat.saturating_sub(c.capacity_msat / 2) >= amount)
        .map(|(i, c)| (i, opportunity(c, amount, s.demand_days)))
        .min_by_key(|(_, opp)| *opp)
        .ok_or(Skip::NoSource {
            amount,
            full: s.full_share_pct,
        })?;
    let gross = income(dest, amount).saturating_sub(opp);
    // Demand forecasts miss: ask for a safety margin over the estimated route cost.
    let wanted = route_cost.saturating_mul(100 + s.margin_pct) / 100;
    if gross <= wanted {
        return Err(Skip::NotWorth { gross, wanted });
    }
    // Worth paying at most what the move earns, and never above the host's ceiling.
    let max_fee = gross.min(cap);
    if max_fee < route_cost {
        return Err(Skip::CapBelowCost {
            cap,
            route_cost,
            max_fee_ppm,
        });
    }
    Ok(Candidate {
        source,
        destination: d,
        amount,
        value: gross - route_cost,
        max_fee,
        route_cost,
    })
}

/// A diagnostic refill for one stagnant candidate: (source, destination) indexes.
fn diagnostics(channels: &[Channel], s: &Settings, used: &[usize]) -> Vec<(usize, usize)> {
    let healthy = |c: &Channel| {
        !matches!(
            c.class,
            ProfitabilityClass::StagnantCandidate | ProfitabilityClass::Zombie
        )
    };
    let mut taken: Vec<usize> = used.to_vec();
    let mut found = Vec::new();
    for (d, dest) in channels.iter().enumerate() {
        if found.len() >= s.max_diagnostics {
            break;
        }
        if dest.class != ProfitabilityClass::StagnantCandidate
            || !dest.active
            || dest.probe_active
            || taken.contains(&d)
        {
            continue;
        }
        let source = channels
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                !taken.contains(i)
                    && c.active
                    && c.peer != dest.peer
                    && healthy(c)
                    && share_pct(c) > s.full_share_pct
                    && c.local_msat.saturating_sub(c.capacity_msat / 2) >= s.diagnostic_msat
            })
            .max_by_key(|(_, c)| c.local_msat.saturating_sub(c.capacity_msat / 2));
        if let Some((source, _)) = source {
            taken.extend([source, d]);
            found.push((source, d));
        }
    }
    found
}

struct RebalanceEv;

impl Guest for RebalanceEv {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "rebalance-ev".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Refills channels short of liquidity when the expected fee income beats route and opportunity costs.".into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_rebalances(
        ctx: Context,
        snapshot: Snapshot,
        budget: RebalanceBudget,
    ) -> Result<RebalanceDecision, String> {
        let settings = Settings::read(&ctx.params);
        let slots = (budget.max_concurrent.saturating_sub(budget.in_flight) as usize)
            .min(settings.max_moves);
        let revenue_7d = snapshot.channels.iter().fold(0u64, |sum, c| {
            sum.saturating_add(c.flow.fees_earned_msat_7d)
        });
        let mut allowed =
            spend::allowance(revenue_7d, settings.spend_share_pct, budget.spent_7d_msat);
        let mut remaining = budget.remaining_msat;
        let mut used = Vec::new();
        let mut proposals = Vec::new();
        let (found, mut skipped) = candidates(&snapshot.channels, &settings, budget.max_fee_ppm);
        for c in found {
            // One move per channel per cycle, on either end; stay inside the budget.
            let skip = if proposals.len() >= slots {
                Some(Skip::NoSlot)
            } else if used.contains(&c.source) || used.contains(&c.destination) {
                Some(Skip::ChannelTaken)
            } else if c.max_fee > remaining {
                Some(Skip::Budget {
                    max_fee: c.max_fee,
                    remaining,
                })
            } else if c.route_cost > allowed {
                Some(Skip::SpendShare {
                    cost: c.route_cost,
                    allowed,
                    share: settings.spend_share_pct,
                })
            } else {
                None
            };
            if let Some(skip) = skip {
                skipped.push((c.destination, skip));
                continue;
            }
            remaining -= c.max_fee;
            allowed -= c.route_cost;
            used.extend([c.source, c.destination]);
            let (source, destination) = (
                &snapshot.channels[c.source],
                &snapshot.channels[c.destination],
            );
            proposals.push(RebalanceProposal {
                source: source.id,
                destination: destination.id,
                amount_msat: c.amount,
                max_fee_msat: c.max_fee,
                kind: RebalanceKind::Normal,
                reason: format!(
                    "refill at {} ppm, expected value {} msat",
                    destination
                        .last_broadcast_ppm
                        .unwrap_or(destination.fee_ppm),
                    c.value
                ),
            });
        }
        // Diagnostics only when the host allows them and the budget still covers one.
        let diagnostic_fee = budget.diagnostic_max_fee_msat;
        if diagnostic_fee > 0 {
            for (source, destination) in diagnostics(&snapshot.channels, &settings, &used) {
                if diagnostic_fee > remaining {
                    break;
                }
                // The defibrillator's small deliberate losses are paced by the host's own
                // limits (2 per 14 days), not by the revenue share.
                remaining -= diagnostic_fee;
                // It gets a move after all: no reason to give for it.
                skipped.retain(|(i, _)| *i != destination);
                proposals.push(RebalanceProposal {
                    source: snapshot.channels[source].id,
                    destination: snapshot.channels[destination].id,
                    amount_msat: settings.diagnostic_msat,
                    max_fee_msat: diagnostic_fee,
                    kind: RebalanceKind::Diagnostic,
                    reason: "diagnostic: stagnant for a week; does it route with liquidity and a zero fee?".into(),
                });
            }
        }
        let skipped: Vec<(u64, Skip)> = skipped
            .into_iter()
            .map(|(i, skip)| (snapshot.channels[i].id, skip))
            .collect();
        reasons::report(&skipped, proposals.len());
        Ok(RebalanceDecision {
            proposals,
            node_state: ctx.node_state,
            channel_states: Vec::new(),
        })
    }
}

export!(RebalanceEv);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let s = Settings::read(&[]);
        assert_eq!(
            (s.short_share_pct, s.full_share_pct, s.route_ppm),
            (25, 60, 700)
        );
        assert_eq!(
            (s.min_move_msat, s.diagnostic_msat),
            (50_000_000, 50_000_000)
        );
        assert_eq!((s.demand_days, s.max_moves, s.margin_pct), (2, 2, 100));
        assert_eq!(s.max_diagnostics, 1);
        assert_eq!((s.spend_share_pct, s.failed_demand_pct), (30, 50));
    }

    fn channel(local_sat: u64, out_7d_sat: u64, failed_7d_sat: u64, peer: u32) -> Channel {
        let mut channel = Channel {
            htlc_max_msat: 9_900_000_000,
            age_secs: 90 * 86_400,
            last_broadcast_ppm: Some(2000),
            class: ProfitabilityClass::Profitable,
            ..guest_support::fixtures::channel(
                u64::from(peer) << 40,
                peer,
                10_000_000_000,
                local_sat * 1000,
                2000,
            )
        };
        channel.flow.out_msat_7d = out_7d_sat * 1000;
        channel.flow.fees_earned_msat_7d = out_7d_sat * 2;
        channel.flow.failed_out_7d = u32::from(failed_7d_sat > 0);
        channel.flow.failed_out_msat_7d = failed_7d_sat * 1000;
        channel
    }

    /// Issue 14: a drained channel senders still want was never refilled (no sales, no
    /// demand). Their failed attempts are demand now; a dead channel still gets nothing.
    #[test]
    fn an_empty_channel_senders_want_is_refilled_a_dead_one_is_not() {
        let s = Settings::read(&[]);
        let wanted = channel(100_000, 0, 20_000_000, 1);
        let dead = channel(100_000, 0, 0, 2);
        let source = channel(9_000_000, 0, 0, 3);
        let channels = [wanted, dead, source];
        let refill = assess(&channels, 0, &channels[0], &s, 1_000).unwrap();
        assert_eq!((refill.source, refill.destination), (2, 0));
        assert!(refill.amount >= s.min_move_msat, "{}", refill.amount);
        assert_eq!(
            assess(&channels, 1, &channels[1], &s, 1_000).err(),
            Some(Skip::NoDemand)
        );
    }
}
