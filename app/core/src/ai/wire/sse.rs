//! An incremental parser for Server-Sent Events (the WHATWG `text/event-stream`
//! format), as OpenAI, Mistral, Anthropic and Gemini stream their replies.
//!
//! Bytes go in as the network delivers them; complete events come out. Lines
//! end with LF, CRLF or a lone CR (a CR at the end of one chunk and an LF at
//! the start of the next are one line end); `data` lines of one event are
//! joined with `\n`; lines starting with `:` are comments (keep-alives); a
//! blank line dispatches the event. `[DONE]` is ordinary data here: the
//! dialects that use it recognise it.

use super::{MAX_LINE_BYTES, malformed};
use crate::ai::ProviderError;

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; empty means the default, `message`.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field, if one was given.
    pub id: Option<String>,
}

impl SseEvent {
    /// Whether this is the OpenAI-style end marker.
    pub fn is_done_marker(&self) -> bool {
        self.data.trim() == "[DONE]"
    }
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the line not yet ended.
    line: Vec<u8>,
    /// The previous chunk ended with CR: an LF first in this one belongs
    /// to that line end.
    after_cr: bool,
    /// Whether a line was seen yet (a BOM is dropped only from the first).
    started: bool,
    event: String,
    data: Vec<String>,
    id: Option<String>,
    /// Whether the event under construction has any field yet.
    has_fields: bool,
    label: &'static str,
}

impl SseParser {
    /// A parser whose errors name `label`.
    pub fn new(label: &'static str) -> Self {
        Self {
            label,
            ..Self::default()
        }
    }

    /// Feeds bytes; returns the events they completed.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<Vec<SseEvent>, ProviderError> {
        let mut events = Vec::new();
        if self.after_cr {
            self.after_cr = false;
            bytes = bytes.strip_prefix(b"\n").unwrap_or(bytes);
        }
        let mut rest = bytes;
        while let Some(at) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..at]);
            let was_cr = rest[at] == b'\r';
            rest = &rest[at + 1..];
            if was_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&line)? {
                events.push(event);
            }
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > MAX_LINE_BYTES
            || self.data.iter().map(String::len).sum::<usize>() > MAX_LINE_BYTES
        {
            return Err(malformed(self.label, "an event of the stream is too long"));
        }
        Ok(events)
    }

    /// The body ended. A last event whose lines were complete but which
    /// lacked the closing blank line is still dispatched (some servers end
    /// with `data: [DONE]\n`); a half-received line is dropped, as the
    /// standard says.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, ProviderError> {
        self.line.clear();
        Ok(self.take_event())
    }

    fn line_done(&mut self, mut line: &[u8]) -> Result<Option<SseEvent>, ProviderError> {
        if !self.started {
            self.started = true;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            return Ok(self.take_event());
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| malformed(self.label, "the event stream is not UTF-8"))?;
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => {
                self.event = value.to_owned();
                self.has_fields = true;
            }
            "data" => {
                self.data.push(value.to_owned());
                self.has_fields = true;
            }
            "id" if !value.contains('\0') => {
                self.id = Some(value.to_owned());
                self.has_fields = true;
            }
            // `retry` and unknown fields: nothing for a client that does not
            // reconnect.
            _ => {}
        }
        Ok(None)
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        if !self.has_fields {
            return None;
        }
        self.has_fields = false;
        let data = std::mem::take(&mut self.data);
        let event = std::mem::take(&mut self.event);
        let id = self.id.take();
        // An event with no data is not dispatched (WHATWG), except that a
        // named event without data still tells the dialect something.
        if data.is_empty() && event.is_empty() {
            return None;
        }
        Some(SseEvent {
            event,
            data: data.join("\n"),
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_chunks(input: &[u8], size: usize) -> Vec<SseEvent> {
        let mut parser = SseParser::new("test");
        let mut events = Vec::new();
        for chunk in input.chunks(size) {
            events.extend(parser.feed(chunk).expect("valid"));
        }
        events.extend(parser.finish().expect("valid"));
        events
    }

    const SAMPLE: &[u8] = b": keep-alive\r\n\
        event: message_start\r\n\
        data: {\"a\":1}\r\n\
        \r\n\
        data: line one\n\
        data: line two\n\
        \n\
        id: 7\r\
        data:no-space\r\
        \r\
        data: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            SseEvent {
                event: "message_start".into(),
                data: "{\"a\":1}".into(),
                id: None,
            },
            SseEvent {
                event: String::new(),
                data: "line one\nline two".into(),
                id: None,
            },
            SseEvent {
                event: String::new(),
                data: "no-space".into(),
                id: Some("7".into()),
            },
            SseEvent {
                event: String::new(),
                data: "[DONE]".into(),
                id: None,
            },
        ]
    }

    #[test]
    fn every_chunking_gives_the_same_events() {
        for size in 1..=SAMPLE.len() {
            assert_eq!(
                parse_in_chunks(SAMPLE, size),
                expected(),
                "chunk size {size}"
            );
        }
        assert!(expected()[3].is_done_marker());
    }

    #[test]
    fn a_bom_at_the_start_is_dropped() {
        let events = parse_in_chunks(b"\xEF\xBB\xBFdata: x\n\n", 2);
        assert_eq!(events[0].data, "x");
    }

    #[test]
    fn split_multibyte_characters_survive() {
        let input = "data: héllo ✓\n\n".as_bytes();
        for size in 1..input.len() {
            assert_eq!(parse_in_chunks(input, size)[0].data, "héllo ✓");
        }
    }

    #[test]
    fn a_last_event_without_blank_line_is_kept_but_half_lines_are_not() {
        assert_eq!(parse_in_chunks(b"data: [DONE]\n", 4)[0].data, "[DONE]");
        assert!(parse_in_chunks(b"data: {\"cut", 4).is_empty());
    }

    #[test]
    fn comments_and_empty_events_dispatch_nothing() {
        assert!(parse_in_chunks(b": ping\n\n\n\nretry: 10\n\n", 3).is_empty());
    }

    #[test]
    fn data_with_an_empty_value_counts() {
        let events = parse_in_chunks(b"data\ndata\n\n", 1);
        assert_eq!(events[0].data, "\n");
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let mut parser = SseParser::new("test");
        let e = parser.feed(b"data: \xFF\xFE\n\n").expect_err("not utf8");
        assert_eq!(e.kind, crate::ai::ProviderErrorKind::Malformed);
    }
}
