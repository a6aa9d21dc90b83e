//! One call of the strategy: precedence per channel, then the opt-in peer floor sync.

use crate::{
    controller::{self, Observation, Step},
    fire_sale::{self, Class},
    liquidity,
    params::Params,
    quantize,
    state::{ChannelState, NodeState},
    utilisation, vegas,
};
use alloc::{format, string::String, vec::Vec};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Normal = 0,
    Congestion = 1,
    Probe = 2,
    FireSale = 3,
    Hold = 4,
}

/// Flow of a channel, from the host's analytics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Flow {
    pub in_msat_1d: u64,
    pub out_msat_1d: u64,
    pub fees_total_msat: u64,
    pub forwards_out_total: u64,
    pub forwards_out_7d: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChannelInput {
    pub peer: u32,
    pub capacity_msat: u64,
    pub local_msat: u64,
    pub fee_ppm: u32,
    pub fee_base_msat: u32,
    pub max_accepted_htlcs: u16,
    pub age_secs: u64,
    pub active: bool,
    pub probe_active: bool,
    pub class: Class,
    /// (ROI, marginal ROI) in basis points, when the host has analysed the channel.
    pub profit: Option<(i32, i32)>,
    pub flow: Flow,
    /// Σ slot weights of the channel's pending HTLCs.
    pub pending_weight: f64,
    /// The median fee of the other channels into this peer (gossip), when known.
    pub competitor_median_ppm: Option<u32>,
}

pub struct NodeInput<'a> {
    pub now: u64,
    pub seed: u64,
    /// (unix seconds, opening feerate sat/kvB), oldest first; the last one is current.
    pub feerates: &'a [(u64, u32)],
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub fee_ppm: u32,
    pub fee_base_msat: u32,
    pub mode: Mode,
    pub reason: String,
}

/// Daily volume above which the flow-asymmetry premium may apply: 50,000 sat.
const VELOCITY_GATE_MSAT: u64 = 50_000_000;
const ASYMMETRY_SHARE: f64 = 0.1;
const FLOW_EMA_ALPHA: f64 = 0.1;

/// Decides every channel's fee. `states[i]` belongs to `channels[i]` and is updated in place.
pub fn decide(
    params: &Params,
    node: &NodeInput<'_>,
    node_state: &mut NodeState,
    channels: &[ChannelInput],
    states: &mut [ChannelState],
) -> Vec<Decision> {
    let ratio = vegas::spike_ratio(node.feerates, node.now);
    let trigger = vegas::update(node_state, ratio, node.now, unit_from_seed(node.seed));
    let vegas_multiplier = vegas::floor_multiplier(node_state.vegas_intensity);
    let mut decisions: Vec<Decision> = channels
        .iter()
        .zip(states.iter_mut())
        .map(|(channel, state)| decide_channel(params, node.now, vegas_multiplier, channel, state))
        .collect();
    if params.peer_sync {
        sync_peer_floors(channels, &mut decisions);
    }
    if trigger == vegas::Trigger::Immediate {
        for decision in decisions.iter_mut().filter(|d| d.mode == Mode::Normal) {
            decision.reason.push_str("; mempool shock");
        }
    }
    decisions
}

