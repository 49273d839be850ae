//! What the fuzz targets check, kept apart from libFuzzer so that the same
//! checks also run on stable Rust (`app/core/tests/pii_fuzz_scan.rs`
//! includes `check.rs` and drives it with proptest).

pub mod check;
