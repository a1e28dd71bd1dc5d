//! `gb_condition::decimal::parse` against core's `str::parse::<f64>`, bit for bit: the hard
//! cases of decimal-to-binary conversion, then over a million generated texts.

mod common;

use common::Rng;
use gb_condition::decimal::parse;

/// Parses `t` both ways and compares the bits (core reads the same grammar for these texts).
fn check(t: &str) {
    let want = t.parse::<f64>().expect("core parses it");
    let got = parse(t).unwrap_or_else(|| panic!("refused {t:?}"));
    assert_eq!(
        got.to_bits(),
        want.to_bits(),
        "{t:?}: got {got:e}, core {want:e}"
    );
}

#[test]
fn hard_cases() {
    let mut cases: Vec<String> = [
        "0",
        "-0",
        "0.0",
        "-0.0",
        "0e999999999999",
        "1",
        "0.1",
        "0.3",
        "1.5",
        "2.5",
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "9007199254740995",
        "18014398509481993",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.470328229206232720882538e-324",
        "5e-324",
        "1e-324",
        "3e-324",
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "2.2250738585072014e-308",
        "2.2250738585072009e-308",
        "2.225073858507201136057409796709131975934819546351645648e-308",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "1.797693134862315708145274237317043567981e308",
        "1.797693134862315807937289714053034150799e308",
        "1.797693134862315807937289714053034150800e308",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
        "8.98846567431158e307",
        "1e23",
        "8.589973e9",
        "1e22",
        "1e-22",
        "123456789012345678901234567890",
        "7.038531e-26",
        "1e999999999999",
        "1e-999999999999",
        "1e99999999999999999999999999999",
        "1e-99999999999999999999999999999",
        "0.000000000000000000000000000000000000000000001e400",
        "100000000000000000000000000000000000000000000e-400",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "1.000000000000000111022302462515654042363166809082031250000000000000000000000000000000000000001",
        "1090544144181609348671888949248",
        "1090544144181609348835077142190",
        "2.2250738585072012e-308",
        "6.631236846766476e-316",
        "3.234883250661e-318",
        "45035996.273704985",
        "4503599627370497.5",
        "4503599627370496.5",
        "-1e-400",
        "-1e400",
        ".5",
        "5.",
        "007.500",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // 0.1 with 800 digits, and halfway cases carried past the digit buffer.
    cases.push(format!("0.{}", "1".repeat(800)));
    cases.push(format!("0.1{}", "0".repeat(800)));
    cases.push(format!("9007199254740993{}", "0".repeat(790)));
    cases.push(format!("9007199254740993.{}1", "0".repeat(900)));
    cases.push(format!("9007199254740993.{}", "0".repeat(900)));
    cases.push(format!("9007199254740992.{}1", "0".repeat(900)));
    cases.push(format!("{}e-{}", "9".repeat(1000), 1000));
    cases.push(format!("0.{}", "9".repeat(1000)));
    cases.push(format!("1{}e-1000", "0".repeat(1000)));
    cases.push(format!("{}1e-2000", "0".repeat(2000)));
    cases.push(format!("0.{}1e2000", "0".repeat(2000)));
    cases.push(format!("1{}", "0".repeat(309)));
    cases.push(format!("1{}", "0".repeat(308)));
    // The exact halfway point between the two smallest subnormals and the largest two doubles.
    let half_min = "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324";
    cases.push(half_min.to_string());
    cases.push(format!("{half_min}1"));
    cases.push(half_min.replace("328125e", "328124e"));
    for c in &cases {
        check(c);
    }
}

/// Random digit strings (1-40 digits, any point position, exponents -400..400).
#[test]
fn generated_digit_strings() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut t = String::new();
    for _ in 0..600_000 {
        t.clear();
        let n = 1 + rng.below(40) as usize;
        let point = rng.below(n as u64 + 2) as usize;
        let lead = rng.below(4);
        for i in 0..n {
            if i == point {
                t.push('.');
            }
            let d = if i == 0 && lead == 0 {
                b'0'
            } else {
                match rng.below(8) {
                    0 => b'0',
                    1 => b'9',
                    _ => b'0' + rng.below(10) as u8,
                }
            };
            t.push(d as char);
        }
        if rng.below(4) != 0 {
            let e = rng.below(801) as i64 - 400;
            t.push_str(&format!("e{e}"));
        }
        check(&t);
    }
}

/// Random doubles printed shortest (`{:e}` and `{}`), then each with its last digit moved
/// one up or down, and with 5, 4999... or 5000...1 appended (at and near halves).
#[test]
fn generated_doubles() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut count = 0;
    while count < 500_000 {
        let x = f64::from_bits(rng.next());
        if !x.is_finite() {
            continue;
        }
        for t in [format!("{x:e}"), format!("{x}")] {
            check(&t);
            count += 1;
            let (mant, exp) = t.split_at(t.find('e').unwrap_or(t.len()));
            let b = mant.as_bytes();
            let last = b[b.len() - 1];
            if last.is_ascii_digit() {
                for d in [last.wrapping_sub(1), last + 1] {
                    if d.is_ascii_digit() {
                        let mut m = mant[..mant.len() - 1].to_string();
                        m.push(d as char);
                        check(&format!("{m}{exp}"));
                        count += 1;
                    }
                }
                let dot = if mant.contains('.') { "" } else { "." };
                check(&format!("{mant}{dot}5{exp}"));
                // Past the slow path's first 40 digits: near a half, it must retry with all.
                check(&format!("{mant}{dot}4{}{exp}", "9".repeat(30)));
                check(&format!("{mant}{dot}5{}1{exp}", "0".repeat(30)));
                count += 3;
            }
        }
    }
}

/// Texts far past the digit buffer and exponents past `i64`: read in one pass each, the
/// exponent saturated (an unsaturated one would overflow), the digits past 800 only flagged.
#[test]
fn huge_texts_saturate() {
    let many = format!("1{}e-1000000", "0".repeat(1_000_000));
    assert_eq!(parse(&many), Some(1.0));
    let long_exp = format!("1e{}", "9".repeat(100_000));
    assert_eq!(parse(&long_exp), Some(f64::INFINITY));
    assert_eq!(parse(&format!("-1e-{}", "9".repeat(100_000))), Some(-0.0));
    assert_eq!(parse(&format!("0e{}", "9".repeat(100_000))), Some(0.0));
    let tiny = format!("0.{}1e1000000", "0".repeat(999_999));
    assert_eq!(parse(&tiny), Some(1.0));
    // Core's own parser saturates exponents at 65,536 and says infinity here: the value is
    // 7777777777.777..., far from a half, so 40 digits of it decide.
    let sevens = format!("{}e-999990", "7".repeat(1_000_000));
    let want: f64 = "7777777777.777777777777777777777777777777"
        .parse()
        .expect("core parses it");
    assert_eq!(parse(&sevens).map(f64::to_bits), Some(want.to_bits()));
}
