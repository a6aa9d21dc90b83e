//! A deterministic, capability-free WASI for policies that import it (Python components built
//! by componentize-py import about 25 WASI interfaces because CPython's runtime does).
//!
//! Policies stay pure: a component importing WASI gets no preopened directory, no environment
//! or arguments, an empty stdin, no network (sockets are linked but TCP, UDP and name lookup
//! are disabled), a wall clock fixed at the call's `now-secs`, a
//! monotonic clock fixed at 0, and "random" bytes expanded from the call's seed — so the same
//! call gives the same answer, as for every other policy. Sleeping (`subscribe-duration`,
//! `subscribe-instant`) traps: a host call cannot be interrupted by the epoch deadline, so it
//! must never block. What the guest writes to stdout/stderr (up to 64 KiB a call; a write past
//! that traps) goes to the policy log under the same per-call line budget.
//!
//! Components that import no WASI (every Rust policy, JavaScript built with its WASI features
//! disabled) are linked without any of this.

use super::limits::StoreState;
use std::time::Duration;
use wasmtime::component::{Linker, Resource, ResourceTable};
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView,
    p2::{DynPollable, pipe::MemoryOutputPipe},
};

/// WASI interface families a policy may import (all served without capabilities, see above).
/// `wasi:sockets` is linked because CPython imports it, but TCP, UDP and name lookup are all
/// disabled, so every socket operation fails. Anything else (`wasi:http`, …) is refused at load.
pub const ALLOWED_WASI_PACKAGES: [&str; 6] = [
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:cli/",
    "wasi:filesystem/",
    "wasi:sockets/",
];

/// Bytes of stdout plus stderr kept per stream and call.
const OUTPUT_CAPACITY: usize = 64 << 10;
/// Length of the seed-derived byte cycle served as randomness.
const RANDOM_CYCLE_BYTES: usize = 4096;

/// True when `import` is a WASI interface this host serves.
pub(crate) fn is_allowed_wasi_import(import: &str) -> bool {
    ALLOWED_WASI_PACKAGES.iter().any(|p| import.starts_with(p))
}

/// What the deterministic WASI of one call is derived from.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct WasiCall {
    pub now_secs: u64,
    pub seed: u64,
}

/// The per-call WASI state kept in the store.
pub(crate) struct WasiState {
    ctx: WasiCtx,
    table: ResourceTable,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl WasiState {
    pub(crate) fn new(call: WasiCall) -> Self {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let mut builder = WasiCtx::builder();
        // The builder starts with no env, args or preopens, an empty stdin and no network.
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(FixedWallClock(Duration::from_secs(call.now_secs)))
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(Deterministic::new(random_cycle(call.seed, 0)))
            .insecure_random(Deterministic::new(random_cycle(call.seed, 1)))
            .insecure_random_seed(u128::from(splitmix(call.seed ^ 0x5eed)) << 64 | 1)
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        Self {
            ctx: builder.build(),
            table: ResourceTable::new(),
            stdout,
            stderr,
        }
    }

    /// What the guest printed during the call: (stdout, stderr).
    pub(crate) fn output(&self) -> (String, String) {
        let text = |pipe: &MemoryOutputPipe| String::from_utf8_lossy(&pipe.contents()).into_owned();
        (text(&self.stdout), text(&self.stderr))
    }
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let state = self
            .wasi
            .as_mut()
            .expect("WASI is linked only for components whose store carries WASI state");
        WasiCtxView {
            ctx: &mut state.ctx,
            table: &mut state.table,
        }
    }
}

/// Adds the deterministic WASI to `linker` (which already has `logging`).
pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    // Replace the timers: they would block the host thread where no deadline reaches.
    linker.allow_shadowing(true);
    let mut clock = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    clock.func_wrap(
        "subscribe-duration",
        |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            wasmtime::bail!("policies may not sleep (wasi:clocks subscribe-duration)")
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            wasmtime::bail!("policies may not sleep (wasi:clocks subscribe-instant)")
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

struct FixedWallClock(Duration);

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}

struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// SplitMix64: a small, well-mixed step from one u64 to the next.
fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `RANDOM_CYCLE_BYTES` bytes derived from the seed; the guest's "random" stream repeats them.
fn random_cycle(seed: u64, stream: u64) -> Vec<u8> {
    let mut state = seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
    let mut bytes = Vec::with_capacity(RANDOM_CYCLE_BYTES);
    while bytes.len() < RANDOM_CYCLE_BYTES {
        state = splitmix(state);
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn randomness_follows_the_seed() {
        assert_eq!(random_cycle(7, 0), random_cycle(7, 0));
        assert_ne!(random_cycle(7, 0), random_cycle(8, 0));
        assert_ne!(random_cycle(7, 0), random_cycle(7, 1));
        assert_eq!(random_cycle(7, 0).len(), RANDOM_CYCLE_BYTES);
    }

    #[test]
    fn only_capability_free_interfaces_are_allowed() {
        assert!(is_allowed_wasi_import("wasi:cli/environment@0.2.0"));
        assert!(is_allowed_wasi_import("wasi:filesystem/preopens@0.2.0"));
        assert!(!is_allowed_wasi_import("wasi:http/outgoing-handler@0.2.0"));
        assert!(!is_allowed_wasi_import("wasi:clocksx/foo"));
    }
}
