//! Structural checks on what a policy returned, before anything leaves the runtime.
//!
//! These reject output that is malformed whatever the operator's settings: unknown or repeated
//! channels, values no fee or payment can have, oversized lists and blobs. Economic bounds
//! (fee floors and ceilings, budgets) are the guards' job and clamp rather than reject.

use super::{errors::OutputError, limits::OutputLimits};
use crate::{
    model::{FeeDecision, PayoutDecision, PayoutInput, RebalanceDecision, Snapshot, StateUpdate},
    money::Msat,
    scid::ShortChannelId,
};
use std::collections::HashSet;

/// 100 %: no proportional fee above this means anything.
const MAX_FEE_PPM: u32 = 1_000_000;
/// 100,000 sat: far above any base fee a routing node sets.
const MAX_FEE_BASE_MSAT: u64 = 100_000_000;

/// Channel ids of a snapshot in a form that answers "is this ours" and "seen already" fast.
struct ChannelIndex {
    sorted: Vec<u64>,
}

impl ChannelIndex {
    fn new(snapshot: &Snapshot) -> Self {
        let mut sorted: Vec<u64> = snapshot.channels.iter().map(|c| c.id.as_u64()).collect();
        sorted.sort_unstable();
        Self { sorted }
    }

    fn position(&self, id: ShortChannelId) -> Result<usize, OutputError> {
        self.sorted
            .binary_search(&id.as_u64())
            .map_err(|_| OutputError::UnknownChannel(id))
    }
}

fn check_count(what: &'static str, count: usize, max: usize) -> Result<(), OutputError> {
    if count > max {
        return Err(OutputError::TooMany { what, count, max });
    }
    Ok(())
}

fn check_bytes(what: &'static str, bytes: usize, max: usize) -> Result<(), OutputError> {
    if bytes > max {
        return Err(OutputError::TooLarge { what, bytes, max });
    }
    Ok(())
}

fn check_state(
    state: &StateUpdate,
    index: &ChannelIndex,
    limits: &OutputLimits,
) -> Result<(), OutputError> {
    check_bytes("node state", state.node.len(), limits.max_node_state_bytes)?;
    check_count("channel states", state.channels.len(), index.sorted.len())?;
    let mut seen = vec![false; index.sorted.len()];
    let mut total = state.node.len();
    for (id, blob) in &state.channels {
        let slot = index.position(*id)?;
        if std::mem::replace(&mut seen[slot], true) {
            return Err(OutputError::DuplicateChannel(*id));
        }
        check_bytes("channel state", blob.len(), limits.max_channel_state_bytes)?;
        total += blob.len();
    }
    check_bytes("total state", total, limits.max_total_state_bytes)
}

pub(crate) fn fee_decision(
    decision: &FeeDecision,
    snapshot: &Snapshot,
    limits: &OutputLimits,
) -> Result<(), OutputError> {
    let index = ChannelIndex::new(snapshot);
    check_count(
        "fee proposals",
        decision.proposals.len(),
        index.sorted.len(),
    )?;
    let mut seen = vec![false; index.sorted.len()];
    for proposal in &decision.proposals {
        let slot = index.position(proposal.channel)?;
        if std::mem::replace(&mut seen[slot], true) {
            return Err(OutputError::DuplicateChannel(proposal.channel));
        }
        if proposal.fee_ppm.ppm() > MAX_FEE_PPM {
            return Err(OutputError::OutOfRange {
                channel: proposal.channel,
                field: "fee_ppm",
                value: u64::from(proposal.fee_ppm.ppm()),
                allowed: "0..=1000000",
            });
        }
        if proposal.fee_base.msat() > MAX_FEE_BASE_MSAT {
            return Err(OutputError::OutOfRange {
                channel: proposal.channel,
                field: "fee_base_msat",
                value: proposal.fee_base.msat(),
                allowed: "0..=100000000",
            });
        }
        check_bytes("reason", proposal.reason.len(), limits.max_reason_bytes)?;
    }
    check_state(&decision.state, &index, limits)
}

pub(crate) fn rebalance_decision(
    decision: &RebalanceDecision,
    snapshot: &Snapshot,
    limits: &OutputLimits,
) -> Result<(), OutputError> {
    let index = ChannelIndex::new(snapshot);
    check_count(
        "rebalance proposals",
        decision.proposals.len(),
        limits.max_proposals,
    )?;
    for proposal in &decision.proposals {
        index.position(proposal.source)?;
        index.position(proposal.destination)?;
        if proposal.source == proposal.destination {
            return Err(OutputError::Inconsistent(format!(
                "rebalance from {0} into itself",
                proposal.source
            )));
        }
        let source = snapshot
            .channel(proposal.source)
            .expect("indexed channel exists");
        if proposal.amount == Msat::ZERO || proposal.amount > source.capacity {
            return Err(OutputError::OutOfRange {
                channel: proposal.source,
                field: "amount_msat",
                value: proposal.amount.msat(),
                allowed: "1..=source capacity",
            });
        }
        if proposal.max_fee > proposal.amount {
            return Err(OutputError::OutOfRange {
                channel: proposal.destination,
                field: "max_fee_msat",
                value: proposal.max_fee.msat(),
                allowed: "0..=amount_msat",
            });
        }
        check_bytes("reason", proposal.reason.len(), limits.max_reason_bytes)?;
    }
    check_state(&decision.state, &index, limits)
}