fn decide_channel(
    params: &Params,
    now: u64,
    vegas_multiplier: f64,
    channel: &ChannelInput,
    state: &mut ChannelState,
) -> Decision {
    let base = params.base_msat.unwrap_or(channel.fee_base_msat);
    let raw = utilisation::raw_utilisation(channel.pending_weight, channel.max_accepted_htlcs);
    state.utilisation = utilisation::update_ema(state.utilisation, raw);
    state.inflow_ema += FLOW_EMA_ALPHA * (channel.flow.in_msat_1d as f64 - state.inflow_ema);
    state.outflow_ema += FLOW_EMA_ALPHA * (channel.flow.out_msat_1d as f64 - state.outflow_ema);
    fire_sale::record_marginal_roi(state, channel.profit.map(|(_, marginal)| marginal));
    let share = if channel.capacity_msat == 0 {
        0.0
    } else {
        channel.local_msat as f64 / channel.capacity_msat as f64
    };
    state.liquidity_band = liquidity::next_band(state.liquidity_band, share);

    let observation = Observation {
        now,
        fees_total_msat: channel.flow.fees_total_msat,
        forwards_total: channel.flow.forwards_out_total,
        local_share: share,
        chain_ppm: channel.fee_ppm,
        prior_ppm: crate::prior::prior_ppm(channel),
    };
    if state.price_ppm == 0 {
        controller::start(state, &observation, params);
    }
    let decision = |fee_ppm: u32, mode: Mode, reason: String| Decision {
        fee_ppm,
        fee_base_msat: base,
        mode,
        reason,
    };
    if !channel.active {
        return decision(channel.fee_ppm, Mode::Hold, "peer offline: hold".into());
    }
    let floor =
        f64::from(params.floor_ppm) * vegas_multiplier * asymmetry_premium(params, channel, state);
    let ceiling = f64::from(params.ceiling_ppm);
    let result = if state.utilisation >= utilisation::CONGESTION {
        controller::restart_epoch(state, &observation);
        decision(
            params.ceiling_ppm,
            Mode::Congestion,
            format!("congestion: slot utilisation {:.2}", state.utilisation),
        )
    } else if channel.probe_active {
        controller::restart_epoch(state, &observation);
        decision(0, Mode::Probe, "zero-fee probe".into())
    } else {
        let step = controller::step(state, &observation, params);
        let normal = normal_price(params, state, floor, ceiling);
        let roi = channel.profit.map(|(roi, _)| roi);
        if fire_sale::applies(channel.class, roi, channel.age_secs, state) {
            // A fire sale lowers the price; it never opens a drain or undercuts the floors.
            let balance_floor = if state.liquidity_band <= 1 {
                normal
            } else {
                0.0
            };
            let price = f64::from(params.fire_sale_ppm)
                .max(floor)
                .max(balance_floor)
                .min(ceiling);
            decision(quantize::to_grid(price), Mode::FireSale, "fire sale".into())
        } else {
            decision(
                quantize::to_grid(normal),
                Mode::Normal,
                explain(step, state, vegas_multiplier),
            )
        }
    };
    state.mode = result.mode as u8;
    result
}

/// The controller's price, shaped by liquidity band and slot pressure, within the floors.
fn normal_price(params: &Params, state: &ChannelState, floor: f64, ceiling: f64) -> f64 {
    let band = libm::pow(
        liquidity::factor(state.liquidity_band),
        params.liquidity_strength,
    );
    let slots = utilisation::slot_multiplier(state.utilisation);
    (f64::from(state.price_ppm) * band * slots).clamp(floor.min(ceiling), ceiling)
}

/// ×1.5 on the floor when almost nothing flows in and the channel is busy (opt-in).
fn asymmetry_premium(params: &Params, channel: &ChannelInput, state: &ChannelState) -> f64 {
    if !params.asymmetry_premium {
        return 1.0;
    }
    let total = state.inflow_ema + state.outflow_ema;
    let daily_volume = channel.flow.in_msat_1d + channel.flow.out_msat_1d;
    let one_way = total > 0.0 && state.inflow_ema / total < ASYMMETRY_SHARE;
    if one_way && daily_volume > VELOCITY_GATE_MSAT {
        1.5
    } else {
        1.0
    }
}

