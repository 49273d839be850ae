//! Integrations: each service's settings and encrypted token, and the
//! items published or created there.

use rusqlite::{OptionalExtension, params};
use serde_json::json;
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::publish::{Service, ValidIntegration};
use tftsr_core::timeline::NewTimelineEvent;
use tftsr_core::{IssueId, StoreError, StoreErrorKind, Timestamp};

use super::issues::{write_audit, write_events};
use super::{Database, store_error};

fn corrupt(what: &str) -> StoreError {
    tracing::error!(what, "unreadable value in the database");
    StoreError::new(
        StoreErrorKind::Corrupt,
        format!("An unreadable {what} is stored in the database."),
    )
}

fn ts(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).map_err(|_| corrupt("timestamp"))
}

/// A stored integration: its settings, whether a token is stored, and
/// when it was last saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntegrationRow {
    pub config: ValidIntegration,
    pub token_set: bool,
    pub updated_at: Timestamp,
}

/// A token as stored: encrypted, and its SHA-256 (hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    pub encrypted: String,
    pub sha256: String,
}

/// What a save does to the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenChange {
    Keep,
    Clear,
    Set(StoredToken),
}

impl TokenChange {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Keep => "kept",
            Self::Clear => "cleared",
            Self::Set(_) => "replaced",
        }
    }
}

/// An item published or created in another tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicationRow {
    pub id: String,
    pub issue_id: IssueId,
    /// `rca`, `post_mortem` or `issue`.
    pub doc_type: String,
    pub service: Service,
    pub remote_id: String,
    pub remote_label: String,
    pub remote_url: String,
    pub remote_version: Option<i64>,
    pub published_at: Timestamp,
    pub payload_sha256: String,
}

type ConfigTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    bool,
    String,
    bool,
);

const CONFIG_SELECT: &str = "SELECT c.service, c.base_url, c.space_key, c.project, c.username, \
     c.work_item_type, c.auto_create_on_resolve, c.enabled, c.updated_at, \
     EXISTS (SELECT 1 FROM credentials k WHERE k.service = c.service) \
     FROM integration_config c";

fn config_tuple(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConfigTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn config_row(t: ConfigTuple) -> Result<IntegrationRow, StoreError> {
    let (service, base_url, space_key, project, username, work_item_type, auto, enabled, at, token) =
        t;
    Ok(IntegrationRow {
        config: ValidIntegration {
            service: Service::parse(&service).ok_or_else(|| corrupt("integration service"))?,
            base_url,
            space_key,
            project,
            username,
            work_item_type,
            auto_create_on_resolve: auto,
            enabled,
        },
        token_set: token,
        updated_at: ts(&at)?,
    })
}

type PublicationTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    String,
);

const PUBLICATION_COLUMNS: &str = "id, issue_id, doc_type, service, remote_id, remote_label, \
     remote_url, remote_version, published_at, payload_sha256";

fn publication_tuple(r: &rusqlite::Row<'_>) -> rusqlite::Result<PublicationTuple> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn publication_row(t: PublicationTuple) -> Result<PublicationRow, StoreError> {
    let (id, issue, doc_type, service, remote_id, label, url, version, at, sha) = t;
    Ok(PublicationRow {
        id,
        issue_id: IssueId::parse(&issue).ok_or_else(|| corrupt("issue id"))?,
        doc_type,
        service: Service::parse(&service).ok_or_else(|| corrupt("integration service"))?,
        remote_id,
        remote_label: label,
        remote_url: url,
        remote_version: version,
        published_at: ts(&at)?,
        payload_sha256: sha,
    })
}

