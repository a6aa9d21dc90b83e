//! Mapping between the generated WIT types and `crate::model`. Inputs go in as-is; outputs are
//! mapped without judgement (that is `validate`'s job).

use super::bindings::wit;
use crate::{
    model::{
        CallContext, ChannelView, FeeDecision, FeeProposal, Investor, LockTier, Opener, ParamKind,
        ParamSpec, ParamValue, PayoutDecision, PayoutInput, PayoutLine, PolicyInfo, PricingMode,
        ProfitabilityClass, RebalanceBudget, RebalanceDecision, RebalanceKind, RebalanceProposal,
        ResolvedParams, Snapshot, StateUpdate,
    },
    money::{Msat, Ppm},
    scid::ShortChannelId,
};

pub(crate) fn params_to_wit(params: &ResolvedParams) -> Vec<wit::Param> {
    params
        .0
        .iter()
        .map(|(name, value)| wit::Param {
            name: name.clone(),
            value: match value {
                ParamValue::Integer(v) => wit::ParamValue::Integer(*v),
                ParamValue::Float(v) => wit::ParamValue::Float(*v),
                ParamValue::Boolean(v) => wit::ParamValue::Boolean(*v),
                ParamValue::Text(v) => wit::ParamValue::Text(v.clone()),
            },
        })
        .collect()
}

pub(crate) fn context_to_wit(ctx: &CallContext, params: &[wit::Param]) -> wit::Context {
    wit::Context {
        now_secs: ctx.now_secs,
        previous_call_secs: ctx.previous_call_secs,
        seed: ctx.seed,
        params: params.to_vec(),
        node_state: ctx.state.node.clone(),
    }
}

pub(crate) fn snapshot_to_wit(snapshot: &Snapshot, ctx: &CallContext) -> wit::Snapshot {
    wit::Snapshot {
        channels: snapshot.channels.iter().map(channel_to_wit).collect(),
        peers: snapshot
            .peers
            .iter()
            .map(|p| wit::Peer {
                node_id: p.node_id.clone(),
                connected: p.connected,
                competitors: p.competitors.map(|c| wit::CompetitorFees {
                    channels: c.channels,
                    p25_ppm: c.p25.ppm(),
                    median_ppm: c.median.ppm(),
                    p75_ppm: c.p75.ppm(),
                }),
            })
            .collect(),
        htlcs: snapshot
            .htlcs
            .iter()
            .map(|h| wit::PendingHtlc {
                channel: h.channel,
                amount_msat: h.amount.msat(),
                outgoing: h.outgoing,
            })
            .collect(),
        feerates: snapshot
            .feerates
            .iter()
            .map(|f| wit::FeerateSample {
                at_secs: f.at_secs,
                opening_perkb: f.opening_perkb,
            })
            .collect(),
        channel_states: ctx
            .state
            .channels
            .iter()
            .map(|(id, state)| wit::ChannelState {
                id: id.as_u64(),
                state: state.clone(),
            })
            .collect(),
    }
}

fn channel_to_wit(c: &ChannelView) -> wit::Channel {
    wit::Channel {
        id: c.id.as_u64(),
        peer: c.peer,
        capacity_msat: c.capacity.msat(),
        local_msat: c.local.msat(),
        remote_msat: c.remote.msat(),
        fee_base_msat: u32::try_from(c.fee_base.msat()).unwrap_or(u32::MAX),
        fee_ppm: c.fee_ppm.ppm(),
        htlc_min_msat: c.htlc_min.msat(),
        htlc_max_msat: c.htlc_max.msat(),
        max_accepted_htlcs: c.max_accepted_htlcs,
        opener: match c.opener {
            Opener::Local => wit::Opener::Local,
            Opener::Remote => wit::Opener::Remote,
        },
        age_secs: c.age_secs,
        active: c.active,
        last_broadcast_ppm: c.last_broadcast_ppm.map(Ppm::ppm),
        last_broadcast_secs: c.last_broadcast_secs,
        probe_active: c.probe_active,
        class: class_to_wit(c.class),
        profit: c.profit.map(|p| wit::Profit {
            roi_bp: p.roi_bp,
            marginal_roi_bp: p.marginal_roi_bp,
        }),
        flow: wit::FlowStats {
            in_msat_1d: c.flow.in_1d.msat(),
            out_msat_1d: c.flow.out_1d.msat(),
            fees_earned_msat_1d: c.flow.fees_earned_1d.msat(),
            forwards_out_1d: c.flow.forwards_out_1d,
            in_msat_7d: c.flow.in_7d.msat(),
            out_msat_7d: c.flow.out_7d.msat(),
            fees_earned_msat_7d: c.flow.fees_earned_7d.msat(),
            forwards_out_7d: c.flow.forwards_out_7d,
            forwards_in_7d: c.flow.forwards_in_7d,
            out_msat_total: c.flow.out_total.msat(),
            fees_earned_msat_total: c.flow.fees_earned_total.msat(),
            forwards_out_total: c.flow.forwards_out_total,
            last_forward_age_secs: c.flow.last_forward_age_secs,
            failed_out_1d: c.flow.failed_out_1d,
            failed_out_msat_1d: c.flow.failed_out_amount_1d.msat(),
            failed_out_7d: c.flow.failed_out_7d,
            failed_out_msat_7d: c.flow.failed_out_amount_7d.msat(),
        },
    }
}

