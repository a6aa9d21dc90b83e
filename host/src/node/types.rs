//! The `Node` trait and its types, mirroring the CLN v26.06 responses they come from
//! (`listpeerchannels`, `listforwards`, `feerates perkb`, `listfunds`, `setchannel`), in host
//! units. Calls are synchronous: the decision cycle runs on a worker thread, never on the
//! plugin's event loop.

use crate::{
    model::Opener,
    money::{Msat, Ppm},
    scid::ShortChannelId,
};
use serde::Serialize;

/// What lightningd said when a call failed: its JSON-RPC code and message, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    #[error("lightningd error {code}: {message}")]
    Rpc { code: i64, message: String },
    #[error("{method} timed out after {secs} s")]
    Timeout { method: &'static str, secs: u64 },
    #[error("cannot reach lightningd: {0}")]
    Transport(String),
    #[error("unexpected answer to {method}: {detail}")]
    Protocol {
        method: &'static str,
        detail: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    pub id: String,
    pub alias: String,
    pub blockheight: u32,
}

/// `listpeerchannels` state `CHANNELD_NORMAL`: the only state in which fees are managed.
pub const STATE_NORMAL: &str = "CHANNELD_NORMAL";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeHtlc {
    /// `direction: "out"` in CLN.
    pub outgoing: bool,
    pub amount: Msat,
}

/// One entry of `listpeerchannels`, the fields revops uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeChannel {
    pub peer_id: String,
    pub peer_connected: bool,
    pub state: String,
    pub short_channel_id: Option<ShortChannelId>,
    pub opener: Opener,
    pub total: Msat,
    pub to_us: Msat,
    /// `updates.local`: what we broadcast for this channel.
    pub fee_base: Msat,
    pub fee_ppm: Ppm,
    pub htlc_min: Msat,
    pub htlc_max: Msat,
    pub max_accepted_htlcs: u16,
    pub htlcs: Vec<NodeHtlc>,
    /// Block height of the funding confirmation (from the short channel id).
    pub funding_height: Option<u32>,
    /// `updates.remote`: what the peer charges to forward to us over this channel, and its
    /// CLTV delta (`None` before the peer's channel_update arrived).
    pub remote_fee: Option<RemoteFee>,
    /// The 32-byte channel id in hex: the bookkeeper's account name for the channel.
    pub channel_id: Option<String>,
}

/// An on-chain fee the bookkeeper plugin attributes to an account (`bkpr-listincome`,
/// tag `onchain_fee`): a channel's account is its channel id, the node's own is `wallet`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnchainFee {
    pub account: String,
    /// Debit minus credit: what the node paid (a later correction may be negative).
    pub fee_msat: i64,
    pub at: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RemoteFee {
    pub base: Msat,
    pub ppm: Ppm,
    pub cltv_expiry_delta: u32,
}

impl RemoteFee {
    /// The fee the peer takes to forward `amount` to us.
    pub fn fee_on(&self, amount: Msat) -> Option<Msat> {
        self.base.checked_add(self.ppm.fee_on(amount))
    }
}

impl NodeChannel {
    pub fn is_normal(&self) -> bool {
        self.state == STATE_NORMAL && self.short_channel_id.is_some()
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardStatus {
    Offered,
    Settled,
    Failed,
    LocalFailed,
}

impl ForwardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardStatus::Offered => "offered",
            ForwardStatus::Settled => "settled",
            ForwardStatus::Failed => "failed",
            ForwardStatus::LocalFailed => "local_failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "offered" => ForwardStatus::Offered,
            "settled" => ForwardStatus::Settled,
            "failed" => ForwardStatus::Failed,
            "local_failed" => ForwardStatus::LocalFailed,
            _ => return None,
        })
    }
}

/// One entry of `listforwards`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forward {
    pub created_index: u64,
    /// Absent until lightningd changes the forward after creating it: an `offered` one not
    /// yet resolved, and a `local_failed` one (created final) never have it.
    pub updated_index: Option<u64>,
    pub in_channel: ShortChannelId,
    pub out_channel: Option<ShortChannelId>,
    pub in_amount: Msat,
    pub out_amount: Option<Msat>,
    pub fee: Option<Msat>,
    pub status: ForwardStatus,
    /// `received_time` / `resolved_time` in milliseconds (CLN gives float seconds).
    pub received_ms: u64,
    pub resolved_ms: Option<u64>,
    /// `failcode`/`failreason` of a failed forward, when lightningd gives them (it does for
    /// `local_failed` ones: e.g. 4103 `WIRE_TEMPORARY_CHANNEL_FAILURE`, 4108
    /// `WIRE_FEE_INSUFFICIENT`).
    pub failure: Option<ForwardFailure>,
}

/// Why lightningd failed a forward: a BOLT 4 failure code and its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForwardFailure {
    pub code: u32,
    pub reason: String,
}

/// BOLT 4 `temporary_channel_failure` (UPDATE|7): no liquidity or no free HTLC slot.
pub const TEMPORARY_CHANNEL_FAILURE: u32 = 0x1000 | 7;
/// BOLT 4 `fee_insufficient` (UPDATE|12): the sender paid a fee below ours.
pub const FEE_INSUFFICIENT: u32 = 0x1000 | 12;
/// BOLT 4 `unknown_next_peer` (PERM|10): the outgoing channel is gone or its peer offline.
pub const UNKNOWN_NEXT_PEER: u32 = 0x4000 | 10;

