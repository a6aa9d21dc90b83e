//! The demand side of a family's scenario: seasonality, the pull of on-chain fees, per-channel
//! payment sizes and competitors, sender memory, gossip delay, and demand shifts scoped to a
//! channel, a list, a tag or all channels, outbound, inbound or both.
//!
//! Drawn from a stream of its own (after the channels and events), so the demand side never
//! moves the draws of the rest of the scenario.

use super::{Shape, day, round2};
use crate::{
    rng::SplitMix64,
    sim::scenario::{
        ChannelSpec, CompetitorPolicy, CompetitorSpec, Direction, Event, GossipDelay, Scenario,
        Seasonality, SenderMemory,
    },
};

/// How a family draws its demand side.
pub(super) struct DemandShape {
    /// Amplitude of the day/night swing (share of the mean) and the weekend's level
    /// (× weekdays), each a range.
    pub hourly_amplitude: (f64, f64),
    pub weekend: (f64, f64),
    /// β of the on-chain pull.
    pub beta: (f64, f64),
    /// Competitors per channel, and the weights of static, undercut, price-war and
    /// follow-median among them.
    pub competitors: (u64, u64),
    pub policies: [u64; 4],
    /// Scale of the payment sizes' medians (1: a retail node's).
    pub size_scale: f64,
    /// Demand shifts.
    pub shifts: (u64, u64),
}

pub(super) const BASE: DemandShape = DemandShape {
    hourly_amplitude: (0.2, 0.5),
    weekend: (0.6, 1.0),
    beta: (0.0, 0.2),
    competitors: (1, 4),
    policies: [45, 20, 10, 25],
    size_scale: 1.0,
    shifts: (1, 3),
};

/// Draws the demand side of `scenario` (its channels and events already drawn).
pub(super) fn draw(shape: &Shape, scenario: &mut Scenario, seed: u64) {
    let d = &shape.demand;
    let mut rng = SplitMix64::new(seed ^ 0xDE3A_4D51);
    let rng = &mut rng;
    let market = &mut scenario.market;
    market.seasonality = Some(seasonality(d, rng));
    market.onchain_demand_beta = round2(d.beta.0 + rng.unit() * (d.beta.1 - d.beta.0));
    market.sender_memory = Some(SenderMemory {
        failure_penalty: round2(0.2 + rng.unit() * 0.3),
        half_life_hours: round2(1.0 + rng.unit() * 3.0),
    });
    market.gossip_delay = Some(GossipDelay {
        min_minutes: round2(2.0 + rng.unit() * 3.0),
        max_minutes: round2(20.0 + rng.unit() * 40.0),
        enforce_secs: 600,
    });
    for channel in &mut scenario.channels {
        sizes(d, channel, rng);
        channel.competitors = (0..rng.between(d.competitors.0, d.competitors.1))
            .map(|_| competitor(d, channel, rng))
            .collect();
    }
    for _ in 0..rng.between(d.shifts.0, d.shifts.1) {
        scenario.events.push(shift(scenario, rng));
    }
}

/// A day/night swing peaking in the (UTC) afternoon or evening, and quieter or busier
/// weekends.
fn seasonality(d: &DemandShape, rng: &mut SplitMix64) -> Seasonality {
    let amplitude =
        d.hourly_amplitude.0 + rng.unit() * (d.hourly_amplitude.1 - d.hourly_amplitude.0);
    let peak = 12.0 + rng.unit() * 9.0;
    let hourly = (0..24)
        .map(|hour| {
            let phase = (f64::from(hour) - peak) * std::f64::consts::TAU / 24.0;
            round2(1.0 + amplitude * phase.cos())
        })
        .collect();
    let weekend = d.weekend.0 + rng.unit() * (d.weekend.1 - d.weekend.0);
    // Friday halfway between the week and the weekend, or a little busier.
    let friday = round2(if rng.below(2) == 0 {
        (1.0 + weekend) / 2.0
    } else {
        1.05 + rng.unit() * 0.1
    });
    let weekend = round2(weekend);
    let sunday = round2(weekend * (0.9 + rng.unit() * 0.2));
    Seasonality {
        hourly,
        weekly: vec![1.0, 1.0, 1.0, 1.0, friday, weekend, sunday],
    }
}

/// Log-normal sizes by the channel's kind (its first tag): shops and drained channels take
/// small payments, sources (exchanges) large ones.
fn sizes(d: &DemandShape, channel: &mut ChannelSpec, rng: &mut SplitMix64) {
    let kind = channel.tags.first().map_or("routing", String::as_str);
    let (low, high, sigma) = match kind {
        "dead" => return,
        "sink" => (5_000.0, 40_000.0, (0.8, 1.3)),
        "source" => (50_000.0, 400_000.0, (1.0, 1.5)),
        "drained" => (1_000.0, 10_000.0, (0.7, 1.2)),
        "one-way" => (10_000.0, 100_000.0, (0.9, 1.4)),
        _ => (20_000.0, 150_000.0, (1.0, 1.6)),
    };
    let median = log_uniform(rng, low, high) * d.size_scale;
    // Two significant figures, as someone would write it.
    let magnitude = 10f64.powi(median.log10().floor() as i32 - 1);
    channel.amount_median_sat = Some(((median / magnitude).round() * magnitude) as u64);
    channel.amount_sigma = Some(round2(sigma.0 + rng.unit() * (sigma.1 - sigma.0)));
}

