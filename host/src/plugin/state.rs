//! The plugin's shared state: store, registry, configuration, analytics, and the cycle lock
//! that keeps one cycle at a time. Cycles run on blocking worker threads (`spawn_blocking`),
//! never on the event loop that serves lightningd.

use super::summary::{CycleSummary, RebalanceSummary};
use crate::{
    analytics::{FlowTracker, mempool},
    config::{ConfigError, ConfigManager, ConfigSnapshot},
    cycle::{
        CycleDeps, CycleError, FeeCycleReport, RebalanceCycleReport, ingest_forwards,
        run_fee_cycle, run_rebalance_cycle,
    },
    lnbits::LnbitsClient,
    model::params_from_words,
    node::ClnNode,
    rng::SplitMix64,
    runtime::{Allocation, PolicyDir, Registry, Sandbox},
    store::{Durability, Store},
};
use serde_json::Value;
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::Notify;

/// Every LNbits call gives up after this long.
const LNBITS_TIMEOUT: Duration = Duration::from_secs(20);

/// revops' database, in its data directory.
const DATABASE_FILE: &str = "revops.sqlite3";
/// The registry slot every kind uses unless told otherwise.
pub const DEFAULT_SLOT: &str = "default";
/// Forwards replayed into the analytics at start (the 7-day window, and a day to spare).
const ANALYTICS_REPLAY_SECS: u64 = 8 * 86_400;

/// Where things live and how to reach lightningd, resolved from `init`.
pub struct Setup {
    pub data_dir: PathBuf,
    pub policy_dir: PathBuf,
    pub rpc_socket: PathBuf,
    pub rpc_timeout: Duration,
    pub fee_policy: String,
    pub ingest_interval: Duration,
    /// Policy instances from a pre-reserved pool (`revenue-wasm-pooling`), or mapped per call.
    pub wasm_pooling: bool,
    pub config_base: BTreeMap<String, Value>,
    /// LNbits for the Liquidity Dividend System, if configured.
    pub lds: Option<LdsSetup>,
}

pub struct LdsSetup {
    pub lnbits_url: String,
    pub operator_key: Option<String>,
}

pub struct Inner {
    pub setup: Setup,
    pub store: Mutex<Store>,
    pub registry: Registry,
    pub config: ConfigManager,
    flows: Mutex<FlowTracker>,
    pub started_at: SystemTime,
    pub last_fee_cycle: Mutex<Option<CycleSummary>>,
    pub last_rebalance_cycle: Mutex<Option<RebalanceSummary>>,
    pub last_cycle_error: Mutex<Option<String>>,
    /// One cycle (or ingestion) at a time.
    pub cycle_lock: tokio::sync::Mutex<()>,
    pub fee_wake: Notify,
    pub ingest_wake: Notify,
    /// The configuration generation, sent on every change: the loops re-read their interval
    /// at once instead of after the current sleep.
    pub config_changed: tokio::sync::watch::Sender<u64>,
    pub shutting_down: AtomicBool,
    /// Whether the last feerate reading was a mempool shock (re-price on the rising edge only).
    in_mempool_shock: AtomicBool,
    seeds: Mutex<SplitMix64>,
    /// The LNbits client of the Liquidity Dividend System (`None`: LDS off).
    pub lnbits: Option<LnbitsClient>,
}

#[derive(Clone)]
pub struct Revops(pub Arc<Inner>);

