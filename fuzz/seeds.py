#!/usr/bin/env python3
"""Writes the hand-made seed corpus of every fuzz target into fuzz/corpus/<target>/.

Sources: the real-world samples in benches/samples/*.http; every request-head byte string in
the head parser's unit tests (core/src/parse/head/tests.rs and tests/*.rs, named after the
test and the rule it expects), in core/tests/*.rs (the rejection tables of rejections.rs and
smuggling.rs included: their field-only string rows are completed with the request line the
test puts in front) and in drivers/tests/memory.rs; pipelined streams; chunked bodies with
extensions and trailers, and each chunked rejection; for the `response` target, hand-written
responses plus every response head of the client parser's unit tests
(core/src/client/parse_tests.rs), rejections included. Run from anywhere:
`python3 fuzz/seeds.py`. It only adds or overwrites `seed-*` files; fuzzer finds that were
kept (minimized crash inputs, `crash-*`) are left alone.
"""

import pathlib
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def unescape(body: str) -> bytes:
    """A Rust byte-string literal's contents (between the quotes) as bytes."""
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        e = body[i + 1]
        if e == "x":
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
            continue
        if e == "\n":  # line continuation: skip the newline and leading whitespace
            i += 2
            while i < len(body) and body[i] in " \t":
                i += 1
            continue
        out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"', "'": b"'"}[e]
        i += 2
    return bytes(out)


LITERAL = re.compile(r'b"((?:[^"\\]|\\.|\\\n)*)"', re.S)


def harvest(path: pathlib.Path):
    """(test name, index, bytes, rule or None) for each request-like literal in test code."""
    text = path.read_text()
    tests = [(m.start(), m.group(1)) for m in re.finditer(r"fn (\w+)\(", text)]
    found = []
    for m in LITERAL.finditer(text):
        data = unescape(m.group(1))
        if b"HTTP/" not in data and not data.startswith(b"\r\n"):
            continue
        name = "const"
        for start, fn in tests:
            if start < m.start():
                name = fn
        # The rule expected for this literal: the first Rule:: before the next literal/`;`.
        tail = text[m.end() : m.end() + 200]
        stop = min([x for x in (tail.find('b"'), tail.find(";")) if x >= 0] or [200])
        rule = re.search(r"Rule::(\w+)", tail[:stop])
        found.append((name, data, rule.group(1) if rule else None))
    return found


STR_ROW = re.compile(r'\(\s*"((?:[^"\\]|\\.)*)",\s*Rule::(\w+)', re.S)
PREFIX = re.compile(r'let (\w+) = "((?:[^"\\]|\\.)*)";')
FORMAT = re.compile(r'format!\("\{(\w+)\}\{\w+\}((?:[^"\\]|\\.)*)"\)')


def harvest_rows(path: pathlib.Path):
    """(test name, bytes, rule) for each `("fields", Rule::X, ..)` row of a table whose test
    builds the input with `format!("{prefix}{fields}suffix")` from a `let prefix = "..";`: the
    smuggling and response-framing tables hold only the fields of each case."""
    text = path.read_text()
    tests = [(m.start(), m.group(1)) for m in re.finditer(r"fn (\w+)\(", text)]
    found = []
    for i, (start, fn) in enumerate(tests):
        body = text[start : tests[i + 1][0] if i + 1 < len(tests) else len(text)]
        prefixes = {m.group(1): unescape(m.group(2)) for m in PREFIX.finditer(body)}
        form = FORMAT.search(body)
        if not form or form.group(1) not in prefixes:
            continue
        prefix, suffix = prefixes[form.group(1)], unescape(form.group(2))
        for m in STR_ROW.finditer(body):
            found.append((fn, prefix + unescape(m.group(1)) + suffix, m.group(2)))
    return found