/// Floor-only sync: each normal channel's fee is raised to the highest normal fee among its
/// peer's channels. Congestion, probe and fire-sale channels neither change nor propagate.
fn sync_peer_floors(channels: &[ChannelInput], decisions: &mut [Decision]) {
    let mut highest: Vec<(u32, u32)> = Vec::new();
    for (channel, decision) in channels.iter().zip(decisions.iter()) {
        if decision.mode != Mode::Normal {
            continue;
        }
        match highest.iter_mut().find(|(peer, _)| *peer == channel.peer) {
            Some((_, fee)) => *fee = (*fee).max(decision.fee_ppm),
            None => highest.push((channel.peer, decision.fee_ppm)),
        }
    }
    for (channel, decision) in channels.iter().zip(decisions.iter_mut()) {
        if decision.mode != Mode::Normal {
            continue;
        }
        if let Some(&(_, peer_fee)) = highest.iter().find(|(peer, _)| *peer == channel.peer)
            && peer_fee > decision.fee_ppm
        {
            decision.fee_ppm = peer_fee;
            decision.reason.push_str("; peer sync");
        }
    }
}

fn explain(step: Step, state: &ChannelState, vegas_multiplier: f64) -> String {
    let search = match step {
        Step::Started => "search started",
        Step::Waiting => "measuring",
        Step::Moved { to, from } if to > from => "search: up",
        Step::Moved { .. } => "search: down",
        Step::Converged => "search converged",
        Step::Holding => "converged",
        Step::Starved => "liquidity-starved epoch",
        Step::Reprobing => "re-probing",
    };
    let mut reason = format!(
        "{search}, base {} ppm, band {}",
        state.price_ppm, state.liquidity_band
    );
    if vegas_multiplier > 1.0 {
        reason.push_str(&format!(", vegas floor ×{vegas_multiplier:.2}"));
    }
    reason
}

