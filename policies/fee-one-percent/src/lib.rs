//! `one-percent`: the fee policy revops ships as its default — `fee-strategy` behind the
//! `fee-policy` world. This file only translates: parameters, snapshot and state in; proposals
//! and state out.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod schema;

use alloc::{string::String, vec::Vec};
use fee_strategy::{
    ChannelInput, ChannelState, Flow, Mode, NodeInput, NodeState, decide, fire_sale::Class,
    utilisation::slot_weight,
};
use guest_support::state::{Restore, channel_blob};

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

use guest_support::types::{
    Channel, ChannelState as WitChannelState, FeeProposal, Peer, PricingMode, ProfitabilityClass,
};

guest_support::panic_handler!();

struct OnePercent;

impl Guest for OnePercent {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "one-percent".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Revenue-seeking fee search with congestion, probe, fire-sale, slot and mempool rules.".into(),
            params: schema::specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let params = schema::read(&ctx.params)?;
        let mut weights = alloc::vec![0.0f64; snapshot.channels.len()];
        for htlc in &snapshot.htlcs {
            if let Some(weight) = weights.get_mut(htlc.channel as usize) {
                *weight += slot_weight(htlc.amount_msat);
            }
        }
        let inputs: Vec<ChannelInput> = snapshot
            .channels
            .iter()
            .zip(&weights)
            .map(|(channel, &weight)| channel_input(channel, weight, &snapshot.peers))
            .collect();
        // The state from the last call; a fresh one where there is none or it is unreadable
        // (another version's layout): the strategy then starts over from the chain's fee.
        // `fee-strategy` keeps its own versioned codec; the SDK supplies the fallback and the
        // one warning line.
        let mut restore = Restore::new("channel state");
        let mut states: Vec<ChannelState> = snapshot
            .channels
            .iter()
            .map(|channel| {
                let blob = channel_blob(&snapshot.channel_states, channel.id);
                restore.load_with(blob, ChannelState::decode)
            })
            .collect();
        restore.finish();
        let mut restore = Restore::new("node state");
        let mut node_state = restore.load_with(&ctx.node_state, NodeState::decode);
        restore.finish();
        let feerates: Vec<(u64, u32)> = snapshot
            .feerates
            .iter()
            .map(|f| (f.at_secs, f.opening_perkb))
            .collect();
        let node = NodeInput {
            now: ctx.now_secs,
            seed: ctx.seed,
            feerates: &feerates,
        };
        let decisions = decide(&params, &node, &mut node_state, &inputs, &mut states);
        let proposals = snapshot
            .channels
            .iter()
            .zip(decisions)
            .map(|(channel, decision)| FeeProposal {
                channel: channel.id,
                fee_ppm: decision.fee_ppm,
                fee_base_msat: decision.fee_base_msat,
                mode: pricing_mode(decision.mode),
                reason: decision.reason,
            })
            .collect();
        let channel_states = snapshot
            .channels
            .iter()
            .zip(&states)
            .map(|(channel, state)| WitChannelState {
                id: channel.id,
                state: state.encode(),
            })
            .collect();
        Ok(FeeDecision {
            proposals,
            node_state: node_state.encode(),
            channel_states,
        })
    }
}

fn channel_input(channel: &Channel, pending_weight: f64, peers: &[Peer]) -> ChannelInput {
    ChannelInput {
        peer: channel.peer,
        capacity_msat: channel.capacity_msat,
        local_msat: channel.local_msat,
        fee_ppm: channel.fee_ppm,
        fee_base_msat: channel.fee_base_msat,
        max_accepted_htlcs: channel.max_accepted_htlcs,
        age_secs: channel.age_secs,
        active: channel.active,
        probe_active: channel.probe_active,
        class: class(channel.class),
        profit: channel.profit.map(|p| (p.roi_bp, p.marginal_roi_bp)),
        flow: Flow {
            in_msat_1d: channel.flow.in_msat_1d,
            out_msat_1d: channel.flow.out_msat_1d,
            fees_total_msat: channel.flow.fees_earned_msat_total,
            forwards_out_total: channel.flow.forwards_out_total,
            forwards_out_7d: channel.flow.forwards_out_7d,
        },
        pending_weight,
        competitor_median_ppm: peers
            .get(channel.peer as usize)
            .and_then(|p| p.competitors)
            .map(|c| c.median_ppm),
    }
}

fn class(class: ProfitabilityClass) -> Class {
    match class {
        ProfitabilityClass::Unknown => Class::Unknown,
        ProfitabilityClass::Profitable => Class::Profitable,
        ProfitabilityClass::BreakEven => Class::BreakEven,
        ProfitabilityClass::Underwater => Class::Underwater,
        ProfitabilityClass::Bleeder => Class::Bleeder,
        ProfitabilityClass::StagnantCandidate => Class::StagnantCandidate,
        ProfitabilityClass::Zombie => Class::Zombie,
    }
}

fn pricing_mode(mode: Mode) -> PricingMode {
    match mode {
        Mode::Normal => PricingMode::Normal,
        Mode::Congestion => PricingMode::Congestion,
        Mode::Probe => PricingMode::Probe,
        Mode::FireSale => PricingMode::FireSale,
        Mode::Hold => PricingMode::Hold,
    }
}

export!(OnePercent);