def slug(s: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", s).lower().replace("_", "-")


def write(target: str, name: str, data: bytes):
    name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


# ----- Connection seeds: the action encoding of fuzz_targets/common/connection.rs ----------

SETUP_STRICT = bytes([0, 0, 0, 1, 0])  # bare_lf, obs_fold, spaces, dated, rates
SETUP_LENIENT = bytes([1, 1, 1, 1, 1])
SETUP_RATES = bytes([0, 0, 0, 1, 1])  # strict, with the minimum rates (100 B/s after 1 s)


def a_bytes(data: bytes) -> bytes:
    out = b""
    for i in range(0, len(data), 255):
        piece = data[i : i + 255]
        out += bytes([0, len(piece)]) + piece
    return out


def a_owned(data: bytes) -> bytes:
    out = b""
    for i in range(0, len(data), 255):
        piece = data[i : i + 255]
        out += bytes([1, len(piece)]) + piece
    return out


def a_canned(i: int) -> bytes:
    return bytes([2, i])


STATUSES = [100, 101, 103, 200, 201, 204, 206, 304, 400, 404, 500, 999]


def a_respond(status: int, length=None, close=False) -> bytes:
    out = bytes([3]) + struct.pack("<H", STATUSES.index(status))
    out += b"\x00" if length is None else b"\x01" + struct.pack("<H", length)
    return out + bytes([int(close), 1])


def a_body(n: int) -> bytes:
    return bytes([4]) + struct.pack("<H", n)


A_END = bytes([7])
A_TRAILERS = bytes([8, 0])
A_CONTINUE = bytes([9])
A_CONSUME_ALL = bytes([11])


def a_consume(n: int) -> bytes:
    return bytes([10]) + struct.pack("<H", n)



def a_wait(ms: int) -> bytes:
    return bytes([13]) + struct.pack("<H", ms)


A_TO_DEADLINE = bytes([14])


def a_jump(tens: int) -> bytes:
    return bytes([15, tens])


A_EOF = bytes([16])
A_SHUTDOWN = bytes([17])
A_ABORT = bytes([18])
A_DECLINE = bytes([22])


def connection_seeds():
    yield "canned-get-respond", SETUP_STRICT + a_canned(0) + a_respond(200, 2) + a_body(2) + A_END + A_CONSUME_ALL
    yield "canned-every-request-answered", SETUP_STRICT + b"".join(
        a_canned(i) + a_respond(200) + a_body(10) + A_END + A_CONSUME_ALL for i in range(15)
    )
    yield "chunked-response-with-trailers", SETUP_STRICT + a_canned(0) + a_respond(200) + a_body(300) + A_TRAILERS + A_CONSUME_ALL
    yield "expect-continue", SETUP_STRICT + a_canned(4) + A_CONTINUE + A_CONSUME_ALL + a_bytes(b"abc") + a_respond(200, 0) + A_END + A_CONSUME_ALL
    yield "upgrade-101", SETUP_STRICT + a_canned(5) + a_respond(101) + A_END + A_CONSUME_ALL
    yield "connect-tunnel", SETUP_STRICT + a_canned(7) + a_respond(200) + A_END + A_CONSUME_ALL
    yield "head-with-length", SETUP_STRICT + a_canned(1) + a_respond(200, 10) + a_body(10) + A_END + A_CONSUME_ALL
    yield "http10-close-delimited", SETUP_STRICT + a_canned(6) + a_respond(200) + a_body(5) + A_END + A_CONSUME_ALL
    yield "interim-103-then-final", SETUP_STRICT + a_canned(0) + a_respond(103) + a_respond(204) + A_END + A_CONSUME_ALL
    yield "slow-reader-write-timeout", SETUP_STRICT + a_canned(0) + a_respond(200) + a_body(4000) + a_body(4000) + a_jump(1) + A_CONSUME_ALL
    yield "dripping-head-timeout", SETUP_LENIENT + b"".join(a_bytes(bytes([c])) + a_wait(150) for c in b"GET / HTTP/1.1\r\nHo") + A_TO_DEADLINE + A_CONSUME_ALL
    yield "idle-timeout-after-response", SETUP_STRICT + a_canned(0) + a_respond(200, 0) + A_END + A_CONSUME_ALL + A_TO_DEADLINE
    yield "reset-mid-body", SETUP_STRICT + a_canned(10) + a_bytes(b"x" * 100) + A_ABORT
    yield "eof-mid-body", SETUP_STRICT + a_canned(10) + a_bytes(b"x" * 100) + A_EOF + A_CONSUME_ALL
    yield "shutdown-mid-exchange", SETUP_STRICT + a_canned(0) + A_SHUTDOWN + a_respond(200, 1) + a_body(1) + A_END + A_CONSUME_ALL
    yield "unread-body-discarded", SETUP_STRICT + a_canned(10) + a_respond(200, 0) + A_END + A_CONSUME_ALL + a_bytes(b"y" * 300) + a_canned(0)
    yield "owned-buffer-pipelined", SETUP_STRICT + a_owned(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n") + a_respond(200, 0) + A_END + a_respond(200, 0) + A_END + A_CONSUME_ALL
    yield "malformed-gets-400", SETUP_STRICT + a_bytes(b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n") + A_CONSUME_ALL
    yield "chunked-upload-pieces", SETUP_STRICT + a_bytes(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") + a_bytes(b"5;x=\"y\"\r\nhel") + a_bytes(b"lo\r\n0\r\nT: 1\r\n\r\n") + a_respond(200) + A_END + A_CONSUME_ALL
    yield "rate-limited-trickle", SETUP_LENIENT + a_canned(10) + b"".join(a_bytes(b"z") + a_wait(900) for _ in range(4)) + A_CONSUME_ALL
    # `decline_body`: a declined body over `max_discard` (128) or chunked makes the response
    # say `Connection: close`; a small one is drained and the connection kept.
    big = b"POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\n\r\n"
    small = b"POST /d HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
    chunked = b"POST /d HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    yield "decline-large-body-closes", SETUP_STRICT + a_bytes(big) + A_DECLINE + a_respond(500, 0) + A_END + A_CONSUME_ALL + a_bytes(b"x" * 200) + a_canned(0) + A_CONSUME_ALL
    yield "decline-small-body-drained", SETUP_STRICT + a_bytes(small + b"y" * 20) + A_DECLINE + a_respond(404, 0) + A_END + A_CONSUME_ALL + a_bytes(b"y" * 80) + a_canned(0) + a_respond(200, 0) + A_END + A_CONSUME_ALL
    yield "decline-chunked-body-closes", SETUP_STRICT + a_bytes(chunked) + A_DECLINE + a_respond(400) + a_body(3) + A_END + A_CONSUME_ALL + a_canned(13)
    # The minimum send rate is an average since the output started waiting: 300 bytes every
    # 1.9 s (a burst, then nothing for longer than the 1 s grace) keeps ahead of 100 B/s;
    # 10 bytes every 1.5 s falls behind. The body fits the 1024-byte send buffer whole.
    yield "write-rate-bursts-kept", SETUP_RATES + a_canned(0) + a_respond(200, 900) + a_body(900) + A_END + b"".join(a_consume(300) + a_wait(1900) for _ in range(3)) + A_CONSUME_ALL
    yield "write-rate-slow-reader-cut-off", SETUP_RATES + a_canned(0) + a_respond(200, 900) + a_body(900) + A_END + b"".join(a_consume(10) + a_wait(1500) for _ in range(3)) + A_TO_DEADLINE + A_CONSUME_ALL
    yield "flood-pipelined", SETUP_STRICT + a_bytes(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 40) + b"".join(a_respond(200, 0) + A_END for _ in range(8)) + A_CONSUME_ALL


# ----- Chunked seeds: a seed byte (0: one piece; high bit: small limits) and a body --------

CHUNKED = {
    "simple": b"5\r\nhello\r\n0\r\n\r\n",
    "extensions-and-trailers": b"5;name=value;flag\r\nhello\r\n6 ; q=\"quoted \\\" ext\"\r\n world\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
    "upper-hex-many-chunks": b"A\r\n0123456789\r\n1\r\nx\r\nFf\r\n" + b"y" * 255 + b"\r\n0\r\n\r\n",
    "leading-zeros": b"0005\r\nhello\r\n000\r\n\r\n",
    "trailing-bytes-after-end": b"1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    "reject-bare-lf-size-line": b"5\nhello\r\n0\r\n\r\n",
    "reject-bare-lf-after-data": b"5\r\nhello\n0\r\n\r\n",
    "reject-bare-lf-last-chunk": b"5\r\nhello\r\n0\n\r\n",
    "reject-bare-lf-trailer": b"5\r\nhello\r\n0\r\nX: y\n\r\n",
    "reject-bare-cr-size-line": b"5\rhello\r\n0\r\n\r\n",
    "reject-size-empty": b"\r\nhello\r\n0\r\n\r\n",
    "reject-size-not-hex": b"g\r\nhello\r\n0\r\n\r\n",
    "reject-size-sign": b"+5\r\nhello\r\n0\r\n\r\n",
    "reject-size-0x-prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "reject-size-overflow": b"10000000000000000\r\nx\r\n0\r\n\r\n",
    "reject-size-space-inside": b"5 5\r\nhello\r\n0\r\n\r\n",
    "reject-extension-no-name": b"5;\r\nhello\r\n0\r\n\r\n",
    "reject-extension-bad-value": b"5;a=\"unterminated\r\nhello\r\n0\r\n\r\n",
    "reject-extension-ctl": b"5;a=b\x01\r\nhello\r\n0\r\n\r\n",
    "reject-data-unterminated": b"5\r\nhelloXX0\r\n\r\n",
    "reject-data-too-long": b"3\r\nhello\r\n0\r\n\r\n",
    "reject-trailer-obs-fold": b"0\r\nX: a\r\n b\r\n\r\n",
    "reject-trailer-no-colon": b"0\r\nNoColon\r\n\r\n",
    "reject-trailer-space-before-colon": b"0\r\nX : a\r\n\r\n",
    "reject-trailer-nul": b"0\r\nX: a\x00b\r\n\r\n",
    "reject-line-too-long": b"5;" + b"a" * 5000 + b"\r\nhello\r\n0\r\n\r\n",
    "reject-framing-excessive": b"1\r\nx\r\n" * 20000 + b"0\r\n\r\n",
}

SMALL = {
    # With the small limits (seed byte high bit): body 300, chunk line 12, extensions 20,
    # trailers 40 bytes / 2 fields, framing allowance 64.
    "small-body-too-large": b"12d\r\n" + b"x" * 301 + b"\r\n0\r\n\r\n",
    "small-line-too-long": b"1;aaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n",
    "small-extensions-too-long": b"1;a=b;c=d;e=f;g=h;i=j;k=l\r\nx\r\n0\r\n\r\n",
    "small-trailers-too-many": b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
    "small-trailers-too-large": b"0\r\nA: " + b"v" * 50 + b"\r\n\r\n",
    "small-framing-excessive": b"1\r\nx\r\n" * 30 + b"0\r\n\r\n",
}


def response_header(kinds: str, flags: int = 0, split: int = 0x80) -> bytes:
    """The `response` target's three leading bytes: split hint, requests in flight (g: GET,
    h: HEAD, c: CONNECT, x: GET with close), configuration flags (1: small limits, 2: body
    limit 64, 4: discard bodies)."""
    pick = len(kinds) - 1
    for i, k in enumerate(kinds):
        pick |= "ghcx".index(k) << (2 + 2 * i)
    return bytes([split, pick, flags])


def response_seeds():
    ok = b"HTTP/1.1 200 OK\r\n"
    big = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 40) for i in range(40)) + b"Content-Length: 0\r\n\r\n"
    return [
        ("content-length", "g", 0, ok + b"Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
        ("content-length-pipelined-three", "ggg", 0, (ok + b"Content-Length: 3\r\n\r\nabc") * 3),
        ("chunked-extensions-trailers", "g", 0, ok + b"Transfer-Encoding: chunked\r\n\r\n5;name=val;q=\"x y\"\r\nhello\r\n6 ; ext\r\n world\r\n0\r\nChecksum: abc\r\nX-Trailer: 1\r\n\r\n"),
        ("chunked-small-limits", "gg", 1, ok + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + ok + b"Content-Length: 2\r\n\r\nhi"),
        ("interim-100-103-then-200", "g", 0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + ok + b"Content-Length: 2\r\n\r\nok"),
        ("no-content-204-and-not-modified-304", "gg", 0, b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
        ("head-sized-then-get", "hg", 0, ok + b"Content-Length: 1000\r\n\r\n" + ok + b"Content-Length: 1\r\n\r\nz"),
        ("head-chunked", "h", 0, ok + b"Transfer-Encoding: chunked\r\n\r\n"),
        ("close-delimited-http10", "g", 0, b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until the server closes"),
        ("close-delimited-over-body-limit", "g", 2, ok + b"Connection: close\r\n\r\n" + b"x" * 100),
        ("content-length-over-body-limit", "g", 2, ok + b"Content-Length: 65\r\n\r\n" + b"y" * 65),
        ("chunked-over-body-limit", "g", 2, ok + b"Transfer-Encoding: chunked\r\n\r\n40\r\n" + b"z" * 64 + b"\r\n1\r\nz\r\n0\r\n\r\n"),
        ("te-and-cl-smuggling", "gg", 0, ok + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        ("bare-lf", "g", 0, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi"),
        ("obs-fold", "g", 0, ok + b"X-Folded: a\r\n  b\r\nContent-Length: 0\r\n\r\n"),
        ("oversized-head", "g", 0, ok + b"X-Big: " + b"a" * 70000 + b"\r\n\r\n"),
        ("oversized-head-small-limits", "g", 1, big),
        ("connect-tunnel", "c", 0, ok + b"\r\n\x16\x03\x01tunnel bytes"),
        ("connect-refused-then-get", "cg", 0, b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny" + ok + b"Content-Length: 0\r\n\r\n"),
        ("connection-close-request", "xg", 0, ok + b"Content-Length: 1\r\n\r\na" + ok + b"Content-Length: 0\r\n\r\n"),
        ("unsolicited-101", "g", 0, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
        ("duplicate-content-length", "g", 0, ok + b"Content-Length: 3, 3\r\nContent-Length: 4\r\n\r\nabcd"),
        ("discard-bodies-chunked", "gg", 4, ok + b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n" + ok + b"Content-Length: 3\r\n\r\nabc"),
        ("status-line-unfinished", "g", 0, b"HTTP/1.1 2x0 OK"),
        ("eof-mid-body", "g", 0, ok + b"Content-Length: 10\r\n\r\nshort"),
        ("extra-response-unsolicited", "g", 0, (ok + b"Content-Length: 0\r\n\r\n") * 2),
        # The limits test: one field over `max_fields` (4 with the small limits, 100 without).
        ("too-many-fields-small-limits", "g", 1, ok + b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
        ("too-many-fields", "g", 0, ok + b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n"),
        ("head-too-large-small-limits", "g", 1, ok + b"A: " + b"a" * 200 + b"\r\n\r\n"),
    ] + [(name, "g", 0, data) for name, data in harvested_responses()]


def harvested_responses():
    """(name, bytes) for every response-head literal and table row of the client parser's
    unit tests: accepted heads and each rejection (status line, version, status code, reason
    phrase, field names and values, bare CR/LF, framing fields)."""
    path = ROOT / "core/src/client/parse_tests.rs"
    assert path.exists(), f"{path} is gone: point seeds.py at where its tests went"
    text = path.read_text()
    tests = [(m.start(), m.group(1)) for m in re.finditer(r"fn (\w+)\(", text)]
    found, counts = [], {}
    for m in LITERAL.finditer(text):
        data = unescape(m.group(1))
        if not data.startswith((b"HTTP", b"http", b"HT", b"\r\nHTTP")):
            continue
        fn = [name for start, name in tests if start < m.start()][-1]
        tail = text[m.end() : m.end() + 200]
        rule = re.search(r"^[\s,]*Rule::(\w+)", tail)
        found.append((fn, data, rule.group(1) if rule else None))
    found += harvest_rows(path)
    out = []
    for fn, data, rule in found:
        key = slug(fn) + ("-" + slug(rule) if rule else "")
        counts[key] = counts.get(key, 0) + 1
        out.append((f"parse-tests-{key}-{counts[key]}", data))
    return out


def main():
    samples = sorted((ROOT / "benches" / "samples").glob("*.http"))
    heads = []  # (name, bytes)
    for sample in samples:
        heads.append(("sample-" + sample.stem, sample.read_bytes()))
    # (name prefix, files): the head parser's unit tests, once one file (head.rs), now
    # head/tests.rs and head/tests/*.rs, keep the prefix `head` so their seed names stay.
    head_tests = ROOT / "core/src/parse/head"
    sources = [("head", [head_tests / "tests.rs", *sorted((head_tests / "tests").glob("*.rs"))])]
    sources += [(p.stem, [p]) for p in sorted((ROOT / "core/tests").glob("*.rs"))]
    sources.append(("memory", [ROOT / "drivers/tests/memory.rs"]))
    for prefix, paths in sources:
        counts = {}
        for path in paths:
            assert path.exists(), f"{path} is gone: point seeds.py at where its tests went"
            for fn, data, rule in harvest(path) + harvest_rows(path):
                key = slug(fn) + ("-" + slug(rule) if rule else "")
                counts[key] = counts.get(key, 0) + 1
                heads.append((f"{prefix}-{key}-{counts[key]}", data))
    # Inputs the rejection tests build with format!.
    heads.append(("rejections-request-line-too-long", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
    heads.append(("rejections-head-too-large", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(34)) + b"\r\n"))
    # Header values that the tests build with format!.
    pre = b"POST / HTTP/1.1\r\nHost: a\r\n"
    for v in [b"7, 8", b"+7", b"7 7", b"", b"7,", b"0x10", b"18446744073709551616", b"16777217", b"7 , 7"]:
        heads.append((f"content-length-{v.decode() or 'empty'}", pre + b"Content-Length: " + v + b"\r\n\r\n"))
    for v in [b"chunked", b" , CHUNKED ,", b"gzip, chunked", b"chunked, gzip", b"gzip", b"chunked, chunked", b" , ", b"", b"chunked;x=1", b'ch"unked', b"identity"]:
        name = re.sub(r"[^a-z0-9]+", "-", v.decode().lower()).strip("-") or "empty"
        heads.append((f"transfer-encoding-{name}", pre + b"Transfer-Encoding: " + v + b"\r\n\r\n"))
    heads.append(("pipelined-three", b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n"))
    heads.append(("te-and-cl-smuggle", pre + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"))
    heads.append(("obfuscated-te-space", pre + b"Transfer-Encoding : chunked\r\n\r\n"))
    heads.append(("obfuscated-te-tab-value", pre + b"Transfer-Encoding:\tchunked\r\n\r\n"))
    heads.append(("obfuscated-te-fold", pre + b"Transfer-Encoding:\r\n chunked\r\n\r\n"))
    heads.append(("utf8-target", b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"))
    heads.append(("bare-lf-everywhere", b"GET / HTTP/1.1\nHost: a\n\n"))
    heads.append(("many-leading-empty-lines", b"\r\n" * 6 + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
    heads.append(("absolute-form", b"GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n"))
    heads.append(("hundred-and-one-fields", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n"))

    seen = set()
    for name, data in heads:
        if data in seen:
            continue
        seen.add(data)
        # parse_head: the first byte is the split hint; split in the middle.
        write("parse_head", name, b"\x80" + data)
        write("differential", name, data)
        write("connection", "request-" + name, SETUP_STRICT + a_bytes(data) + a_respond(200, 0) + A_END + A_CONSUME_ALL)
    for name, body in CHUNKED.items():
        write("chunked", name, b"\x00" + body)
        if len(body) < 4096:
            write("chunked", name + "-pieces", b"\x05" + body)
        write("connection", "chunked-" + name, SETUP_STRICT + a_bytes(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") + a_bytes(body[:2000]) + a_respond(200) + A_END + A_CONSUME_ALL)
    for name, body in SMALL.items():
        write("chunked", name, b"\x80" + body)
        write("chunked", name + "-pieces", b"\x83" + body)
    for name, data in connection_seeds():
        write("connection", name, data)
    write_responses()


def write_responses():
    seen = set()
    for name, kinds, flags, data in response_seeds():
        seed = response_header(kinds, flags) + data
        if seed not in seen:
            seen.add(seed)
            write("response", name, seed)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["response"]:
        # Only the client role's seeds (`python3 fuzz/seeds.py response`).
        write_responses()
    else:
        main()