fn log_uniform(rng: &mut SplitMix64, low: f64, high: f64) -> f64 {
    (low.ln() + rng.unit() * (high.ln() - low.ln())).exp()
}

/// One competing channel, priced around the channel's `competitor-ppm`, with liquidity of
/// the order of ours that refills in hours to days.
fn competitor(d: &DemandShape, channel: &ChannelSpec, rng: &mut SplitMix64) -> CompetitorSpec {
    let total: u64 = d.policies.iter().sum();
    let mut roll = rng.below(total);
    let policy = [
        CompetitorPolicy::Static,
        CompetitorPolicy::Undercut,
        CompetitorPolicy::PriceWar,
        CompetitorPolicy::FollowMedian,
    ][d
        .policies
        .iter()
        .position(|&weight| {
            let hit = roll < weight;
            roll = roll.saturating_sub(weight);
            hit
        })
        .unwrap_or(0)];
    let liquidity = channel.capacity_sat as f64 * (0.2 + rng.unit() * 1.8);
    let mut c = CompetitorSpec {
        policy,
        ppm: None,
        ppm_factor: round2(log_uniform(rng, 0.6, 1.6)),
        base_msat: [0, 0, 1000][rng.below(3) as usize],
        weight: round2(0.5 + rng.unit() * 1.5),
        liquidity_sat: Some(((liquidity / 10_000.0).round() as u64).max(1) * 10_000),
        refill_hours: round2(6.0 + rng.unit() * 42.0),
        react_hours: 1.0,
        undercut_step: 0.1,
        undercut_threshold: 0.5,
        floor_ppm: None,
        period_hours: 168.0,
        war_hours: 24.0,
        war_factor: 0.3,
        phase_hours: 0.0,
        follow_rate: 0.5,
    };
    match policy {
        CompetitorPolicy::Static => {}
        CompetitorPolicy::Undercut => {
            c.react_hours = round2(1.0 + rng.unit() * 5.0);
            c.undercut_step = round2(0.05 + rng.unit() * 0.15);
            c.undercut_threshold = round2(0.4 + rng.unit() * 0.3);
            c.follow_rate = round2(0.2 + rng.unit() * 0.4);
        }
        CompetitorPolicy::PriceWar => {
            c.period_hours = round2(72.0 + rng.unit() * 264.0);
            c.war_hours = round2(6.0 + rng.unit() * 30.0);
            c.war_factor = round2(0.3 + rng.unit() * 0.4);
            c.phase_hours = round2(rng.unit() * c.period_hours);
        }
        CompetitorPolicy::FollowMedian => {
            c.react_hours = round2(1.0 + rng.unit() * 5.0);
            c.follow_rate = round2(0.2 + rng.unit() * 0.4);
        }
    }
    c
}

/// A demand shift on one channel, a few, a kind of channel (tag) or all of them; mostly
/// outbound, sometimes inbound or both. Market-wide shifts are milder.
fn shift(scenario: &Scenario, rng: &mut SplitMix64) -> Event {
    let days = scenario.days;
    let count = scenario.channels.len() as u64;
    let (mut channel, mut channels, mut tag, mut all) = (None, Vec::new(), None, false);
    match rng.below(20) {
        0..=9 => channel = Some(rng.below(count) as usize),
        10..=12 => {
            channels = (0..rng.between(2, 5))
                .map(|_| rng.below(count) as usize)
                .collect();
            channels.sort_unstable();
            channels.dedup();
        }
        13..=16 => {
            let of = &scenario.channels[rng.below(count) as usize];
            tag = of.tags.first().cloned();
            if tag.is_none() {
                all = true;
            }
        }
        _ => all = true,
    }
    let direction = match rng.below(20) {
        0..=12 => Direction::Out,
        13..=16 => Direction::In,
        _ => Direction::Both,
    };
    let multiplier = if all {
        [0.5, 0.7, 1.5, 2.0][rng.below(4) as usize]
    } else {
        [0.0, 0.3, 2.0, 4.0][rng.below(4) as usize]
    };
    Event::DemandShift {
        channel,
        channels,
        tag,
        all,
        direction,
        start_day: day(rng, days, 0.1, 0.7),
        days: round2(1.0 + rng.unit() * f64::from(days) * 0.4),
        multiplier,
    }
}

/// The demand side in a few words, for the scenario's description.
pub(super) fn describe(scenario: &Scenario) -> String {
    use CompetitorPolicy::Static;
    let competitors = scenario.channels.iter().flat_map(|c| &c.competitors);
    let moving = competitors.clone().filter(|c| c.policy != Static).count();
    let m = &scenario.market;
    let weekend = m
        .seasonality
        .as_ref()
        .and_then(|s| s.weekly.get(5).copied())
        .unwrap_or(1.0);
    format!(
        "; {} competitors ({moving} moving their fees), weekends ×{weekend}, on-chain β {}, \
         sender memory and gossip delay",
        competitors.count(),
        m.onchain_demand_beta,
    )
}
