//! Log-like test lines shared by the benchmarks (included by `#[path]`).

/// `count` lines of `len` bytes: a number, then printable ASCII from a
/// xorshift generator seeded with `seed`, varied so that nothing is
/// unrealistically compressible or uniform.
pub fn lines(count: usize, len: usize, seed: u64) -> Vec<String> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            let mut line = format!("{i:08} ");
            while line.len() < len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                line.push((b' ' + (state % 95) as u8) as char);
            }
            line
        })
        .collect()
}
