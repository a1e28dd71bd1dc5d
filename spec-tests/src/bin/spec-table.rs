//! Prints the spec suite as a table: section, passed, total (used by `cargo xtask spec`).
//! Exits non-zero if any case fails.
#![allow(clippy::unwrap_used, reason = "tool")]

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let cases = match spec_tests::load_cases() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "GrowthBook spec suite {} ({})",
        cases["specVersion"].as_str().unwrap_or("?"),
        spec_tests::cases_path().unwrap().display()
    );
    println!("{:<24} {:>7} {:>7}", "section", "passed", "total");
    let mut failed = 0;
    let (mut p, mut t) = (0, 0);
    for s in spec_tests::SECTIONS
        .iter()
        .copied()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s))
    {
        let r = spec_tests::run_section(&cases, s);
        let mark = if r.failures.is_empty() && r.total > 0 {
            ""
        } else {
            "  FAIL"
        };
        let skipped = if r.skipped > 0 {
            format!(
                "  ({} skipped: regex cases without the regex feature)",
                r.skipped
            )
        } else {
            String::new()
        };
        println!("{:<24} {:>7} {:>7}{mark}{skipped}", s, r.passed, r.total);
        p += r.passed;
        t += r.total;
        for f in &r.failures {
            failed += 1;
            eprintln!("  {s}: {f}");
        }
    }
    println!("{:<24} {:>7} {:>7}", "all", p, t);
    if failed > 0 {
        std::process::exit(1);
    }
}
