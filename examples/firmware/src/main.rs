//! gb-core on a Cortex-M4: load the example payload from flash, evaluate every feature for the
//! example users, and report the heap the allocator counted (live after load, peak during load
//! and during evaluation). Runs under QEMU with semihosting; `.ci/run` prints its output.
#![no_std]
#![no_main]

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_alloc::LlffHeap;
use gb_core::serde_json::{self, Map, Value};
use gb_core::{FeatureSet, User};

extern crate alloc;

/// The payload, in flash.
static PAYLOAD: &str = include_str!("../../payload.json");
/// One feature gated on a regex, to show what a pattern costs (NFA and match cache).
static REGEX_PAYLOAD: &str = r#"{"features": {"staff": {"defaultValue": false, "rules": [
    {"condition": {"email": {"$regex": "^[a-z.]+@(example|growthbook)\\.(com|io)$"}}, "force": true}]}}}"#;
/// The users, in flash.
static USERS: &str = include_str!("../../users.json");

const HEAP_SIZE: usize = 256 * 1024;

/// The allocator, counting live and peak bytes.
struct Counting {
    heap: LlffHeap,
    live: AtomicUsize,
    peak: AtomicUsize,
}

// SAFETY: forwards to the heap, only counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { self.heap.alloc(layout) };
        if !p.is_null() {
            let live = self.live.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static HEAP: Counting = Counting {
    heap: LlffHeap::empty(),
    live: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
};

#[entry]
fn main() -> ! {
    static mut HEAP_MEM: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
    // (`#[entry]` turns this `static mut` into a `&'static mut`, handed out once.)
    // SAFETY: runs once, before any allocation; the memory is used by nothing else.
    unsafe { HEAP.heap.init(HEAP_MEM.as_mut_ptr() as usize, HEAP_SIZE) }

    let fs = match FeatureSet::from_json_str(PAYLOAD) {
        Ok(fs) => fs,
        Err(_) => exit(false),
    };
    let after_load = HEAP.live.load(Ordering::Relaxed);
    let peak_load = HEAP.peak.load(Ordering::Relaxed);

    let users: Value = gb_core::json::parse(USERS).unwrap_or(Value::Null);
    let users: &[Value] = users.as_array().map_or(&[], |a| a.as_slice());
    let empty = Map::new();
    let base = HEAP.live.load(Ordering::Relaxed);
    HEAP.peak.store(base, Ordering::Relaxed);
    let (mut evals, mut on) = (0u32, 0u32);
    for u in users {
        let attrs = u.as_object().unwrap_or(&empty);
        let user = User::new(attrs);
        for key in fs.keys() {
            evals += 1;
            on += u32::from(fs.eval_feature(key, &user).on());
        }
    }
    let peak_eval = HEAP.peak.load(Ordering::Relaxed) - base;

    let (features, warnings) = (fs.len(), fs.warnings().len());
    drop(fs);
    let attrs = serde_json::json!({"email": "ann@example.com"});
    let base = HEAP.live.load(Ordering::Relaxed);
    let regex = FeatureSet::from_json_str(REGEX_PAYLOAD).unwrap_or_default();
    let regex_load = HEAP.live.load(Ordering::Relaxed) - base;
    let staff = regex
        .eval_feature("staff", &User::new(attrs.as_object().unwrap_or(&empty)))
        .on();
    let regex_eval = HEAP.live.load(Ordering::Relaxed) - base - regex_load;

    hprintln!(
        "example payload {} bytes, {} features, {} warnings",
        PAYLOAD.len(),
        features,
        warnings
    );
    hprintln!(
        "heap after load: {} bytes (peak during load: {} bytes)",
        after_load,
        peak_load
    );
    hprintln!(
        "{} evaluations ({} on): peak heap above the loaded payload {} bytes",
        evals,
        on,
        peak_eval
    );
    hprintln!(
        "one regex feature: {} bytes after load, +{} bytes for its match cache (matched: {})",
        regex_load,
        regex_eval,
        staff
    );
    exit(true)
}

fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("panic");
    exit(false)
}
