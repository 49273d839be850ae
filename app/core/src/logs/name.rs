//! Uploaded file names are display names only.
//!
//! The browser sends whatever name the user's file had, or whatever a
//! hostile page chose. TFTSR never uses it as a path (stored content is
//! named by its hash); it only shows it. [`display_name`] keeps the last
//! path component, drops control and bidirectional-override characters
//! (which can make `evil<U+202E>gol.exe` read as `evilexe.log`), trims, and caps
//! the length.

/// Longest display name kept, in bytes.
pub const NAME_MAX_BYTES: usize = 200;
/// Used when nothing printable is left.
pub const FALLBACK_NAME: &str = "upload.log";

/// A safe, printable display name for an uploaded file.
pub fn display_name(raw: &str) -> String {
    // Browsers send a bare name, but some old ones sent the full path.
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_format_trick(*c))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return FALLBACK_NAME.to_owned();
    }
    let mut end = trimmed.len().min(NAME_MAX_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    trimmed[..end].to_owned()
}

/// Invisible characters that change how the rest of a name reads.
fn is_format_trick(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_reduced_to_their_last_component() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\bob\\app.log"), "app.log");
        assert_eq!(display_name("/var/log/syslog"), "syslog");
    }

    #[test]
    fn hidden_tricks_are_removed() {
        assert_eq!(display_name("evil\u{202E}gol.exe"), "evilgol.exe");
        assert_eq!(display_name("a\u{0}b\nc.log"), "abc.log");
        assert_eq!(display_name("..hidden"), "hidden");
    }

    #[test]
    fn empty_or_dots_fall_back() {
        assert_eq!(display_name(""), FALLBACK_NAME);
        assert_eq!(display_name(".."), FALLBACK_NAME);
        assert_eq!(display_name("dir/"), FALLBACK_NAME);
        assert_eq!(display_name("   "), FALLBACK_NAME);
    }

    #[test]
    fn long_names_are_cut_on_a_char_boundary() {
        let name = "é".repeat(300);
        let shown = display_name(&name);
        assert!(shown.len() <= NAME_MAX_BYTES);
        assert!(shown.chars().all(|c| c == 'é'));
        assert_eq!(display_name("ünïcödé 日志.log"), "ünïcödé 日志.log");
    }
}
