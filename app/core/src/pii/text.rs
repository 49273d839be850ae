//! Byte-level helpers shared by the detectors: line bounds, neighbouring
//! characters, the word before a position.
//!
//! Detectors look at context only inside the line of a match (that is what
//! lets the streaming scanner cut between lines and still agree with a
//! whole-text scan). These helpers step over ASCII bytes only, so every
//! index they return is a char boundary of the original `&str`.

/// `[A-Za-z0-9_]`.
pub(crate) const fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The byte just before `pos`, if any.
pub(crate) fn byte_before(text: &str, pos: usize) -> Option<u8> {
    pos.checked_sub(1)
        .and_then(|i| text.as_bytes().get(i).copied())
}

/// The byte at `pos`, if any.
pub(crate) fn byte_at(text: &str, pos: usize) -> Option<u8> {
    text.as_bytes().get(pos).copied()
}

/// Start of the line containing `pos` (just after the previous `\n`).
pub(crate) fn line_start(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    memchr::memrchr(b'\n', &text.as_bytes()[..pos]).map_or(0, |i| i + 1)
}

/// End of the line containing `pos` (the index of the next `\n`, or the
/// text's length).
pub(crate) fn line_end(text: &str, pos: usize) -> usize {
    let pos = pos.min(text.len());
    memchr::memchr(b'\n', &text.as_bytes()[pos..]).map_or(text.len(), |i| pos + i)
}

/// The part of the line containing `pos` that lies within `radius` bytes
/// of it. Detectors use this rather than the whole line so that a
/// pathological single-line input (a multi-megabyte JSON blob) cannot make
/// each lookup linear in its size.
pub(crate) fn line_window(text: &str, pos: usize, radius: usize) -> &str {
    let bytes = text.as_bytes();
    let pos = pos.min(bytes.len());
    let floor = pos.saturating_sub(radius);
    let ceiling = pos.saturating_add(radius).min(bytes.len());
    let start = memchr::memrchr(b'\n', &bytes[floor..pos]).map_or(floor, |i| floor + i + 1);
    let end = memchr::memchr(b'\n', &bytes[pos..ceiling]).map_or(ceiling, |i| pos + i);
    let start = ceil_char_boundary(text, start);
    let end = floor_char_boundary(text, end);
    text.get(start..end.max(start)).unwrap_or("")
}

/// The part of the line before `pos`, at most `max` bytes of it.
pub(crate) fn line_before(text: &str, pos: usize, max: usize) -> &str {
    let bytes = text.as_bytes();
    let pos = floor_char_boundary(text, pos);
    let floor = pos.saturating_sub(max);
    let start = memchr::memrchr(b'\n', &bytes[floor..pos]).map_or(floor, |i| floor + i + 1);
    text.get(ceil_char_boundary(text, start).min(pos)..pos)
        .unwrap_or("")
}

/// The whitespace-delimited word that ends just before `pos` (skipping
/// spaces and tabs between it and `pos`), limited to the line and to
/// `max` bytes.
pub(crate) fn word_before(text: &str, pos: usize, max: usize) -> &str {
    let bytes = text.as_bytes();
    let mut end = pos.min(bytes.len());
    let floor = end.saturating_sub(max.saturating_add(64));
    while end > floor && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    let mut start = end;
    while start > floor && end - start < max && !bytes[start - 1].is_ascii_whitespace() {
        start -= 1;
    }
    // Stepping over a multi-byte char may stop inside it; move forward to the
    // next boundary rather than slicing mid-char.
    let start = ceil_char_boundary(text, start).min(end);
    text.get(start..end).unwrap_or("")
}

/// The smallest char boundary not below `index`.
pub(crate) fn ceil_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

/// The largest char boundary not above `index`.
pub(crate) fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Whether `value` is made of one repeated masking character or is a usual
/// "hidden" marker — the masking that CI runners and careful loggers do.
pub(crate) fn is_masked(value: &str) -> bool {
    let trimmed =
        value.trim_matches(|c| matches!(c, '"' | '\'' | '<' | '>' | '[' | ']' | '(' | ')'));
    if trimmed.is_empty() {
        return true;
    }
    if trimmed
        .chars()
        .all(|c| matches!(c, '*' | '•' | '#' | '?' | '.' | '-' | '█'))
        || trimmed.chars().all(|c| c == 'x' || c == 'X')
    {
        return true;
    }
    let lower = trimmed.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "redacted"
            | "masked"
            | "hidden"
            | "removed"
            | "filtered"
            | "omitted"
            | "not set"
            | "unset"
            | "none"
            | "null"
            | "nil"
            | "undefined"
            | "empty"
    ) || lower.starts_with("${")
        || lower.starts_with("{{")
        || lower.starts_with("%(")
        || lower == "%s"
        || (lower.starts_with('$') && lower[1..].bytes().all(is_word_byte))
}

/// A rough randomness test for secret-looking values: long enough and
/// mixing character classes the way generated tokens do, which ordinary
/// words and identifiers rarely do.
pub(crate) fn looks_random(value: &str, min_len: usize) -> bool {
    if value.len() < min_len {
        return false;
    }
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    let has_lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let letters = has_lower || has_upper;
    (has_digit && letters) || (has_lower && has_upper && value.len() >= 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_helpers() {
        let text = "first line\nsecond one\nthird";
        assert_eq!(line_start(text, 14), 11);
        assert_eq!(line_end(text, 14), 21);
        assert_eq!(line_window(text, 25, 100), "third");
        assert_eq!(line_window(text, 0, 100), "first line");
        assert_eq!(line_window(text, 14, 2), "econ");
        assert_eq!(line_window("aé", 2, 1), "é");
        assert_eq!(line_before(text, 14, 100), "sec");
        assert_eq!(line_before(text, 14, 2), "ec");
    }

    #[test]
    fn word_before_skips_spaces_and_stops_at_line() {
        let text = "a\nversion:  1.2";
        assert_eq!(word_before(text, 12, 32), "version:");
        assert_eq!(word_before("é x", 3, 32), "é");
        assert_eq!(word_before("x\n", 2, 8), "");
    }

    #[test]
    fn masking_markers() {
        for masked in [
            "***",
            "********",
            "[REDACTED]",
            "<hidden>",
            "${DB_PASS}",
            "xxxx",
            "$PASS",
        ] {
            assert!(is_masked(masked), "{masked}");
        }
        for real in ["hunter2", "correct-horse", "s3cr3t!"] {
            assert!(!is_masked(real), "{real}");
        }
    }
}
