// Shared by the fuzz targets: a fixed context (no clock) and a helper that runs every decoder.
use idscope_decoders::{Context, Message, Registry, Trust};
use std::time::{Duration, UNIX_EPOCH};

pub fn with_cx(f: impl FnOnce(&Context<'_>)) {
    let trust = Trust::default();
    let cx = Context::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000), &trust);
    f(&cx)
}

pub fn decode_all(msg: &Message<'_>) {
    with_cx(|cx| {
        for o in Registry::builtin().decode_all(msg, cx) {
            // Touch the result so nothing is optimised away.
            if let Ok(d) = o.result {
                std::hint::black_box(d.summary.len());
            }
        }
    })
}
