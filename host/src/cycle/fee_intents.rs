//! `setchannel` intents: what a fee update records before its RPC, and how one interrupted by a
//! crash or shutdown is closed out. An intent still pending when a cycle starts is settled
//! against the chain before anything is judged: the fee on chain is the intended one → the
//! broadcast happened and is booked at the intent's time (it counts against the daily limit);
//! otherwise it did not, and the intent is marked failed. Either way it never stays pending.

use crate::{
    model::PricingMode,
    money::{Msat, Ppm},
    node::NodeChannel,
    scid::ShortChannelId,
    store::{BroadcastEntry, Intent, IntentStatus, Store, StoreResult},
};
use serde::{Deserialize, Serialize};

pub(super) const ACTION: &str = "setchannel";

/// The payload of a `setchannel` intent: the request and why it was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FeeIntent {
    pub channel: ShortChannelId,
    pub fee_base: Msat,
    pub fee_ppm: Ppm,
    /// Absent in intents written before the mode was recorded.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl FeeIntent {
    pub fn broadcast_at(&self, at: u64) -> BroadcastEntry {
        BroadcastEntry {
            channel: self.channel,
            at,
            fee_ppm: self.fee_ppm,
            fee_base: self.fee_base,
            mode: self
                .mode
                .as_deref()
                .and_then(PricingMode::parse)
                .unwrap_or(PricingMode::Normal),
            reason: self.reason.clone().unwrap_or_default(),
        }
    }
}

/// How the pending intents were closed out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reconciled {
    /// The fee reached the chain: booked as a broadcast at the intent's time.
    pub applied: usize,
    /// It did not (or the channel is gone): marked failed.
    pub not_applied: usize,
}

/// Settles every pending `setchannel` intent against `channels` (the node's listing now).
pub(super) fn reconcile(
    channels: &[NodeChannel],
    store: &mut Store,
    now: u64,
) -> StoreResult<Reconciled> {
    let mut result = Reconciled::default();
    let pending: Vec<Intent> = store
        .pending_intents()?
        .into_iter()
        .filter(|intent| intent.action == ACTION)
        .collect();
    for intent in pending {
        let Ok(fee) = serde_json::from_str::<FeeIntent>(&intent.payload) else {
            store.settle_intent(
                intent.id,
                IntentStatus::Failed,
                "reconciled: unreadable intent payload",
                now,
            )?;
            result.not_applied += 1;
            continue;
        };
        let on_chain = channels
            .iter()
            .find(|c| c.short_channel_id == Some(fee.channel))
            .map(|c| (c.fee_ppm, c.fee_base));
        if on_chain == Some((fee.fee_ppm, fee.fee_base)) {
            let mut entry = fee.broadcast_at(intent.created_at);
            entry.reason = format!("{} (reconciled after an interruption)", entry.reason)
                .trim_start()
                .to_owned();
            store.record_broadcast_settling(
                &entry,
                intent.id,
                "reconciled: the fee is on chain",
                now,
            )?;
            tracing::info!(channel = %fee.channel, fee_ppm = %fee.fee_ppm, "interrupted fee update reconciled: it reached the chain");
            result.applied += 1;
        } else {
            let outcome = match on_chain {
                None => "reconciled: the channel is no longer listed",
                Some(_) => "reconciled: the chain shows another fee; not applied",
            };
            store.settle_intent(intent.id, IntentStatus::Failed, outcome, now)?;
            tracing::info!(channel = %fee.channel, outcome, "interrupted fee update reconciled");
            result.not_applied += 1;
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(scid: &str, ppm: u32) -> NodeChannel {
        NodeChannel {
            peer_id: "02aa".into(),
            peer_connected: true,
            state: "CHANNELD_NORMAL".into(),
            short_channel_id: Some(scid.parse().unwrap()),
            opener: crate::model::Opener::Local,
            total: Msat::new(1_000_000_000),
            to_us: Msat::ZERO,
            fee_base: Msat::new(1000),
            fee_ppm: Ppm::new(ppm),
            htlc_min: Msat::ZERO,
            htlc_max: Msat::ZERO,
            max_accepted_htlcs: 483,
            htlcs: Vec::new(),
            funding_height: Some(1),
            remote_fee: None,
            channel_id: None,
        }
    }

    fn begin(store: &mut Store, scid: &str, ppm: u32, at: u64) -> u64 {
        let intent = FeeIntent {
            channel: scid.parse().unwrap(),
            fee_base: Msat::new(1000),
            fee_ppm: Ppm::new(ppm),
            mode: Some("congestion".into()),
            reason: Some("why".into()),
        };
        store
            .begin_intent(ACTION, scid, &serde_json::to_string(&intent).unwrap(), at)
            .unwrap()
    }

    #[test]
    fn an_interrupted_update_is_booked_or_failed_by_what_the_chain_shows() {
        let mut store = Store::open_in_memory().unwrap();
        begin(&mut store, "1x1x1", 700, 100);
        begin(&mut store, "2x2x2", 800, 100);
        begin(&mut store, "3x3x3", 900, 100);
        // An intent from before mode and reason were recorded.
        store
            .begin_intent(
                ACTION,
                "4x4x4",
                r#"{"channel":"4x4x4","fee_base":1000,"fee_ppm":50}"#,
                90,
            )
            .unwrap();
        let channels = [
            channel("1x1x1", 700),
            channel("2x2x2", 10),
            channel("4x4x4", 50),
        ];
        let result = reconcile(&channels, &mut store, 500).unwrap();
        assert_eq!(
            result,
            Reconciled {
                applied: 2,
                not_applied: 2
            }
        );
        assert!(store.pending_intents().unwrap().is_empty());
        let records = store.fee_records().unwrap();
        let applied = &records[&"1x1x1".parse().unwrap()];
        assert_eq!(
            applied.broadcast_at,
            Some(100),
            "booked at the intent's time"
        );
        assert_eq!(applied.mode, PricingMode::Congestion);
        assert_eq!(store.broadcast_counts_since(100).unwrap().len(), 1);
        assert_eq!(store.broadcast_counts_since(90).unwrap().len(), 2);
        // A second pass has nothing left to do.
        assert_eq!(
            reconcile(&channels, &mut store, 600).unwrap(),
            Reconciled::default()
        );
    }
}
