//! The one wasmtime `Engine` of the process, its epoch ticker and the linker that grants
//! policies their only import (`logging`), plus compilation through the cache. A second linker
//! adds the deterministic, capability-free WASI of `wasi.rs` for components that import WASI.

use super::{
    bindings::logging,
    cache::ComponentCache,
    compile_child::compile_in_child,
    errors::LoadError,
    limits::{LARGE_COMPONENT_BYTES, RuntimeLimits, StoreState},
    wasi::{self, WasiCall, WasiState},
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Store,
    component::{Component, HasSelf, Linker},
};

/// Epoch granularity: deadlines are whole ticks of this length.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);
const MAX_WASM_STACK: usize = 512 << 10;
/// Policy instances that may exist at the same time in the pool: cycles run one at a time, so
/// this covers a cycle's call plus loads (describe, canary) arriving over RPC meanwhile.
const MAX_CONCURRENT_CALLS: u32 = 8;
/// Linear memories per instance: one for a Rust policy; an interpreter component has a few.
const MEMORIES_PER_CALL: u32 = 4;
/// The largest memory limit any policy may be given: every pool slot reserves this much address
/// space (interpreted guests get `LARGE_COMPONENT_MEMORY`).
pub const MAX_POLICY_MEMORY: usize = super::limits::LARGE_COMPONENT_MEMORY;
/// Address space after each memory that turns small out-of-bounds offsets into faults.
const MEMORY_GUARD: usize = 2 << 20;

/// How instances get their memory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocation {
    /// Pre-reserved slots, sized from the limits (`MAX_CONCURRENT_CALLS` instances of at most
    /// `MAX_POLICY_MEMORY` each): no mmap per call. For the long-running plugin.
    Pooling,
    /// Memory mapped per call and unmapped after it: nothing reserved up front. For short-lived
    /// processes (CLI, simulation) and hosts that refuse large reservations.
    OnDemand,
}

/// How a component was obtained.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompileSource {
    Compiled,
    Cache,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CompileReport {
    pub source: CompileSource,
    #[serde(rename = "elapsed_us", with = "super::duration_micros")]
    pub elapsed: Duration,
}

pub struct Sandbox {
    engine: Engine,
    linker: Linker<StoreState>,
    /// `linker` plus deterministic WASI, for components that import WASI.
    wasi_linker: Linker<StoreState>,
    cache: Option<ComponentCache>,
    /// The executable that compiles large components out of process (`compile_child`).
    compiler: Option<PathBuf>,
    /// Components compiled in this process, by hash, when memoizing (`for_simulation`): a
    /// league loads the same few policies hundreds of times. Off in the plugin, whose swaps
    /// would otherwise keep every replaced component's code.
    memo: Option<Mutex<HashMap<[u8; 32], Component>>>,
}

impl Sandbox {
    /// Builds an engine that maps memory per call (`Allocation::OnDemand`). With a
    /// `cache_dir`, compiled policies are kept there between runs.
    pub fn new(cache_dir: Option<&Path>) -> anyhow::Result<Arc<Self>> {
        Self::with_allocation(cache_dir, Allocation::OnDemand, None)
    }

    /// For simulations: each distinct component is compiled once per process and the same
    /// compiled code serves every later load (a league loads the same policies hundreds of
    /// times), and instances come from a pool of `concurrent_calls` slots whose memory stays
    /// mapped between calls (mapping it per call costs a simulation a fifth of its time).
    /// At most `concurrent_calls` calls may run at once: one per simulating thread.
    pub fn for_simulation(concurrent_calls: u32) -> anyhow::Result<Arc<Self>> {
        let mut sandbox = Self::build(
            None,
            pooling(concurrent_calls.max(1), SIMULATION_KEEP_RESIDENT),
            None,
        )?;
        Arc::get_mut(&mut sandbox)
            .expect("just made, not shared")
            .memo = Some(Mutex::new(HashMap::new()));
        Ok(sandbox)
    }

