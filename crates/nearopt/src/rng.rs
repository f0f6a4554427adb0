//! Seeded, thread-count independent random streams.
//!
//! Every random draw in nearopt comes from a [`rand_chacha::ChaCha8Rng`] derived from a user seed
//! and a stream index (one stream per teacher, per sample chunk, per noise draw). Work split
//! over threads uses fixed stream indices, so results do not depend on the thread count.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator behind every random draw.
pub type Rng = ChaCha8Rng;

/// Generator for stream `stream` of seed `seed`: independent of how work is split over threads.
pub fn stream(seed: u64, stream: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
