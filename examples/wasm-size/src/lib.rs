//! A wasm32 cdylib that loads a GrowthBook payload and evaluates one feature: what a browser
//! or edge-worker user of `gb-core` ships. `.ci/run` measures its size (see the root README).
//!
//! The host writes the payload, a feature key and the attributes (JSON) into memory from
//! `gb_alloc` and calls `gb_eval`, which returns 1 if the feature is on, 0 if off, -1 on bad
//! input.
//!
//! It is `no_std`, as a size-conscious wasm build is: `talc` as the global allocator (smaller
//! and faster than `dlmalloc`, the allocator `std` uses on wasm32, which the `dlmalloc` feature
//! puts back for comparison), and a panic handler that traps, so no panic message is ever
//! formatted (gb-core does not panic on any input; the handler is there for the linker).

#![no_std]

extern crate alloc;

use alloc::vec::Vec;
use gb_core::{FeatureSet, User};
use serde_json::Value;

/// Allocates `len` bytes for the host to write into (never freed: one call per instance).
#[unsafe(no_mangle)]
pub extern "C" fn gb_alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len);
    let p = v.as_mut_ptr();
    core::mem::forget(v);
    p
}

/// Loads `payload`, evaluates feature `key` for `attributes` (a JSON object).
///
/// # Safety
/// Each pointer must point to the given number of initialised bytes (from `gb_alloc`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gb_eval(
    payload: *const u8,
    payload_len: usize,
    key: *const u8,
    key_len: usize,
    attributes: *const u8,
    attributes_len: usize,
) -> i32 {
    // SAFETY: the caller's contract above.
    let (payload, key, attributes) = unsafe {
        (
            core::slice::from_raw_parts(payload, payload_len),
            core::slice::from_raw_parts(key, key_len),
            core::slice::from_raw_parts(attributes, attributes_len),
        )
    };
    eval(payload, key, attributes).map_or(-1, i32::from)
}

fn eval(payload: &[u8], key: &[u8], attributes: &[u8]) -> Option<bool> {
    let fs = FeatureSet::from_json_str(core::str::from_utf8(payload).ok()?).ok()?;
    // Read by gb-core's JSON reader (the loader's), so serde_json's deserializer is not linked.
    let attrs: Value = gb_core::json::parse(core::str::from_utf8(attributes).ok()?).ok()?;
    Some(
        fs.eval_feature(
            core::str::from_utf8(key).ok()?,
            &User::new(attrs.as_object()?),
        )
        .on(),
    )
}

#[cfg(feature = "dlmalloc")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[cfg(all(not(feature = "dlmalloc"), target_family = "wasm"))]
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