    /// Builds the engine with the given allocation. Both allocations compile alike, so they
    /// share the precompiled cache. With a cache and a `compiler` (the `revops` executable),
    /// large components are compiled by that executable in a child process (`compile_child`),
    /// so the compiler's heap never stays with a long-running process.
    pub fn with_allocation(
        cache_dir: Option<&Path>,
        allocation: Allocation,
        compiler: Option<PathBuf>,
    ) -> anyhow::Result<Arc<Self>> {
        let strategy = match allocation {
            Allocation::Pooling => pooling(MAX_CONCURRENT_CALLS, 1 << 20),
            Allocation::OnDemand => InstanceAllocationStrategy::OnDemand,
        };
        Self::build(cache_dir, strategy, compiler)
    }

    fn build(
        cache_dir: Option<&Path>,
        strategy: InstanceAllocationStrategy,
        compiler: Option<PathBuf>,
    ) -> anyhow::Result<Arc<Self>> {
        let mut config = Config::new();
        config
            .allocation_strategy(strategy)
            // Reserve what the largest limit needs, not wasmtime's 4 GiB per memory.
            .memory_reservation(MAX_POLICY_MEMORY as u64)
            .memory_guard_size(MEMORY_GUARD as u64)
            .memory_reservation_for_growth(0)
            .wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(true)
            .max_wasm_stack(MAX_WASM_STACK)
            .cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config)?;
        start_epoch_ticker(&engine);
        let mut linker = Linker::new(&engine);
        logging::add_to_linker::<StoreState, HasSelf<StoreState>>(&mut linker, |state| state)?;
        let mut wasi_linker = linker.clone();
        wasi::add_to_linker(&mut wasi_linker)?;
        let cache = cache_dir
            .map(|dir| ComponentCache::open(dir, &engine))
            .transpose()?;
        Ok(Arc::new(Self {
            engine,
            linker,
            wasi_linker,
            cache,
            compiler,
            memo: None,
        }))
    }

    /// Compiles `wasm` in this process into the cache (the child's side of `compile_child`).
    pub(crate) fn compile_here(&self, wasm: &[u8]) -> Result<(), LoadError> {
        let sha256: [u8; 32] = Sha256::digest(wasm).into();
        self.compile(wasm, &sha256).map(drop)
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker for a component: with WASI only if it imports WASI.
    pub(crate) fn linker(&self, wasi: bool) -> &Linker<StoreState> {
        if wasi {
            &self.wasi_linker
        } else {
            &self.linker
        }
    }

    /// Compiles `wasm` (after a cheap header check for a clear error), or takes it from the cache.
    pub(crate) fn compile(
        &self,
        wasm: &[u8],
        sha256: &[u8; 32],
    ) -> Result<(Component, CompileReport), LoadError> {
        let started = Instant::now();
        if let Some(component) = self.memoized(sha256) {
            let report = CompileReport {
                source: CompileSource::Cache,
                elapsed: started.elapsed(),
            };
            return Ok((component, report));
        }
        let (component, report) = self.compile_uncached(wasm, sha256, started)?;
        if let Some(memo) = &self.memo {
            memo.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(*sha256, component.clone());
        }
        Ok((component, report))
    }

    fn memoized(&self, sha256: &[u8; 32]) -> Option<Component> {
        let memo = self.memo.as_ref()?;
        memo.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(sha256)
            .cloned()
    }

    fn compile_uncached(
        &self,
        wasm: &[u8],
        sha256: &[u8; 32],
        started: Instant,
    ) -> Result<(Component, CompileReport), LoadError> {
        if let Some(component) = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&self.engine, sha256))
        {
            let report = CompileReport {
                source: CompileSource::Cache,
                elapsed: started.elapsed(),
            };
            return Ok((component, report));
        }
        check_component_header(wasm)?;
        if let (Some(cache), Some(compiler)) = (&self.cache, &self.compiler)
            && wasm.len() > LARGE_COMPONENT_BYTES
        {
            match compile_in_child(compiler, cache.dir(), &hex::encode(sha256), wasm) {
                Ok(()) => {
                    if let Some(component) = cache.load(&self.engine, sha256) {
                        let report = CompileReport {
                            source: CompileSource::Compiled,
                            elapsed: started.elapsed(),
                        };
                        return Ok((component, report));
                    }
                    tracing::warn!(
                        "the policy compiler's output is not usable here; compiling in process"
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, "the policy compiler failed; compiling in process");
                }
            }
        }
        let component = Component::new(&self.engine, wasm)
            .map_err(|e| LoadError::NotAComponent(format!("{e:#}")));
        release_freed_heap();
        let component = component?;
        let report = CompileReport {
            source: CompileSource::Compiled,
            elapsed: started.elapsed(),
        };
        if let Some(cache) = &self.cache
            && let Err(error) = cache.store(sha256, &component)
        {
            // A cache that cannot be written costs speed, not correctness.
            tracing::warn!(%error, "could not write the precompiled policy cache");
        }
        Ok((component, report))
    }

    /// A fresh store for one call: memory limiter, fuel and epoch deadline armed; with
    /// `wasi`, the call's deterministic WASI state.
    pub(crate) fn new_store(
        &self,
        policy: Arc<str>,
        limits: &RuntimeLimits,
        wasi: Option<WasiCall>,
    ) -> Store<StoreState> {
        let mut state = StoreState::new(policy, limits);
        state.wasi = wasi.map(WasiState::new);
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state);
        store
            .set_fuel(limits.fuel.unwrap_or(u64::MAX))
            .expect("the engine is built with fuel enabled");
        store.set_epoch_deadline(deadline_ticks(limits.deadline));
        store.epoch_deadline_trap();
        store
    }
}

