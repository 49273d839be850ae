//! Integrations: publishing documents to Confluence and creating incidents
//! in ServiceNow and work items in Azure DevOps.
//!
//! The request bodies come from `tftsr_core::publish`; this module loads
//! what they need from the store, runs the PII gate on the exact text that
//! will leave, writes the `publish_to_*` audit entry *before* the first
//! request, sends through [`remote::Remote`], and records the item (and a
//! timeline event) after success. Tokens are stored encrypted with
//! [`Credentials`], decrypted only for the request, and never returned,
//! logged or put in a message.

pub mod remote;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use tftsr_app::AppError;
use tftsr_app::error::FieldError;
use tftsr_app::services::IntegrationService;
use tftsr_app::wire::{ConnectionTest, IntegrationView, PublicationView, PublishTarget};
use tftsr_core::ai::BoxFuture;
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::doc::DocumentKind;
use tftsr_core::logs::{AcceptedValues, check_clean_to_send};
use tftsr_core::publish::azure_devops::{self, WorkItem};
use tftsr_core::publish::confluence::{self, PageContent};
use tftsr_core::publish::servicenow::{self, Incident};
use tftsr_core::publish::{
    ConnectionOutcome, IntegrationDraft, PublishInput, RemoteError, RemoteErrorKind, RemoteItem,
    Service, ValidIntegration,
};
use tftsr_core::timeline::{NewTimelineEvent, TimelineEventKind};
use tftsr_core::{Clock, IssueId, IssueStore};

use crate::attachments::{Images, OutgoingImage};
use crate::credentials::Credentials;
use crate::logs::Logs;
use crate::providers::HttpClient;
use crate::secret::Secret;
use crate::store::Database;
use crate::store::integrations::{IntegrationRow, PublicationRow, StoredToken, TokenChange};
use remote::Remote;

/// How long one request to a remote may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn view(row: &IntegrationRow) -> IntegrationView {
    let c = &row.config;
    IntegrationView {
        service: c.service,
        base_url: c.base_url.clone(),
        space_key: c.space_key.clone(),
        project: c.project.clone(),
        username: c.username.clone(),
        work_item_type: c.work_item_type.clone(),
        auto_create_on_resolve: c.auto_create_on_resolve,
        enabled: c.enabled,
        token_set: row.token_set,
        updated_at: Some(row.updated_at),
    }
}

fn publication_view(row: &PublicationRow) -> PublicationView {
    PublicationView {
        service: row.service,
        doc_type: row.doc_type.clone(),
        remote_id: row.remote_id.clone(),
        remote_label: row.remote_label.clone(),
        remote_url: row.remote_url.clone(),
        remote_version: row.remote_version,
        published_at: row.published_at,
    }
}

fn remote_failure(e: RemoteError) -> AppError {
    match e.kind {
        RemoteErrorKind::NotFound => AppError::NotFound(e.message),
        RemoteErrorKind::Rejected => AppError::BadRequest(e.message),
        _ => AppError::Unavailable(e.message),
    }
}

/// What a publish sends, built and checked before anything leaves.
enum Payload {
    Page(PageContent),
    Incident(Incident),
    WorkItem(WorkItem),
}

impl Payload {
    fn new(service: Service, input: &PublishInput) -> Self {
        match service {
            Service::Confluence => Self::Page(PageContent::from_input(input)),
            Service::ServiceNow => Self::Incident(Incident::from_input(input)),
            Service::AzureDevOps => Self::WorkItem(WorkItem::from_input(input)),
        }
    }

    fn gated_text(&self) -> String {
        match self {
            Self::Page(p) => p.gated_text(),
            Self::Incident(i) => i.gated_text(),
            Self::WorkItem(w) => w.gated_text(),
        }
    }
}

