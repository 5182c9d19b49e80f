//! Seeded byte streams: with a seed, the fixture's keys and ids (and anything else drawn from a
//! stream) are the same on every run; without one, the stream starts from fresh entropy.

use std::time::SystemTime;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use sha2::{Digest as _, Sha256};

/// A deterministic byte stream for one purpose: the seed (or fresh entropy) mixed with `label`.
pub fn stream(seed: Option<u64>, label: &str) -> ChaCha20Rng {
    let mut h = Sha256::new();
    match seed {
        Some(s) => h.update(s.to_le_bytes()),
        None => {
            let mut fresh = [0u8; 32];
            if aws_lc_rs::rand::fill(&mut fresh).is_err() {
                // The system RNG failing is not recoverable in a meaningful way; fall back to
                // the time so the fixture still starts (its keys are test keys anyway).
                let t = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                fresh[..16].copy_from_slice(&t.to_le_bytes());
            }
            h.update(fresh);
        }
    }
    h.update(label.as_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}
