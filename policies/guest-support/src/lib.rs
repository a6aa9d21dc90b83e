//! The revops guest SDK: runtime glue and typed helpers for no_std policies.
//!
//! **Runtime glue.** A policy gets zero WASI imports only if it is `no_std`; that leaves it
//! without an allocator, without the `cabi_realloc` export the component ABI needs (wit-bindgen
//! provides it on wasip1 but not on wasip2), and without a panic handler. This crate supplies
//! the first two by being linked, and the third through [`panic_handler!`], which forwards the
//! panic message to the host's `log` import before trapping so the operator sees why a policy
//! died.
//!
//! **Helpers**, one concern per module, all pure and deterministic:
//!
//! | module | what |
//! |---|---|
//! | [`schema`] | declare each parameter once: `describe()`'s [`ParamSpec`](types::ParamSpec) list *and* typed, range-clamped reads with defaults |
//! | [`state`] | versioned node/channel state blobs; an unreadable blob becomes a fresh default state and a log line, never a trap |
//! | [`money`] | integer msat/ppm arithmetic: fees at ppm, ratios, permille/percent/basis-point shares, explicit rounding |
//! | [`rng`] | SplitMix64 seeded from `ctx.seed`, unbiased `below(n)` |
//! | [`log`](mod@log) | level shortcuts (`log::warn("…")`, `guest_support::info!("{x}")`) over the imported `log` |
//! | [`Params`] | untyped lookups by name, default at the call site (older guests; prefer [`schema`]) |
//!
//! The helpers compile natively too (the wasm-only glue is gated on `target_arch = "wasm32"`),
//! so they are unit-tested with `cargo test -p guest-support` from `policies/`. Natively, log
//! lines go to stderr and are kept for [`log::take_captured`] instead of reaching a host.
//!
//! A policy maps its bindings onto the ones generated here, so that helpers and policy share
//! one set of types and one `log` import:
//!
//! ```ignore
//! wit_bindgen::generate!({
//!     world: "fee-policy",
//!     path: "../../wit",
//!     with: {
//!         "revops:policy/types@0.1.0": guest_support::types,
//!         "revops:policy/logging@0.1.0": guest_support::logging,
//!     },
//! });
//! guest_support::panic_handler!();
//! ```
#![no_std]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

mod fixed_buf;
pub mod fixtures;
pub mod log;
pub mod money;
mod params;
#[cfg(target_arch = "wasm32")]
mod realloc;
pub mod rng;
pub mod schema;
pub mod state;

pub use fixed_buf::FixedBuf;
pub use params::Params;

/// The shared WIT interfaces, generated once here so that helpers can name them. Policy crates
/// map their own bindings onto [`types`] and [`logging`] with `with:`.
mod bindings {
    wit_bindgen::generate!({
        inline: "package revops:support;
                 world support {
                     import revops:policy/types@0.1.0;
                     import revops:policy/logging@0.1.0;
                 }",
        path: "../../wit",
        generate_all,
    });
}

/// `revops:policy/types`: every record and enum of the contract.
pub mod types {
    pub use crate::bindings::revops::policy::types::*;
}

/// `revops:policy/logging`: the raw import. [`log`](mod@log) has the shortcuts.
pub mod logging {
    pub use crate::bindings::revops::policy::logging::*;
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Defines the `#[panic_handler]` of a policy crate.
///
/// `panic_handler!()` reports through this crate's [`log`](mod@log) at error level;
/// `panic_handler!(f)` through a function `fn(&str)` of your own. The message is formatted
/// without allocating, so a panic caused by an exhausted allocator is still reported. The
/// handler exists only in wasm32 builds, so a policy crate can still run its pure unit tests
/// natively.
#[macro_export]
macro_rules! panic_handler {
    () => {
        $crate::panic_handler!($crate::log::error);
    };
    ($log:path) => {
        #[cfg(target_arch = "wasm32")]
        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
            use core::fmt::Write as _;
            let mut buf = $crate::FixedBuf::<512>::new();
            let _ = write!(buf, "policy panicked: {}", info);
            $log(buf.as_str());
            core::arch::wasm32::unreachable()
        }
    };
}

/// Splits a little-endian `u64` off the front of `bytes`.
pub fn take_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*head), rest))
}