/// One direction of a public channel from gossip (`listchannels`), the pricing fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GossipChannel {
    pub source: String,
    pub destination: String,
    pub short_channel_id: ShortChannelId,
    pub fee_base: Msat,
    pub fee_ppm: Ppm,
    pub active: bool,
}

/// `listfunds`, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Funds {
    pub onchain_confirmed: Msat,
    /// Σ `our_amount_msat` of channels in normal state.
    pub channels_local: Msat,
}

/// `setchannel id feebase feeppm [htlcmin] [htlcmax]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetChannelFee {
    pub channel: ShortChannelId,
    pub fee_base: Msat,
    pub fee_ppm: Ppm,
}

/// An invoice revops made to pay itself (a circular rebalance pays our own invoice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// 32 bytes, hex.
    pub payment_hash: String,
    /// 32 bytes, hex.
    pub payment_secret: String,
    pub bolt11: String,
}

/// `getroutes` between two other nodes (askrene): the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteRequest {
    pub source: String,
    pub destination: String,
    pub amount: Msat,
    pub max_fee: Msat,
    /// askrene layers (e.g. one that disables our own node so the route cannot run through us).
    pub layers: Vec<String>,
    pub final_cltv: u32,
}

/// One hop of a route `getroutes` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoundHop {
    pub channel: ShortChannelId,
    pub direction: u32,
    pub node_out: String,
    pub amount_in: Msat,
    pub amount_out: Msat,
    pub cltv_in: u32,
    pub cltv_out: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoundRoute {
    pub probability_ppm: u64,
    pub hops: Vec<FoundHop>,
}

/// One entry of `sendpay`'s `route`: the node this hop reaches, over which channel, carrying
/// how much, with what delay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RouteHop {
    pub node_id: String,
    pub channel: ShortChannelId,
    pub amount: Msat,
    pub delay: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Pending,
    Complete,
    Failed,
}

/// A payment revops sent (`sendpay`, `waitsendpay`, `listsendpays`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub payment_hash: String,
    pub status: PaymentStatus,
    /// What arrived (the invoice amount).
    pub amount: Msat,
    /// What left: the amount plus the routing fees actually paid.
    pub amount_sent: Msat,
    /// lightningd's failure message, for failed payments.
    pub failure: Option<String>,
    pub erring_channel: Option<ShortChannelId>,
    /// When lightningd started the payment (`created_at`, unix seconds), when it says.
    pub created_at: Option<u64>,
}

impl Payment {
    /// The fee this payment cost (meaningful once complete).
    pub fn fee(&self) -> Msat {
        self.amount_sent.saturating_sub(self.amount)
    }
}

/// lightningd, as the host sees it.
pub trait Node {
    fn info(&self) -> Result<NodeInfo, NodeError>;
    /// `listpeerchannels`.
    fn channels(&self) -> Result<Vec<NodeChannel>, NodeError>;
    /// `listforwards index=created start=START limit=LIMIT`: every forward created since
    /// `start`, as it stands now, in `created_index` order. The only listing with the
    /// `local_failed` ones (they are never updated).
    fn forwards_created_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError>;
    /// `listforwards index=updated start=START limit=LIMIT`: every forward changed after its
    /// creation since `start` (resolved ones), in `updated_index` order.
    fn forwards_updated_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError>;
    /// `listchannels destination=NODE`: the public channels that lead to `node` (gossip),
    /// ours included.
    fn gossip_channels_to(&self, node: &str) -> Result<Vec<GossipChannel>, NodeError>;
    /// `feerates perkb`, the `opening` estimate, in sat per 1000 vbytes.
    fn opening_feerate_perkb(&self) -> Result<u32, NodeError>;
    fn funds(&self) -> Result<Funds, NodeError>;
    /// `bkpr-listincome` from `since`: on-chain fees by account; `None` when the bookkeeper
    /// plugin is not running (the costs are then unknown, not zero).
    fn onchain_fees(&self, since: u64) -> Result<Option<Vec<OnchainFee>>, NodeError>;
    fn set_channel_fee(&mut self, request: &SetChannelFee) -> Result<(), NodeError>;
    /// The node's clock, unix seconds (simulated time in the simulator).
    fn now_secs(&self) -> u64;

    /// `invoice amount_msat label description`.
    fn create_invoice(
        &mut self,
        amount: Msat,
        label: &str,
        description: &str,
    ) -> Result<Invoice, NodeError>;
    /// askrene `getroutes` between two other nodes.
    fn get_routes(&self, request: &RouteRequest) -> Result<Vec<FoundRoute>, NodeError>;
    /// `sendpay` along `route` to pay `invoice` (returns at once; the payment is pending).
    fn send_pay(
        &mut self,
        route: &[RouteHop],
        invoice: &Invoice,
        amount: Msat,
        label: &str,
    ) -> Result<Payment, NodeError>;
    /// `waitsendpay`: the outcome, `Pending` if still unresolved after `timeout_secs`, `Failed`
    /// with lightningd's message when the payment failed.
    fn wait_send_pay(
        &mut self,
        payment_hash: &str,
        timeout_secs: u32,
    ) -> Result<Payment, NodeError>;
    /// `listsendpays payment_hash=…`: every attempt for the hash (for reconciliation at start).
    fn list_send_pays(&self, payment_hash: &str) -> Result<Vec<Payment>, NodeError>;
    /// Makes sure askrene `layer` exists and disables `node_id` in it (`askrene-listlayers`,
    /// `-create-layer`, `-disable-node`), so routes found with it never cross that node.
    fn exclude_node_in_layer(&self, layer: &str, node_id: &str) -> Result<(), NodeError>;
}
