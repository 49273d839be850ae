//! The `scan` fuzz target's checks (`fuzz/src/check.rs`) on stable Rust:
//! cargo-fuzz needs a nightly compiler, so the same function is driven here
//! by proptest, with arbitrary bytes and with byte soup cut from the
//! labelled corpus (which reaches the detectors far more often).

use std::sync::OnceLock;

use proptest::prelude::*;
use tftsr_core::pii::PiiScanner;

#[path = "../fuzz/src/check.rs"]
mod check;

const CORPUS: &str = include_str!("../testdata/pii/corpus.txt");

fn scanner() -> &'static PiiScanner {
    static SCANNER: OnceLock<PiiScanner> = OnceLock::new();
    SCANNER.get_or_init(|| PiiScanner::with_defaults().expect("default scanner builds"))
}

/// Slices of the corpus glued together, with a few arbitrary bytes mixed
/// in: values cut at odd places, lines joined, invalid UTF-8.
fn corpus_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = (
        0..CORPUS.len(),
        0usize..200,
        prop::collection::vec(any::<u8>(), 0..4),
    );
    prop::collection::vec(piece, 1..8).prop_map(|pieces| {
        let bytes = CORPUS.as_bytes();
        let mut out = Vec::new();
        for (start, len, noise) in pieces {
            let end = (start + len).min(bytes.len());
            out.extend_from_slice(&bytes[start..end]);
            out.extend_from_slice(&noise);
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        check::check_scan(scanner(), &data);
    }

    #[test]
    fn corpus_byte_soup(data in corpus_soup()) {
        check::check_scan(scanner(), &data);
    }
}

#[test]
fn whole_corpus_passes_the_fuzz_checks() {
    for chunk in CORPUS.as_bytes().chunks(check::MAX_INPUT) {
        check::check_scan(scanner(), chunk);
    }
}
