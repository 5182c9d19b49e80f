// Shared by the fuzz targets: a fixed context (no clock) and a helper that runs every decoder
// and checks what came back against the invariants the robustness tests check
// (decoders/tests/support/invariants.rs): a libFuzzer crash is a panic or a broken invariant.
use idscope_decoders::{Context, Message, Registry, Trust};
use std::time::{Duration, UNIX_EPOCH};

#[path = "../../decoders/tests/support/invariants.rs"]
#[allow(dead_code)]
pub mod invariants;

pub fn with_cx(f: impl FnOnce(&Context<'_>)) {
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    f(&cx)
}

pub fn decode_all(msg: &Message<'_>) {
    with_cx(|cx| {
        let outcomes = Registry::builtin().decode_all(msg, cx);
        invariants::check_outcomes(&outcomes, "fuzz input");
    })
}