/// Everything a publish needs, read from the store in one go.
struct Prepared {
    config: ValidIntegration,
    token: Secret,
    token_sha256: String,
    input: PublishInput,
    document_version: Option<i64>,
    previous: Option<PublicationRow>,
    accepted: AcceptedValues,
    /// The issue's cleared images, metadata removed.
    images: Vec<OutgoingImage>,
}

pub struct Integrations {
    db: Arc<Database>,
    logs: Arc<Logs>,
    images: Arc<Images>,
    credentials: Credentials,
    client: HttpClient,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl Integrations {
    pub fn new(
        db: Arc<Database>,
        logs: Arc<Logs>,
        images: Arc<Images>,
        credentials: Credentials,
        client: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            db,
            logs,
            images,
            credentials,
            client,
            clock,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A shorter deadline per request (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn remote<'a>(&'a self, config: &'a ValidIntegration, token: &'a Secret) -> Remote<'a> {
        Remote {
            client: &self.client,
            config,
            token,
            timeout: self.timeout,
        }
    }

    /// The service's settings and decrypted token, or why it can't be used.
    fn usable(&self, service: Service) -> Result<(ValidIntegration, Secret, String), AppError> {
        let label = service.label();
        let row = self.db.integration(service)?.ok_or_else(|| {
            AppError::BadRequest(format!(
                "{label} is not set up: add it in Settings → Integrations."
            ))
        })?;
        let stored: StoredToken = self.db.integration_token(service)?.ok_or_else(|| {
            AppError::BadRequest(format!(
                "{label} has no token stored: add one in Settings → Integrations."
            ))
        })?;
        let token = self.credentials.decrypt(&stored.encrypted).map_err(|e| {
            tracing::error!(
                service = service.as_str(),
                "stored integration token unreadable"
            );
            AppError::Unavailable(format!("{label}: {e}"))
        })?;
        Ok((row.config, token, stored.sha256))
    }

    fn accepted(&self, issue: IssueId) -> Result<AcceptedValues, AppError> {
        let mut accepted = AcceptedValues::new();
        for (kind, value) in self.db.accepted_values(issue)? {
            accepted.insert(kind, value);
        }
        Ok(accepted)
    }

    fn gate(
        &self,
        text: &str,
        accepted: &AcceptedValues,
        service: Service,
    ) -> Result<(), AppError> {
        let scanner = self.logs.scanner();
        check_clean_to_send(text, &scanner, accepted).map_err(|not_clean| {
            let listed: Vec<String> = not_clean
                .findings
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            AppError::Conflict(format!(
                "Not sent to {}: the text contains personal data or secrets that were not \
                 reviewed ({}). Remove them from the document, or redact the log they came \
                 from, then publish again.",
                service.label(),
                listed.join(", ")
            ))
        })
    }

    /// Reads the settings, the token, the document (or the issue alone
    /// for `kind: None`) and what was published before.
    fn prepare(
        &self,
        issue: IssueId,
        kind: Option<DocumentKind>,
        service: Service,
    ) -> Result<Prepared, AppError> {
        let (config, token, token_sha256) = self.usable(service)?;
        if !config.enabled {
            return Err(AppError::BadRequest(format!(
                "{} is switched off in Settings → Integrations.",
                service.label()
            )));
        }
        let record = self.db.get_issue(issue)?;
        let (title, markdown, document_version) = match kind {
            Some(kind) => {
                let doc = self.db.document(issue, kind)?.ok_or_else(|| {
                    AppError::NotFound(format!(
                        "This issue has no {} yet: draft it first.",
                        kind.label().to_lowercase()
                    ))
                })?;
                (doc.title, doc.content, Some(doc.version))
            }
            None => (record.title.clone(), record.description.clone(), None),
        };
        let doc_type = kind.map_or("issue", DocumentKind::as_str);
        // Cleared images go with every publish; the rest stay here.
        let cleared: Vec<_> = self
            .images
            .list(issue)?
            .into_iter()
            .filter(|i| i.cleared_at.is_some())
            .map(|i| i.id)
            .collect();
        let images = self.images.outgoing(issue, &cleared)?;
        let publications = self.db.publications(issue)?;
        let previous = if service.tracks_issues() {
            // One incident / work item per issue, whichever document made it.
            publications.into_iter().find(|p| p.service == service)
        } else {
            publications
                .into_iter()
                .find(|p| p.service == service && p.doc_type == doc_type)
        };
        Ok(Prepared {
            config,
            token,
            token_sha256,
            input: PublishInput {
                issue_id: issue,
                issue_title: record.title,
                severity: record.severity,
                kind,
                title,
                markdown,
                images: images.iter().map(|i| i.file_name.clone()).collect(),
            },
            document_version,
            previous,
            accepted: self.accepted(issue)?,
            images,
        })
    }

    /// Gate, audit, send, record. Blocking store work runs on the blocking
    /// pool; the requests on the runtime.
    async fn run_publish(
        &self,
        issue: IssueId,
        kind: Option<DocumentKind>,
        service: Service,
    ) -> Result<PublicationView, AppError> {
        let prepared = self
            .blocking(move |me| me.prepare(issue, kind, service))
            .await?;
        if let Some(previous) = prepared
            .previous
            .as_ref()
            .filter(|_| service.tracks_issues())
        {
            return Err(AppError::Conflict(format!(
                "This issue already has {} {} {}: {}",
                if service == Service::AzureDevOps {
                    "an"
                } else {
                    "a"
                },
                service.label(),
                service.item(),
                if previous.remote_url.is_empty() {
                    previous.remote_label.clone()
                } else {
                    format!("{} ({})", previous.remote_label, previous.remote_url)
                }
            )));
        }
        let payload = Payload::new(service, &prepared.input);
        // Image names leave too (as file names), so the gate reads them.
        let mut gated = payload.gated_text();
        for name in &prepared.input.images {
            gated.push('\n');
            gated.push_str(name);
        }
        self.gate(&gated, &prepared.accepted, service)?;
        let payload_sha256 = sha256_hex(gated.as_bytes());
        let action = match service {
            Service::Confluence => AuditAction::PublishToConfluence,
            Service::ServiceNow => AuditAction::PublishToServicenow,
            Service::AzureDevOps => AuditAction::PublishToAzureDevops,
        };
        let entry = NewAuditEntry {
            action,
            entity_type: "issue",
            entity_id: issue.to_string(),
            details: json!({
                "service": service.as_str(),
                "base_url": prepared.config.base_url,
                "issue_id": issue.to_string(),
                "document_kind": prepared.input.doc_type(),
                "document_version": prepared.document_version,
                "payload_sha256": payload_sha256,
                "payload_bytes": gated.len(),
                "token_sha256": prepared.token_sha256,
                "auto_on_resolve": kind.is_none(),
                "images": prepared.images.iter().map(|i| json!({
                    "attachment_id": i.image.id.to_string(),
                    "sha256": i.image.sha256,
                    "sent_sha256": sha256_hex(&i.bytes),
                    "sent_bytes": i.bytes.len(),
                })).collect::<Vec<_>>(),
            }),
        };
        let now = self.clock.now();
        self.blocking(move |me| Ok(me.db.audit(&entry, now)?))
            .await?;
        tracing::info!(service = service.as_str(), issue = %issue, kind = prepared.input.doc_type(), "publishing");
        let remote = self.remote(&prepared.config, &prepared.token);
        let (item, image_failure) = send_payload(
            &remote,
            &prepared.config,
            &payload,
            prepared.previous.as_ref(),
            &prepared.images,
        )
        .await
        .map_err(|e| remote.scrub(e))
        .map_err(remote_failure)?;
        let published_at = self.clock.now();
        let row = PublicationRow {
            id: uuid::Uuid::now_v7().to_string(),
            issue_id: issue,
            doc_type: prepared.input.doc_type().to_owned(),
            service,
            remote_id: item.id.clone(),
            remote_label: tftsr_core::publish::cut_chars(&item.label, 300),
            remote_url: if item.url.len() <= 2000 {
                item.url.clone()
            } else {
                String::new()
            },
            remote_version: item.version,
            published_at,
            payload_sha256,
        };
        let what = match kind {
            Some(kind) => kind.label().to_owned(),
            None => "Issue".to_owned(),
        };
        let event = NewTimelineEvent {
            kind: TimelineEventKind::Published,
            description: match service {
                Service::Confluence => format!(
                    "{what} published to Confluence (page version {})",
                    item.version.unwrap_or(1)
                ),
                _ => format!(
                    "{what} filed in {} as {}",
                    service.label(),
                    row.remote_label
                ),
            },
            metadata: json!({
                "service": service.as_str(),
                "doc_type": row.doc_type,
                "remote_id": row.remote_id,
                "remote_url": row.remote_url,
                "images": prepared.images.len(),
            }),
        };
        let stored = row.clone();
        self.blocking(move |me| Ok(me.db.record_publication(&stored, &event)?))
            .await?;
        if let Some(e) = image_failure {
            // The item exists and is recorded; say what is missing from it.
            let e = remote.scrub(e);
            return Err(AppError::Unavailable(format!(
                "The {} was {}, but not all images reached it: {} Publish again to retry.",
                service.item(),
                if service == Service::Confluence {
                    "published"
                } else {
                    "created"
                },
                e.message
            )));
        }
        Ok(publication_view(&row))
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Integrations) -> Result<T, AppError> + Send + 'static,
    {
        let me = self.handle();
        tokio::task::spawn_blocking(move || f(&me))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "blocking task failed");
                AppError::Unavailable("The server hit an internal error; see its log.".into())
            })?
    }

    /// A cheap copy sharing the same store, client and key.
    fn handle(&self) -> Integrations {
        Integrations {
            db: self.db.clone(),
            logs: self.logs.clone(),
            images: self.images.clone(),
            credentials: self.credentials.clone(),
            client: self.client.clone(),
            clock: self.clock.clone(),
            timeout: self.timeout,
        }
    }

    async fn test(&self, service: Service) -> Result<ConnectionTest, AppError> {
        let (config, token, _) = self.blocking(move |me| me.usable(service)).await?;
        let remote = self.remote(&config, &token);
        let started = Instant::now();
        let host = remote.host();
        let result = match service {
            Service::Confluence => {
                let what = format!("space {}", config.space_key);
                match remote.send(&confluence::test_request(&config), &what).await {
                    Ok(json) => confluence::parse_space(&json).map(|name| {
                        format!(
                            "Reached space \u{201C}{name}\u{201D} ({}) at {host}.",
                            config.space_key
                        )
                    }),
                    Err(e) => Err(e),
                }
            }
            Service::ServiceNow => match remote
                .send(&servicenow::test_request(), "incident table")
                .await
            {
                Ok(json) => servicenow::parse_list(&json)
                    .map(|_| format!("Reached the incident table at {host}.")),
                Err(e) => Err(e),
            },
            Service::AzureDevOps => {
                let what = format!("project {}", config.project);
                match remote
                    .send(&azure_devops::test_request(&config), &what)
                    .await
                {
                    Ok(json) => azure_devops::parse_project(&json)
                        .map(|name| format!("Reached project \u{201C}{name}\u{201D} at {host}.")),
                    Err(e) => Err(e),
                }
            }
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (outcome, message) = match result {
            Ok(message) => (ConnectionOutcome::Ok, message),
            Err(e) => {
                let e = remote.scrub(e);
                (ConnectionOutcome::from_error(e.kind), e.message)
            }
        };
        tracing::info!(
            service = service.as_str(),
            outcome = outcome.as_str(),
            elapsed_ms,
            "integration test"
        );
        Ok(ConnectionTest {
            service,
            outcome,
            message,
            elapsed_ms,
        })
    }

    async fn on_resolved(&self, issue: IssueId) {
        let loaded = self
            .blocking(move |me| Ok((me.db.integrations()?, me.db.publications(issue)?)))
            .await;
        let (configs, filed) = match loaded {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "integrations unreadable on resolve");
                return;
            }
        };
        let due = configs.into_iter().map(|r| r.config).filter(|c| {
            c.enabled
                && c.auto_create_on_resolve
                && c.service.tracks_issues()
                // Already filed (resolved before, or published from a
                // document): nothing to do.
                && !filed.iter().any(|p| p.service == c.service)
        });
        for config in due {
            let service = config.service;
            match self.run_publish(issue, None, service).await {
                Ok(item) => {
                    tracing::info!(service = service.as_str(), issue = %issue, item = %item.remote_label, "created on resolve");
                }
                Err(e) => {
                    tracing::warn!(service = service.as_str(), issue = %issue, "creating on resolve failed");
                    let event = NewTimelineEvent {
                        kind: TimelineEventKind::PublishFailed,
                        description: format!(
                            "Could not create the {} {} on resolve: {e}",
                            service.label(),
                            service.item()
                        ),
                        metadata: json!({"service": service.as_str()}),
                    };
                    let now = self.clock.now();
                    if let Err(e) = self
                        .blocking(move |me| Ok(me.db.add_timeline_event(issue, &event, now)?))
                        .await
                    {
                        tracing::warn!(error = %e, "could not record the failure");
                    }
                }
            }
        }
    }
}

