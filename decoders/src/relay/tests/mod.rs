//! The relay decoder's tests: the vectors (and where each comes from) in `vectors`, the
//! layers they decode through in `layers`, bad input in `bad_input`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod bad_input;
mod layers;
pub(crate) mod vectors;
