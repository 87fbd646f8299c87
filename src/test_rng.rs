//! The random numbers of the unit tests: a xorshift generator, so that random scenes are the
//! same on every run and every machine.

/// A xorshift64 generator started at `seed` (not 0).
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
