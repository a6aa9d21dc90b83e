//! Runtime glue for no_std revops policies.
//!
//! A policy gets zero WASI imports only if it is `no_std`; that leaves it without an allocator,
//! without the `cabi_realloc` export the component ABI needs (wit-bindgen provides it on
//! wasip1 but not on wasip2), and without a panic handler. This crate supplies the first two by
//! being linked, and the third through [`panic_handler!`], which forwards the panic message to the
//! host's `log` import before trapping so the operator sees why a policy died.
//!
//! It also has the small helpers every policy repeats: parameter lookup and a fixed-size
//! formatter that works when the allocator does not.
#![no_std]

extern crate alloc;

mod fixed_buf;
mod params;
mod realloc;

pub use fixed_buf::FixedBuf;
pub use params::Params;

/// The shared WIT types (`revops:policy/types`), generated once here so that helpers can name
/// them. Policy crates map their own bindings onto this module with `with:`.
pub mod types {
    wit_bindgen::generate!({
        inline: "package revops:support; world support { import revops:policy/types@0.1.0; }",
        path: "../../wit",
        generate_all,
    });
    pub use self::revops::policy::types::*;
}

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Defines the `#[panic_handler]` of a policy crate.
///
/// `$log` is a function `fn(&str)` that reaches the host, usually a wrapper around the generated
/// `logging::log` import at error level. The message is formatted without allocating, so a
/// panic caused by an exhausted allocator is still reported.
#[macro_export]
macro_rules! panic_handler {
    ($log:path) => {
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
