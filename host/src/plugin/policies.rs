//! Policies in the plugin: loading (embedded or from the policy directory) with the version
//! recorded, every slot change persisted as it happens, and at start each slot restored exactly
//! as it was: the version that served, its last-known-good, what was quarantined or holding.

use super::state::{DEFAULT_SLOT, Revops, lock};
use crate::{
    cycle::SHADOW_SLOT,
    embedded,
    model::PolicyKind,
    runtime::{
        Canary, LoadError, LoadReport, PolicySource, Prepared, QuarantinedVersion, Registry,
        RestoredSlot, RuntimeLimits, SlotChange, SlotLayout, VersionId,
    },
    store::{Durability, SlotRecord, Store, StoredSlot},
};
use anyhow::Context as _;
use serde_json::Value;
use std::{collections::BTreeMap, path::Path, sync::Mutex};

/// Makes every slot change reach the database as it happens. Quarantine happens inside a
/// cycle, while the cycle holds the plugin's store, so the changes go through a connection of
/// their own. The shadow slot is an experiment and is not kept.
pub(super) fn persist_slot_changes(registry: &Registry, database: &Path) -> anyhow::Result<()> {
    let journal = Mutex::new(Store::open(database, Durability::Normal)?);
    let observer = move |change: &SlotChange<'_>| {
        let mut store = lock(&journal);
        let (kind, slot, result) = match change {
            SlotChange::Changed { slot, .. } | SlotChange::Removed { slot, .. }
                if *slot == SHADOW_SLOT =>
            {
                return;
            }
            SlotChange::Changed { kind, slot, layout } => (
                kind,
                slot,
                store.save_slot_record(*kind, slot, &record_of(layout)),
            ),
            SlotChange::Removed { kind, slot } => {
                (kind, slot, store.forget_slot(*kind, slot).map(drop))
            }
        };
        if let Err(error) = result {
            tracing::warn!(%kind, slot = %slot, %error, "policy slot change not saved; a restart may bring back the previous layout");
        }
    };
    registry
        .observe(Box::new(observer))
        .map_err(|_| anyhow::anyhow!("the policy registry already has an observer"))
}

fn record_of(layout: &SlotLayout) -> SlotRecord {
    SlotRecord {
        active: layout.active,
        last_known_good: layout.last_known_good,
        quarantined: layout.quarantined.as_ref().map(|q| q.label.clone()),
        quarantined_version: layout.quarantined.as_ref().and_then(|q| q.version),
        consecutive_failures: layout.consecutive_failures,
        last_error: layout.last_error.clone(),
    }
}

impl Revops {
    /// Loads `source` (`embedded:NAME` or a path in the policy directory) into a slot; with
    /// `record`, the version is recorded so that a restart restores it.
    pub fn load_policy(
        &self,
        kind: PolicyKind,
        slot: &str,
        source: &str,
        params: &BTreeMap<String, Value>,
        record: bool,
    ) -> Result<LoadReport, LoadError> {
        let prepared = self.prepare_policy(kind, source, params)?;
        let version = if record {
            self.record_version(kind, slot, source, params, &prepared)
        } else {
            None
        };
        Ok(self.registry.activate(kind, slot, prepared, version))
    }

    /// Compiles, checks and canary-tests a policy; nothing is swapped yet.
    fn prepare_policy(
        &self,
        kind: PolicyKind,
        source: &str,
        params: &BTreeMap<String, Value>,
    ) -> Result<Prepared, LoadError> {
        let canary = Canary::sample(kind);
        let limits = RuntimeLimits::default();
        match source.strip_prefix("embedded:") {
            Some(name) => {
                let policy = embedded::shipped(name)
                    .filter(|p| p.kind == kind)
                    .ok_or_else(|| LoadError::UnknownEmbedded {
                        kind,
                        name: name.to_owned(),
                    })?;
                self.registry.prepare_bytes(
                    kind,
                    policy.wasm,
                    PolicySource::Embedded(name.to_owned()),
                    params,
                    limits,
                    &canary,
                )
            }
            None => self
                .registry
                .prepare_file(kind, Path::new(source), params, limits, &canary),
        }
    }