/// Sends the payload: Confluence's lookups and create or update, or the
/// one create request of ServiceNow and Azure DevOps; and the images.
/// Azure DevOps takes the images first (the work item links them when it
/// is created); Confluence and ServiceNow after, onto the item. A failed
/// image upload after the item exists is returned beside it.
async fn send_payload(
    remote: &Remote<'_>,
    config: &ValidIntegration,
    payload: &Payload,
    previous: Option<&PublicationRow>,
    images: &[OutgoingImage],
) -> Result<(RemoteItem, Option<RemoteError>), RemoteError> {
    let what = |image: &OutgoingImage| format!("attachment for {}", image.file_name);
    match payload {
        Payload::Page(page) => {
            let item = publish_page(remote, config, page, previous).await?;
            for image in images {
                let upload = confluence::attachment_request(
                    &item.id,
                    &image.file_name,
                    image.image.image_type.as_str(),
                );
                if let Err(e) = remote
                    .upload(&upload, image.bytes.clone(), &what(image))
                    .await
                    .and_then(|json| confluence::parse_attachment(&json))
                {
                    return Ok((item, Some(e)));
                }
            }
            Ok((item, None))
        }
        Payload::Incident(incident) => {
            let json = remote
                .send(&servicenow::create_request(incident), "incident table")
                .await?;
            let item = servicenow::parse_created(config, &json)?;
            for image in images {
                let upload = servicenow::attachment_request(
                    &item.id,
                    &image.file_name,
                    image.image.image_type.as_str(),
                );
                if let Err(e) = remote
                    .upload(&upload, image.bytes.clone(), &what(image))
                    .await
                    .and_then(|json| servicenow::parse_attachment(&json))
                {
                    return Ok((item, Some(e)));
                }
            }
            Ok((item, None))
        }
        Payload::WorkItem(work_item) => {
            let what_project = format!(
                "project {} or work item type {}",
                config.project, config.work_item_type
            );
            let mut linked = Vec::with_capacity(images.len());
            for image in images {
                let upload = azure_devops::attachment_request(config, &image.file_name);
                let json = remote
                    .upload(&upload, image.bytes.clone(), &what_project)
                    .await?;
                linked.push((
                    image.file_name.clone(),
                    azure_devops::parse_attachment(&json)?,
                ));
            }
            let request = azure_devops::with_attachments(
                azure_devops::create_request(config, work_item),
                &linked,
            );
            let json = remote.send(&request, &what_project).await?;
            Ok((azure_devops::parse_created(config, &json)?, None))
        }
    }
}

