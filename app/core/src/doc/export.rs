//! The `Exporter` port: a document's Markdown turned into a file.
//!
//! Core owns the Markdown exporter (it is only the bytes); the server crate
//! implements PDF and DOCX with real fonts and a zip writer.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::template::DocumentKind;
use crate::{IssueId, Timestamp};

text_enum! {
    /// The file formats a document can be exported to.
    ExportFormat {
        Markdown => "markdown", "Markdown";
        Pdf => "pdf", "PDF";
        Docx => "docx", "Word (DOCX)";
    }
}

impl ExportFormat {
    /// The file name extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Pdf => "pdf",
            Self::Docx => "docx",
        }
    }

    /// The MIME type for `Content-Type`.
    pub const fn mime_type(self) -> &'static str {
        match self {
            Self::Markdown => "text/markdown; charset=utf-8",
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }
}

/// What an exported file says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportMeta {
    pub issue_id: IssueId,
    pub kind: DocumentKind,
    pub generated_at: Timestamp,
}

/// A document ready to export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportDoc {
    pub title: String,
    pub markdown: String,
    pub meta: ExportMeta,
}

impl ExportDoc {
    /// A file name for downloads: the kind, a slug of the title and the
    /// date, e.g. `post-mortem-disk-full-on-db-01-2025-01-31.pdf`; the kind
    /// is not repeated when the title already starts with it (`Post-mortem:
    /// Disk full`). Only ASCII letters, digits and `-` survive, so it is
    /// safe in a `Content-Disposition` header.
    pub fn file_name(&self, format: ExportFormat) -> String {
        let mut slug = String::new();
        for c in self.title.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
            if slug.len() >= 60 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        let kind = self.meta.kind.as_str().replace('_', "-");
        let label = self
            .meta
            .kind
            .label()
            .to_ascii_lowercase()
            .replace(' ', "-");
        let date = self.meta.generated_at.date();
        if slug.is_empty() {
            format!("{kind}-{date}.{}", format.extension())
        } else if slug.starts_with(&kind) || slug.starts_with(&label) {
            format!("{slug}-{date}.{}", format.extension())
        } else {
            format!("{kind}-{slug}-{date}.{}", format.extension())
        }
    }
}

/// Why an export failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ExportErrorKind {
    /// A font could not be loaded: the binary was built without its font
    /// files, or they are damaged.
    Font,
    /// The document could not be laid out or encoded (a bug; details are
    /// in the server log).
    Render,
    /// The format is not available in this build.
    Unsupported,
}

impl fmt::Display for ExportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Font => "font",
            Self::Render => "render",
            Self::Unsupported => "unsupported",
        })
    }
}

/// An export failure. The message names no document content, so it is safe
/// to log and to show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExportError {
    kind: ExportErrorKind,
    message: String,
}

impl ExportError {
    pub fn new(kind: ExportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ExportErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Turns a document into the bytes of one file format.
pub trait Exporter: Send + Sync {
    fn format(&self) -> ExportFormat;
    fn export(&self, doc: &ExportDoc) -> Result<Vec<u8>, ExportError>;
}

/// The Markdown itself, with line ends normalised to `\n` and exactly one
/// trailing newline.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn format(&self) -> ExportFormat {
        ExportFormat::Markdown
    }

    fn export(&self, doc: &ExportDoc) -> Result<Vec<u8>, ExportError> {
        let mut text = doc.markdown.replace("\r\n", "\n").replace('\r', "\n");
        let trimmed = text.trim_end_matches('\n').len();
        text.truncate(trimmed);
        text.push('\n');
        Ok(text.into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, markdown: &str) -> ExportDoc {
        let at = Timestamp::parse("2025-01-31T10:00:00.000Z").expect("ts");
        ExportDoc {
            title: title.into(),
            markdown: markdown.into(),
            meta: ExportMeta {
                issue_id: IssueId::new_at(at),
                kind: DocumentKind::PostMortem,
                generated_at: at,
            },
        }
    }

    #[test]
    fn markdown_exporter_normalises_line_ends() {
        let out = MarkdownExporter
            .export(&doc("t", "# A\r\n\r\nb\rc\n\n\n"))
            .expect("export");
        assert_eq!(out, b"# A\n\nb\nc\n");
        assert_eq!(MarkdownExporter.export(&doc("t", "")).expect("e"), b"\n");
    }

    #[test]
    fn formats_know_their_files() {
        assert_eq!(ExportFormat::Pdf.extension(), "pdf");
        assert_eq!(
            ExportFormat::Docx.mime_type(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(ExportFormat::parse("docx"), Some(ExportFormat::Docx));
    }

    #[test]
    fn file_names_are_header_safe() {
        let d = doc("Disk full on db-01: \"Café\" \r\n/etc", "");
        assert_eq!(
            d.file_name(ExportFormat::Pdf),
            "post-mortem-disk-full-on-db-01-caf-etc-2025-01-31.pdf"
        );
        assert_eq!(
            doc("東京", "").file_name(ExportFormat::Docx),
            "post-mortem-2025-01-31.docx"
        );
        // The kind is not said twice.
        assert_eq!(
            doc("Post-mortem: Disk full", "").file_name(ExportFormat::Markdown),
            "post-mortem-disk-full-2025-01-31.md"
        );
    }
}
