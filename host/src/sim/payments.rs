//! Circular payments on the simulated node: invoices to ourselves, routes between two peers
//! through the rest of the (simulated) network at the price of the moment (`routes`), and
//! `sendpay` along our own first and last hops. A payment settles at once when both of our
//! channels have the liquidity (and their peers are online), and fails at the first hop (as
//! CLN reports it) when they do not.

use super::network::SimNetwork;
use crate::{
    money::Msat,
    node::{
        FoundHop, FoundRoute, Invoice, NodeError, Payment, PaymentStatus, RouteHop, RouteRequest,
    },
    scid::ShortChannelId,
};

fn invalid(message: impl Into<String>) -> NodeError {
    NodeError::Rpc {
        code: -32602,
        message: message.into(),
    }
}

impl SimNetwork {
    pub(super) fn sim_invoice(&mut self, amount: Msat, label: &str) -> Result<Invoice, NodeError> {
        if self.payments.invoices.values().any(|(l, _)| l == label) {
            return Err(NodeError::Rpc {
                code: 900,
                message: "Duplicate label".into(),
            });
        }
        let payment_hash = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.payments.rng.next_u64(),
            self.payments.rng.next_u64(),
            self.payments.rng.next_u64(),
            self.payments.rng.next_u64()
        );
        let payment_secret = format!("{:064x}", self.payments.rng.next_u64());
        self.payments
            .invoices
            .insert(payment_hash.clone(), (label.to_owned(), amount));
        Ok(Invoice {
            bolt11: format!("lnsim{}n1{}", amount.msat(), &payment_hash[..16]),
            payment_hash,
            payment_secret,
        })
    }

    pub(super) fn sim_routes(&self, request: &RouteRequest) -> Result<Vec<FoundRoute>, NodeError> {
        let peers = self.channels_peer_ids();
        let index = |id: &str| peers.iter().position(|p| p == id);
        let (Some(source), Some(destination)) =
            (index(&request.source), index(&request.destination))
        else {
            return Err(NodeError::Rpc {
                code: 205,
                message: "Could not find route: unknown source or destination".into(),
            });
        };
        if source == destination {
            return Err(invalid("source and destination are the same"));
        }
        let quote = self.route_quote(source, destination, request.amount);
        let fee = quote.fee;
        if fee > request.max_fee {
            return Err(NodeError::Rpc {
                code: 205,
                message: format!("Could not find route without excessive cost (needs {fee})"),
            });
        }
        let amount_in = request
            .amount
            .checked_add(fee)
            .ok_or_else(|| invalid("amount overflows"))?;
        Ok(vec![FoundRoute {
            probability_ppm: quote.probability_ppm,
            hops: vec![FoundHop {
                channel: ShortChannelId::new(1, source as u64 + 1, destination as u64 + 1)
                    .expect("small"),
                direction: 0,
                node_out: request.destination.clone(),
                amount_in,
                amount_out: request.amount,
                cltv_in: request.final_cltv + 6,
                cltv_out: request.final_cltv,
            }],
        }])
    }

    pub(super) fn sim_send_pay(
        &mut self,
        route: &[RouteHop],
        invoice: &Invoice,
        amount: Msat,
    ) -> Result<Payment, NodeError> {
        let our_id = self.our_id();
        let (Some(first), Some(last)) = (route.first(), route.last()) else {
            return Err(invalid("route: must have at least two hops"));
        };
        if route.len() < 2 || last.node_id != our_id || last.amount != amount {
            return Err(invalid(
                "route: a circular payment must end at this node with the invoice amount",
            ));
        }
        match self.payments.invoices.get(&invoice.payment_hash) {
            Some((_, expected)) if *expected == amount => {}
            Some(_) => return Err(invalid("amount_msat differs from the invoice")),
            None => return Err(invalid("payment_hash: no such invoice")),
        }
        let out = self
            .channel_index(first.channel)
            .ok_or_else(|| invalid("route: first hop is not our channel"))?;
        let back = self
            .channel_index(last.channel)
            .ok_or_else(|| invalid("route: last hop is not our channel"))?;
        let sent = first.amount;
        let network_fails = self.payments.rng.unit() < self.route_quote(out, back, amount).fail;
        const CAPACITY: &str = "WIRE_TEMPORARY_CHANNEL_FAILURE: Capacity exceeded";
        const OFFLINE: &str = "WIRE_UNKNOWN_NEXT_PEER: peer is offline";
        let failure = if !self.channels[out].usable() {
            Some((first.channel, OFFLINE))
        } else if !self.can_send(out, sent.msat()) {
            Some((first.channel, CAPACITY))
        } else if !self.channels[back].usable() {
            Some((last.channel, OFFLINE))
        } else if !self.can_receive(back, amount.msat()) {
            Some((last.channel, CAPACITY))
        } else if network_fails && route.len() > 2 {
            // Somewhere between the two peers: the first hop past ours.
            Some((route[1].channel, CAPACITY))
        } else {
            None
        };
        self.stats_mut().rebalances_sent += 1;
        if failure.is_none() {
            self.stats_mut().rebalances_completed += 1;
            self.move_circular(out, back, sent.msat(), amount.msat());
            self.stats_mut().rebalance_fees_paid = Msat::new(
                self.stats().rebalance_fees_paid.msat() + sent.msat().saturating_sub(amount.msat()),
            );
        }
        let settled = Payment {
            payment_hash: invoice.payment_hash.clone(),
            status: if failure.is_some() {
                PaymentStatus::Failed
            } else {
                PaymentStatus::Complete
            },
            amount,
            amount_sent: sent,
            failure: failure.map(|(_, reason)| reason.to_owned()),
            erring_channel: failure.map(|(channel, _)| channel),
            created_at: Some(self.now_ms / 1000),
        };
        self.payments
            .sent
            .insert(invoice.payment_hash.clone(), settled.clone());
        // sendpay itself only reports that the payment is on its way.
        Ok(Payment {
            status: PaymentStatus::Pending,
            failure: None,
            erring_channel: None,
            ..settled
        })
    }

    pub(super) fn sim_payment(&self, payment_hash: &str) -> Result<Payment, NodeError> {
        self.payments
            .sent
            .get(payment_hash)
            .cloned()
            .ok_or_else(|| NodeError::Rpc {
                code: 208,
                message: format!("Never attempted payment to {payment_hash}"),
            })
    }
}