/// A uniform draw in [0, 1) from the host's seed (SplitMix64's finaliser).
fn unit_from_seed(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::utilisation::slot_weight;

    const NOW: u64 = 10_000_000;

    fn channel() -> ChannelInput {
        ChannelInput {
            peer: 0,
            capacity_msat: 1_000_000_000,
            local_msat: 500_000_000,
            fee_ppm: 400,
            fee_base_msat: 1000,
            max_accepted_htlcs: 483,
            age_secs: 200 * 86_400,
            active: true,
            probe_active: false,
            class: Class::Unknown,
            profit: None,
            flow: Flow::default(),
            pending_weight: 0.0,
            competitor_median_ppm: None,
        }
    }

    fn run(
        channels: &[ChannelInput],
        states: &mut [ChannelState],
        params: &Params,
    ) -> Vec<Decision> {
        let feerates = [(NOW, 1000)];
        let node = NodeInput {
            now: NOW,
            seed: 1,
            feerates: &feerates,
        };
        decide(params, &node, &mut NodeState::default(), channels, states)
    }

    fn one(channel: ChannelInput, state: &mut ChannelState) -> Decision {
        run(&[channel], core::slice::from_mut(state), &Params::default()).remove(0)
    }

    #[test]
    fn congestion_beats_probe_and_fire_sale() {
        let mut state = ChannelState {
            utilisation: 0.79,
            ..ChannelState::default()
        };
        let congested = ChannelInput {
            probe_active: true,
            class: Class::Zombie,
            pending_weight: 483.0,
            ..channel()
        };
        let decision = one(congested, &mut state);
        assert_eq!((decision.mode, decision.fee_ppm), (Mode::Congestion, 2500));
    }

    #[test]
    fn below_point_eight_is_not_congestion() {
        let mut state = ChannelState::default();
        // Raw 0.79 for many cycles: the EMA approaches but never reaches 0.8.
        let almost = ChannelInput {
            pending_weight: 0.79 * 483.0,
            ..channel()
        };
        for _ in 0..50 {
            let decision = one(almost.clone(), &mut state);
            assert_eq!(decision.mode, Mode::Normal);
        }
    }

    #[test]
    fn dust_flood_is_not_congestion_but_whales_are() {
        let mut dust = ChannelState::default();
        let flooded = ChannelInput {
            pending_weight: 483.0 * slot_weight(1_000_000),
            ..channel()
        };
        for _ in 0..20 {
            assert_eq!(one(flooded.clone(), &mut dust).mode, Mode::Normal);
        }
        let mut whale = ChannelState::default();
        let jammed = ChannelInput {
            pending_weight: 40.0 * slot_weight(1_000_000_000),
            ..channel()
        };
        let modes: Vec<Mode> = (0..10)
            .map(|_| one(jammed.clone(), &mut whale).mode)
            .collect();
        assert!(modes.contains(&Mode::Congestion));
    }

    #[test]
    fn probe_beats_fire_sale() {
        let mut state = ChannelState::default();
        let probed = ChannelInput {
            probe_active: true,
            class: Class::Zombie,
            ..channel()
        };
        let decision = one(probed, &mut state);
        assert_eq!((decision.mode, decision.fee_ppm), (Mode::Probe, 0));
    }

    #[test]
    fn fire_sale_respects_the_floors() {
        let mut state = ChannelState::default();
        let zombie = ChannelInput {
            class: Class::Zombie,
            ..channel()
        };
        let decision = one(zombie.clone(), &mut state);
        assert_eq!(decision.mode, Mode::FireSale);
        assert_eq!(
            decision.fee_ppm,
            Params::default().floor_ppm,
            "fire-sale 5 ppm lifted to the 25 ppm floor"
        );
        // A drained zombie is not dumped below its normal price.
        let mut drained_state = ChannelState::default();
        let drained = ChannelInput {
            local_msat: 50_000_000,
            ..zombie
        };
        let decision = one(drained, &mut drained_state);
        assert_eq!(decision.mode, Mode::FireSale);
        assert!(decision.fee_ppm >= 400, "{}", decision.fee_ppm);
    }

    #[test]
    fn momentum_guard_blocks_the_fire_sale() {
        let mut state = ChannelState::default();
        fire_sale::record_marginal_roi(&mut state, Some(600));
        let recovering = ChannelInput {
            class: Class::Underwater,
            profit: Some((-6_000, 900)),
            age_secs: 120 * 86_400,
            ..channel()
        };
        assert_eq!(one(recovering, &mut state).mode, Mode::Normal);
    }

    #[test]
    fn proactive_slot_pricing_raises_normal_fees() {
        let mut calm = ChannelState::default();
        let base_fee = one(channel(), &mut calm).fee_ppm;
        let mut busy = ChannelState {
            utilisation: 0.8,
            ..ChannelState::default()
        };
        // Raw 0.75: the EMA falls slowly from 0.8 to ~0.795 → m ≈ 1.48.
        let loaded = ChannelInput {
            pending_weight: 0.75 * 483.0,
            ..channel()
        };
        let decision = one(loaded, &mut busy);
        assert_eq!(decision.mode, Mode::Normal);
        assert!(
            f64::from(decision.fee_ppm) > f64::from(base_fee) * 1.4,
            "{} vs {base_fee}",
            decision.fee_ppm
        );
    }

    #[test]
    fn vegas_shock_lifts_the_floor() {
        let cheap = ChannelInput {
            fee_ppm: 25,
            ..channel()
        };
        let mut state = ChannelState::default();
        let mut feerates: Vec<(u64, u32)> =
            (0..143).map(|i| (NOW - (143 - i) * 600, 1000)).collect();
        feerates.push((NOW, 5000));
        let node = NodeInput {
            now: NOW,
            seed: 1,
            feerates: &feerates,
        };
        let mut node_state = NodeState::default();
        let decision = decide(
            &Params::default(),
            &node,
            &mut node_state,
            &[cheap],
            core::slice::from_mut(&mut state),
        )
        .remove(0);
        assert_eq!(node_state.vegas_intensity, 1.0);
        assert_eq!(decision.fee_ppm, 75, "floor 25 × (1 + 2·√1)");
    }

    #[test]
    fn offline_peers_are_held() {
        let mut state = ChannelState::default();
        let offline = ChannelInput {
            active: false,
            ..channel()
        };
        assert_eq!(one(offline, &mut state).mode, Mode::Hold);
    }

    #[test]
    fn asymmetry_premium_needs_the_velocity_gate() {
        let params = Params {
            asymmetry_premium: true,
            ..Params::default()
        };
        let one_way = ChannelInput {
            fee_ppm: 25,
            flow: Flow {
                in_msat_1d: 0,
                out_msat_1d: 60_000_000,
                ..Flow::default()
            },
            ..channel()
        };
        let mut state = ChannelState::default();
        let fast = run(
            core::slice::from_ref(&one_way),
            core::slice::from_mut(&mut state),
            &params,
        )
        .remove(0);
        let slow_way = ChannelInput {
            flow: Flow {
                in_msat_1d: 0,
                out_msat_1d: 40_000_000,
                ..Flow::default()
            },
            ..one_way
        };
        let mut slow_state = ChannelState::default();
        let slow = run(&[slow_way], core::slice::from_mut(&mut slow_state), &params).remove(0);
        assert!(
            fast.fee_ppm > slow.fee_ppm,
            "{} vs {}",
            fast.fee_ppm,
            slow.fee_ppm
        );
        // Off by default.
        let mut default_state = ChannelState::default();
        let plain = one(
            ChannelInput {
                fee_ppm: 25,
                ..channel()
            },
            &mut default_state,
        );
        assert_eq!(plain.fee_ppm, slow.fee_ppm);
    }

    #[test]
    fn peer_sync_raises_floors_only_among_normal_channels() {
        let params = Params {
            peer_sync: true,
            ..Params::default()
        };
        let cheap = ChannelInput {
            fee_ppm: 100,
            ..channel()
        };
        let dear = ChannelInput {
            fee_ppm: 800,
            ..channel()
        };
        let other_peer = ChannelInput {
            peer: 1,
            fee_ppm: 50,
            ..channel()
        };
        let probed = ChannelInput {
            probe_active: true,
            ..channel()
        };
        let mut states = [
            ChannelState::default(),
            ChannelState::default(),
            ChannelState::default(),
            ChannelState::default(),
        ];
        let decisions = run(&[cheap, dear, other_peer, probed], &mut states, &params);
        assert_eq!(
            decisions[0].fee_ppm, decisions[1].fee_ppm,
            "raised to the peer's highest"
        );
        assert!(decisions[2].fee_ppm < 100, "another peer is not touched");
        assert_eq!(
            (decisions[3].mode, decisions[3].fee_ppm),
            (Mode::Probe, 0),
            "exceptions stay"
        );
        let off = run(
            &[
                ChannelInput {
                    fee_ppm: 100,
                    ..channel()
                },
                ChannelInput {
                    fee_ppm: 800,
                    ..channel()
                },
            ],
            &mut [ChannelState::default(), ChannelState::default()],
            &Params::default(),
        );
        assert_ne!(off[0].fee_ppm, off[1].fee_ppm, "off by default");
    }

    #[test]
    fn a_fresh_search_starts_at_the_market_price() {
        let fresh = |median, forwards_out_7d| ChannelInput {
            fee_ppm: 100,
            competitor_median_ppm: median,
            flow: Flow {
                forwards_out_7d,
                ..Flow::default()
            },
            ..channel()
        };
        assert_eq!(
            crate::prior::prior_ppm(&fresh(None, 0)),
            100,
            "no gossip: our own fee"
        );
        assert_eq!(
            crate::prior::prior_ppm(&fresh(Some(900), 0)),
            900,
            "nothing sells: the market"
        );
        assert_eq!(
            crate::prior::prior_ppm(&fresh(Some(900), 20)),
            300,
            "selling: between the two"
        );
        let mut state = ChannelState::default();
        let decision = one(fresh(Some(900), 0), &mut state);
        assert_eq!(state.incumbent_ppm, 900);
        assert_eq!(decision.mode, Mode::Normal);
    }
}
