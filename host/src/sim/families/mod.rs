//! Scenario families: random scenarios of one kind of node, made from a seed (`revops scenario
//! generate --family NAME --seed N`). Pure and deterministic: a family and a seed always give
//! the same scenario, whose own seed is that seed. Every channel is written out, so the result
//! is an ordinary scenario file a user can read and edit.
//!
//! Every family draws the market's demand side too (`demand`): seasonality, competitors per
//! channel, per-channel payment sizes, sender memory and gossip delay, the on-chain pull and
//! scoped demand shifts. `emit` writes a scenario as TOML.

mod demand;
mod emit;

pub use emit::to_toml;

use super::{
    floods::{FloodEvent, Hold},
    lifecycle::PeerOffline,
    routes::RouteMarket,
    scenario::{ChannelSpec, Event, Feerate, Generate, Market, Scenario},
};
use crate::{model::Opener, rng::SplitMix64};

/// Name and description of every family.
pub const FAMILIES: &[(&str, &str)] = &[
    (
        "small-retail",
        "10–30 channels of 1–5 M sat, light traffic, the odd flood, outage and new channel",
    ),
    (
        "routing-hub",
        "100–300 channels of 2–50 M sat, heavy two-way traffic, floods, outages, opens and closes",
    ),
    (
        "sink-heavy",
        "20–60 channels, a third of them sinks and one-way drains: liquidity runs out, refills are dear",
    ),
    (
        "volatile-mempool",
        "20–60 channels; on-chain fees swing, spike and sit high for days (a mempool siege); routes follow",
    ),
    (
        "jammed",
        "20–60 channels under dust, whale and slow-jamming floods on chosen channels, in waves",
    ),
];

/// How a family draws its scenarios.
struct Shape {
    channels: (u64, u64),
    capacities_sat: &'static [u64],
    days: u32,
    payments_per_channel_day: (f64, f64),
    /// Weights of routing, sink, source, one-way, dead, drained channels.
    mix: [u64; 6],
    /// Base feerate range, daily swing, noise.
    feerate: (u64, u64, f64, f64),
    spikes: (u64, u64),
    /// A spike that lasts days.
    siege: bool,
    floods: (u64, u64),
    /// Share of floods that are slow-jamming, and waves of a flood.
    slow_jam_share: f64,
    waves: (u64, u64),
    outages: (u64, u64),
    opens: (u64, u64),
    closes: (u64, u64),
    route_ppm: (u64, u64),
    feerate_exponent: f64,
    demand: demand::DemandShape,
}

fn shape(family: &str) -> Option<Shape> {
    let base = Shape {
        channels: (20, 60),
        capacities_sat: &[1_000_000, 2_000_000, 5_000_000, 10_000_000],
        days: 14,
        payments_per_channel_day: (8.0, 20.0),
        mix: [60, 10, 10, 10, 5, 5],
        feerate: (1000, 4000, 0.25, 0.08),
        spikes: (0, 2),
        siege: false,
        floods: (0, 2),
        slow_jam_share: 0.3,
        waves: (1, 2),
        outages: (1, 3),
        opens: (0, 2),
        closes: (0, 2),
        route_ppm: (200, 800),
        feerate_exponent: 0.5,
        demand: demand::BASE,
    };
    Some(match family {
        "small-retail" => Shape {
            channels: (10, 30),
            capacities_sat: &[1_000_000, 2_000_000, 3_000_000, 5_000_000],
            payments_per_channel_day: (4.0, 12.0),
            floods: (0, 1),
            // Local customers: marked days and nights, quiet weekends, mostly static rivals.
            demand: demand::DemandShape {
                hourly_amplitude: (0.3, 0.7),
                weekend: (0.5, 0.9),
                policies: [55, 15, 10, 20],
                ..demand::BASE
            },
            ..base
        },
        "routing-hub" => Shape {
            channels: (100, 300),
            capacities_sat: &[2_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000],
            payments_per_channel_day: (15.0, 40.0),
            mix: [70, 8, 8, 6, 4, 4],
            floods: (1, 4),
            outages: (3, 10),
            opens: (2, 8),
            closes: (2, 8),
            // Many senders from everywhere: smoother days and weeks, larger payments, more
            // competitors that move.
            demand: demand::DemandShape {
                hourly_amplitude: (0.1, 0.35),
                weekend: (0.75, 1.0),
                policies: [35, 25, 10, 30],
                size_scale: 2.0,
                shifts: (3, 10),
                ..demand::BASE
            },
            ..base
        },
        "sink-heavy" => Shape {
            mix: [35, 25, 5, 20, 5, 10],
            route_ppm: (600, 1500),
            demand: demand::DemandShape {
                shifts: (2, 5),
                ..demand::BASE
            },
            ..base
        },
        "volatile-mempool" => Shape {
            feerate: (2000, 8000, 0.5, 0.25),
            spikes: (2, 5),
            siege: true,
            feerate_exponent: 0.8,
            // Dear on-chain fees send payments to Lightning.
            demand: demand::DemandShape {
                beta: (0.5, 1.5),
                ..demand::BASE
            },
            ..base
        },
        "jammed" => Shape {
            days: 10,
            floods: (4, 9),
            slow_jam_share: 0.4,
            waves: (1, 4),
            ..base
        },
        _ => return None,
    })
}

