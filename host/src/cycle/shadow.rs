//! Shadow mode: a candidate fee policy in registry slot `shadow` decides on the very snapshot
//! the active policy saw, its proposals go through the same guards against the same facts,
//! and where the outcomes differ is recorded. Nothing it decides is ever executed. Its state
//! and its failures are its own: a broken shadow cannot affect the active policy.

use super::{CycleDeps, CycleError, FeeOutcome, fee::Judging};
use crate::{
    guards::fee::FeeVerdict,
    model::{CallContext, PolicyKind},
    runtime::CallError,
    scid::ShortChannelId,
};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SHADOW_SLOT: &str = "shadow";

/// Where a channel's fee ends up after the cycle, and by which verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShadowSide {
    pub fee_ppm: u32,
    pub verdict: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShadowDiff {
    pub channel: ShortChannelId,
    pub active: ShadowSide,
    pub shadow: ShadowSide,
}

#[derive(Clone, Debug, Serialize)]
pub struct ShadowReport {
    pub policy: String,
    pub compared: usize,
    /// Broadcasts each would make this cycle.
    pub active_broadcasts: u32,
    pub shadow_broadcasts: u32,
    pub differing: Vec<ShadowDiff>,
    /// Why the shadow produced no decision (counts towards its own quarantine).
    pub error: Option<String>,
}

fn side(chain_ppm: u32, verdict: &FeeVerdict) -> ShadowSide {
    ShadowSide {
        fee_ppm: match verdict {
            FeeVerdict::Apply { fee_ppm, .. } => fee_ppm.ppm(),
            _ => chain_ppm,
        },
        verdict: verdict.label(),
    }
}

fn is_broadcast(verdict: &FeeVerdict) -> bool {
    matches!(verdict, FeeVerdict::Apply { .. })
}

/// Runs the shadow, if one is loaded, and compares it with the active outcomes.
pub(super) fn compare(
    deps: &mut CycleDeps<'_>,
    active_ctx: &CallContext,
    judging: &Judging<'_>,
    active: &[FeeOutcome],
) -> Result<Option<ShadowReport>, CycleError> {
    let policy = match deps.registry.active(PolicyKind::Fee, SHADOW_SLOT) {
        Ok(policy) => policy.label(),
        Err(CallError::NotLoaded { .. }) => return Ok(None),
        Err(error) => {
            return Ok(Some(ShadowReport {
                policy: SHADOW_SLOT.into(),
                compared: 0,
                active_broadcasts: 0,
                shadow_broadcasts: 0,
                differing: Vec::new(),
                error: Some(error.to_string()),
            }));
        }
    };
    let ctx = CallContext {
        state: deps.store.policy_state(PolicyKind::Fee, SHADOW_SLOT)?,
        ..active_ctx.clone()
    };
    let snapshot = &judging.gathered.snapshot;
    let mut report = ShadowReport {
        policy,
        compared: 0,
        active_broadcasts: active.iter().filter(|o| is_broadcast(&o.verdict)).count() as u32,
        shadow_broadcasts: 0,
        differing: Vec::new(),
        error: None,
    };
    let called = match deps.registry.propose_fees(SHADOW_SLOT, &ctx, snapshot) {
        Ok(called) => called,
        Err(error) => {
            report.error = Some(error.to_string());
            return Ok(Some(report));
        }
    };
    deps.store
        .save_policy_state(PolicyKind::Fee, SHADOW_SLOT, &called.value.state)?;
    let chain: BTreeMap<ShortChannelId, u32> = snapshot
        .channels
        .iter()
        .map(|c| (c.id, c.fee_ppm.ppm()))
        .collect();
    let unmanaged = |id: &ShortChannelId| ShadowSide {
        fee_ppm: chain[id],
        verdict: "none",
    };
    let mut active_sides: BTreeMap<ShortChannelId, ShadowSide> = active
        .iter()
        .map(|o| {
            (
                o.proposal.channel,
                side(chain[&o.proposal.channel], &o.verdict),
            )
        })
        .collect();
    let mut shadow_sides = BTreeMap::new();
    for (proposal, verdict) in judging.judge_all(called.value.proposals) {
        report.shadow_broadcasts += u32::from(is_broadcast(&verdict));
        shadow_sides.insert(proposal.channel, side(chain[&proposal.channel], &verdict));
    }
    for id in chain.keys() {
        let active = active_sides.remove(id);
        let shadow = shadow_sides.remove(id);
        if active.is_none() && shadow.is_none() {
            continue;
        }
        report.compared += 1;
        let active = active.unwrap_or_else(|| unmanaged(id));
        let shadow = shadow.unwrap_or_else(|| unmanaged(id));
        if active != shadow {
            report.differing.push(ShadowDiff {
                channel: *id,
                active,
                shadow,
            });
        }
    }
    Ok(Some(report))
}

pub(super) fn record(
    deps: &mut CycleDeps<'_>,
    cycle_id: u64,
    report: &ShadowReport,
) -> Result<(), CycleError> {
    Ok(deps.store.record_shadow(cycle_id, report)?)
}
