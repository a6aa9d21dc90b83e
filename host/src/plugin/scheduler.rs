//! The loops that run cycles: fee cycles every `fee.interval-secs` (a changed interval applies
//! at once, counted from the last cycle) or at once when woken; rebalance cycles every
//! `rebalance.interval-secs` while a rebalance policy is loaded; ingestion on a timer and on
//! `forward_event`. One cycle at a time (the state's cycle lock); a failed cycle is logged and
//! the loop goes on.

use super::state::{DEFAULT_SLOT, Revops};
use crate::model::PolicyKind;
use std::time::Duration;
use tokio::{sync::watch, time::Instant};

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

/// Waits until `interval_secs()` after `since`, re-reading the interval whenever the
/// configuration changes. Returns early when `wake` fires.
async fn wait_interval(
    since: Instant,
    interval_secs: impl Fn() -> u64,
    changes: &mut watch::Receiver<u64>,
    wake: Option<&tokio::sync::Notify>,
) {
    loop {
        let deadline = since + Duration::from_secs(interval_secs());
        let woken = async {
            match wake {
                Some(notify) => notify.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            _ = woken => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    // The sender lives as long as the state: only at shutdown.
                    tokio::time::sleep_until(deadline).await;
                    return;
                }
            }
        }
    }
}

async fn fee_loop(state: Revops) {
    let mut changes = state.config_changed.subscribe();
    loop {
        let since = Instant::now();
        wait_interval(
            since,
            || state.config.snapshot().fee.interval_secs,
            &mut changes,
            Some(&state.fee_wake),
        )
        .await;
        if state.is_shutting_down() {
            return;
        }
        if let Err(error) = state.run_fee_cycle(false).await {
            tracing::warn!(%error, "fee cycle failed; the next one is on schedule");
        }
    }
}

async fn rebalance_loop(state: Revops) {
    let mut changes = state.config_changed.subscribe();
    loop {
        wait_interval(
            Instant::now(),
            || state.config.snapshot().rebalance.interval_secs,
            &mut changes,
            None,
        )
        .await;
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
                policy_error = %report.policy_error.as_deref().unwrap_or("none"),
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
    let mut changes = state.config_changed.subscribe();
    loop {
        wait_interval(
            Instant::now(),
            || state.config.snapshot().lds.snapshot_interval_secs,
            &mut changes,
            None,
        )
        .await;
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
