//! The solvency check before every payout (spec: LDS solvency): investors' balances are the
//! node's liabilities; they must not exceed 85 % of the liquidity physically on our side of
//! normal channels, less what pending outgoing HTLCs may take. Pure.

use crate::money::Msat;
use serde::Serialize;

/// Liabilities may be at most this share of the physical local balance, in percent.
pub const SOLVENCY_LIMIT_PCT: u64 = 85;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Solvency {
    pub liabilities_msat: Msat,
    /// Σ `our_amount_msat` of normal channels (`listfunds`).
    pub local_balance_msat: Msat,
    pub pending_outgoing_msat: Msat,
    /// Local balance less pending outgoing HTLCs.
    pub physical_msat: Msat,
    /// 85 % of the physical balance.
    pub limit_msat: Msat,
    pub solvent: bool,
    pub reason: String,
}

pub fn check(liabilities: Msat, local_balance: Msat, pending_outgoing: Msat) -> Solvency {
    let physical = local_balance.saturating_sub(pending_outgoing);
    let limit = Msat::new(
        u64::try_from(u128::from(physical.msat()) * u128::from(SOLVENCY_LIMIT_PCT) / 100)
            .unwrap_or(u64::MAX),
    );
    let solvent = liabilities <= limit;
    let reason = if solvent {
        format!("liabilities {liabilities} within {SOLVENCY_LIMIT_PCT} % of {physical} on our side")
    } else {
        format!(
            "liabilities {liabilities} exceed {SOLVENCY_LIMIT_PCT} % of {physical} on our side \
             ({limit}): payouts halt until the node holds more or owes less"
        )
    };
    Solvency {
        liabilities_msat: liabilities,
        local_balance_msat: local_balance,
        pending_outgoing_msat: pending_outgoing,
        physical_msat: physical,
        limit_msat: limit,
        solvent,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_five_percent_of_what_is_physically_ours() {
        assert!(check(Msat::new(850), Msat::new(1_000), Msat::ZERO).solvent);
        let short = check(Msat::new(851), Msat::new(1_000), Msat::ZERO);
        assert!(!short.solvent);
        assert!(short.reason.contains("halt"), "{}", short.reason);
        // Pending outgoing HTLCs may still leave: 1,000 − 100 = 900, limit 765.
        let pending = check(Msat::new(800), Msat::new(1_000), Msat::new(100));
        assert_eq!(pending.limit_msat, Msat::new(765));
        assert!(!pending.solvent);
        assert!(!check(Msat::new(1), Msat::new(5), Msat::new(10)).solvent);
        assert!(check(Msat::ZERO, Msat::ZERO, Msat::ZERO).solvent);
    }
}
