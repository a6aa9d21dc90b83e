//! Policy assignment: which registry slot decides each channel — the channel's own assignment,
//! else its peer's, else the default slot — and the part of the snapshot a slot is shown.

use crate::{
    config::Scope,
    model::{PeerView, PendingHtlc, Snapshot},
    scid::ShortChannelId,
};
use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap},
};

#[derive(Clone, Debug, Default)]
pub struct Assignments {
    by_channel: HashMap<ShortChannelId, String>,
    by_peer: HashMap<String, String>,
}

impl Assignments {
    /// From stored `(scope, slot)` pairs; scopes that no longer parse are skipped.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut assignments = Self::default();
        for (scope, slot) in pairs {
            match Scope::parse(scope) {
                Ok(Scope::Channel(id)) => {
                    assignments.by_channel.insert(id, slot.clone());
                }
                Ok(Scope::Peer(peer)) => {
                    assignments.by_peer.insert(peer, slot.clone());
                }
                Err(_) => {
                    tracing::warn!(scope = %scope, "ignoring an unreadable policy assignment")
                }
            }
        }
        assignments
    }

    pub fn slot_for<'a>(
        &'a self,
        channel: ShortChannelId,
        peer_id: &str,
        default: &'a str,
    ) -> &'a str {
        self.by_channel
            .get(&channel)
            .or_else(|| self.by_peer.get(&peer_id.to_ascii_lowercase()))
            .map_or(default, String::as_str)
    }

    /// Channel indexes of `snapshot` per slot, in snapshot order.
    pub fn partition<'a>(
        &'a self,
        snapshot: &Snapshot,
        peer_ids: &[String],
        default: &'a str,
    ) -> BTreeMap<&'a str, Vec<usize>> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, channel) in snapshot.channels.iter().enumerate() {
            let slot = self.slot_for(channel.id, &peer_ids[index], default);
            groups.entry(slot).or_default().push(index);
        }
        groups
    }
}

/// The snapshot restricted to the channels at `keep`, with peers and HTLCs re-indexed
/// (borrowed as it is when `keep` is every channel: the usual case of one slot).
pub fn subset<'a>(snapshot: &'a Snapshot, keep: &[usize]) -> Cow<'a, Snapshot> {
    if keep.len() == snapshot.channels.len() {
        return Cow::Borrowed(snapshot);
    }
    let mut peers: Vec<PeerView> = Vec::new();
    let mut peer_map: HashMap<u32, u32> = HashMap::new();
    let mut channel_map: HashMap<u32, u32> = HashMap::new();
    let channels = keep
        .iter()
        .enumerate()
        .map(|(new_index, &old_index)| {
            let mut channel = snapshot.channels[old_index].clone();
            channel.peer = *peer_map.entry(channel.peer).or_insert_with(|| {
                peers.push(snapshot.peers[channel.peer as usize].clone());
                (peers.len() - 1) as u32
            });
            channel_map.insert(old_index as u32, new_index as u32);
            channel
        })
        .collect();
    let htlcs = snapshot
        .htlcs
        .iter()
        .filter_map(|h| {
            channel_map.get(&h.channel).map(|&channel| PendingHtlc {
                channel,
                ..h.clone()
            })
        })
        .collect();
    Cow::Owned(Snapshot {
        channels,
        peers,
        htlcs,
        feerates: snapshot.feerates.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sample::sample_snapshot;

    #[test]
    fn channel_beats_peer_beats_default() {
        let snapshot = sample_snapshot(6, 2);
        let peer_ids: Vec<String> = snapshot
            .channels
            .iter()
            .map(|c| snapshot.peers[c.peer as usize].node_id.clone())
            .collect();
        let assignments = Assignments::from_pairs(&[
            (peer_ids[1].clone(), "careful".into()),
            (snapshot.channels[1].id.to_string(), "bold".into()),
            ("nonsense".into(), "x".into()),
        ]);
        let groups = assignments.partition(&snapshot, &peer_ids, "default");
        assert_eq!(groups["bold"], vec![1]);
        // Other channels of channel 1's peer follow the peer assignment.
        assert!(
            groups
                .get("careful")
                .is_none_or(|g| g.iter().all(|&i| peer_ids[i] == peer_ids[1]))
        );
        let total: usize = groups.values().map(Vec::len).sum();
        assert_eq!(total, 6);
    }

    #[test]
    fn subsets_reindex_peers_and_htlcs() {
        let snapshot = sample_snapshot(40, 3);
        let keep: Vec<usize> = (0..40).filter(|i| i % 3 == 0).collect();
        let part = subset(&snapshot, &keep);
        assert_eq!(part.channels.len(), keep.len());
        for (new, &old) in keep.iter().enumerate() {
            assert_eq!(part.channels[new].id, snapshot.channels[old].id);
            let peer = &part.peers[part.channels[new].peer as usize];
            assert_eq!(peer, &snapshot.peers[snapshot.channels[old].peer as usize]);
        }
        let expected = snapshot.htlcs.iter().filter(|h| h.channel % 3 == 0).count();
        assert_eq!(part.htlcs.len(), expected);
        assert!(
            part.htlcs
                .iter()
                .all(|h| (h.channel as usize) < part.channels.len())
        );
    }
}
