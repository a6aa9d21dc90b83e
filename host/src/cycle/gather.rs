//! From the node's channels to the policy's snapshot, applying price truth on the way.

use super::CycleError;
use crate::{
    analytics::FlowTracker,
    model::{
        ChannelView, FeerateSample, PeerView, PendingHtlc, PricingMode, ProfitabilityClass,
        Snapshot,
    },
    node::NodeChannel,
    store::{FeeRecord, Store},
};
use std::collections::HashMap;

/// How much feerate history policies see (the Vegas reflex uses a 24 h average).
pub const FEERATE_HISTORY_SECS: u64 = 24 * 3600;
/// Seconds per block, for a channel's age from its funding height.
const BLOCK_SECS: u64 = 600;

/// The snapshot plus what the guards need per channel (index-aligned with `snapshot.channels`).
pub(crate) struct Gathered {
    pub snapshot: Snapshot,
    pub peer_ids: Vec<String>,
    pub records: Vec<FeeRecord>,
    pub repaired: usize,
}

/// Builds the snapshot of managed channels (normal state, with a short channel id).
///
/// Price truth: the record of the last broadcast fee must match what `listpeerchannels`
/// shows. Where it does not (first sight of a channel, a fee changed by hand, a lost write),
/// the chain wins and the record is repaired.
pub(super) fn gather(
    channels: &[NodeChannel],
    blockheight: u32,
    now: u64,
    store: &mut Store,
    flows: &mut FlowTracker,
    feerates: Vec<FeerateSample>,
) -> Result<Gathered, CycleError> {
    let mut records = store.fee_records()?;
    let mut peers: Vec<PeerView> = Vec::new();
    let mut peer_index: HashMap<&str, u32> = HashMap::new();
    let mut views = Vec::new();
    let mut htlcs = Vec::new();
    let mut peer_ids = Vec::new();
    let mut kept_records = Vec::new();
    let mut repaired = 0;
    for channel in channels.iter().filter(|c| c.is_normal()) {
        let id = channel
            .short_channel_id
            .expect("normal channels have an id");
        let record = price_truth(channel, records.remove(&id), store, &mut repaired)?;
        let peer = *peer_index.entry(&channel.peer_id).or_insert_with(|| {
            peers.push(PeerView {
                node_id: channel.peer_id.clone(),
                connected: channel.peer_connected,
            });
            (peers.len() - 1) as u32
        });
        let index = views.len() as u32;
        htlcs.extend(channel.htlcs.iter().map(|h| PendingHtlc {
            channel: index,
            amount: h.amount,
            outgoing: h.outgoing,
        }));
        views.push(ChannelView {
            id,
            peer,
            capacity: channel.total,
            local: channel.to_us,
            remote: channel.total.saturating_sub(channel.to_us),
            fee_base: channel.fee_base,
            fee_ppm: channel.fee_ppm,
            htlc_min: channel.htlc_min,
            htlc_max: channel.htlc_max,
            max_accepted_htlcs: channel.max_accepted_htlcs,
            opener: channel.opener,
            age_secs: channel
                .funding_height
                .map_or(0, |h| u64::from(blockheight.saturating_sub(h)) * BLOCK_SECS),
            active: channel.peer_connected,
            last_broadcast_ppm: Some(record.fee_ppm),
            last_broadcast_secs: record.broadcast_at,
            probe_active: false,
            class: ProfitabilityClass::Unknown,
            profit: None,
            flow: flows.stats(id, now),
        });
        peer_ids.push(channel.peer_id.clone());
        kept_records.push(record);
    }
    Ok(Gathered {
        snapshot: Snapshot {
            channels: views,
            peers,
            htlcs,
            feerates,
        },
        peer_ids,
        records: kept_records,
        repaired,
    })
}

fn price_truth(
    channel: &NodeChannel,
    record: Option<FeeRecord>,
    store: &mut Store,
    repaired: &mut usize,
) -> Result<FeeRecord, CycleError> {
    let id = channel
        .short_channel_id
        .expect("normal channels have an id");
    let reason = match record {
        Some(record)
            if record.fee_ppm == channel.fee_ppm && record.fee_base == channel.fee_base =>
        {
            return Ok(record);
        }
        Some(record) => {
            *repaired += 1;
            tracing::warn!(
                channel = %id,
                recorded_ppm = %record.fee_ppm,
                chain_ppm = %channel.fee_ppm,
                "price truth: fee record repaired from the chain"
            );
            "repaired: the chain showed a different fee than recorded"
        }
        None => "found on chain",
    };
    let fixed = FeeRecord {
        channel: id,
        fee_ppm: channel.fee_ppm,
        fee_base: channel.fee_base,
        broadcast_at: None,
        mode: PricingMode::Normal,
        reason: reason.into(),
    };
    store.put_fee_record(&fixed)?;
    Ok(fixed)
}
