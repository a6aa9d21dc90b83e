//! From the node's channels to the policy's snapshot, applying price truth on the way.

use super::CycleError;
use crate::{
    analytics::{
        FlowTracker,
        competitors::summarize as summarize_competitors,
        defibrillator::probe_end,
        profitability::{WINDOW_DAYS, profitability},
    },
    model::{ChannelView, FeerateSample, PeerView, PendingHtlc, PricingMode, Snapshot},
    node::NodeChannel,
    scid::ShortChannelId,
    store::{FeeRecord, Store},
};
use std::collections::HashMap;

/// How much feerate history policies see (the Vegas reflex uses a 24 h average).
pub const FEERATE_HISTORY_SECS: u64 = 24 * 3600;
/// Seconds per block, for a channel's age from its funding height.
const BLOCK_SECS: u64 = 600;
const DAY_SECS: u64 = 86_400;

/// The snapshot plus what the guards need per channel (index-aligned with `snapshot.channels`).
pub(crate) struct Gathered {
    pub snapshot: Snapshot,
    pub peer_ids: Vec<String>,
    pub records: Vec<FeeRecord>,
    pub repaired: usize,
}

/// Reads the node's channels and the stored feerate history at `now`, and gathers.
pub(super) fn gather_from_node(
    deps: &mut super::CycleDeps<'_>,
    now: u64,
) -> Result<Gathered, CycleError> {
    let info = deps.node.info()?;
    let channels = deps.node.channels()?;
    refresh_competitors(deps, &info.id, &channels, now);
    // Before price truth: an interrupted update that reached the chain is a broadcast (it
    // counts against the daily limit), not a repair.
    super::fee_intents::reconcile(&channels, deps.store, now)?;
    let feerates = deps
        .store
        .feerates_since(now.saturating_sub(FEERATE_HISTORY_SECS))?;
    gather(
        &channels,
        info.blockheight,
        now,
        deps.store,
        deps.flows,
        feerates,
    )
}

/// Refreshes the competitor figures of the peers whose figures are an hour old. A failing
/// `listchannels` keeps the old figures (and is retried in an hour): a warning, not an error.
fn refresh_competitors(
    deps: &mut super::CycleDeps<'_>,
    our_id: &str,
    channels: &[NodeChannel],
    now: u64,
) {
    let mut failures = 0;
    let mut last_error = None;
    for channel in channels.iter().filter(|c| c.is_normal()) {
        let peer = channel.peer_id.as_str();
        if !deps.flows.competitors.is_due(peer, now) {
            continue;
        }
        let fees = match deps.node.gossip_channels_to(peer) {
            Ok(listed) => Some(summarize_competitors(our_id, &listed)),
            Err(error) => {
                failures += 1;
                last_error = Some(error);
                None
            }
        };
        deps.flows.competitors.put(peer, now, fees);
    }
    if let Some(error) = last_error {
        tracing::warn!(failures, %error, "listchannels failed; competitor fees kept from the last reading");
    }
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
    let probing = settle_probes(store, flows, now)?;
    if flows.profit.is_due(now) {
        let windows = WINDOW_DAYS.map(|days| now.saturating_sub(days * DAY_SECS));
        let activity = store.channel_activity_windows(windows)?;
        let defib = store.channel_history(now)?;
        flows.profit.replace(
            now,
            &profitability(channels, blockheight, &activity, &defib),
        );
    }
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
                competitors: flows.competitors.get(&channel.peer_id),
            });
            (peers.len() - 1) as u32
        });
        let index = views.len() as u32;
        let (class, profit) = flows.profit.get(id);
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
            probe_active: probing.contains(&id),
            class,
            profit,
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

/// Ends the probes whose channel routed or whose time is up; returns the channels still probing.
fn settle_probes(
    store: &mut Store,
    flows: &mut FlowTracker,
    now: u64,
) -> Result<Vec<ShortChannelId>, CycleError> {
    let mut probing = Vec::new();
    for (channel, probe) in store.open_probes()? {
        let last_forward_at = flows
            .stats(channel, now)
            .last_forward_age_secs
            .map(|age| now.saturating_sub(age));
        match probe_end(&probe, last_forward_at, now) {
            Some(reason) => {
                tracing::info!(%channel, reason, "zero-fee probe ended");
                store.end_probe(channel, now, reason)?;
                flows.profit.invalidate();
            }
            None => probing.push(channel),
        }
    }
    Ok(probing)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        cycle::ingest_forwards,
        model::ProfitabilityClass,
        node::Node,
        sim::{Scenario, SimNetwork},
    };

    #[test]
    fn policies_see_the_hosts_profitability_analysis() {
        let scenario = Scenario::builtin("default").unwrap();
        let mut node = SimNetwork::new(&scenario, None);
        let mut store = Store::open_in_memory().unwrap();
        let mut flows = FlowTracker::default();
        // Watched from the start: after 8 days an idle week means something.
        ingest_forwards(&node, &mut store, &mut flows).unwrap();
        node.advance_to(scenario.start + 8 * DAY_SECS);
        ingest_forwards(&node, &mut store, &mut flows).unwrap();
        let now = node.now_secs();
        let channels = node.channels().unwrap();
        let blockheight = node.info().unwrap().blockheight;
        let gathered = gather(
            &channels,
            blockheight,
            now,
            &mut store,
            &mut flows,
            Vec::new(),
        )
        .unwrap();
        let views = &gathered.snapshot.channels;
        assert!(views.iter().all(|c| c.profit.is_some()), "analysed at once");
        let earning: Vec<_> = views
            .iter()
            .filter(|c| c.flow.fees_earned_7d.msat() > 0)
            .collect();
        assert!(!earning.is_empty());
        for channel in earning {
            assert!(
                matches!(
                    channel.class,
                    ProfitabilityClass::Profitable | ProfitabilityClass::BreakEven
                ),
                "{channel:?}"
            );
            assert!(channel.profit.unwrap().roi_bp >= 0, "{channel:?}");
        }
        assert!(
            views
                .iter()
                .any(|c| c.class == ProfitabilityClass::StagnantCandidate),
            "the default scenario's dead channels are stagnant"
        );
        assert!(
            !flows.profit.is_due(now + 3600),
            "not re-analysed every cycle"
        );
    }
}
