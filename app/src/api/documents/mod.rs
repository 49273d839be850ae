//! RCA and post-mortem documents: draft, edit (autosave with a version
//! check), redraft a section, history and restore; action items. Files are
//! downloaded from `/api/export/{issue}/{kind}/{format}` (a plain route:
//! server functions carry JSON, not files).

use leptos::prelude::*;
use tftsr_core::doc::ActionItem;

use crate::AppError;
use crate::wire::{DocumentView, DocumentsView, OpenActionItem, SavedDocument, VersionContent};

#[cfg(feature = "ssr")]
fn kind(text: &str) -> Result<tftsr_core::doc::DocumentKind, AppError> {
    tftsr_core::doc::DocumentKind::parse(text.trim())
        .ok_or_else(|| AppError::BadRequest("That is not a kind of document TFTSR writes.".into()))
}

#[server(prefix = "/api", endpoint = "get_documents")]
pub async fn get_documents(issue_id: String) -> Result<DocumentsView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.documents.overview(issue)).await
}

#[server(prefix = "/api", endpoint = "get_document")]
pub async fn get_document(issue_id: String, kind: String) -> Result<DocumentView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    crate::services::blocking(move |s| s.documents.document(issue, kind)).await
}

/// Drafts the document from the issue's data (again, if it exists: the
/// current text stays in the history).
#[server(prefix = "/api", endpoint = "generate_document")]
pub async fn generate_document(issue_id: String, kind: String) -> Result<DocumentView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    let view = crate::services::blocking(move |s| s.documents.generate(issue, kind)).await?;
    leptos_axum::redirect(&format!(
        "/issues/{}/documents/{}",
        view.issue_id,
        view.kind.as_str()
    ));
    Ok(view)
}

/// Saves the editor's text. `base_version` is the version it was loaded
/// at: a save from a stale tab is refused.
#[server(prefix = "/api", endpoint = "save_document")]
pub async fn save_document(
    issue_id: String,
    kind: String,
    content: String,
    base_version: i64,
) -> Result<SavedDocument, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    crate::services::blocking(move |s| s.documents.save(issue, kind, content, base_version)).await
}

#[server(prefix = "/api", endpoint = "redraft_section")]
pub async fn redraft_section(
    issue_id: String,
    kind: String,
    section: String,
    base_version: i64,
) -> Result<DocumentView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    let section = tftsr_core::doc::SectionKind::parse(section.trim())
        .ok_or_else(|| AppError::BadRequest("Pick a section to redraft.".into()))?;
    crate::services::blocking(move |s| {
        s.documents
            .redraft_section(issue, kind, section, base_version)
    })
    .await
}

/// Has the issue's AI provider draft one section, through the PII gate.
#[server(prefix = "/api", endpoint = "ai_redraft_section")]
pub async fn ai_redraft_section(
    issue_id: String,
    kind: String,
    section: String,
    base_version: i64,
) -> Result<DocumentView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    let section = tftsr_core::doc::SectionKind::parse(section.trim())
        .ok_or_else(|| AppError::BadRequest("Pick a section to draft.".into()))?;
    crate::services::services()?
        .documents
        .ai_redraft_section(issue, kind, section, base_version)
        .await
}

#[server(prefix = "/api", endpoint = "document_version")]
pub async fn document_version(
    issue_id: String,
    kind: String,
    version_id: String,
) -> Result<VersionContent, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    let (title, content) =
        crate::services::blocking(move |s| s.documents.version_content(issue, kind, &version_id))
            .await?;
    Ok(VersionContent { title, content })
}

#[server(prefix = "/api", endpoint = "restore_version")]
pub async fn restore_version(
    issue_id: String,
    kind: String,
    version_id: String,
) -> Result<DocumentView, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let kind = self::kind(&kind)?;
    crate::services::blocking(move |s| s.documents.restore(issue, kind, &version_id)).await
}

/// The action-item form; an empty `id` adds an item.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionItemForm {
    #[serde(default)]
    pub id: String,
    pub description: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub due: String,
    #[serde(default)]
    pub status: String,
}

#[server(prefix = "/api", endpoint = "save_action_item")]
pub async fn save_action_item(
    issue_id: String,
    form: ActionItemForm,
) -> Result<ActionItem, AppError> {
    let issue = super::parse_id(&issue_id)?;
    let id = Some(form.id.trim().to_owned()).filter(|i| !i.is_empty());
    let draft = tftsr_core::doc::ActionItemDraft {
        description: form.description,
        owner: form.owner,
        due: form.due,
        status: form.status,
    };
    crate::services::blocking(move |s| s.documents.save_action_item(issue, id, draft)).await
}

#[server(prefix = "/api", endpoint = "delete_action_item")]
pub async fn delete_action_item(issue_id: String, id: String) -> Result<(), AppError> {
    let issue = super::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.documents.delete_action_item(issue, id.trim())).await
}

#[server(prefix = "/api", endpoint = "open_action_items")]
pub async fn open_action_items() -> Result<Vec<OpenActionItem>, AppError> {
    crate::services::blocking(|s| s.documents.open_action_items(20)).await
}
