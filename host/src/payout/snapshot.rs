//! The hourly snapshot of investor balances (spec: LDS snapshots).

use super::{InvestorVault, PayoutError};
use crate::{money::Msat, store::Store};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct SnapshotReport {
    pub at: u64,
    pub balances: Vec<(String, Msat)>,
    /// Investors whose balance could not be read (they count 0 for this hour), with why.
    pub unreadable: Vec<(String, String)>,
}

/// Reads every investor's balance and records them at `now`. If LNbits cannot be reached at
/// all, nothing is recorded (the hour is a gap, not a row of zeros).
pub fn take_snapshot(
    store: &mut Store,
    vault: &dyn InvestorVault,
    now: u64,
) -> Result<SnapshotReport, PayoutError> {
    let investors = store.investors()?;
    if investors.is_empty() {
        return Err(PayoutError::NoInvestors);
    }
    let mut balances = Vec::new();
    let mut unreadable = Vec::new();
    for investor in &investors {
        match vault.balance(&investor.invoice_key) {
            Ok(balance) => balances.push((investor.id.clone(), balance)),
            Err(error) if error.is_transient() => return Err(error.into()),
            Err(error) => {
                tracing::warn!(investor = %investor.id, %error, "investor balance unreadable");
                unreadable.push((investor.id.clone(), error.to_string()));
            }
        }
    }
    store.record_snapshot(now, &balances)?;
    Ok(SnapshotReport {
        at: now,
        balances,
        unreadable,
    })
}
