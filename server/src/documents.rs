//! The service behind the document pages: RCA and post-mortem drafted from
//! what TFTSR knows about an issue (the 5 Whys and their evidence, the
//! timeline, redacted log lines, action items), edited with autosave and
//! history, and exported to Markdown, PDF and DOCX.
//!
//! Drafting here is deterministic (the built-in analyst's way): each section
//! comes from [`tftsr_core::doc::template`]; sections without data carry a
//! placeholder telling the engineer what to write.

use std::io::{BufRead, BufReader};
use std::sync::Arc;

use tftsr_app::AppError;
use tftsr_app::services::{DocumentService, LogService};
use tftsr_app::wire::{
    DocumentSummary, DocumentView, DocumentsView, ExportSummary, ExportedFile, OpenActionItem,
    SavedDocument, VersionSummary,
};
use tftsr_core::ai::BoxFuture;
use tftsr_core::doc::export::{ExportDoc, ExportFormat, ExportMeta, Exporter, MarkdownExporter};
use tftsr_core::doc::sections::{ai_prompt, clean_ai_section, document_title, replace_section};
use tftsr_core::doc::template::{self, DocInput, LogExcerpt};
use tftsr_core::doc::{ActionItem, ActionItemDraft, DocumentKind, SectionKind};
use tftsr_core::logs::LogState;
use tftsr_core::{Clock, IssueId, IssueStore};

use crate::export::{DocxExporter, PdfExporter};
use crate::logs::Logs;
use crate::store::Database;
use crate::store::docs::{DocumentRow, ExportRow, SaveReason};

/// Longest document accepted, in bytes (the column's limit).
pub const DOCUMENT_MAX: usize = 1024 * 1024;
/// Evidence lines quoted in a document, at most.
const EXCERPTS_MAX: usize = 20;
/// A cited line further into a file than this is not looked up.
const EXCERPT_LINE_MAX: u64 = 5_000_000;
/// A quoted line is cut to this many characters.
const EXCERPT_CHARS_MAX: usize = 400;

/// Asks the issue's AI provider for text, through the PII gate and the
/// audit log (the triage engine implements it).
pub trait SectionDrafter: Send + Sync {
    /// The reply and the provider's name.
    fn draft(
        &self,
        issue: IssueId,
        system: String,
        user: String,
        purpose: serde_json::Value,
    ) -> BoxFuture<'_, Result<(String, String), AppError>>;
}

pub struct Documents {
    db: Arc<Database>,
    logs: Arc<Logs>,
    clock: Arc<dyn Clock>,
    drafter: Option<Arc<dyn SectionDrafter>>,
}

fn version_summary(v: crate::store::docs::VersionRow) -> VersionSummary {
    VersionSummary {
        id: v.id,
        version: v.version,
        reason: v.reason,
        title: v.title,
        bytes: v.bytes,
        saved_at: v.saved_at,
    }
}

fn export_summary(e: ExportRow) -> ExportSummary {
    ExportSummary {
        kind: e.kind,
        format: e.format,
        version: e.version,
        size_bytes: e.size_bytes,
        sha256: e.sha256,
        destination: e.destination,
        exported_at: e.exported_at,
    }
}

fn exporter(format: ExportFormat) -> Box<dyn Exporter> {
    match format {
        ExportFormat::Markdown => Box::new(MarkdownExporter),
        ExportFormat::Pdf => Box::new(PdfExporter),
        ExportFormat::Docx => Box::new(DocxExporter),
    }
}

fn check_size(content: &str) -> Result<(), AppError> {
    if content.len() > DOCUMENT_MAX {
        return Err(AppError::BadRequest(format!(
            "The document is {} KiB; the limit is {} KiB. Shorten it (long log quotes are the usual cause).",
            content.len() / 1024,
            DOCUMENT_MAX / 1024
        )));
    }
    Ok(())
}

