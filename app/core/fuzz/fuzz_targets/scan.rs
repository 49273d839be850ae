//! `cargo fuzz run scan`: see `src/check.rs` for what is checked.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tftsr_core::pii::PiiScanner;
use tftsr_core_fuzz::check::check_scan;

fn scanner() -> &'static PiiScanner {
    static SCANNER: OnceLock<PiiScanner> = OnceLock::new();
    SCANNER.get_or_init(|| match PiiScanner::with_defaults() {
        Ok(scanner) => scanner,
        Err(err) => panic!("default scanner does not build: {err}"),
    })
}

fuzz_target!(|data: &[u8]| {
    check_scan(scanner(), data);
});
