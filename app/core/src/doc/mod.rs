//! Documents: the RCA and post-mortem a triage ends in.
//!
//! * [`template`] renders an issue, its 5 Whys, timeline, evidence and
//!   action items to Markdown, section by section;
//! * [`markdown`] parses Markdown into a small block model every exporter
//!   walks;
//! * [`html`] renders that model as sanitised HTML for the live preview;
//! * [`export`] is the [`Exporter`] port (the server implements PDF and
//!   DOCX) and the Markdown exporter;
//! * [`action`] holds action items and their validation;
//! * [`escape`] makes user text safe to place in Markdown;
//! * [`sections`] finds a document's title and replaces one section.

pub mod action;
pub mod escape;
pub mod export;
pub mod html;
pub mod markdown;
pub mod sections;
pub mod template;

pub use action::{ActionItem, ActionItemDraft, ActionStatus, ValidActionItem};
pub use escape::{md_escape, md_escape_block, md_table_cell};
pub use export::{
    ExportDoc, ExportError, ExportErrorKind, ExportFormat, ExportMeta, Exporter, MarkdownExporter,
};
pub use html::render_html;
pub use markdown::{Block, Inline, parse};
pub use template::{DocInput, DocumentKind, LogExcerpt, SectionKind, render, section};