/// Confluence: update the page published before (or one with the same
/// title in the space), else create it.
async fn publish_page(
    remote: &Remote<'_>,
    config: &ValidIntegration,
    page: &PageContent,
    previous: Option<&PublicationRow>,
) -> Result<RemoteItem, RemoteError> {
    let mut existing = None;
    if let Some(previous) = previous {
        match remote
            .send(
                &confluence::get_request(&previous.remote_id),
                "page published before",
            )
            .await
        {
            Ok(json) => existing = Some(confluence::parse_page(config, &json)?),
            // Deleted in Confluence since: publish afresh.
            Err(e) if e.kind == RemoteErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if existing.is_none() {
        let what = format!("space {}", config.space_key);
        let json = remote
            .send(&confluence::find_request(config, &page.title), &what)
            .await?;
        existing = confluence::parse_search(config, &json)?;
    }
    let what = format!("space {}", config.space_key);
    let json = match existing {
        Some(found) => {
            let version = found.version.unwrap_or(1);
            remote
                .send(
                    &confluence::update_request(config, &found.id, version, page),
                    &what,
                )
                .await?
        }
        None => {
            remote
                .send(&confluence::create_request(config, page), &what)
                .await?
        }
    };
    confluence::parse_page(config, &json)
}

impl IntegrationService for Integrations {
    fn integrations(&self) -> Result<Vec<IntegrationView>, AppError> {
        let rows = self.db.integrations()?;
        Ok(Service::ALL
            .into_iter()
            .map(|service| {
                rows.iter()
                    .find(|r| r.config.service == service)
                    .map(view)
                    .unwrap_or_else(|| IntegrationView::unconfigured(service))
            })
            .collect())
    }

    fn save_integration(
        &self,
        service: Service,
        draft: IntegrationDraft,
    ) -> Result<IntegrationView, AppError> {
        let has_token = self.db.integration_token(service)?.is_some();
        let valid = draft.validate(service, has_token).map_err(|errors| {
            AppError::Invalid(errors.into_iter().map(FieldError::from).collect())
        })?;
        let change = match draft.token.as_deref().map(str::trim) {
            None => TokenChange::Keep,
            Some("") => TokenChange::Clear,
            Some(token) => TokenChange::Set(StoredToken {
                encrypted: self.credentials.encrypt(token),
                sha256: sha256_hex(token.as_bytes()),
            }),
        };
        let row = self
            .db
            .save_integration(&valid, &change, self.clock.now())?;
        tracing::info!(
            service = service.as_str(),
            enabled = valid.enabled,
            "integration saved"
        );
        Ok(view(&row))
    }

    fn test_connection(&self, service: Service) -> BoxFuture<'_, Result<ConnectionTest, AppError>> {
        Box::pin(self.test(service))
    }

    fn publish_targets(
        &self,
        issue: IssueId,
        kind: DocumentKind,
    ) -> Result<Vec<PublishTarget>, AppError> {
        let publications = self.db.publications(issue)?;
        Ok(self
            .db
            .integrations()?
            .into_iter()
            .filter(|r| r.config.enabled && r.token_set)
            .map(|r| {
                let service = r.config.service;
                let existing = publications
                    .iter()
                    .find(|p| {
                        p.service == service
                            && (service.tracks_issues() || p.doc_type == kind.as_str())
                    })
                    .map(publication_view);
                PublishTarget { service, existing }
            })
            .collect())
    }

    fn publish(
        &self,
        issue: IssueId,
        kind: DocumentKind,
        service: Service,
    ) -> BoxFuture<'_, Result<PublicationView, AppError>> {
        Box::pin(self.run_publish(issue, Some(kind), service))
    }

    fn issue_resolved(&self, issue: IssueId) -> BoxFuture<'_, ()> {
        Box::pin(self.on_resolved(issue))
    }
}
