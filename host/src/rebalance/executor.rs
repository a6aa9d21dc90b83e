//! One circular rebalance, from route to booked outcome.

use crate::{
    cycle::CycleError,
    model::RebalanceKind,
    money::Msat,
    node::{Node, NodeChannel, NodeError, Payment, PaymentStatus, RouteHop, RouteRequest},
    scid::ShortChannelId,
    store::{IntentStatus, RebalanceRecord, Store},
};
use serde::{Deserialize, Serialize};

/// The CLTV our own invoice asks for on the last hop.
const FINAL_CLTV: u32 = 18;
pub(super) const INTENT_ACTION: &str = "rebalance";
/// The askrene layer in which revops disables its own node for rebalance routes.
pub const EXCLUDE_SELF_LAYER: &str = "revops-rebalance";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebalanceOrder {
    pub source: ShortChannelId,
    pub destination: ShortChannelId,
    /// What arrives in the destination channel.
    pub amount: Msat,
    /// The most the whole route may cost.
    pub max_fee: Msat,
    /// Unique per attempt (the invoice label).
    pub label: String,
    /// Intents written before diagnostics existed have no kind: they were normal moves.
    #[serde(default)]
    pub kind: RebalanceKind,
    /// The budget reservation held for this move: handed to the payment's intent, released
    /// when the payment resolves.
    #[serde(skip)]
    pub reservation: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RebalanceOutcome {
    Completed {
        amount: Msat,
        fee: Msat,
    },
    Failed {
        reason: String,
        erring_channel: Option<ShortChannelId>,
    },
    /// No route within the fee cap (nothing was sent).
    NoRoute {
        reason: String,
    },
    /// Not attempted: the order does not make sense for these channels.
    Refused {
        reason: String,
    },
    /// Sent but unresolved when we stopped waiting; `reconcile` settles it later.
    Pending {
        payment_hash: String,
    },
}

/// What is kept with the intent, so a pending payment can be reconciled after a restart.
#[derive(Serialize, Deserialize)]
pub(super) struct IntentPayload {
    pub(super) order: RebalanceOrder,
    pub(super) payment_hash: String,
    pub(super) amount_sent: Msat,
}

fn refused(reason: impl Into<String>) -> RebalanceOutcome {
    RebalanceOutcome::Refused {
        reason: reason.into(),
    }
}

/// Builds the route: out to the source's peer, through the network, back over the destination.
fn circular_route(
    node: &dyn Node,
    our_id: &str,
    source: &NodeChannel,
    destination: &NodeChannel,
    order: &RebalanceOrder,
) -> Result<Result<Vec<RouteHop>, RebalanceOutcome>, CycleError> {
    let Some(back_fee) = destination.remote_fee else {
        return Ok(Err(refused(
            "the destination's peer has not announced its fee yet",
        )));
    };
    let Some(back_fee_amount) = back_fee.fee_on(order.amount) else {
        return Ok(Err(refused("amount overflows")));
    };
    let Some(budget) = order.max_fee.checked_sub(back_fee_amount) else {
        return Ok(Err(RebalanceOutcome::NoRoute {
            reason: format!(
                "the last hop alone costs {back_fee_amount}, above the cap {}",
                order.max_fee
            ),
        }));
    };
    let to_peer = order
        .amount
        .checked_add(back_fee_amount)
        .expect("checked above");
    let back_cltv = FINAL_CLTV + back_fee.cltv_expiry_delta;
    let back_hop = RouteHop {
        node_id: our_id.to_owned(),
        channel: destination.short_channel_id.expect("normal channel"),
        amount: order.amount,
        delay: FINAL_CLTV,
    };
    if source.peer_id == destination.peer_id {
        // Two channels to one peer: out and straight back.
        return Ok(Ok(vec![
            RouteHop {
                node_id: source.peer_id.clone(),
                channel: source.short_channel_id.expect("normal channel"),
                amount: to_peer,
                delay: back_cltv,
            },
            back_hop,
        ]));
    }
    // Routes must not come back through us (DESIGN: layers excluding our node); if askrene
    // refuses the layer, routes through us are still filtered out below.
    let layers = match node.exclude_node_in_layer(EXCLUDE_SELF_LAYER, our_id) {
        Ok(()) => vec![EXCLUDE_SELF_LAYER.to_owned()],
        Err(NodeError::Rpc { code, message }) => {
            // Not a field named `message`: tracing would take it for the event's own text.
            tracing::warn!(
                code,
                error = %message,
                "cannot exclude our node from askrene routes; filtering instead"
            );
            Vec::new()
        }
        Err(other) => return Err(other.into()),
    };
    let request = RouteRequest {
        source: source.peer_id.clone(),
        destination: destination.peer_id.clone(),
        amount: to_peer,
        max_fee: budget,
        layers,
        final_cltv: back_cltv,
    };
    let routes = match node.get_routes(&request) {
        Ok(routes) => routes,
        Err(NodeError::Rpc { message, .. }) => {
            return Ok(Err(RebalanceOutcome::NoRoute { reason: message }));
        }
        Err(other) => return Err(other.into()),
    };
    // A route back through our own node would be no rebalance at all.
    let Some(route) = routes
        .into_iter()
        .find(|r| !r.hops.is_empty() && r.hops.iter().all(|h| h.node_out != our_id))
    else {
        return Ok(Err(RebalanceOutcome::NoRoute {
            reason: "every route found runs through this node".into(),
        }));
    };
    let first = &route.hops[0];
    let mut hops = vec![RouteHop {
        node_id: source.peer_id.clone(),
        channel: source.short_channel_id.expect("normal channel"),
        amount: first.amount_in,
        delay: first.cltv_in,
    }];
    hops.extend(route.hops.iter().map(|hop| RouteHop {
        node_id: hop.node_out.clone(),
        channel: hop.channel,
        amount: hop.amount_out,
        delay: hop.cltv_out,
    }));
    hops.push(back_hop);
    let total_fee = hops[0].amount.saturating_sub(order.amount);
    if total_fee > order.max_fee {
        return Ok(Err(RebalanceOutcome::NoRoute {
            reason: format!(
                "the cheapest route costs {total_fee}, above the cap {}",
                order.max_fee
            ),
        }));
    }
    Ok(Ok(hops))
}

/// Executes `order`, waiting up to `wait_secs` for the outcome. Books what happened: a
/// resolved payment with its actual fee, an attempt that sent nothing as a failure (the
/// backoff counts it); a payment still in flight stays pending with its reservation.
pub fn execute(
    node: &mut dyn Node,
    store: &mut Store,
    order: &RebalanceOrder,
    wait_secs: u32,
) -> Result<RebalanceOutcome, CycleError> {
    let outcome = attempt(node, store, order, wait_secs)?;
    if let RebalanceOutcome::NoRoute { reason } | RebalanceOutcome::Refused { reason } = &outcome {
        store.record_rebalance(&unsent(order, reason, node.now_secs()))?;
    }
    Ok(outcome)
}

/// The ledger row of an attempt that sent nothing.
fn unsent(order: &RebalanceOrder, reason: &str, at: u64) -> RebalanceRecord {
    RebalanceRecord {
        source: order.source,
        destination: order.destination,
        amount: order.amount,
        fee: Msat::ZERO,
        completed: false,
        payment_hash: String::new(),
        at,
        kind: order.kind,
        sent: false,
        failure: Some(reason.to_owned()),
    }
}

fn attempt(
    node: &mut dyn Node,
    store: &mut Store,
    order: &RebalanceOrder,
    wait_secs: u32,
) -> Result<RebalanceOutcome, CycleError> {
    let channels = node.channels()?;
    let find = |id| {
        channels
            .iter()
            .find(|c| c.short_channel_id == Some(id) && c.is_normal())
    };
    let (Some(source), Some(destination)) = (find(order.source), find(order.destination)) else {
        return Ok(refused("source or destination is not an active channel"));
    };
    if order.source == order.destination || order.amount == Msat::ZERO {
        return Ok(refused(
            "a rebalance needs two different channels and an amount",
        ));
    }
    let our_id = node.info()?.id;
    let hops = match circular_route(&*node, &our_id, source, destination, order)? {
        Ok(hops) => hops,
        Err(outcome) => return Ok(outcome),
    };
    let now = node.now_secs();
    let invoice = node.create_invoice(
        order.amount,
        &order.label,
        &format!("revops rebalance {} -> {}", order.source, order.destination),
    )?;
    let payload = IntentPayload {
        order: order.clone(),
        payment_hash: invoice.payment_hash.clone(),
        amount_sent: hops[0].amount,
    };
    let intent = store.begin_rebalance_intent(
        order.reservation,
        INTENT_ACTION,
        &format!("{}->{}", order.source, order.destination),
        &serde_json::to_string(&payload).expect("plain data"),
        now,
    )?;
    match node.send_pay(&hops, &invoice, order.amount, &order.label) {
        Ok(_) => {}
        // lightningd refused it: nothing left.
        Err(NodeError::Rpc { code, message }) => {
            let reason = format!("sendpay refused ({code}): {message}");
            let mut record = unsent(order, &reason, now);
            record.payment_hash = invoice.payment_hash.clone();
            store.settle_rebalance(intent, IntentStatus::Failed, &reason, Some(&record), now)?;
            return Ok(RebalanceOutcome::Failed {
                reason,
                erring_channel: None,
            });
        }
        // No answer: it may be under way. The intent stays pending; `reconcile` settles it.
        Err(other) => return Err(other.into()),
    }
    let payment = node.wait_send_pay(&invoice.payment_hash, wait_secs)?;
    settle(store, intent, order, &payment, now, node.now_secs())
}

/// Books a payment's outcome on its intent and releases its reservation; a pending one stays
/// pending, reservation held. `made_at` is when the payment was sent, if lightningd does not
/// say.
pub(super) fn settle(
    store: &mut Store,
    intent: u64,
    order: &RebalanceOrder,
    payment: &Payment,
    made_at: u64,
    now: u64,
) -> Result<RebalanceOutcome, CycleError> {
    let outcome = match payment.status {
        PaymentStatus::Pending => {
            return Ok(RebalanceOutcome::Pending {
                payment_hash: payment.payment_hash.clone(),
            });
        }
        PaymentStatus::Complete => RebalanceOutcome::Completed {
            amount: payment.amount,
            fee: payment.fee(),
        },
        PaymentStatus::Failed => RebalanceOutcome::Failed {
            reason: payment
                .failure
                .clone()
                .unwrap_or_else(|| "payment failed".into()),
            erring_channel: payment.erring_channel,
        },
    };
    let (status, note, fee, failure) = match &outcome {
        RebalanceOutcome::Completed { fee, .. } => (
            IntentStatus::Done,
            format!("completed, fee {fee}"),
            *fee,
            None,
        ),
        RebalanceOutcome::Failed { reason, .. } => (
            IntentStatus::Failed,
            reason.clone(),
            Msat::ZERO,
            Some(reason.clone()),
        ),
        _ => unreachable!("only final outcomes are settled"),
    };
    let record = RebalanceRecord {
        source: order.source,
        destination: order.destination,
        amount: order.amount,
        fee,
        completed: failure.is_none(),
        payment_hash: payment.payment_hash.clone(),
        // When the payment was made, not when we learnt how it ended.
        at: payment.created_at.unwrap_or(made_at),
        kind: order.kind,
        sent: true,
        failure,
    };
    store.settle_rebalance(intent, status, &note, Some(&record), now)?;
    Ok(outcome)
}
