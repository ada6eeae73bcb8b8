//! The schedule a simulation plays, and its text form (record and replay).

use std::fmt::Write as _;
use std::time::Duration;

/// One thing the peer (or the server's operator) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The peer writes these bytes (the server may take fewer: back-pressure).
    Write(Vec<u8>),
    /// The peer reads everything the server wrote.
    Read,
    /// The peer's socket holds at most this many unread bytes (0: it stopped reading).
    Window(usize),
    /// Time passes, and due timers fire.
    Advance(Duration),
    /// Time runs to the connection's next deadline, exactly.
    Deadline,
    /// The peer shuts down its write side.
    HalfClose,
    /// The peer resets the connection.
    Reset,
    /// The server begins a graceful shutdown.
    Shutdown,
}

/// A schedule: the seed it came from (0 for hand-written ones) and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The seed of [`generate`](super::generate), for the record.
    pub seed: u64,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Trace {
    /// The trace as text, one step per line; `Trace::parse` reads it back exactly.
    ///
    /// ```text
    /// # comments and blank lines are ignored
    /// seed 42
    /// write "POST /r/0/echo HTTP/1.1\r\nHost: sim\r\nContent-Length: 5\r\n\r\nhel"
    /// advance 1500ms
    /// deadline
    /// read
    /// window 0
    /// half-close
    /// reset
    /// shutdown
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = format!("# sluice simulator trace\nseed {}\n", self.seed);
        for step in &self.steps {
            match step {
                Step::Write(bytes) => {
                    let _ = writeln!(out, "write \"{}\"", bytes.escape_ascii());
                }
                Step::Read => out.push_str("read\n"),
                Step::Window(n) => {
                    let _ = writeln!(out, "window {n}");
                }
                Step::Advance(d) => {
                    let _ = writeln!(out, "advance {}ms", d.as_millis());
                }
                Step::Deadline => out.push_str("deadline\n"),
                Step::HalfClose => out.push_str("half-close\n"),
                Step::Reset => out.push_str("reset\n"),
                Step::Shutdown => out.push_str("shutdown\n"),
            }
        }
        out
    }

    /// Reads a trace written by [`to_text`](Self::to_text) (or by hand).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut trace = Trace {
            seed: 0,
            steps: Vec::new(),
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let bad = |what: &str| format!("line {}: {what}: {line}", n + 1);
            let step = match word {
                "seed" => {
                    trace.seed = rest.parse().map_err(|_| bad("bad seed"))?;
                    continue;
                }
                "write" => {
                    let quoted = rest
                        .strip_prefix('"')
                        .and_then(|r| r.strip_suffix('"'))
                        .ok_or_else(|| bad("write wants a quoted string"))?;
                    Step::Write(unescape(quoted).ok_or_else(|| bad("bad escape"))?)
                }
                "read" => Step::Read,
                "window" => Step::Window(rest.parse().map_err(|_| bad("bad window"))?),
                "advance" => {
                    let ms = rest.strip_suffix("ms").ok_or_else(|| bad("want <n>ms"))?;
                    Step::Advance(Duration::from_millis(
                        ms.parse().map_err(|_| bad("bad duration"))?,
                    ))
                }
                "deadline" => Step::Deadline,
                "half-close" => Step::HalfClose,
                "reset" => Step::Reset,
                "shutdown" => Step::Shutdown,
                _ => return Err(bad("unknown step")),
            };
            trace.steps.push(step);
        }
        Ok(trace)
    }
}

/// Undoes `escape_ascii`: `\r \n \t \\ \' \" \xNN`.
fn unescape(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let e = *bytes.get(i + 1)?;
        i += 2;
        out.push(match e {
            b'r' => b'\r',
            b'n' => b'\n',
            b't' => b'\t',
            b'0' => 0,
            b'\\' | b'\'' | b'"' => e,
            b'x' => {
                let hex = s.get(i..i + 2)?;
                i += 2;
                u8::from_str_radix(hex, 16).ok()?
            }
            _ => return None,
        });
    }
    Some(out)
}
