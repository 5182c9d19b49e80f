//! What every decode must satisfy, whatever the input: an error says what was wrong, a view has
//! a summary and findings that say something. Shared by the robustness tests
//! (`tests/robustness.rs`) and the fuzz targets (`fuzz/fuzz_targets/common.rs`), so a fuzzer
//! checks the same properties the tests do.

use idscope_decoders::registry::Outcome;
use idscope_decoders::{DecodeError, Decoded};

/// Panics, naming the decoder and `input`, unless every outcome keeps the invariants
/// ([`check_error`], [`check_decoded`]).
pub fn check_outcomes(outcomes: &[Outcome], input: &str) {
    for o in outcomes {
        match &o.result {
            Ok(d) => check_decoded(d, o.decoder, input),
            Err(e) => check_error(e, o.decoder, input),
        }
    }
}

/// An error names what was wrong: its free-text part is not empty, and a JSON error has a
/// 1-based line.
pub fn check_error(e: &DecodeError, decoder: &str, input: &str) {
    let said = match e {
        DecodeError::NotThisKind { why, .. } => why,
        DecodeError::Xml { message, .. }
        | DecodeError::Malformed { message, .. }
        | DecodeError::Inflate { message, .. } => message,
        DecodeError::Json { message, line, .. } => {
            assert!(*line >= 1, "{decoder} on {input}: {e}");
            message
        }
        _ => return,
    };
    assert!(!said.trim().is_empty(), "{decoder} on {input}: {e:?}");
}

/// A view is labelled with its decoder, has a summary for the flow line, and every finding has a
/// message.
pub fn check_decoded(d: &Decoded, decoder: &str, input: &str) {
    assert_eq!(d.decoder, decoder, "{input}");
    assert!(
        !d.summary.trim().is_empty(),
        "{decoder} on {input}: empty summary"
    );
    for f in &d.findings {
        assert!(
            !f.message.trim().is_empty(),
            "{decoder} on {input}: empty finding"
        );
    }
}
