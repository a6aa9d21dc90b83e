//! What the stand-in adds to the simulated node's payments to answer as lightningd does: when
//! each payment was sent (lightningd's clock: `created_at`, `completed_at`), payments held in
//! flight on request (as behind a holding `htlc_accepted` hook), and how often each payment
//! hash was sent (a payment made twice shows here).

use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::{SystemTime, UNIX_EPOCH},
};

#[derive(Default)]
pub struct PaymentBook {
    sent_at: HashMap<String, u64>,
    /// `sendpay` calls per payment hash, accepted or not.
    pub sendpays: BTreeMap<String, u32>,
    /// While set, every new payment stays in flight until `release` (waitsendpay times out,
    /// listsendpays says pending).
    pub hold_new: bool,
    held: BTreeSet<String>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl PaymentBook {
    /// A `sendpay` call for `hash` arrived.
    pub fn counted(&mut self, hash: &str) {
        *self.sendpays.entry(hash.to_owned()).or_default() += 1;
    }

    /// lightningd accepted the payment of `hash`.
    pub fn sent(&mut self, hash: &str) {
        self.sent_at.entry(hash.to_owned()).or_insert_with(unix_now);
        if self.hold_new {
            self.held.insert(hash.to_owned());
        }
    }

    pub fn is_held(&self, hash: &str) -> bool {
        self.held.contains(hash)
    }

    /// Lets every held payment resolve (as the simulated node settled it).
    pub fn release(&mut self) {
        self.hold_new = false;
        self.held.clear();
    }

    /// Writes lightningd's view into one payment object of an answer.
    pub fn patch(&self, payment: &mut Value) {
        let Some(hash) = payment["payment_hash"].as_str().map(str::to_owned) else {
            return;
        };
        let Some(object) = payment.as_object_mut() else {
            return;
        };
        if let Some(at) = self.sent_at.get(&hash) {
            object.insert("created_at".into(), json!(at));
            if object.contains_key("completed_at") {
                object.insert("completed_at".into(), json!(at));
            }
        }
        if self.held.contains(&hash) {
            object.insert("status".into(), json!("pending"));
            object.remove("completed_at");
            object.remove("payment_preimage");
        }
    }
}