    /// Records a version about to serve; `None` (logged) if the database refuses.
    fn record_version(
        &self,
        kind: PolicyKind,
        slot: &str,
        source: &str,
        params: &BTreeMap<String, Value>,
        prepared: &Prepared,
    ) -> Option<VersionId> {
        let policy = prepared.policy();
        let recorded_source = if source.starts_with("embedded:") {
            source.to_owned()
        } else {
            policy.source.to_string()
        };
        let params_json = serde_json::to_string(params).unwrap_or_else(|_| "{}".into());
        let result = lock(&self.store).record_policy_version(
            kind,
            slot,
            &policy.info.name,
            &policy.info.version,
            &policy.sha256_hex(),
            &recorded_source,
            &params_json,
            super::state::unix_now(),
        );
        result
            .inspect_err(|error| {
                tracing::warn!(%kind, slot = %slot, %error, "policy loaded but its version could not be recorded; a restart will not restore it");
            })
            .ok()
    }

    /// Every slot as it was before the restart; the shipped payout policy if LDS is on and
    /// none was; the configured default fee policy for the default fee slot if it had none or
    /// nothing in it can be restored. (A holding default fee slot stays holding. There is no
    /// default rebalance policy: rebalancing runs only once an operator loads one.)
    pub(super) fn restore_policies(&self) -> anyhow::Result<()> {
        let stored = lock(&self.store).slot_records()?;
        for slot in stored {
            self.restore_slot(slot);
        }
        self.ensure_payout_policy();
        if !self.registry.contains(PolicyKind::Fee, DEFAULT_SLOT) {
            let configured = self.setup.fee_policy.clone();
            self.load_policy(
                PolicyKind::Fee,
                DEFAULT_SLOT,
                &configured,
                &BTreeMap::new(),
                true,
            )?;
        }
        Ok(())
    }

    /// Puts one stored slot back. If its active version cannot be loaded any more (its file
    /// is gone), the last-known-good one serves, with the reason as the slot's last error.
    fn restore_slot(&self, stored: StoredSlot) {
        let StoredSlot { kind, slot, record } = stored;
        let mut restored = RestoredSlot {
            quarantined: record.quarantined.map(|label| QuarantinedVersion {
                label,
                version: record.quarantined_version,
            }),
            consecutive_failures: record.consecutive_failures,
            last_error: record.last_error,
            ..RestoredSlot::default()
        };
        let mut lost_active = None;
        if let Some(id) = record.active {
            match self.prepare_recorded(kind, id) {
                Ok(prepared) => restored.active = Some((prepared, id)),
                Err(error) => {
                    tracing::warn!(%kind, slot = %slot, error = %format!("{error:#}"), "cannot restore this slot's active policy");
                    lost_active = Some(error);
                }
            }
        }
        if let Some(id) = record.last_known_good {
            match self.prepare_recorded(kind, id) {
                Ok(prepared) if restored.active.is_none() => {
                    restored.active = Some((prepared, id));
                    restored.last_error = lost_active.map(|error| {
                        format!("the active version could not be restored: {error:#}")
                    });
                }
                Ok(prepared) => restored.last_known_good = Some((prepared, id)),
                Err(error) => {
                    tracing::warn!(%kind, slot = %slot, error = %format!("{error:#}"), "cannot restore this slot's last-known-good policy");
                }
            }
        }
        if restored.active.is_none() && restored.quarantined.is_none() {
            // Nothing to serve, and it was not holding: as if never loaded.
            return;
        }
        let status = self.registry.restore(kind, &slot, restored);
        tracing::info!(%kind, slot = %slot, state = %status.state, active = %status.active.as_deref().unwrap_or("none"), "policy slot restored");
    }

    /// A recorded version, prepared again from its source and parameters.
    fn prepare_recorded(&self, kind: PolicyKind, id: VersionId) -> anyhow::Result<Prepared> {
        let version = lock(&self.store)
            .policy_version(id)?
            .with_context(|| format!("recorded version {id} is missing"))?;
        let params: BTreeMap<String, Value> = serde_json::from_str(&version.params)
            .with_context(|| format!("recorded parameters of {}", version.source))?;
        self.prepare_policy(kind, &version.source, &params)
            .with_context(|| version.source.clone())
    }
}
