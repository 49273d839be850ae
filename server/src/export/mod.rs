//! Exporters: the core [`Exporter`](tftsr_core::doc::Exporter) port
//! implemented for PDF (laid out here, drawn with krilla, fonts embedded and
//! subset) and DOCX (OOXML written into a zip). Markdown export lives in
//! core ([`tftsr_core::doc::MarkdownExporter`]).

pub mod docx;
mod fonts;
pub mod pdf;

pub use docx::DocxExporter;
pub use pdf::PdfExporter;
