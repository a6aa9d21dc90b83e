//! What the last fee and rebalance cycles did, for `revenue-status`: counts, not the whole
//! reports (those are in the histories and the cycles' own replies).

use crate::{
    cycle::{FeeCycleReport, RebalanceCycleReport},
    money::Msat,
    rebalance::RebalanceOutcome,
};
use serde::Serialize;

/// What the last fee cycle did, for `revenue-status`.
#[derive(Clone, Debug, Serialize)]
pub struct CycleSummary {
    pub cycle_id: u64,
    pub started_at: u64,
    pub duration_us: u64,
    pub policy: String,
    pub dry_run: bool,
    pub applied: u32,
    pub clamped: u32,
    pub suppressed: u32,
    pub unchanged: u32,
    pub failed: u32,
    pub policy_error: Option<String>,
}

impl From<&FeeCycleReport> for CycleSummary {
    fn from(report: &FeeCycleReport) -> Self {
        Self {
            cycle_id: report.cycle_id,
            started_at: report.started_at,
            duration_us: report.duration_us,
            policy: report.policy.clone(),
            dry_run: report.dry_run,
            applied: report.counts.applied,
            clamped: report.counts.clamped,
            suppressed: report.counts.suppressed,
            unchanged: report.counts.unchanged,
            failed: report.counts.failed,
            policy_error: report.policy_error.clone(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RebalanceSummary {
    pub cycle_id: u64,
    pub started_at: u64,
    pub duration_us: u64,
    pub policy: String,
    pub dry_run: bool,
    pub proposals: u32,
    /// Proposals the guards let through and the executor tried.
    pub attempted: u32,
    pub completed: u32,
    pub fees_paid_msat: u64,
    pub policy_error: Option<String>,
}

impl From<&RebalanceCycleReport> for RebalanceSummary {
    fn from(report: &RebalanceCycleReport) -> Self {
        let outcomes = report.decisions.iter().filter_map(|d| d.outcome.as_ref());
        let mut summary = Self {
            cycle_id: report.cycle_id,
            started_at: report.started_at,
            duration_us: report.duration_us,
            policy: report.policy.clone(),
            dry_run: report.dry_run,
            proposals: count(report.decisions.len()),
            policy_error: report.policy_error.clone(),
            ..Self::default()
        };
        let mut fees = Vec::new();
        for outcome in outcomes {
            summary.attempted += 1;
            if let RebalanceOutcome::Completed { fee, .. } = outcome {
                summary.completed += 1;
                fees.push(*fee);
            }
        }
        summary.fees_paid_msat = Msat::checked_sum(fees).unwrap_or(Msat::MAX).msat();
        summary
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
