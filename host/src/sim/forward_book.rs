//! The simulated node's forwards, indexed as lightningd indexes them: a `created_index` for
//! every forward when it is made, an `updated_index` only when it changes after that (an
//! `offered` forward that resolves). A `local_failed` forward is created final and is never
//! updated, so only the created listing shows it — as on a real node.

use crate::node::{Forward, ForwardStatus};
use std::{
    cell::Cell,
    collections::{BTreeMap, VecDeque},
};

pub(super) struct ForwardBook {
    /// created index → the forward as it stands now.
    forwards: BTreeMap<u64, Forward>,
    /// `updates[i]`: the created index of the forward whose update got updated index
    /// `updates_start + i`.
    updates: VecDeque<u64>,
    updates_start: u64,
    next_created: u64,
    /// The consumer asked from here on (per listing): older entries can go.
    acknowledged_created: Cell<u64>,
    acknowledged_updated: Cell<u64>,
}

impl Default for ForwardBook {
    fn default() -> Self {
        Self {
            forwards: BTreeMap::new(),
            updates: VecDeque::new(),
            updates_start: 1,
            next_created: 1,
            acknowledged_created: Cell::new(0),
            acknowledged_updated: Cell::new(0),
        }
    }
}

impl ForwardBook {
    /// Records a new forward (its indexes are assigned here); returns its created index.
    pub fn create(&mut self, mut forward: Forward) -> u64 {
        let created = self.next_created;
        self.next_created += 1;
        forward.created_index = created;
        forward.updated_index = None;
        self.forwards.insert(created, forward);
        created
    }

    /// An offered forward resolved: it gets the next updated index.
    pub fn resolve(&mut self, created: u64, status: ForwardStatus, resolved_ms: u64) {
        let updated = self.updates_start + self.updates.len() as u64;
        if let Some(forward) = self.forwards.get_mut(&created) {
            forward.status = status;
            forward.resolved_ms = Some(resolved_ms);
            forward.updated_index = Some(updated);
            self.updates.push_back(created);
        }
    }

    /// `listforwards index=created start limit`.
    pub fn created_since(&self, start: u64, limit: u32) -> Vec<Forward> {
        self.acknowledged_created
            .set(self.acknowledged_created.get().max(start));
        self.forwards
            .range(start..)
            .take(limit as usize)
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// `listforwards index=updated start limit`.
    pub fn updated_since(&self, start: u64, limit: u32) -> Vec<Forward> {
        self.acknowledged_updated
            .set(self.acknowledged_updated.get().max(start));
        let skip = start.saturating_sub(self.updates_start) as usize;
        self.updates
            .iter()
            .skip(skip)
            .take(limit as usize)
            .filter_map(|created| self.forwards.get(created).cloned())
            .collect()
    }

    /// Forgets what both listings have been read past and can never change again.
    pub fn trim(&mut self) {
        let (created, updated) = (
            self.acknowledged_created.get(),
            self.acknowledged_updated.get(),
        );
        while self.updates_start < updated && !self.updates.is_empty() {
            self.updates.pop_front();
            self.updates_start += 1;
        }
        let done = |f: &Forward| {
            f.status != ForwardStatus::Offered && f.updated_index.is_none_or(|u| u < updated)
        };
        let stale: Vec<u64> = self
            .forwards
            .range(..created)
            .filter(|(_, f)| done(f))
            .map(|(c, _)| *c)
            .collect();
        for key in stale {
            self.forwards.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{money::Msat, scid::ShortChannelId};

    fn offered(status: ForwardStatus) -> Forward {
        Forward {
            created_index: 0,
            updated_index: None,
            in_channel: ShortChannelId::from_u64(1),
            out_channel: Some(ShortChannelId::from_u64(2)),
            in_amount: Msat::new(1010),
            out_amount: Some(Msat::new(1000)),
            fee: Some(Msat::new(10)),
            status,
            received_ms: 5,
            resolved_ms: None,
            failure: None,
        }
    }

    #[test]
    fn indexes_follow_lightningd() {
        let mut book = ForwardBook::default();
        let a = book.create(offered(ForwardStatus::Offered));
        let b = book.create(offered(ForwardStatus::LocalFailed));
        assert_eq!((a, b), (1, 2));
        assert!(book.updated_since(0, 10).is_empty(), "nothing updated yet");
        book.resolve(a, ForwardStatus::Settled, 9);
        let updated = book.updated_since(0, 10);
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].updated_index, Some(1));
        // The created listing shows each forward as it stands now.
        let created = book.created_since(0, 10);
        assert_eq!(created[0].status, ForwardStatus::Settled);
        assert_eq!(created[1].status, ForwardStatus::LocalFailed);
        assert_eq!(created[1].updated_index, None);
        book.created_since(3, 10);
        book.updated_since(2, 10);
        book.trim();
        assert!(book.created_since(0, 10).is_empty());
    }

    #[test]
    fn an_unread_update_keeps_its_forward() {
        let mut book = ForwardBook::default();
        let a = book.create(offered(ForwardStatus::Offered));
        book.created_since(2, 10);
        book.trim();
        book.resolve(a, ForwardStatus::Settled, 9);
        assert_eq!(book.updated_since(0, 10).len(), 1);
    }
}
