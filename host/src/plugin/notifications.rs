//! Notifications from lightningd are triggers only: they wake a task that re-reads state from
//! the node. No arithmetic on event payloads.

use super::state::Revops;
use cln_plugin::Plugin;
use serde_json::Value;
use std::time::Duration;

/// How long shutdown waits for a cycle in progress (lightningd gives plugins 30 s).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(20);

pub async fn forward_event(plugin: Plugin<Revops>, _event: Value) -> anyhow::Result<()> {
    plugin.state().ingest_wake.notify_one();
    Ok(())
}

pub async fn channel_state_changed(plugin: Plugin<Revops>, _event: Value) -> anyhow::Result<()> {
    plugin.state().ingest_wake.notify_one();
    Ok(())
}

/// A new block is when on-chain feerates move: check for a mempool shock (Vegas reflex).
pub async fn block_added(plugin: Plugin<Revops>, _event: Value) -> anyhow::Result<()> {
    plugin.state().check_mempool_shock().await;
    Ok(())
}

pub async fn shutdown(plugin: Plugin<Revops>, _event: Value) -> anyhow::Result<()> {
    tracing::info!("lightningd asked revops to shut down");
    plugin.state().begin_shutdown(SHUTDOWN_WAIT).await;
    plugin.shutdown()?;
    Ok(())
}