/// Pre-reserved instance slots make a fresh instance per call cheap (no mmap per call), and
/// keeping the first pages of each memory resident avoids faulting them in again every call.
/// Slots bound how many instances exist at once; each memory slot is a reservation of address
/// space covering the largest per-policy limit. What a call touched beyond the resident pages
/// is given back to the system when its instance ends.
/// Memory a simulation's pool slot keeps mapped between calls (zeroed with a memset rather
/// than handed back with madvise: from several threads that costs a TLB shootdown each).
const SIMULATION_KEEP_RESIDENT: usize = 16 << 20;

fn pooling(instances: u32, keep_resident: usize) -> InstanceAllocationStrategy {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * MEMORIES_PER_CALL)
        .total_tables(instances * 8)
        .max_memories_per_component(MEMORIES_PER_CALL)
        .max_memory_size(MAX_POLICY_MEMORY)
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(64 << 10);
    InstanceAllocationStrategy::Pooling(pool)
}

/// Compiling a large component (an interpreter: tens of MB of wasm) takes hundreds of MB of
/// heap on the compiler's threads; glibc keeps what they freed, so without this a node would
/// carry it for good after one Python load. Hands the freed pages back.
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the system; it is thread-safe and
    // touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Ticks for a deadline: rounded up, plus one because the current tick is already partly over.
fn deadline_ticks(deadline: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    (deadline.as_nanos().div_ceil(tick) as u64).max(1) + 1
}

/// One thread per engine advances the epoch; it ends when the engine is dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("revops-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch ticker thread");
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const COMPONENT_LAYER: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];

fn check_component_header(wasm: &[u8]) -> Result<(), LoadError> {
    match wasm.get(..8) {
        Some(header) if &header[..4] == WASM_MAGIC => {
            if header[4..8] == COMPONENT_LAYER {
                Ok(())
            } else {
                Err(LoadError::NotAComponent(
                    "this is a core WebAssembly module; policies are components \
                     (build for wasm32-wasip2)"
                        .into(),
                ))
            }
        }
        _ => Err(LoadError::NotAComponent(
            "the file does not start with the WebAssembly magic bytes".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_and_adds_a_tick() {
        assert_eq!(deadline_ticks(Duration::from_millis(10)), 2);
        assert_eq!(deadline_ticks(Duration::from_millis(11)), 3);
        assert_eq!(deadline_ticks(Duration::ZERO), 2);
    }

    #[test]
    fn header_check_names_the_problem() {
        let core_module = b"\0asm\x01\0\0\0";
        let err = check_component_header(core_module).unwrap_err().to_string();
        assert!(err.contains("core WebAssembly module"), "{err}");
        let err = check_component_header(b"hello world")
            .unwrap_err()
            .to_string();
        assert!(err.contains("magic"), "{err}");
    }
}
