//! `gb_condition::decimal::parse` against core's `str::parse::<f64>`: the same bits for every
//! text it accepts, and it refuses only what core refuses (or core's extra spellings: a `+`
//! sign, `inf`, `infinity`, `nan`). Core saturates exponents at 65,536 (`1{1,000,000 digits}e-999990`
//! is infinity to it), so inputs must stay far shorter than that (`-max_len=4096`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let core = text.parse::<f64>();
    match gb_condition::decimal::parse(text) {
        Some(x) => {
            let want = core.unwrap_or_else(|e| panic!("{text:?}: ours {x:e}, core {e}"));
            assert_eq!(x.to_bits(), want.to_bits(), "{text:?}: ours {x:e}, core {want:e}");
        }
        None => {
            let core_only = text.starts_with('+')
                || text
                    .trim_start_matches('-')
                    .bytes()
                    .any(|c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E'));
            assert!(core.is_err() || core_only, "{text:?}: refused, core {core:?}");
        }
    }
});
