//! The decision engine end to end on the simulated node: the real cycle, store, guards and
//! policies; a recording wrapper shows every `setchannel` the cycle makes.

mod cycle;
mod defibrillator;
mod events;
mod market;
mod protective_modes;
mod rebalance;
mod simulate;

use revops::{
    analytics::FlowTracker,
    config::ConfigSnapshot,
    cycle::{CycleDeps, FeeCycleReport, run_fee_cycle},
    embedded,
    model::PolicyKind,
    money::Msat,
    node::{
        Forward, FoundRoute, Funds, GossipChannel, Invoice, Node, NodeChannel, NodeError, NodeInfo,
        OnchainFee, Payment, RouteHop, RouteRequest, SetChannelFee,
    },
    runtime::{Canary, PolicySource, Registry, RuntimeLimits, Sandbox},
    sim::{Scenario, SimNetwork},
    store::Store,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Delegates to a simulated node and records every `setchannel`; can be told to fail them.
pub struct RecordingNode {
    pub inner: SimNetwork,
    pub set_calls: Vec<SetChannelFee>,
    pub fail_setchannel: bool,
    /// `waitsendpay` times out (the payment looks still in flight).
    pub payments_in_flight: bool,
}

impl Node for RecordingNode {
    fn info(&self) -> Result<NodeInfo, NodeError> {
        self.inner.info()
    }
    fn channels(&self) -> Result<Vec<NodeChannel>, NodeError> {
        self.inner.channels()
    }
    fn forwards_created_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        self.inner.forwards_created_since(start, limit)
    }
    fn forwards_updated_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        self.inner.forwards_updated_since(start, limit)
    }
    fn gossip_channels_to(&self, node: &str) -> Result<Vec<GossipChannel>, NodeError> {
        self.inner.gossip_channels_to(node)
    }
    fn opening_feerate_perkb(&self) -> Result<u32, NodeError> {
        self.inner.opening_feerate_perkb()
    }
    fn funds(&self) -> Result<Funds, NodeError> {
        self.inner.funds()
    }
    fn onchain_fees(&self, since: u64) -> Result<Option<Vec<OnchainFee>>, NodeError> {
        self.inner.onchain_fees(since)
    }
    fn exclude_node_in_layer(&self, layer: &str, node_id: &str) -> Result<(), NodeError> {
        self.inner.exclude_node_in_layer(layer, node_id)
    }
    fn set_channel_fee(&mut self, request: &SetChannelFee) -> Result<(), NodeError> {
        self.set_calls.push(request.clone());
        if self.fail_setchannel {
            return Err(NodeError::Rpc {
                code: -1,
                message: "simulated lightningd failure".into(),
            });
        }
        self.inner.set_channel_fee(request)
    }
    fn now_secs(&self) -> u64 {
        self.inner.now_secs()
    }
    fn create_invoice(
        &mut self,
        amount: Msat,
        label: &str,
        description: &str,
    ) -> Result<Invoice, NodeError> {
        self.inner.create_invoice(amount, label, description)
    }
    fn get_routes(&self, request: &RouteRequest) -> Result<Vec<FoundRoute>, NodeError> {
        self.inner.get_routes(request)
    }
    fn send_pay(
        &mut self,
        route: &[RouteHop],
        invoice: &Invoice,
        amount: Msat,
        label: &str,
    ) -> Result<Payment, NodeError> {
        self.inner.send_pay(route, invoice, amount, label)
    }
    fn wait_send_pay(
        &mut self,
        payment_hash: &str,
        timeout_secs: u32,
    ) -> Result<Payment, NodeError> {
        let mut payment = self.inner.wait_send_pay(payment_hash, timeout_secs)?;
        if self.payments_in_flight {
            payment.status = revops::node::PaymentStatus::Pending;
        }
        Ok(payment)
    }
    fn list_send_pays(&self, payment_hash: &str) -> Result<Vec<Payment>, NodeError> {
        self.inner.list_send_pays(payment_hash)
    }
}

/// A node, a store and a registry with one fee policy in slot "main".
pub struct Bench {
    pub node: RecordingNode,
    pub store: Store,
    pub registry: Registry,
    pub flows: FlowTracker,
}

impl Bench {
    pub fn new(policy: &str, params: Value) -> Self {
        Self::with_wasm(embedded::shipped(policy).expect("shipped").wasm, params)
    }

    pub fn with_wasm(wasm: &[u8], params: Value) -> Self {
        let registry = Registry::new(Sandbox::new(None).unwrap(), None, 3);
        let params: BTreeMap<String, Value> = serde_json::from_value(params).unwrap();
        registry
            .load_bytes(
                PolicyKind::Fee,
                "main",
                wasm,
                PolicySource::Embedded("test".into()),
                &params,
                RuntimeLimits::default(),
                &Canary::sample(PolicyKind::Fee),
            )
            .expect("policy loads");
        let scenario = Scenario::builtin("default").unwrap();
        Self {
            node: RecordingNode {
                inner: SimNetwork::new(&scenario, Some(6)),
                set_calls: Vec::new(),
                fail_setchannel: false,
                payments_in_flight: false,
            },
            store: Store::open_in_memory().unwrap(),
            registry,
            flows: FlowTracker::default(),
        }
    }

    /// Loads a shipped rebalance policy into slot "main", with its defaults.
    pub fn load_shipped_rebalancer(&mut self, name: &str) {
        self.load_shipped_rebalancer_with(name, no_params());
    }

    /// Loads a shipped rebalance policy into slot "main" with `params`.
    pub fn load_shipped_rebalancer_with(&mut self, name: &str, params: Value) {
        let params: BTreeMap<String, Value> = serde_json::from_value(params).unwrap();
        self.registry
            .load_bytes(
                PolicyKind::Rebalance,
                "main",
                embedded::shipped(name).expect("shipped").wasm,
                PolicySource::Embedded(name.into()),
                &params,
                RuntimeLimits::default(),
                &Canary::sample(PolicyKind::Rebalance),
            )
            .expect("rebalance policy loads");
    }

    pub fn cycle(&mut self, config: &ConfigSnapshot) -> FeeCycleReport {
        let mut deps = CycleDeps {
            node: &mut self.node,
            store: &mut self.store,
            registry: &self.registry,
            flows: &mut self.flows,
        };
        run_fee_cycle(&mut deps, config, "main", 42, false).expect("cycle runs")
    }
}

pub fn no_params() -> Value {
    json!({})
}
