//! Codec throughput: decoding and encoding a full table of IPv4 unicast UPDATEs.
//!
//! Two streams of 1,000,000 prefixes each, generated deterministically by `tern::load::gen`
//! (xorshift, fixed seed) and encoded into one buffer before any timing:
//! - dense: 1,000 attribute sets with 1,000 /24s each, one UPDATE per set, the way a
//!   route server or a default-free peer with few next hops packs a table;
//! - diverse: 300,000 distinct attribute sets (AS paths of 1 to 8 hops mixing 2- and
//!   4-octet AS numbers, communities on a third, MED on half, 64 next hops), the 1M
//!   prefixes spread over them at random, one UPDATE per set.
//!
//! Decode walks the buffer with `header::frame` and `decode_message` and counts prefixes;
//! encode runs `UpdateEncoder::new` + `announce` over the attribute sets. Both are checked:
//! the decoded count must be 1,000,000 and the encoded bytes must equal the pre-encoded
//! stream. Times are the best and the median of 5 runs on one thread; the targets (decode
//! dense < 50 ms, decode diverse < 150 ms) are judged on the best run.
//!
//! Run: `cargo bench --bench codec`.

use std::collections::HashSet;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tern::load::gen::{self, Batch, Params};
use tern::wire::header::frame;
use tern::wire::{decode_message, Ctx, Family, Message, PathAttributes, UpdateEncoder};

const PREFIXES: usize = 1_000_000;
const RUNS: usize = 5;
const DENSE_SETS: usize = 1_000;
const DIVERSE_SETS: usize = 300_000;

fn params(sets: usize, seed: u64) -> Params {
    // 10.0.0.1 and up: the next hops this benchmark has always used.
    Params { prefixes: PREFIXES, sets, next_hop: Ipv4Addr::new(10, 0, 0, 1), seed, first_as: None }
}

/// 1,000 sets of 1,000 consecutive /24s from 1.0.0.0 on.
fn dense() -> Vec<Batch> {
    gen::dense(&params(DENSE_SETS, 0x5eed_0001))
}

/// 300,000 distinct sets; 1M distinct prefixes of /20 to /24 spread over them at random.
fn diverse() -> Vec<Batch> {
    gen::diverse(&params(DIVERSE_SETS, 0x5eed_0002))
}

/// Encodes every batch; returns the number of UPDATEs.
fn encode(ctx: &Ctx, batches: &[Batch], out: &mut Vec<u8>) -> usize {
    batches
        .iter()
        .map(|(a, nlri)| {
            let enc = UpdateEncoder::new(ctx, Family::IPV4_UNICAST, a, None).expect("attributes fit a message");
            enc.announce(nlri, out)
        })
        .sum()
}

/// Frames and decodes the whole stream; returns (UPDATEs, prefixes announced).
fn decode(ctx: &Ctx, mut stream: &[u8]) -> (usize, usize) {
    let (mut updates, mut prefixes) = (0, 0);
    while let Some(len) = frame(stream, ctx.max_message_len()).expect("stream frames") {
        let decoded = decode_message(&stream[..len], ctx).expect("message decodes");
        if let Message::Update(u) = &decoded.message {
            updates += 1;
            prefixes += u.nlri.len();
        }
        black_box(&decoded);
        stream = &stream[len..];
    }
    assert!(stream.is_empty(), "{} octets left after the last message", stream.len());
    (updates, prefixes)
}

/// Best and median of `RUNS` timings of `f`.
fn time(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[RUNS / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn run(name: &str, batches: &[Batch], decode_target_ms: f64) {
    let ctx = Ctx::new();
    let sets = batches.len();
    let prefixes: usize = batches.iter().map(|(_, n)| n.len()).sum();
    assert_eq!(prefixes, PREFIXES);
    let mut stream = Vec::new();
    let updates = encode(&ctx, batches, &mut stream);

    // Not timed: the stream decodes back to exactly what was encoded, in order.
    let mut rest = &stream[..];
    let mut nlri = batches.iter().flat_map(|(a, n)| n.iter().map(move |p| (a, p)));
    while let Some(len) = frame(rest, ctx.max_message_len()).unwrap() {
        let Message::Update(u) = decode_message(&rest[..len], &ctx).unwrap().message else { unreachable!() };
        for p in &u.nlri {
            assert_eq!(nlri.next(), Some((&u.attrs, p)), "{name}: decoded stream differs from its source");
        }
        rest = &rest[len..];
    }
    assert!(nlri.next().is_none());

    let (dec_best, dec_median) = time(|| {
        let (u, p) = decode(&ctx, black_box(&stream));
        assert_eq!((u, p), (updates, PREFIXES), "{name}: decode counted wrong");
    });
    let mut out = Vec::with_capacity(stream.len());
    let (enc_best, enc_median) = time(|| {
        out.clear();
        let u = encode(&ctx, black_box(batches), &mut out);
        assert_eq!(u, updates);
    });
    assert!(out == stream, "{name}: encoding is not deterministic");

    let mb = stream.len() as f64 / 1e6;
    println!(
        "{name}: {updates} UPDATEs, {prefixes} prefixes, {sets} attribute sets, {:.2} prefixes/UPDATE, {} bytes",
        prefixes as f64 / updates as f64,
        stream.len()
    );
    let verdict = if ms(dec_best) < decode_target_ms { "PASS" } else { "MISS" };
    println!(
        "  decode  best {:7.1} ms  median {:7.1} ms  {:6.1} Mprefixes/s  {:7.1} MB/s   target < {decode_target_ms} ms: {verdict}",
        ms(dec_best),
        ms(dec_median),
        PREFIXES as f64 / dec_best.as_secs_f64() / 1e6,
        mb / dec_best.as_secs_f64(),
    );
    println!(
        "  encode  best {:7.1} ms  median {:7.1} ms  {:6.1} Mprefixes/s  {:7.1} MB/s",
        ms(enc_best),
        ms(enc_median),
        PREFIXES as f64 / enc_best.as_secs_f64() / 1e6,
        mb / enc_best.as_secs_f64(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and gets a smoke run.
    if !std::env::args().any(|a| a == "--bench") {
        println!("codec bench: run with `cargo bench --bench codec`");
        return;
    }
    println!("tern wire codec, IPv4 unicast, 4-octet AS, 4096-octet messages; best and median of {RUNS} runs");
    let start = Instant::now();
    let dense = dense();
    let diverse = diverse();
    let distinct: HashSet<&PathAttributes> = diverse.iter().map(|(a, _)| a).collect();
    assert_eq!(distinct.len(), DIVERSE_SETS, "diverse attribute sets are not all distinct");
    println!("(streams generated in {:.0} ms)", ms(start.elapsed()));
    run("dense", &dense, 50.0);
    run("diverse", &diverse, 150.0);
}