impl Documents {
    pub fn new(db: Arc<Database>, logs: Arc<Logs>, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            logs,
            clock,
            drafter: None,
        }
    }

    /// Lets sections be drafted by the configured AI provider.
    pub fn with_drafter(mut self, drafter: Arc<dyn SectionDrafter>) -> Self {
        self.drafter = Some(drafter);
        self
    }

    /// What the templates draw on, read from the store.
    pub fn input(&self, issue: IssueId) -> Result<DocInput, AppError> {
        let record = self.db.get_issue(issue)?;
        let mut input = DocInput::new(record, self.clock.now());
        if let Some(conversation) = self.db.latest_conversation(issue)? {
            input.whys = self.db.why_steps(&conversation.id)?;
            input.root_cause = conversation.root_cause.filter(|r| !r.trim().is_empty());
        }
        input.timeline = self.db.timeline(issue)?;
        input.action_items = self.db.action_items(issue)?;
        input.excerpts = self.excerpts(issue, &input)?;
        Ok(input)
    }

    /// The lines the why-steps cite (`file:line`), read from the redacted
    /// copies, in citation order, without repeats.
    fn excerpts(&self, issue: IssueId, input: &DocInput) -> Result<Vec<LogExcerpt>, AppError> {
        let files: Vec<_> = LogService::list(self.logs.as_ref(), issue)?
            .into_iter()
            .filter(|f| f.state == LogState::Redacted)
            .collect();
        let mut wanted: Vec<(usize, u64)> = Vec::new();
        for citation in input.whys.iter().flat_map(|w| w.evidence.iter()) {
            let Some((name, line)) = citation.trim().rsplit_once(':') else {
                continue;
            };
            let Ok(line) = line.trim().parse::<u64>() else {
                continue;
            };
            if line == 0 || line > EXCERPT_LINE_MAX {
                continue;
            }
            if let Some(i) = files.iter().position(|f| f.name == name.trim())
                && !wanted.contains(&(i, line))
            {
                wanted.push((i, line));
            }
            if wanted.len() == EXCERPTS_MAX {
                break;
            }
        }
        let mut excerpts = Vec::new();
        for (i, line) in wanted {
            let file = &files[i];
            let Ok((_, reader)) = self.logs.redacted_reader(file.id) else {
                continue;
            };
            let text = BufReader::new(reader)
                .lines()
                .nth(usize::try_from(line - 1).unwrap_or(usize::MAX))
                .and_then(Result::ok);
            if let Some(text) = text {
                excerpts.push(LogExcerpt {
                    file_name: file.name.clone(),
                    line,
                    text: text.chars().take(EXCERPT_CHARS_MAX).collect(),
                });
            }
        }
        Ok(excerpts)
    }

    fn row(&self, issue: IssueId, kind: DocumentKind) -> Result<DocumentRow, AppError> {
        self.db.document(issue, kind)?.ok_or_else(|| {
            AppError::NotFound(format!(
                "This issue has no {} yet: draft one first.",
                kind.label().to_lowercase()
            ))
        })
    }

    fn view(&self, row: DocumentRow) -> Result<DocumentView, AppError> {
        let issue = self.db.get_issue(row.issue_id)?;
        let versions = self.db.document_versions(&row.id)?;
        let exports = self
            .db
            .export_history(row.issue_id)?
            .into_iter()
            .filter(|e| e.document_id == row.id)
            .map(export_summary)
            .collect();
        Ok(DocumentView {
            issue_id: row.issue_id.to_string(),
            issue_title: issue.title,
            kind: row.kind,
            id: row.id,
            title: row.title,
            content: row.content,
            version: row.version,
            updated_at: row.updated_at,
            versions: versions.into_iter().map(version_summary).collect(),
            exports,
        })
    }

    /// Exports the stored document, drafting it first when there is none,
    /// and records the export. `destination` is `download` or `cli`.
    pub fn export_file(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        format: ExportFormat,
        destination: &str,
    ) -> Result<ExportedFile, AppError> {
        let row = match self.db.document(issue, kind)? {
            Some(row) => row,
            None => self.draft(issue, kind)?,
        };
        let doc = ExportDoc {
            title: row.title.clone(),
            markdown: row.content.clone(),
            meta: ExportMeta {
                issue_id: issue,
                kind,
                generated_at: self.clock.now(),
            },
        };
        let bytes = exporter(format).export(&doc).map_err(|e| {
            tracing::error!(kind = %e.kind(), error = %e, "export failed");
            AppError::Unavailable(format!("The {} could not be made: {e}", format.label()))
        })?;
        self.db
            .record_export(&row, format, &bytes, destination, self.clock.now())?;
        Ok(ExportedFile {
            file_name: doc.file_name(format),
            mime_type: format.mime_type().to_owned(),
            bytes,
        })
    }

    fn draft(&self, issue: IssueId, kind: DocumentKind) -> Result<DocumentRow, AppError> {
        let input = self.input(issue)?;
        let content = template::render(kind, &input);
        check_size(&content)?;
        let title = template::title(kind, &input);
        Ok(self.db.save_document(
            issue,
            kind,
            &title,
            &content,
            SaveReason::Generated,
            None,
            self.clock.now(),
        )?)
    }
}

