//! `SimNetwork` as a `Node`: what the decision cycle (and the stand-in lightningd) sees of the
//! simulated node, in the same types lightningd's answers become.

use super::network::{BLOCK_SECS, START_HEIGHT, SimNetwork, own_node_id};
use crate::{
    model::Opener,
    money::{Msat, Ppm},
    node::{
        Forward, FoundRoute, Funds, GossipChannel, Invoice, Node, NodeChannel, NodeError, NodeInfo,
        OnchainFee, Payment, RemoteFee, RouteHop, RouteRequest, STATE_NORMAL, SetChannelFee,
    },
    scid::ShortChannelId,
};

/// vbytes of a funding transaction, for the simulated open cost.
pub(super) const FUNDING_VBYTES: u64 = 154;

/// A simulated channel's 32-byte channel id, hex: derived from its short channel id.
pub fn channel_id(scid: ShortChannelId) -> String {
    format!("{:016x}", scid.as_u64()).repeat(4)
}

impl Node for SimNetwork {
    fn info(&self) -> Result<NodeInfo, NodeError> {
        let elapsed = self.now_ms / 1000 - self.scenario.start;
        Ok(NodeInfo {
            id: own_node_id().to_owned(),
            alias: format!("sim-{}", self.scenario.name),
            blockheight: START_HEIGHT + (elapsed / BLOCK_SECS) as u32,
        })
    }

    fn channels(&self) -> Result<Vec<NodeChannel>, NodeError> {
        Ok(self
            .channels
            .iter()
            .filter(|c| c.listed(self.now_ms))
            .map(|c| NodeChannel {
                peer_id: c.peer_id.clone(),
                peer_connected: c.connected(),
                state: if c.is_closed() {
                    super::lifecycle::STATE_CLOSED
                } else {
                    STATE_NORMAL
                }
                .to_owned(),
                short_channel_id: Some(c.id),
                opener: c.spec.opener,
                total: Msat::new(c.capacity),
                to_us: Msat::new(c.local),
                fee_base: Msat::new(u64::from(c.fee_base)),
                fee_ppm: Ppm::new(c.fee_ppm),
                htlc_min: Msat::new(1),
                htlc_max: Msat::new(c.capacity - c.reserve),
                max_accepted_htlcs: c.spec.max_accepted_htlcs,
                htlcs: c.htlcs.iter().map(|(_, h)| h.clone()).collect(),
                funding_height: Some(c.funding_height),
                // Peers charge what CLN charges by default to forward to us.
                remote_fee: Some(RemoteFee {
                    base: Msat::new(1000),
                    ppm: Ppm::new(10),
                    cltv_expiry_delta: 34,
                }),
                channel_id: Some(channel_id(c.id)),
            })
            .collect())
    }

    fn exclude_node_in_layer(&self, _layer: &str, _node_id: &str) -> Result<(), NodeError> {
        // The simulated network never routes through our own node: nothing to exclude.
        Ok(())
    }

    fn onchain_fees(&self, since: u64) -> Result<Option<Vec<OnchainFee>>, NodeError> {
        // The funding transactions of the channels we opened: about 154 vbytes each (one
        // input, the funding output and change), at the scenario's base feerate.
        let perkb = u64::from(self.scenario.feerate.base_perkb);
        let blockheight = self.info()?.blockheight;
        Ok(Some(
            self.channels
                .iter()
                .filter(|c| c.spec.opener == Opener::Local && c.spec.open_day.is_none())
                .map(|c| OnchainFee {
                    account: channel_id(c.id),
                    fee_msat: i64::try_from(perkb * FUNDING_VBYTES).unwrap_or(i64::MAX),
                    at: (self.now_ms / 1000).saturating_sub(
                        u64::from(blockheight.saturating_sub(c.funding_height)) * BLOCK_SECS,
                    ),
                })
                .filter(|fee| fee.at >= since)
                // Opens and closes during the run, at the feerate of their moment.
                .chain(self.lifecycle_onchain_fees(since))
                .collect(),
        ))
    }

    fn forwards_created_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        Ok(self.forwards.created_since(start, limit))
    }

    fn forwards_updated_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        Ok(self.forwards.updated_since(start, limit))
    }

    fn gossip_channels_to(&self, node: &str) -> Result<Vec<GossipChannel>, NodeError> {
        Ok(self.gossip_to(node))
    }

    fn opening_feerate_perkb(&self) -> Result<u32, NodeError> {
        Ok(self.feerate_at(self.now_ms / 1000))
    }

    fn funds(&self) -> Result<Funds, NodeError> {
        Ok(Funds {
            onchain_confirmed: Msat::new(100_000_000_000),
            channels_local: Msat::new(
                self.channels
                    .iter()
                    .filter(|c| c.listed(self.now_ms) && !c.is_closed())
                    .map(|c| c.local)
                    .sum(),
            ),
        })
    }

    fn set_channel_fee(&mut self, request: &SetChannelFee) -> Result<(), NodeError> {
        let index = self
            .channel_index(request.channel)
            .ok_or_else(|| NodeError::Rpc {
                code: -32602,
                message: format!(
                    "id: Short channel id not found: invalid token '\"{}\"'",
                    request.channel
                ),
            })?;
        let channel = &mut self.channels[index];
        let old = channel.fee();
        channel.fee_ppm = request.fee_ppm.ppm();
        channel.fee_base = u32::try_from(request.fee_base.msat()).unwrap_or(u32::MAX);
        let new = channel.fee();
        self.gossip_delay.broadcast(index, old, new, self.now_ms);
        self.stats.fee_updates += 1;
        Ok(())
    }

    fn now_secs(&self) -> u64 {
        self.now_ms / 1000
    }

    fn create_invoice(
        &mut self,
        amount: Msat,
        label: &str,
        _description: &str,
    ) -> Result<Invoice, NodeError> {
        self.sim_invoice(amount, label)
    }

    fn get_routes(&self, request: &RouteRequest) -> Result<Vec<FoundRoute>, NodeError> {
        self.sim_routes(request)
    }

    fn send_pay(
        &mut self,
        route: &[RouteHop],
        invoice: &Invoice,
        amount: Msat,
        _label: &str,
    ) -> Result<Payment, NodeError> {
        self.sim_send_pay(route, invoice, amount)
    }

    fn wait_send_pay(
        &mut self,
        payment_hash: &str,
        _timeout_secs: u32,
    ) -> Result<Payment, NodeError> {
        self.sim_payment(payment_hash)
    }

    fn list_send_pays(&self, payment_hash: &str) -> Result<Vec<Payment>, NodeError> {
        Ok(self.sim_payment(payment_hash).into_iter().collect())
    }
}