pub(crate) fn payout_decision(
    decision: &PayoutDecision,
    input: &PayoutInput,
    limits: &OutputLimits,
) -> Result<(), OutputError> {
    check_count("payout lines", decision.lines.len(), input.investors.len())?;
    check_bytes(
        "node state",
        decision.node_state.len(),
        limits.max_node_state_bytes,
    )?;
    let mut seen = HashSet::new();
    for line in &decision.lines {
        if !input.investors.iter().any(|i| i.id == line.investor_id) {
            return Err(OutputError::Inconsistent(format!(
                "payout to unknown investor {:?}",
                line.investor_id
            )));
        }
        if !seen.insert(line.investor_id.as_str()) {
            return Err(OutputError::Inconsistent(format!(
                "more than one payout line for investor {:?}",
                line.investor_id
            )));
        }
        check_bytes("reason", line.reason.len(), limits.max_reason_bytes)?;
    }
    let paid = Msat::checked_sum(decision.lines.iter().map(|l| l.amount))
        .and_then(|sum| sum.checked_add(decision.withheld));
    match paid {
        Some(total) if total <= input.distributable => Ok(()),
        _ => Err(OutputError::Inconsistent(format!(
            "payouts plus withheld exceed the distributable {}",
            input.distributable
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{FeeProposal, PricingMode, sample::sample_snapshot},
        money::Ppm,
    };

    fn proposal(channel: ShortChannelId, ppm: u32) -> FeeProposal {
        FeeProposal {
            channel,
            fee_ppm: Ppm::new(ppm),
            fee_base: Msat::new(1000),
            mode: PricingMode::Normal,
            reason: "r".into(),
        }
    }

    fn decision(proposals: Vec<FeeProposal>) -> FeeDecision {
        FeeDecision {
            proposals,
            state: StateUpdate::default(),
        }
    }

    #[test]
    fn accepts_one_sane_proposal_per_channel() {
        let snapshot = sample_snapshot(10, 1);
        let all = snapshot
            .channels
            .iter()
            .map(|c| proposal(c.id, 500))
            .collect();
        assert_eq!(
            fee_decision(&decision(all), &snapshot, &OutputLimits::default()),
            Ok(())
        );
    }

    #[test]
    fn rejects_unknown_duplicate_and_out_of_range() {
        let snapshot = sample_snapshot(3, 1);
        let limits = OutputLimits::default();
        let id = snapshot.channels[0].id;
        let stranger = ShortChannelId::new(1, 1, 1).unwrap();
        assert_eq!(
            fee_decision(&decision(vec![proposal(stranger, 1)]), &snapshot, &limits),
            Err(OutputError::UnknownChannel(stranger))
        );
        assert_eq!(
            fee_decision(
                &decision(vec![proposal(id, 1), proposal(id, 2)]),
                &snapshot,
                &limits
            ),
            Err(OutputError::DuplicateChannel(id))
        );
        assert!(matches!(
            fee_decision(&decision(vec![proposal(id, 1_000_001)]), &snapshot, &limits),
            Err(OutputError::OutOfRange {
                field: "fee_ppm",
                ..
            })
        ));
        assert_eq!(
            fee_decision(&decision(vec![proposal(id, 1_000_000)]), &snapshot, &limits),
            Ok(())
        );
    }

    #[test]
    fn rejects_oversized_reason_and_state() {
        let snapshot = sample_snapshot(3, 1);
        let limits = OutputLimits::default();
        let mut long = proposal(snapshot.channels[0].id, 1);
        long.reason = "x".repeat(limits.max_reason_bytes + 1);
        assert!(matches!(
            fee_decision(&decision(vec![long]), &snapshot, &limits),
            Err(OutputError::TooLarge { what: "reason", .. })
        ));
        let mut fat = decision(vec![]);
        fat.state.node = vec![0; limits.max_node_state_bytes + 1];
        assert!(matches!(
            fee_decision(&fat, &snapshot, &limits),
            Err(OutputError::TooLarge {
                what: "node state",
                ..
            })
        ));
        let mut fat_channel = decision(vec![]);
        fat_channel.state.channels = vec![(
            snapshot.channels[0].id,
            vec![0; limits.max_channel_state_bytes + 1],
        )];
        assert!(matches!(
            fee_decision(&fat_channel, &snapshot, &limits),
            Err(OutputError::TooLarge {
                what: "channel state",
                ..
            })
        ));
    }

    #[test]
    fn payouts_never_exceed_distributable() {
        use crate::model::{Investor, LockTier, PayoutLine};
        let input = PayoutInput {
            period_id: "2026-11".into(),
            distributable: Msat::new(1000),
            native_capital: Msat::new(10_000),
            investors: vec![Investor {
                id: "w1".into(),
                tier: LockTier::Liquid,
                twab: Msat::new(5000),
                balance: Msat::new(5000),
            }],
        };
        let line = |amount| PayoutLine {
            investor_id: "w1".into(),
            amount: Msat::new(amount),
            reason: String::new(),
        };
        let limits = OutputLimits::default();
        let ok = PayoutDecision {
            lines: vec![line(900)],
            withheld: Msat::new(100),
            node_state: vec![],
        };
        assert_eq!(payout_decision(&ok, &input, &limits), Ok(()));
        let greedy = PayoutDecision {
            lines: vec![line(900)],
            withheld: Msat::new(101),
            node_state: vec![],
        };
        assert!(payout_decision(&greedy, &input, &limits).is_err());
        let overflow = PayoutDecision {
            lines: vec![line(u64::MAX)],
            withheld: Msat::new(1),
            node_state: vec![],
        };
        assert!(payout_decision(&overflow, &input, &limits).is_err());
    }
}