impl DocumentService for Documents {
    fn overview(&self, issue: IssueId) -> Result<DocumentsView, AppError> {
        let record = self.db.get_issue(issue)?;
        Ok(DocumentsView {
            issue_id: issue.to_string(),
            issue_title: record.title,
            documents: self
                .db
                .documents(issue)?
                .into_iter()
                .map(|d| DocumentSummary {
                    kind: d.kind,
                    title: d.title,
                    version: d.version,
                    updated_at: d.updated_at,
                })
                .collect(),
            action_items: self.db.action_items(issue)?,
            exports: self
                .db
                .export_history(issue)?
                .into_iter()
                .take(20)
                .map(export_summary)
                .collect(),
        })
    }

    fn document(&self, issue: IssueId, kind: DocumentKind) -> Result<DocumentView, AppError> {
        let row = self.row(issue, kind)?;
        self.view(row)
    }

    fn generate(&self, issue: IssueId, kind: DocumentKind) -> Result<DocumentView, AppError> {
        let row = self.draft(issue, kind)?;
        self.view(row)
    }

    fn save(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        content: String,
        base_version: i64,
    ) -> Result<SavedDocument, AppError> {
        check_size(&content)?;
        let current = self.row(issue, kind)?;
        let title = document_title(&content).unwrap_or(current.title);
        let row = self.db.save_document(
            issue,
            kind,
            &title,
            &content,
            SaveReason::Edited,
            Some(base_version),
            self.clock.now(),
        )?;
        Ok(SavedDocument {
            version: row.version,
            updated_at: row.updated_at,
        })
    }

    fn redraft_section(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        section: SectionKind,
        base_version: i64,
    ) -> Result<DocumentView, AppError> {
        let current = self.row(issue, kind)?;
        let input = self.input(issue)?;
        let content = replace_section(
            &current.content,
            section,
            &template::section(section, &input),
        );
        check_size(&content)?;
        let row = self.db.save_document(
            issue,
            kind,
            &current.title,
            &content,
            SaveReason::Redrafted,
            Some(base_version),
            self.clock.now(),
        )?;
        self.view(row)
    }