impl Database {
    /// Every configured integration, in the order of [`Service::ALL`].
    pub fn integrations(&self) -> Result<Vec<IntegrationRow>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<ConfigTuple> = conn
            .prepare_cached(CONFIG_SELECT)
            .and_then(|mut s| s.query_map([], config_tuple)?.collect())
            .map_err(store_error)?;
        let mut rows = rows
            .into_iter()
            .map(config_row)
            .collect::<Result<Vec<_>, _>>()?;
        rows.sort_by_key(|r| r.config.service);
        Ok(rows)
    }

    pub fn integration(&self, service: Service) -> Result<Option<IntegrationRow>, StoreError> {
        let conn = self.lock_reader();
        let row = conn
            .prepare_cached(&format!("{CONFIG_SELECT} WHERE c.service = ?1"))
            .and_then(|mut s| s.query_row([service.as_str()], config_tuple).optional())
            .map_err(store_error)?;
        row.map(config_row).transpose()
    }

    /// The stored token of `service`, encrypted.
    pub fn integration_token(&self, service: Service) -> Result<Option<StoredToken>, StoreError> {
        self.lock_reader()
            .prepare_cached("SELECT token_enc, token_sha256 FROM credentials WHERE service = ?1")
            .and_then(|mut s| {
                s.query_row([service.as_str()], |r| {
                    Ok(StoredToken {
                        encrypted: r.get(0)?,
                        sha256: r.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(store_error)
    }

    /// Saves an integration's settings and token change, with an
    /// `integration_saved` audit entry (whether the token changed, never
    /// the token or its hash).
    pub fn save_integration(
        &self,
        config: &ValidIntegration,
        token: &TokenChange,
        now: Timestamp,
    ) -> Result<IntegrationRow, StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let service = config.service.as_str();
        tx.execute(
            "INSERT INTO integration_config (service, base_url, space_key, project, username,
                 work_item_type, auto_create_on_resolve, enabled, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (service) DO UPDATE SET base_url = excluded.base_url,
                 space_key = excluded.space_key, project = excluded.project,
                 username = excluded.username, work_item_type = excluded.work_item_type,
                 auto_create_on_resolve = excluded.auto_create_on_resolve,
                 enabled = excluded.enabled, updated_at = excluded.updated_at",
            params![
                service,
                config.base_url,
                config.space_key,
                config.project,
                config.username,
                config.work_item_type,
                config.auto_create_on_resolve,
                config.enabled,
                now.to_string(),
            ],
        )
        .map_err(store_error)?;
        match token {
            TokenChange::Keep => {}
            TokenChange::Clear => {
                tx.execute("DELETE FROM credentials WHERE service = ?1", [service])
                    .map_err(store_error)?;
            }
            TokenChange::Set(stored) => {
                tx.execute(
                    "INSERT INTO credentials (service, token_enc, token_sha256, updated_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (service) DO UPDATE SET token_enc = excluded.token_enc,
                         token_sha256 = excluded.token_sha256, updated_at = excluded.updated_at",
                    params![service, stored.encrypted, stored.sha256, now.to_string()],
                )
                .map_err(store_error)?;
            }
        }
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::IntegrationSaved,
                entity_type: "integration",
                entity_id: service.to_owned(),
                details: json!({
                    "service": service,
                    "base_url": config.base_url,
                    "enabled": config.enabled,
                    "auto_create_on_resolve": config.auto_create_on_resolve,
                    "token": token.as_str(),
                }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)?;
        drop(conn);
        self.integration(config.service)?
            .ok_or_else(|| StoreError::new(StoreErrorKind::Other, "The integration was not saved."))
    }

    /// The issue's publications, newest first.
    pub fn publications(&self, issue: IssueId) -> Result<Vec<PublicationRow>, StoreError> {
        let conn = self.lock_reader();
        let rows: Vec<PublicationTuple> = conn
            .prepare_cached(&format!(
                "SELECT {PUBLICATION_COLUMNS} FROM publications WHERE issue_id = ?1
                 ORDER BY published_at DESC, id DESC"
            ))
            .and_then(|mut s| {
                s.query_map([issue.to_string()], publication_tuple)?
                    .collect()
            })
            .map_err(store_error)?;
        rows.into_iter().map(publication_row).collect()
    }

    /// Records an item published (or published again: the row for the same
    /// issue, document and service is replaced) and its timeline event.
    pub fn record_publication(
        &self,
        row: &PublicationRow,
        event: &NewTimelineEvent,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        tx.execute(
            &format!(
                "INSERT INTO publications ({PUBLICATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (issue_id, doc_type, service) DO UPDATE SET
                     remote_id = excluded.remote_id, remote_label = excluded.remote_label,
                     remote_url = excluded.remote_url, remote_version = excluded.remote_version,
                     published_at = excluded.published_at, payload_sha256 = excluded.payload_sha256"
            ),
            params![
                row.id,
                row.issue_id.to_string(),
                row.doc_type,
                row.service.as_str(),
                row.remote_id,
                row.remote_label,
                row.remote_url,
                row.remote_version,
                row.published_at.to_string(),
                row.payload_sha256,
            ],
        )
        .map_err(store_error)?;
        write_events(
            &tx,
            row.issue_id,
            row.published_at,
            std::slice::from_ref(event),
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Adds one event to an issue's timeline.
    pub fn add_timeline_event(
        &self,
        issue: IssueId,
        event: &NewTimelineEvent,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        write_events(&tx, issue, now, std::slice::from_ref(event)).map_err(store_error)?;
        tx.commit().map_err(store_error)
    }
}