impl std::ops::Deref for Revops {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every holder leaves the data consistent between statements; a panic elsewhere must not
    // take the plugin down with it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The wall clock, unix seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Revops {
    /// Opens the database, loads the configuration, restores or loads the fee policy and
    /// replays recent forwards into the analytics.
    pub fn open(setup: Setup) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&setup.data_dir)?;
        std::fs::create_dir_all(&setup.policy_dir)?;
        let mut store = Store::open(&setup.data_dir.join(DATABASE_FILE), Durability::Normal)?;
        let (config, displaced) =
            ConfigManager::load_with_base(&mut store, setup.config_base.clone())?;
        for replaced in &displaced {
            let option = super::options::option_for_key(&replaced.key).unwrap_or("an option");
            tracing::warn!(
                "{option}={} given at start wins over the runtime override {} = {} (`revenue-config set`), which is removed",
                replaced.start_value,
                replaced.key,
                replaced.override_value
            );
        }
        let allocation = if setup.wasm_pooling {
            Allocation::Pooling
        } else {
            Allocation::OnDemand
        };
        // Large policies compile in a child `revops` (see runtime::compile_child).
        let compiler = std::env::current_exe().ok();
        let sandbox =
            Sandbox::with_allocation(Some(&setup.data_dir.join("cache")), allocation, compiler)?;
        let registry = Registry::new(sandbox, Some(PolicyDir::new(&setup.policy_dir)?), 3);
        super::policies::persist_slot_changes(&registry, &setup.data_dir.join(DATABASE_FILE))?;
        let lnbits = setup
            .lds
            .as_ref()
            .map(|lds| LnbitsClient::new(&lds.lnbits_url, LNBITS_TIMEOUT))
            .transpose()?;
        let mut flows = FlowTracker::default();
        let since_ms = unix_now().saturating_sub(ANALYTICS_REPLAY_SECS) * 1000;
        for forward in store.counted_forwards_since(since_ms)? {
            flows.record(&forward);
        }
        let pending = store.pending_intents()?;
        if !pending.is_empty() {
            // A fee update's outcome is read back from the chain at the next cycle (price truth).
            tracing::warn!(
                count = pending.len(),
                "actions interrupted by the last shutdown; the next cycle reconciles them with the node"
            );
        }
        let generation = config.snapshot().generation;
        let revops = Revops(Arc::new(Inner {
            setup,
            store: Mutex::new(store),
            registry,
            config,
            flows: Mutex::new(flows),
            started_at: SystemTime::now(),
            last_fee_cycle: Mutex::new(None),
            last_rebalance_cycle: Mutex::new(None),
            last_cycle_error: Mutex::new(None),
            cycle_lock: tokio::sync::Mutex::new(()),
            fee_wake: Notify::new(),
            config_changed: tokio::sync::watch::Sender::new(generation),
            ingest_wake: Notify::new(),
            shutting_down: AtomicBool::new(false),
            in_mempool_shock: AtomicBool::new(false),
            seeds: Mutex::new(SplitMix64::new(unix_now() ^ u64::from(std::process::id()))),
            lnbits,
        }));
        revops.restore_policies()?;
        Ok(revops)
    }

    pub fn set_config(&self, key: &str, value: &Value) -> Result<Arc<ConfigSnapshot>, ConfigError> {
        let snapshot = self.config.set(&mut lock(&self.store), key, value)?;
        self.config_applied(key, &snapshot);
        Ok(snapshot)
    }

    pub fn reset_config(&self, key: &str) -> Result<Arc<ConfigSnapshot>, ConfigError> {
        let snapshot = self.config.reset(&mut lock(&self.store), key)?;
        self.config_applied(key, &snapshot);
        Ok(snapshot)
    }

    /// A change takes effect now: intervals are re-read, and a changed fee bound runs a fee
    /// cycle so that a tighter bound reaches the chain at once.
    fn config_applied(&self, key: &str, snapshot: &ConfigSnapshot) {
        self.config_changed.send_replace(snapshot.generation);
        if key.starts_with("fee.min-ppm") || key.starts_with("fee.max-ppm") {
            self.fee_wake.notify_one();
        }
    }

    pub(super) fn connect(&self, runtime: &tokio::runtime::Handle) -> Result<ClnNode, CycleError> {
        let timeout = self.setup.rpc_timeout;
        Ok(runtime.block_on(ClnNode::connect(&self.setup.rpc_socket, timeout))?)
    }

    /// Pulls new forwards into the ledger (blocking: call from a worker thread).
    pub fn ingest_blocking(&self, runtime: &tokio::runtime::Handle) -> Result<usize, CycleError> {
        let node = self.connect(runtime)?;
        let mut store = lock(&self.store);
        let mut flows = lock(&self.flows);
        ingest_forwards(&node, &mut store, &mut flows)
    }

    /// A fresh seed for a policy call.
    pub(super) fn next_seed(&self) -> u64 {
        lock(&self.seeds).next_u64()
    }

    /// Ingestion, then `work` on the cycle's dependencies with this cycle's configuration
    /// snapshot and seed (blocking: call from a worker thread).
    fn with_cycle_deps<T>(
        &self,
        runtime: &tokio::runtime::Handle,
        work: impl FnOnce(&mut CycleDeps<'_>, &ConfigSnapshot, u64) -> Result<T, CycleError>,
    ) -> Result<T, CycleError> {
        let mut node = self.connect(runtime)?;
        let config = self.config.snapshot();
        let seed = lock(&self.seeds).next_u64();
        let mut store = lock(&self.store);
        let mut flows = lock(&self.flows);
        ingest_forwards(&node, &mut store, &mut flows)?;
        let mut deps = CycleDeps {
            node: &mut node,
            store: &mut store,
            registry: &self.registry,
            flows: &mut flows,
        };
        work(&mut deps, &config, seed)
    }

    /// Ingestion, then a fee cycle (blocking: call from a worker thread).
    pub fn fee_cycle_blocking(
        &self,
        runtime: &tokio::runtime::Handle,
        dry_run: bool,
    ) -> Result<FeeCycleReport, CycleError> {
        let report = self.with_cycle_deps(runtime, |deps, config, seed| {
            run_fee_cycle(deps, config, DEFAULT_SLOT, seed, dry_run)
        })?;
        *lock(&self.last_fee_cycle) = Some(CycleSummary::from(&report));
        Ok(report)
    }

    /// Ingestion, then a rebalance cycle (it reconciles pending rebalances first) (blocking).
    pub fn rebalance_cycle_blocking(
        &self,
        runtime: &tokio::runtime::Handle,
        dry_run: bool,
    ) -> Result<RebalanceCycleReport, CycleError> {
        let report = self.with_cycle_deps(runtime, |deps, config, seed| {
            run_rebalance_cycle(deps, config, DEFAULT_SLOT, seed, dry_run)
        })?;
        *lock(&self.last_rebalance_cycle) = Some(RebalanceSummary::from(&report));
        Ok(report)
    }

    /// Runs `work` on a worker thread, after any cycle in progress.
    async fn on_worker<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce(&Revops, &tokio::runtime::Handle) -> Result<T, CycleError> + Send + 'static,
    ) -> Result<T, CycleError> {
        let _one_at_a_time = self.cycle_lock.lock().await;
        let state = self.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || work(&state, &runtime))
            .await
            .unwrap_or_else(|e| {
                Err(CycleError::Node(crate::node::NodeError::Transport(
                    format!("{what} worker failed: {e}"),
                )))
            })
    }

    /// Runs a rebalance cycle now on a worker thread, after any cycle in progress.
    pub async fn run_rebalance_cycle(
        &self,
        dry_run: bool,
    ) -> Result<RebalanceCycleReport, CycleError> {
        self.on_worker("cycle", move |state, runtime| {
            state.rebalance_cycle_blocking(runtime, dry_run)
        })
        .await
    }

    /// Runs a fee cycle now on a worker thread, after any cycle in progress.
    pub async fn run_fee_cycle(&self, dry_run: bool) -> Result<FeeCycleReport, CycleError> {
        let result = self
            .on_worker("cycle", move |state, runtime| {
                state.fee_cycle_blocking(runtime, dry_run)
            })
            .await;
        *lock(&self.last_cycle_error) = result.as_ref().err().map(ToString::to_string);
        result
    }

    pub async fn ingest(&self) -> Result<usize, CycleError> {
        self.on_worker("ingest", |state, runtime| state.ingest_blocking(runtime))
            .await
    }

    /// Reads the feerate now; on the rising edge of a ≥ 4× shock, wakes the fee cycle at once.
    pub async fn check_mempool_shock(&self) {
        let state = self.clone();
        let runtime = tokio::runtime::Handle::current();
        let reading = tokio::task::spawn_blocking(move || -> Result<Option<f64>, CycleError> {
            use crate::node::Node as _;
            let node = state.connect(&runtime)?;
            let now = node.now_secs();
            let opening_perkb = node.opening_feerate_perkb()?;
            let mut store = lock(&state.store);
            store.record_feerate(crate::model::FeerateSample {
                at_secs: now,
                opening_perkb,
            })?;
            let history =
                store.feerates_since(now.saturating_sub(crate::cycle::FEERATE_HISTORY_SECS))?;
            Ok(mempool::spike_ratio(&history, now))
        })
        .await;
        let ratio = match reading {
            Ok(Ok(ratio)) => ratio,
            Ok(Err(error)) => {
                tracing::debug!(%error, "feerate check skipped");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "feerate check failed");
                return;
            }
        };
        let shock = ratio.is_some_and(|r| r >= mempool::IMMEDIATE_TRIGGER);
        let was = self.in_mempool_shock.swap(shock, Ordering::SeqCst);
        if shock && !was {
            tracing::info!(ratio, "mempool shock: re-pricing now");
            self.fee_wake.notify_one();
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn last_fee_cycle(&self) -> Option<CycleSummary> {
        lock(&self.last_fee_cycle).clone()
    }

    pub fn last_rebalance_cycle(&self) -> Option<RebalanceSummary> {
        lock(&self.last_rebalance_cycle).clone()
    }

    pub fn last_cycle_error(&self) -> Option<String> {
        lock(&self.last_cycle_error).clone()
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Stops scheduling and waits (bounded) for a cycle in progress to finish.
    pub async fn begin_shutdown(&self, wait: Duration) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.fee_wake.notify_waiters();
        self.ingest_wake.notify_waiters();
        if tokio::time::timeout(wait, self.cycle_lock.lock())
            .await
            .is_err()
        {
            tracing::warn!(
                "a cycle was still running at shutdown; its recorded intents are reconciled at the next start"
            );
        }
    }
}

/// `KEY=VALUE` words or a JSON object, as RPC `params` for a policy.
pub fn policy_params(raw: Option<&Value>) -> Result<BTreeMap<String, Value>, String> {
    match raw {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => Ok(map.clone().into_iter().collect()),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map.into_iter().collect()),
            _ => params_from_words(text.split_whitespace()),
        },
        Some(other) => Err(format!(
            "params must be an object or KEY=VALUE words, got {}",
            crate::text::brief(other)
        )),
    }
}
