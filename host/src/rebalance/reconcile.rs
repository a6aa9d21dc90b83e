//! Settling rebalance payments left unresolved (a restart, a payment still in flight) from
//! `listsendpays`: never resent, only looked up. A reservation lives exactly as long as its
//! payment is unresolved.

use super::executor::{INTENT_ACTION, IntentPayload, RebalanceOutcome, settle};
use crate::{
    cycle::CycleError,
    node::{Node, PaymentStatus},
    store::{IntentStatus, Store},
};

/// Settles every pending rebalance intent whose payment has resolved, then releases the
/// reservations no unresolved payment holds (a crash between reserving and sending). Call
/// only while no move is being prepared. Returns the outcomes settled now.
pub fn reconcile(
    node: &mut dyn Node,
    store: &mut Store,
) -> Result<Vec<RebalanceOutcome>, CycleError> {
    let mut settled = Vec::new();
    for intent in store.pending_intents()? {
        if intent.action != INTENT_ACTION {
            continue;
        }
        let Ok(payload) = serde_json::from_str::<IntentPayload>(&intent.payload) else {
            tracing::warn!(
                intent = intent.id,
                "unreadable rebalance intent left pending"
            );
            continue;
        };
        let attempts = node.list_send_pays(&payload.payment_hash)?;
        let now = node.now_secs();
        // Complete wins over failed attempts of the same hash.
        let best = attempts
            .iter()
            .find(|p| p.status == PaymentStatus::Complete)
            .or_else(|| attempts.iter().find(|p| p.status == PaymentStatus::Pending))
            .or_else(|| attempts.last());
        match best {
            Some(payment) if payment.status != PaymentStatus::Pending => {
                let outcome = settle(
                    store,
                    intent.id,
                    &payload.order,
                    payment,
                    intent.created_at,
                    now,
                )?;
                tracing::info!(intent = intent.id, ?outcome, "rebalance reconciled");
                settled.push(outcome);
            }
            // Still in flight: it keeps its reservation until a later cycle sees it resolved.
            Some(_) => {}
            None => {
                // Never reached lightningd: nothing was paid.
                store.settle_rebalance(intent.id, IntentStatus::Failed, "never sent", None, now)?;
            }
        }
    }
    let released = store.release_orphan_reservations()?;
    if released > 0 {
        tracing::info!(
            released,
            "released budget reservations of moves interrupted before they were sent"
        );
    }
    Ok(settled)
}

/// Rebalance payments sent and not resolved yet.
pub fn in_flight(store: &Store) -> Result<u32, CycleError> {
    let pending = store
        .pending_intents()?
        .iter()
        .filter(|i| i.action == INTENT_ACTION)
        .count();
    Ok(u32::try_from(pending).unwrap_or(u32::MAX))
}
