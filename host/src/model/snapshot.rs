//! What a policy is shown: the node snapshot, the call context and the policy's own state.

use crate::{
    money::{Msat, Ppm},
    scid::ShortChannelId,
};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Opener {
    Local,
    Remote,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfitabilityClass {
    #[default]
    Unknown,
    Profitable,
    BreakEven,
    Underwater,
    Bleeder,
    StagnantCandidate,
    Zombie,
}

/// Forwarding activity through one channel; `in` means the channel was the incoming side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowStats {
    pub in_1d: Msat,
    pub out_1d: Msat,
    pub fees_earned_1d: Msat,
    pub forwards_out_1d: u32,
    pub in_7d: Msat,
    pub out_7d: Msat,
    pub fees_earned_7d: Msat,
    pub forwards_out_7d: u32,
    pub forwards_in_7d: u32,
    /// Running totals since the host started counting (see the WIT docs).
    pub out_total: Msat,
    pub fees_earned_total: Msat,
    pub forwards_out_total: u64,
    pub last_forward_age_secs: Option<u64>,
    /// Demand we could not serve: `local_failed` forwards out of this channel, and their
    /// incoming amounts (see the WIT docs).
    pub failed_out_1d: u32,
    pub failed_out_amount_1d: Msat,
    pub failed_out_7d: u32,
    pub failed_out_amount_7d: Msat,
}

/// Host analytics of a channel's return, in basis points.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profit {
    pub roi_bp: i32,
    pub marginal_roi_bp: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelView {
    pub id: ShortChannelId,
    /// Index into `Snapshot::peers`.
    pub peer: u32,
    pub capacity: Msat,
    pub local: Msat,
    pub remote: Msat,
    pub fee_base: Msat,
    pub fee_ppm: Ppm,
    pub htlc_min: Msat,
    pub htlc_max: Msat,
    pub max_accepted_htlcs: u16,
    pub opener: Opener,
    pub age_secs: u64,
    pub active: bool,
    pub last_broadcast_ppm: Option<Ppm>,
    pub last_broadcast_secs: Option<u64>,
    pub probe_active: bool,
    pub class: ProfitabilityClass,
    pub profit: Option<Profit>,
    pub flow: FlowStats,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PeerView {
    pub node_id: String,
    pub connected: bool,
    /// What other channels to this peer charge (from gossip), when known.
    pub competitors: Option<CompetitorFees>,
}

/// The proportional fees of the other public channels whose destination is a peer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompetitorFees {
    pub channels: u32,
    pub p25: Ppm,
    pub median: Ppm,
    pub p75: Ppm,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingHtlc {
    /// Index into `Snapshot::channels`.
    pub channel: u32,
    pub amount: Msat,
    pub outgoing: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeerateSample {
    pub at_secs: u64,
    /// Satoshi per 1000 virtual bytes (CLN `feerates perkb`, `opening`).
    pub opening_perkb: u32,
}

/// The node as fee and rebalance policies see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub channels: Vec<ChannelView>,
    pub peers: Vec<PeerView>,
    pub htlcs: Vec<PendingHtlc>,
    pub feerates: Vec<FeerateSample>,
}

impl Snapshot {
    pub fn channel(&self, id: ShortChannelId) -> Option<&ChannelView> {
        self.channels.iter().find(|c| c.id == id)
    }
}

/// The bytes a policy persisted last time: one blob for the node, one per channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyState {
    pub node: Vec<u8>,
    pub channels: BTreeMap<ShortChannelId, Vec<u8>>,
}

/// Per-call facts the host supplies besides the snapshot. Parameters are not here: the
/// runtime adds the ones resolved when the policy was loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallContext {
    pub now_secs: u64,
    pub previous_call_secs: Option<u64>,
    pub seed: u64,
    pub state: PolicyState,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RebalanceBudget {
    pub remaining: Msat,
    pub max_fee_ppm: Ppm,
    pub max_concurrent: u32,
    pub in_flight: u32,
    /// Most a diagnostic rebalance may cost; zero turns diagnostics off.
    pub diagnostic_max_fee: Msat,
    /// Rebalance fees paid over the last 7 days.
    pub spent_7d: Msat,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockTier {
    Liquid,
    Days30,
    Days90,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Investor {
    pub id: String,
    pub tier: LockTier,
    pub twab: Msat,
    pub balance: Msat,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PayoutInput {
    pub period_id: String,
    pub distributable: Msat,
    pub native_capital: Msat,
    pub investors: Vec<Investor>,
}