fn class_to_wit(class: ProfitabilityClass) -> wit::ProfitabilityClass {
    match class {
        ProfitabilityClass::Unknown => wit::ProfitabilityClass::Unknown,
        ProfitabilityClass::Profitable => wit::ProfitabilityClass::Profitable,
        ProfitabilityClass::BreakEven => wit::ProfitabilityClass::BreakEven,
        ProfitabilityClass::Underwater => wit::ProfitabilityClass::Underwater,
        ProfitabilityClass::Bleeder => wit::ProfitabilityClass::Bleeder,
        ProfitabilityClass::StagnantCandidate => wit::ProfitabilityClass::StagnantCandidate,
        ProfitabilityClass::Zombie => wit::ProfitabilityClass::Zombie,
    }
}

pub(crate) fn budget_to_wit(budget: &RebalanceBudget) -> wit::RebalanceBudget {
    wit::RebalanceBudget {
        remaining_msat: budget.remaining.msat(),
        max_fee_ppm: budget.max_fee_ppm.ppm(),
        max_concurrent: budget.max_concurrent,
        in_flight: budget.in_flight,
        diagnostic_max_fee_msat: budget.diagnostic_max_fee.msat(),
        spent_7d_msat: budget.spent_7d.msat(),
    }
}

pub(crate) fn payout_input_to_wit(input: &PayoutInput) -> wit::PayoutInput {
    wit::PayoutInput {
        period_id: input.period_id.clone(),
        distributable_msat: input.distributable.msat(),
        native_capital_msat: input.native_capital.msat(),
        investors: input.investors.iter().map(investor_to_wit).collect(),
    }
}

fn investor_to_wit(investor: &Investor) -> wit::Investor {
    wit::Investor {
        id: investor.id.clone(),
        tier: match investor.tier {
            LockTier::Liquid => wit::LockTier::Liquid,
            LockTier::Days30 => wit::LockTier::Days30,
            LockTier::Days90 => wit::LockTier::Days90,
        },
        twab_msat: investor.twab.msat(),
        balance_msat: investor.balance.msat(),
    }
}

pub(crate) fn info_from_wit(info: wit::PolicyInfo) -> PolicyInfo {
    PolicyInfo {
        name: info.name,
        version: info.version,
        description: info.description,
        params: info
            .params
            .into_iter()
            .map(|spec| ParamSpec {
                name: spec.name,
                description: spec.description,
                kind: match spec.kind {
                    wit::ParamKind::Integer => ParamKind::Integer,
                    wit::ParamKind::Float => ParamKind::Float,
                    wit::ParamKind::Boolean => ParamKind::Boolean,
                    wit::ParamKind::Text => ParamKind::Text,
                },
                default: match spec.default {
                    wit::ParamValue::Integer(v) => ParamValue::Integer(v),
                    wit::ParamValue::Float(v) => ParamValue::Float(v),
                    wit::ParamValue::Boolean(v) => ParamValue::Boolean(v),
                    wit::ParamValue::Text(v) => ParamValue::Text(v),
                },
                min: spec.min,
                max: spec.max,
            })
            .collect(),
    }
}

fn state_from_wit(node: Vec<u8>, channels: Vec<wit::ChannelState>) -> StateUpdate {
    StateUpdate {
        node,
        channels: channels
            .into_iter()
            .map(|c| (ShortChannelId::from_u64(c.id), c.state))
            .collect(),
    }
}

pub(crate) fn fee_decision_from_wit(decision: wit::FeeDecision) -> FeeDecision {
    FeeDecision {
        proposals: decision
            .proposals
            .into_iter()
            .map(|p| FeeProposal {
                channel: ShortChannelId::from_u64(p.channel),
                fee_ppm: Ppm::new(p.fee_ppm),
                fee_base: Msat::new(u64::from(p.fee_base_msat)),
                mode: match p.mode {
                    wit::PricingMode::Normal => PricingMode::Normal,
                    wit::PricingMode::Congestion => PricingMode::Congestion,
                    wit::PricingMode::Probe => PricingMode::Probe,
                    wit::PricingMode::FireSale => PricingMode::FireSale,
                    wit::PricingMode::Hold => PricingMode::Hold,
                },
                reason: p.reason,
            })
            .collect(),
        state: state_from_wit(decision.node_state, decision.channel_states),
    }
}

pub(crate) fn rebalance_decision_from_wit(decision: wit::RebalanceDecision) -> RebalanceDecision {
    RebalanceDecision {
        proposals: decision
            .proposals
            .into_iter()
            .map(|p| RebalanceProposal {
                source: ShortChannelId::from_u64(p.source),
                destination: ShortChannelId::from_u64(p.destination),
                amount: Msat::new(p.amount_msat),
                max_fee: Msat::new(p.max_fee_msat),
                kind: match p.kind {
                    wit::RebalanceKind::Normal => RebalanceKind::Normal,
                    wit::RebalanceKind::Diagnostic => RebalanceKind::Diagnostic,
                },
                reason: p.reason,
            })
            .collect(),
        state: state_from_wit(decision.node_state, decision.channel_states),
    }
}

pub(crate) fn payout_decision_from_wit(decision: wit::PayoutDecision) -> PayoutDecision {
    PayoutDecision {
        lines: decision
            .lines
            .into_iter()
            .map(|l| PayoutLine {
                investor_id: l.investor_id,
                amount: Msat::new(l.amount_msat),
                reason: l.reason,
            })
            .collect(),
        withheld: Msat::new(decision.withheld_msat),
        node_state: decision.node_state,
    }
}
