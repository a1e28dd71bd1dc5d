//! Server-sent events under arbitrary chunking: the first byte seeds where the stream is cut;
//! the events, last event id and retry are the same whether the stream arrives whole or in
//! pieces (with caps it never reaches), and a parser with tiny caps fails cleanly and never
//! buffers more than its caps.
#![no_main]

use gb_transport::sse::{SseEvent, SseParser};
use libfuzzer_sys::fuzz_target;

const BIG: usize = 1 << 20;

fn run(parser: &mut SseParser, chunks: &[&[u8]]) -> Result<Vec<SseEvent>, ()> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend(parser.feed(c).map_err(|_| ())?);
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    // Cut points from a small generator seeded by the first byte.
    let mut chunks = Vec::new();
    let mut rest = stream;
    let mut x = u32::from(seed) | 1;
    while !rest.is_empty() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = (x as usize % 9).min(rest.len());
        let (a, b) = rest.split_at(n);
        chunks.push(a);
        rest = b;
    }
    let mut whole = SseParser::new(BIG, BIG);
    let mut pieces = SseParser::new(BIG, BIG);
    let a = run(&mut whole, &[stream]);
    let b = run(&mut pieces, &chunks);
    assert_eq!(a, b, "chunking changed the events");
    assert_eq!(whole.last_event_id(), pieces.last_event_id());
    assert_eq!(whole.retry(), pieces.retry());
    assert_eq!(whole.buffered_len(), pieces.buffered_len());

    let (max_line, max_event) = (usize::from(seed % 32) + 1, usize::from(seed / 8) + 1);
    let mut small = SseParser::new(max_line, max_event);
    for c in &chunks {
        if small.feed(c).is_err() {
            assert_eq!(small.buffered_len(), 0, "a failed parser kept data");
            break;
        }
        assert!(
            small.buffered_len() <= max_line + max_event,
            "buffer above its caps"
        );
    }
});
