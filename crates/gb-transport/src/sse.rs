//! An incremental, size-capped server-sent-events parser (pure; no I/O).
//!
//! It follows the WHATWG `EventSource` parsing rules: lines end with CRLF, LF or CR (also when a
//! CRLF is split across chunks); a leading BOM is dropped; `:` starts a comment; `data:` lines are
//! joined with `\n`; `event:`, `id:` (ignored if it contains NUL) and `retry:` (digits only) are
//! honoured; unknown fields are ignored; an empty line dispatches the event, unless no `data`
//! line was seen. Memory is bounded: a line longer than `max_line` or an event whose data grows
//! past `max_event` is an [`ErrorKind::TooLarge`] error, raised before the buffer grows further.

use alloc::borrow::ToOwned as _;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::error::{ErrorKind, TransportError};

/// Default cap on one SSE line and on one event's joined data: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type (`"message"` when the server sent no `event:` line).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID seen so far on this stream, if any.
    pub id: Option<String>,
}

/// The incremental parser. Feed it chunks as they arrive with [`feed`](Self::feed).
#[derive(Debug, Clone)]
pub struct SseParser {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event: String,
    last_event_id: Option<String>,
    retry: Option<Duration>,
    pending_cr: bool,
    first_line: bool,
    max_line: usize,
    max_event: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser refusing lines over `max_line` bytes and events over `max_event` bytes of data.
    pub fn new(max_line: usize, max_event: usize) -> Self {
        Self {
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event: String::new(),
            last_event_id: None,
            retry: None,
            pending_cr: false,
            first_line: true,
            max_line,
            max_event,
        }
    }

    /// The reconnection time from the last valid `retry:` field, unclamped.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// The last event ID seen (persists across events, as in `EventSource`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// Bytes currently buffered (partial line plus pending data); never above the caps.
    pub fn buffered_len(&self) -> usize {
        self.line.len() + self.data.len()
    }

    /// Parses `chunk`, returning the events it completes.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] if a line or an event exceeds its cap. The parser is then reset
    /// and holds no buffered data; the caller should drop the connection.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, TransportError> {
        let mut events = Vec::new();
        let mut rest = chunk;
        // An empty chunk between a `\r` and its `\n` must not end the pending CR (found by
        // the `sse` fuzz target: it made `\r` + `` + `\n` two line ends).
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                rest = tail;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (head, tail) = rest.split_at(pos);
            self.push_line_bytes(head)?;
            let line = core::mem::take(&mut self.line);
            self.process_line(&line, &mut events)?;
            self.line = line;
            self.line.clear();
            rest = match tail {
                [b'\r', b'\n', more @ ..] => more,
                [b'\r'] => {
                    self.pending_cr = true;
                    &[]
                }
                [_, more @ ..] => more,
                [] => &[],
            };
        }
        self.push_line_bytes(rest)?;
        Ok(events)
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        if self.line.len() + bytes.len() > self.max_line {
            self.reset();
            return Err(TransportError::new(
                ErrorKind::TooLarge,
                "SSE line exceeds the cap",
            ));
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn reset(&mut self) {
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
        self.event.clear();
    }

    fn process_line(
        &mut self,
        raw: &[u8],
        events: &mut Vec<SseEvent>,
    ) -> Result<(), TransportError> {
        let mut raw = raw;
        if core::mem::take(&mut self.first_line) {
            raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        }
        if raw.is_empty() {
            self.dispatch(events);
            return Ok(());
        }
        if raw.first() == Some(&b':') {
            return Ok(());
        }
        let line = String::from_utf8_lossy(raw);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*line, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    self.reset();
                    return Err(TransportError::new(
                        ErrorKind::TooLarge,
                        "SSE event exceeds the cap",
                    ));
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_event_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Digits only; saturate absurd values (the caller clamps anyway).
                let ms = value.parse::<u64>().unwrap_or(u64::MAX);
                self.retry = Some(Duration::from_millis(ms));
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, events: &mut Vec<SseEvent>) {
        let event = core::mem::take(&mut self.event);
        if !core::mem::take(&mut self.has_data) {
            return;
        }
        let data = core::mem::take(&mut self.data);
        let event = if event.is_empty() {
            String::from("message")
        } else {
            event
        };
        events.push(SseEvent {
            event,
            data,
            id: self.last_event_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(p.feed(c).expect("within caps"));
        }
        out
    }

    #[test]
    fn multi_line_data_and_fields() {
        let ev =
            parse_all(&[b"retry: 10000\n\nid: 7 \nevent: features\ndata: {\"a\":\ndata: 1}\n\n"]);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].event, "features");
        assert_eq!(ev[0].data, "{\"a\":\n1}");
        assert_eq!(ev[0].id.as_deref(), Some("7 "));
    }

    #[test]
    fn an_empty_chunk_between_cr_and_lf_is_one_line_end() {
        let ev = parse_all(&[b"data: a\r", b"", b"\ndata: b\n\n"]);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(ev[0].data, "a\nb");
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let text: &[u8] =
            b"\xEF\xBB\xBFevent: features\r\ndata: x\r\ndata:y\r\n\r\n: comment\rdata: \r\revent: a\ndata\n\n";
        let whole = parse_all(&[text]);
        assert_eq!(whole.len(), 3, "{whole:?}");
        assert_eq!(whole[0].data, "x\ny");
        assert_eq!(whole[1].event, "message");
        assert_eq!(whole[1].data, "");
        assert_eq!(whole[2].event, "a");
        for split in 0..text.len() {
            let (a, b) = text.split_at(split);
            assert_eq!(parse_all(&[a, b]), whole, "split at {split}");
        }
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        assert!(parse_all(&[b"event: features\n\n"]).is_empty());
    }

    #[test]
    fn long_line_is_refused_and_memory_stays_bounded() {
        let mut p = SseParser::new(1024 * 1024, 1024 * 1024);
        let chunk = vec![b'a'; 64 * 1024];
        let mut failed = false;
        for _ in 0..160 {
            match p.feed(&chunk) {
                Ok(ev) => assert!(ev.is_empty()),
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::TooLarge);
                    failed = true;
                    break;
                }
            }
            assert!(p.buffered_len() <= 1024 * 1024);
        }
        assert!(failed, "a 10 MiB line must exceed a 1 MiB cap");
        assert_eq!(p.buffered_len(), 0);
    }

    #[test]
    fn many_data_lines_are_capped() {
        let mut p = SseParser::new(1024, 4096);
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = p.feed(b"data: 0123456789012345678901234567890123456789\n") {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err.map(|e| e.kind()), Some(ErrorKind::TooLarge));
    }

    #[test]
    fn bad_retry_and_nul_id_are_ignored() {
        let mut p = SseParser::default();
        p.feed(b"retry: 1x\nid: a\0b\ndata: z\n\n").expect("fine");
        assert_eq!(p.retry(), None);
        assert_eq!(p.last_event_id(), None);
        p.feed(b"retry: 99999999999999999999999\n").expect("fine");
        assert!(p.retry().is_some());
    }
}
