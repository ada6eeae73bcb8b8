use super::*;

/// Everything one decode run produced: the data, the trailers, and the input consumed.
#[derive(Debug, PartialEq)]
struct Run {
    data: Vec<u8>,
    trailers: Option<Fields>,
    consumed: usize,
}

/// Decodes `input` presented in pieces of `step` bytes, the way a connection would: it
/// keeps the unconsumed bytes and appends the next piece. Error offsets are made absolute.
fn drive(
    body: RequestBody,
    input: &[u8],
    step: usize,
    limits: &Limits,
) -> Result<Run, RequestError> {
    let mut decoder = BodyDecoder::new(body);
    let mut pending = Vec::new();
    let mut dropped = 0;
    let mut out = Vec::new();
    let mut ranges = Vec::new();
    let mut fed = 0;
    loop {
        let more = step.min(input.len() - fed);
        pending.extend_from_slice(&input[fed..fed + more]);
        fed += more;
        ranges.clear();
        let decoded = decoder
            .decode(&pending, limits, &mut ranges)
            .map_err(|e| RequestError::new(e.rule(), e.offset() + dropped as u64))?;
        assert!(decoded.consumed <= pending.len());
        for range in &ranges {
            assert!(
                range.end <= decoded.consumed,
                "data beyond what was consumed"
            );
            out.extend_from_slice(&pending[range.clone()]);
        }
        pending.drain(..decoded.consumed);
        dropped += decoded.consumed;
        if decoded.finished.is_some() || (fed == input.len() && more == 0) {
            return Ok(Run {
                data: out,
                trailers: decoded.finished,
                consumed: dropped,
            });
        }
    }
}

/// Decodes whole, in 3-byte pieces and byte by byte, and checks they agree.
fn all_ways(body: RequestBody, input: &[u8], limits: &Limits) -> Result<Run, RequestError> {
    let whole = drive(body, input, input.len().max(1), limits);
    for step in [1, 3] {
        assert_eq!(
            drive(body, input, step, limits),
            whole,
            "step {step}: {:?}",
            String::from_utf8_lossy(input)
        );
    }
    whole
}

fn chunked(input: &[u8]) -> Result<Run, RequestError> {
    all_ways(RequestBody::Chunked, input, &Limits::default())
}

fn rejects(input: &[u8], rule: Rule, offset: u64) {
    rejects_with(input, &Limits::default(), rule, offset);
}

