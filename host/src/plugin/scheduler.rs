//! The loops that run cycles: fee cycles every `fee.interval-secs` (re-read each time, so a
//! `setconfig` applies from the next wait) or at once when woken; rebalance cycles every
//! `rebalance.interval-secs` while a rebalance policy is loaded; ingestion on a timer and on
//! `forward_event`. One cycle at a time (the state's cycle lock); a failed cycle is logged and
//! the loop goes on.

use super::state::{DEFAULT_SLOT, Revops};
use crate::model::PolicyKind;
use std::time::Duration;

/// Forward events come in bursts: ingest at most this often.
const INGEST_DEBOUNCE: Duration = Duration::from_secs(1);

pub fn spawn(state: Revops) {
    tokio::spawn(fee_loop(state.clone()));
    tokio::spawn(rebalance_loop(state.clone()));
    if state.lnbits.is_some() {
        tokio::spawn(lds_snapshot_loop(state.clone()));
    }
    tokio::spawn(ingest_loop(state));
}

async fn fee_loop(state: Revops) {
    loop {
        let interval = Duration::from_secs(state.config.snapshot().fee.interval_secs);
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = state.fee_wake.notified() => {}
        }
        if state.is_shutting_down() {
            return;
        }
        if let Err(error) = state.run_fee_cycle(false).await {
            tracing::warn!(%error, "fee cycle failed; the next one is on schedule");
        }
    }
}

async fn rebalance_loop(state: Revops) {
    loop {
        let interval = Duration::from_secs(state.config.snapshot().rebalance.interval_secs);
        tokio::time::sleep(interval).await;
        if state.is_shutting_down() {
            return;
        }
        // No default rebalance policy: rebalancing is opt-in, so nothing loaded means nothing to do.
        if state
            .registry
            .active(PolicyKind::Rebalance, DEFAULT_SLOT)
            .is_err()
        {
            tracing::trace!("no rebalance policy loaded; skipping the scheduled rebalance cycle");
            continue;
        }
        match state.run_rebalance_cycle(false).await {
            Ok(report) => tracing::info!(
                cycle = report.cycle_id,
                proposals = report.decisions.len(),
                policy_error = report.policy_error.as_deref().unwrap_or("none"),
                "scheduled rebalance cycle done"
            ),
            Err(error) => {
                tracing::warn!(%error, "rebalance cycle failed; the next one is on schedule")
            }
        }
    }
}

/// Investor balances every `lds.snapshot-interval-secs` (the 72 h averages rest on them); a
/// failed snapshot leaves a gap the averages do not count.
async fn lds_snapshot_loop(state: Revops) {
    loop {
        let interval = Duration::from_secs(state.config.snapshot().lds.snapshot_interval_secs);
        tokio::time::sleep(interval).await;
        if state.is_shutting_down() {
            return;
        }
        let worker = state.clone();
        let runtime = tokio::runtime::Handle::current();
        let result =
            tokio::task::spawn_blocking(move || worker.lds_snapshot_blocking(&runtime)).await;
        match result {
            Ok(Ok(report)) => tracing::debug!(
                investors = report.balances.len(),
                "investor balances recorded"
            ),
            Ok(Err(error)) => tracing::warn!(%error, "investor snapshot failed; the hour is a gap"),
            Err(error) => tracing::warn!(%error, "investor snapshot task failed"),
        }
    }
}

async fn ingest_loop(state: Revops) {
    loop {
        let interval = state.setup.ingest_interval;
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = state.ingest_wake.notified() => tokio::time::sleep(INGEST_DEBOUNCE).await,
        }
        if state.is_shutting_down() {
            return;
        }
        if let Err(error) = state.ingest().await {
            tracing::warn!(%error, "forward ingestion failed; retrying on schedule");
        }
    }
}
