//! The policy runtime: WASM components behind the WIT contract, sandboxed and hot-swappable.
//!
//! - `Sandbox` owns the one wasmtime `Engine` (epochs and fuel on), its ticker thread, the
//!   linker that grants only `logging`, and the precompiled-component cache. Components that
//!   import WASI (Python) get a second linker with the deterministic, capability-free WASI of
//!   `wasi`: fixed clocks, seeded randomness, no files, environment or network.
//! - `loader::prepare` turns bytes into a `LoadedPolicy`: hash, compile or cache, import and
//!   world checks, type check, `describe()`, parameter resolution.
//! - `LoadedPolicy::propose_*` runs one call in a fresh store under `RuntimeLimits`, converts
//!   the output to `crate::model` and validates it; failures are `CallError`s.
//! - `Registry` holds named policies per kind, swaps them atomically after a canary call, keeps
//!   the last-known-good version and quarantines a failing one.
//!
//! Generated binding types never leave this module.

mod bindings;
mod cache;
mod canary;
mod compile_child;
mod convert;
mod errors;
mod invoke;
mod limits;
pub mod loader;
mod policy;
mod registry;
mod sandbox;
mod slot;
mod validate;
mod wasi;

pub use canary::Canary;
pub use compile_child::run_if_child as run_policy_compiler_if_child;
pub use errors::{CallError, LoadError, OutputError};
pub use invoke::Called;
pub use limits::{LARGE_COMPONENT_BYTES, LARGE_COMPONENT_MEMORY, OutputLimits, RuntimeLimits};
pub use loader::{LoadRequest, PolicyDir};
pub use policy::{LoadedPolicy, PolicySource};
pub use registry::{DEFAULT_FAILURE_THRESHOLD, LoadReport, Registry};
pub use sandbox::{Allocation, CompileReport, CompileSource, EPOCH_TICK, Sandbox};
pub use slot::{
    Prepared, QuarantinedVersion, RestoredSlot, SlotChange, SlotLayout, SlotObserver, SlotStatus,
    VersionId,
};

/// Serializes a `Duration` as whole microseconds (`*_us` fields in JSON output).
pub(crate) mod duration_micros {
    pub fn serialize<S: serde::Serializer>(
        duration: &std::time::Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(duration.as_micros()).unwrap_or(u64::MAX))
    }
}