/// The families' names, comma separated (for error messages).
pub fn family_names() -> String {
    FAMILIES
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A scenario of `family` from `seed`.
pub fn generate(family: &str, seed: u64) -> Option<Scenario> {
    let shape = shape(family)?;
    let mut rng = SplitMix64::new(seed ^ 0xFA31_17E5);
    let count = rng.between(shape.channels.0, shape.channels.1) as usize;
    let channels: Vec<ChannelSpec> = (0..count)
        .map(|index| channel(&shape, index, &mut rng))
        .collect();
    let days = shape.days;
    let (low, high) = shape.payments_per_channel_day;
    let market = Market {
        payments_per_channel_day: round2(low + rng.unit() * (high - low)),
        amount_sat_min: [5_000, 10_000, 20_000][rng.below(3) as usize],
        amount_sat_max: [500_000, 1_000_000, 2_000_000][rng.below(3) as usize],
        elasticity: round2(1.8 + rng.unit() * 1.2),
        hold_secs_min: 2,
        hold_secs_max: rng.between(60, 240),
        downstream_fail_rate: round2(0.02 + rng.unit() * 0.04),
        rebalance_fail_rate: round2(0.05 + rng.unit() * 0.15),
        seasonality: None,
        onchain_demand_beta: 0.0,
        amount_median_sat: None,
        amount_sigma: None,
        competitors: Vec::new(),
        sender_memory: None,
        gossip_delay: None,
    };
    let (fee_low, fee_high, swing, noise) = shape.feerate;
    let feerate = Feerate {
        base_perkb: rng.between(fee_low, fee_high) as u32,
        daily_swing: swing,
        noise,
    };
    let mut scenario = Scenario {
        name: format!("{family}-{seed}"),
        description: String::new(),
        days,
        seed,
        cycle_minutes: 10,
        start: crate::model::sample::SAMPLE_NOW_SECS,
        market,
        feerate,
        generate: Generate {
            count: 0,
            ..Generate::default()
        },
        channels,
        events: Vec::new(),
        rebalance_routes: Some(RouteMarket {
            ppm: rng.between(shape.route_ppm.0, shape.route_ppm.1) as u32,
            follow_competitor: round2(rng.unit() * 0.5),
            spread: round2(0.3 + rng.unit() * 0.4),
            depth_sat: [2_000_000, 5_000_000, 10_000_000, 20_000_000][rng.below(4) as usize],
            feerate_exponent: shape.feerate_exponent,
            ..RouteMarket::default()
        }),
    };
    add_events(&shape, &mut scenario, &mut rng);
    demand::draw(&shape, &mut scenario, seed);
    scenario.description = describe(&scenario);
    debug_assert!(scenario.validate().is_ok(), "{:?}", scenario.validate());
    Some(scenario)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A day in `[from, to)` of the run, to two decimals.
fn day(rng: &mut SplitMix64, days: u32, from: f64, to: f64) -> f64 {
    round2(f64::from(days) * (from + rng.unit() * (to - from)))
}

fn channel(shape: &Shape, index: usize, rng: &mut SplitMix64) -> ChannelSpec {
    let capacity_sat = shape.capacities_sat[rng.below(shape.capacities_sat.len() as u64) as usize];
    let total: u64 = shape.mix.iter().sum();
    let mut roll = rng.below(total);
    let kind = shape
        .mix
        .iter()
        .position(|&weight| {
            let hit = roll < weight;
            roll = roll.saturating_sub(weight);
            hit
        })
        .unwrap_or(0);
    let (label, out_weight, in_weight, local_share) = match kind {
        1 => (
            "sink",
            3.0 + 3.0 * rng.unit(),
            0.3 * rng.unit(),
            0.3 + 0.5 * rng.unit(),
        ),
        2 => (
            "source",
            0.2 * rng.unit(),
            3.0 + 3.0 * rng.unit(),
            0.1 + 0.5 * rng.unit(),
        ),
        3 => ("one-way", 0.8 + rng.unit(), 0.0, 0.4 + 0.5 * rng.unit()),
        4 => ("dead", 0.0, 0.0, 0.2 + 0.6 * rng.unit()),
        5 => (
            "drained",
            1.0 + rng.unit(),
            0.1 * rng.unit(),
            0.02 * rng.unit(),
        ),
        _ => (
            "routing",
            0.3 + 1.4 * rng.unit(),
            0.3 + 1.4 * rng.unit(),
            0.2 + 0.6 * rng.unit(),
        ),
    };
    ChannelSpec {
        label: format!("{label}-{index}"),
        capacity_sat,
        local_share: round2(local_share),
        out_weight: round2(out_weight),
        in_weight: round2(in_weight),
        competitor_ppm: rng.between(50, 1500) as u32,
        fee_ppm: 100,
        base_msat: 1000,
        opener: if rng.below(2) == 0 {
            Opener::Local
        } else {
            Opener::Remote
        },
        age_days: rng.between(10, 700) as u32,
        max_accepted_htlcs: [483, 483, 483, 100, 30][rng.below(5) as usize],
        open_day: None,
        close_day: None,
        tags: vec![label.to_owned()],
        amount_median_sat: None,
        amount_sigma: None,
        competitors: Vec::new(),
    }
}

fn add_events(shape: &Shape, scenario: &mut Scenario, rng: &mut SplitMix64) {
    let days = scenario.days;
    let count = scenario.channels.len() as u64;
    let mut events = Vec::new();
    for _ in 0..rng.between(shape.spikes.0, shape.spikes.1) {
        events.push(Event::MempoolSpike {
            start_day: day(rng, days, 0.05, 0.9),
            hours: round2(2.0 + rng.unit() * 12.0),
            multiplier: round2(2.0 + rng.unit() * 4.0),
        });
    }
    if shape.siege {
        events.push(Event::MempoolSpike {
            start_day: day(rng, days, 0.2, 0.6),
            hours: 48.0,
            multiplier: round2(3.0 + rng.unit() * 3.0),
        });
    }
    for _ in 0..rng.between(shape.floods.0, shape.floods.1) {
        events.push(Event::Flood(flood(shape, scenario, rng)));
    }
    for _ in 0..rng.between(shape.outages.0, shape.outages.1) {
        events.push(Event::PeerOffline(PeerOffline {
            channel: rng.below(count) as usize,
            start_day: day(rng, days, 0.05, 0.9),
            // Mostly short restarts, sometimes a day or two away.
            hours: round2(if rng.below(4) == 0 {
                12.0 + rng.unit() * 36.0
            } else {
                0.25 + rng.unit() * 4.0
            }),
        }));
    }
    // New channels, opened by us (their open costs), and closes of dead or any channels.
    for _ in 0..rng.between(shape.opens.0, shape.opens.1) {
        let index = scenario.channels.len();
        let mut spec = channel(shape, index, rng);
        spec.label = format!("new-{}", spec.label);
        spec.opener = Opener::Local;
        spec.local_share = 1.0;
        spec.age_days = 0;
        spec.open_day = Some(day(rng, days, 0.1, 0.8));
        scenario.channels.push(spec);
    }
    for _ in 0..rng.between(shape.closes.0, shape.closes.1) {
        let index = rng.below(count) as usize;
        let spec = &mut scenario.channels[index];
        if spec.close_day.is_none() {
            spec.close_day = Some(day(rng, days, 0.2, 0.95));
        }
    }
    scenario.events = events;
}

/// A dust, whale or slow-jamming flood on random channels.
fn flood(shape: &Shape, scenario: &Scenario, rng: &mut SplitMix64) -> FloodEvent {
    let count = scenario.channels.len() as u64;
    let out = rng.below(count) as usize;
    let inc = (out + 1 + rng.below(count - 1) as usize) % count as usize;
    let (in_channel, out_channel) = match rng.below(3) {
        0 => (Some(inc), Some(out)),
        1 => (None, Some(out)),
        _ => (Some(inc), None),
    };
    let target = &scenario.channels[out_channel.unwrap_or(inc)];
    let slow_jam = rng.unit() < shape.slow_jam_share;
    let whale = rng.below(2) == 0;
    let (count, amount_sat, amount_sat_max) = if whale {
        // A few HTLCs worth a good part of the channel.
        let htlcs = rng.between(2, 8);
        let each = (target.capacity_sat / 3 / htlcs).max(10_000);
        (htlcs as u32, each / 2, Some(each))
    } else {
        // Dust: nearly every slot.
        let slots = u32::from(target.max_accepted_htlcs);
        (slots - slots / 10, 1, Some(rng.between(2, 2_000)))
    };
    let waves = rng.between(shape.waves.0, shape.waves.1) as u32;
    let (hold, hold_hours) = if slow_jam {
        (Hold::SlowJam, 1.0)
    } else {
        match rng.below(3) {
            0 => (Hold::Fixed, round2(1.0 + rng.unit() * 8.0)),
            1 => (Hold::Exponential, round2(0.5 + rng.unit() * 4.0)),
            _ => (Hold::Uniform, round2(2.0 + rng.unit() * 10.0)),
        }
    };
    let start_day = day(rng, scenario.days, 0.1, 0.7);
    FloodEvent {
        out_channel,
        in_channel,
        start_day,
        count,
        amount_sat,
        amount_sat_max,
        arrive_hours: round2(rng.unit() * 2.0),
        hold,
        hold_hours,
        hold_hours_min: if hold == Hold::Uniform { 1.0 } else { 0.0 },
        cltv_blocks: [40, 80, 144][rng.below(3) as usize],
        waves,
        every_hours: if waves > 1 {
            round2(6.0 + rng.unit() * 24.0)
        } else {
            0.0
        },
        release_day: (rng.below(3) == 0).then(|| round2(start_day + 0.25 + rng.unit())),
    }
}

fn describe(scenario: &Scenario) -> String {
    let count = |wanted: fn(&Event) -> bool| scenario.events.iter().filter(|e| wanted(e)).count();
    let opens = scenario
        .channels
        .iter()
        .filter(|c| c.open_day.is_some())
        .count();
    let closes = scenario
        .channels
        .iter()
        .filter(|c| c.close_day.is_some())
        .count();
    format!(
        "{} channels over {} days: {} mempool spikes, {} demand shifts, {} floods, {} peer outages, {} opens, {} closes",
        scenario.channels.len() - opens,
        scenario.days,
        count(|e| matches!(e, Event::MempoolSpike { .. })),
        count(|e| matches!(e, Event::DemandShift { .. })),
        count(|e| matches!(e, Event::Flood(_))),
        count(|e| matches!(e, Event::PeerOffline(_))),
        opens,
        closes,
    ) + &demand::describe(scenario)
}

#[cfg(test)]
mod tests;