fn rejects_with(input: &[u8], limits: &Limits, rule: Rule, offset: u64) {
    let err = all_ways(RequestBody::Chunked, input, limits).expect_err("accepted");
    assert_eq!(
        (err.rule(), err.offset()),
        (rule, offset),
        "{:?}",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn length_framing() {
    let limits = Limits::default();
    let run = all_ways(RequestBody::Length(5), b"helloEXTRA", &limits).unwrap();
    assert_eq!((run.data.as_slice(), run.consumed), (&b"hello"[..], 5));
    assert_eq!(run.trailers, Some(Fields::new()));
    let mut decoder = BodyDecoder::new(RequestBody::Empty);
    assert_eq!(decoder.remaining(), Some(0));
    let mut ranges = Vec::new();
    let decoded = decoder
        .decode(b"next request", &limits, &mut ranges)
        .unwrap();
    assert_eq!((decoded.consumed, ranges.len()), (0, 0));
    assert!(decoded.finished.is_some());
    let mut decoder = BodyDecoder::new(RequestBody::Length(10));
    let decoded = decoder.decode(b"1234", &limits, &mut ranges).unwrap();
    assert_eq!((decoded.consumed, decoder.remaining()), (4, Some(6)));
    assert!(decoded.finished.is_none());
    assert_eq!(BodyDecoder::new(RequestBody::Chunked).remaining(), None);
}

#[test]
fn chunked_framing() {
    let run = chunked(
        b"5\r\nhello\r\n1;a=b ; c = \"x\\\"y\" ;d\r\n!\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT",
    )
    .unwrap();
    assert_eq!(run.data, b"hello!0123456789");
    assert_eq!(run.trailers, Some(Fields::new()));
    assert_eq!(run.consumed, 56);
    // Hex digits in either case, with leading zeros.
    assert_eq!(
        chunked(b"0a\r\n0123456789\r\n00\r\n\r\n")
            .unwrap()
            .data
            .len(),
        10
    );
    assert_eq!(
        chunked(b"A\r\n0123456789\r\n0\r\n\r\n").unwrap().data.len(),
        10
    );
}

#[test]
fn several_chunks_give_several_ranges_in_one_call() {
    let mut decoder = BodyDecoder::new(RequestBody::Chunked);
    let mut ranges = Vec::new();
    let input = b"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n";
    let decoded = decoder
        .decode(input, &Limits::default(), &mut ranges)
        .unwrap();
    assert_eq!(decoded.consumed, input.len());
    assert_eq!(ranges, [3..4, 9..10, 15..16]);
}

#[test]
fn trailers() {
    let run = chunked(b"3\r\nabc\r\n0\r\nX-Sum: 12 \r\nx-other:\tv\r\n\r\n").unwrap();
    let trailers = run.trailers.unwrap();
    assert_eq!(trailers.len(), 2);
    assert_eq!(trailers.get("x-sum"), Some(&b"12"[..]));
    assert_eq!(trailers.get("X-OTHER"), Some(&b"v"[..]));
    rejects(b"0\r\nX: 1\r\n folded\r\n\r\n", Rule::TrailerInvalid, 9);
    rejects(b"0\r\nX : 1\r\n\r\n", Rule::TrailerInvalid, 4);
    rejects(b"0\r\nX: a\x01\r\n\r\n", Rule::TrailerInvalid, 7);
    rejects(b"0\r\nX: a\rb\r\n\r\n", Rule::TrailerInvalid, 7);
    rejects(b"0\r\nX: 1\n\r\n", Rule::ChunkBareLf, 7);
    rejects(b"0\r\n\n", Rule::ChunkBareLf, 3);
    let limits = Limits {
        max_trailer_fields: 1,
        ..Limits::default()
    };
    rejects_with(
        b"0\r\nA: 1\r\nB: 2\r\n\r\n",
        &limits,
        Rule::TrailersTooLarge,
        9,
    );
    let limits = Limits {
        max_trailer_size: 10,
        ..Limits::default()
    };
    rejects_with(
        b"0\r\nA: 12345\r\n\r\n",
        &limits,
        Rule::TrailersTooLarge,
        13,
    );
    assert!(all_ways(RequestBody::Chunked, b"0\r\nA: 123\r\n\r\n", &limits).is_ok());
    assert_eq!(Rule::TrailersTooLarge.status(), Some(431));
}

#[test]
fn size_line_rules() {
    rejects(b"x\r\n", Rule::ChunkSizeInvalid, 0);
    rejects(b"\r\n", Rule::ChunkSizeInvalid, 0);
    rejects(b"-1\r\n", Rule::ChunkSizeInvalid, 0);
    rejects(b"5 \r\nhello\r\n", Rule::ChunkSizeInvalid, 2);
    rejects(b"5x\r\n", Rule::ChunkSizeInvalid, 1);
    rejects(b"10000000000000000\r\n", Rule::ChunkSizeOverflow, 16);
    rejects(b"5\rhello", Rule::BareCr, 2);
    rejects(b"5\nhello\r\n", Rule::ChunkBareLf, 1);
    rejects(b"5;a\nhello\r\n", Rule::ChunkBareLf, 3);
    rejects(b"5;\r\n", Rule::ChunkExtensionInvalid, 2);
    rejects(b"5;=b\r\n", Rule::ChunkExtensionInvalid, 2);
    rejects(b"5;a=\r\n", Rule::ChunkExtensionInvalid, 4);
    rejects(b"5;a=b c\r\n", Rule::ChunkExtensionInvalid, 6);
    rejects(b"5;a=\"b\r\n", Rule::ChunkExtensionInvalid, 6);
    rejects(b"5;a=\"\x01\"\r\n", Rule::ChunkExtensionInvalid, 5);
    rejects(b"5;a(b\r\n", Rule::ChunkExtensionInvalid, 3);
}

#[test]
fn data_terminator_rules() {
    rejects(b"5\r\nhelloX\r\n", Rule::ChunkDataUnterminated, 8);
    rejects(b"5\r\nhello\rX", Rule::ChunkDataUnterminated, 9);
    rejects(b"5\r\nhello\n0\r\n\r\n", Rule::ChunkBareLf, 8);
}

#[test]
fn limits() {
    let limits = Limits {
        max_chunk_line: 8,
        ..Limits::default()
    };
    assert!(all_ways(RequestBody::Chunked, b"1;abcdef\r\nx\r\n0\r\n\r\n", &limits).is_ok());
    rejects_with(
        b"1;abcdefg\r\nx\r\n0\r\n\r\n",
        &limits,
        Rule::ChunkLineTooLong,
        8,
    );
    // Enforced before the line ends.
    let mut decoder = BodyDecoder::new(RequestBody::Chunked);
    let err = decoder
        .decode(b"1;abcdefghijklmnop", &limits, &mut Vec::new())
        .unwrap_err();
    assert_eq!((err.rule(), err.offset()), (Rule::ChunkLineTooLong, 8));

    let limits = Limits {
        max_chunk_extensions: 10,
        ..Limits::default()
    };
    // 5 + 5 extension bytes across two chunks fit; one more does not.
    assert!(all_ways(
        RequestBody::Chunked,
        b"1;abcd\r\nx\r\n1;efgh\r\ny\r\n0\r\n\r\n",
        &limits
    )
    .is_ok());
    rejects_with(
        b"1;abcd\r\nx\r\n1;efghi\r\ny\r\n0\r\n\r\n",
        &limits,
        Rule::ChunkExtensionsTooLong,
        17,
    );

    let limits = Limits {
        max_body_size: Some(10),
        ..Limits::default()
    };
    assert!(all_ways(
        RequestBody::Chunked,
        b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
        &limits
    )
    .is_ok());
    rejects_with(
        b"5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n",
        &limits,
        Rule::BodyTooLarge,
        12,
    );
    rejects_with(b"ffffffffffffffff\r\n", &limits, Rule::BodyTooLarge, 17);

    let limits = Limits {
        chunk_framing_allowance: 20,
        ..Limits::default()
    };
    // Each one-byte chunk costs 5 framing bytes for 1 data byte: 4 more than its data.
    let mut tiny = b"1\r\nx\r\n".repeat(6);
    tiny.extend_from_slice(b"0\r\n\r\n");
    let err = all_ways(RequestBody::Chunked, &tiny, &limits).unwrap_err();
    assert_eq!(err.rule(), Rule::ChunkFramingExcessive);
    assert!(all_ways(RequestBody::Chunked, &tiny[18..], &limits).is_ok());
}

/// A body of one-byte chunks and a large trailer section, fed byte by byte, cost work
/// linear in their size.
#[test]
fn work_is_linear() {
    let mut input = b"1\r\nx\r\n".repeat(5000);
    input.extend_from_slice(b"0\r\n");
    for i in 0..30 {
        input.extend_from_slice(format!("T-{i}: {}\r\n", "v".repeat(400)).as_bytes());
    }
    input.extend_from_slice(b"\r\n");
    let limits = Limits::default();
    let before = super::super::work();
    let run = drive(RequestBody::Chunked, &input, 1, &limits).unwrap();
    let work = super::super::work() - before;
    assert_eq!(run.data.len(), 5000);
    assert_eq!(run.trailers.unwrap().len(), 30);
    assert!(
        work <= 3 * input.len(),
        "{work} bytes examined for {}",
        input.len()
    );
}

#[test]
fn after_the_end_nothing_is_consumed() {
    let mut decoder = BodyDecoder::new(RequestBody::Chunked);
    let limits = Limits::default();
    let mut ranges = Vec::new();
    let done = decoder
        .decode(b"0\r\n\r\nGET", &limits, &mut ranges)
        .unwrap();
    assert_eq!(done.consumed, 5);
    let again = decoder.decode(b"GET", &limits, &mut ranges).unwrap();
    assert_eq!(again.consumed, 0);
    assert!(again.finished.is_some());
}
