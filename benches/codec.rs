//! Codec throughput benchmark (filled in with the codec).
fn main() {}