    fn ai_redraft_section(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        section: SectionKind,
        base_version: i64,
    ) -> BoxFuture<'_, Result<DocumentView, AppError>> {
        Box::pin(async move {
            let drafter = self.drafter.clone().ok_or_else(|| {
                AppError::Unavailable("AI drafting is not wired in this server.".to_owned())
            })?;
            let current = self.row(issue, kind)?;
            if current.version != base_version {
                return Err(AppError::Conflict(format!(
                    "This document was saved elsewhere (now version {}). Reload it first.",
                    current.version
                )));
            }
            let (system, user) = ai_prompt(kind, section, &current.content);
            let purpose = serde_json::json!({
                "purpose": "document_section",
                "document_id": current.id,
                "kind": kind.as_str(),
                "section": section.as_str(),
            });
            let (reply, provider) = drafter.draft(issue, system, user, purpose).await?;
            let body = clean_ai_section(&reply, section);
            if body.is_empty() {
                return Err(AppError::Unavailable(format!(
                    "{provider} sent back no text for this section; nothing was changed."
                )));
            }
            let drafted = format!("## {}\n\n{body}\n", section.heading());
            let content = replace_section(&current.content, section, &drafted);
            check_size(&content)?;
            let row = self.db.save_document(
                issue,
                kind,
                &current.title,
                &content,
                SaveReason::Redrafted,
                Some(base_version),
                self.clock.now(),
            )?;
            self.view(row)
        })
    }

    fn version_content(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        version_id: &str,
    ) -> Result<(String, String), AppError> {
        let row = self.row(issue, kind)?;
        Ok(self.db.document_version(&row.id, version_id)?)
    }

    fn restore(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        version_id: &str,
    ) -> Result<DocumentView, AppError> {
        let row = self.row(issue, kind)?;
        let (title, content) = self.db.document_version(&row.id, version_id)?;
        let row = self.db.save_document(
            issue,
            kind,
            &title,
            &content,
            SaveReason::Restored,
            None,
            self.clock.now(),
        )?;
        self.view(row)
    }

    fn export(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        format: ExportFormat,
    ) -> Result<ExportedFile, AppError> {
        self.export_file(issue, kind, format, "download")
    }

    fn save_action_item(
        &self,
        issue: IssueId,
        id: Option<String>,
        draft: ActionItemDraft,
    ) -> Result<ActionItem, AppError> {
        let valid = draft.validate().map_err(|errors| {
            AppError::Invalid(
                errors
                    .into_iter()
                    .map(|e| tftsr_app::error::FieldError {
                        field: e.field.to_owned(),
                        message: e.message,
                    })
                    .collect(),
            )
        })?;
        let now = self.clock.now();
        let item = match id {
            None => ActionItem::create(issue, valid, now),
            Some(id) => {
                let mut item = self.db.action_item(issue, &id)?;
                item.description = valid.description;
                item.owner = valid.owner;
                item.due = valid.due;
                item.status = valid.status;
                item.updated_at = now;
                item
            }
        };
        self.db.save_action_item(&item, now)?;
        Ok(item)
    }

    fn delete_action_item(&self, issue: IssueId, id: &str) -> Result<(), AppError> {
        Ok(self.db.delete_action_item(issue, id, self.clock.now())?)
    }

    fn open_action_items(&self, limit: u32) -> Result<Vec<OpenActionItem>, AppError> {
        Ok(self
            .db
            .open_action_items(limit)?
            .into_iter()
            .map(|(item, issue_title)| OpenActionItem { item, issue_title })
            .collect())
    }
}

/// `GET /api/export/{issue}/{kind}/{format}`: the document as a file
/// download (drafted first if there is none), recorded in the export
/// history.
pub async fn download(
    axum::extract::State(docs): axum::extract::State<Arc<dyn DocumentService>>,
    axum::extract::Path((issue, kind, format)): axum::extract::Path<(String, String, String)>,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    let (Some(issue), Some(kind), Some(format)) = (
        IssueId::parse(&issue),
        DocumentKind::parse(&kind),
        ExportFormat::parse(&format),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "Name an issue, a document (rca, post_mortem) and a format (markdown, pdf, docx).\n",
        )
            .into_response();
    };
    let made = tokio::task::spawn_blocking(move || docs.export(issue, kind, format)).await;
    let file = match made {
        Ok(Ok(file)) => file,
        Ok(Err(e)) => {
            let status = match e {
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, format!("{e}\n")).into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    // The name is ASCII letters, digits, '-' and '.' only (ExportDoc::file_name).
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    (
        [
            (header::CONTENT_TYPE, file.mime_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file.bytes,
    )
        .into_response()
}
