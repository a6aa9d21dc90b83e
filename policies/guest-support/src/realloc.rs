//! The `cabi_realloc` export of the component model's canonical ABI.
//!
//! The host calls it to place lists and strings in guest memory. On wasm32-wasip2 the std
//! library normally provides it; a no_std guest must export it itself or `wasm-component-ld`
//! fails with "module does not export a function named cabi_realloc".

use alloc::alloc::{Layout, alloc, realloc};

/// # Safety
/// Called only by the canonical ABI, with `old_ptr`/`old_len`/`align` describing a block this
/// allocator returned earlier (or `old_len == 0` for a new block).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(
    old_ptr: *mut u8,
    old_len: usize,
    align: usize,
    new_len: usize,
) -> *mut u8 {
    if new_len == 0 {
        // A zero-sized block needs no memory, only a well-aligned non-null pointer.
        return align as *mut u8;
    }
    let new_block = unsafe {
        if old_len == 0 {
            alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            realloc(
                old_ptr,
                Layout::from_size_align_unchecked(old_len, align),
                new_len,
            )
        }
    };
    if new_block.is_null() {
        // Out of memory: trapping is the only honest answer to the host.
        core::arch::wasm32::unreachable();
    }
    new_block
}
