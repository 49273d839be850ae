//! AI providers, triage conversations, their messages and why-steps.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use tftsr_core::ai::{ProviderId, ProviderKind, ProviderSettings, Role};
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::timeline::{NewTimelineEvent, TimelineEventKind};
use tftsr_core::triage::{Effect, WhyStep};
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

/// A provider row: the settings the browser may see, plus the encrypted key.
#[derive(Clone, Debug)]
pub struct ProviderRow {
    pub settings: ProviderSettings,
    /// base64(nonce || ciphertext || tag), or none.
    pub api_key_enc: Option<String>,
}

/// A conversation row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    pub id: String,
    pub issue_id: IssueId,
    pub provider_id: Option<ProviderId>,
    pub provider_label: String,
    pub model: String,
    pub question: String,
    pub root_cause: Option<String>,
    pub created_at: Timestamp,
}

/// A message about to be stored.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub id: String,
    pub role: Role,
    pub content: &'a str,
    pub tool_calls: serde_json::Value,
    pub provider_label: &'a str,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub error: Option<&'a str>,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    pub id: String,
    pub role: Role,
    pub content: String,
    pub tool_calls: serde_json::Value,
    pub provider_label: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub error: Option<String>,
    pub created_at: Timestamp,
}

const PROVIDER_COLUMNS: &str = "id, name, kind, base_url, model, api_key_enc, api_key_hint, \
                                context_tokens, is_default, updated_at";

fn provider_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[Option<String>; 10]> {
    Ok([
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get::<_, i64>(7).map(|n| Some(n.to_string()))?,
        r.get::<_, i64>(8).map(|n| Some(n.to_string()))?,
        r.get(9)?,
    ])
}

fn to_provider(cols: [Option<String>; 10]) -> Result<ProviderRow, StoreError> {
    let [
        id,
        name,
        kind,
        base_url,
        model,
        key_enc,
        hint,
        context,
        default,
        updated,
    ] = cols;
    let text = |v: Option<String>| v.unwrap_or_default();
    Ok(ProviderRow {
        settings: ProviderSettings {
            id: ProviderId::parse(&text(id)).ok_or_else(|| corrupt("provider id"))?,
            name: text(name),
            kind: ProviderKind::parse(&text(kind)).ok_or_else(|| corrupt("provider kind"))?,
            base_url: text(base_url),
            model: text(model),
            key_hint: hint,
            context_tokens: text(context).parse().map_err(|_| corrupt("context size"))?,
            is_default: text(default) == "1",
            updated_at: ts(&text(updated))?,
        },
        api_key_enc: key_enc,
    })
}

fn step_events(effects: &[Effect]) -> Vec<NewTimelineEvent> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::StepRecorded { .. } | Effect::StepsCleared { .. } => None,
            Effect::LevelAdvanced { level, question } => Some(NewTimelineEvent {
                kind: TimelineEventKind::WhyLevelAdvanced,
                description: format!("Why {} answered; now asking: {question}", level - 1),
                metadata: json!({ "level": level }),
            }),
            Effect::RootCauseIdentified { root_cause } => Some(NewTimelineEvent {
                kind: TimelineEventKind::RootCauseIdentified,
                description: format!("Root cause: {root_cause}"),
                metadata: json!({}),
            }),
        })
        .collect()
}

impl Database {
    pub fn providers(&self) -> Result<Vec<ProviderRow>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {PROVIDER_COLUMNS} FROM ai_providers ORDER BY kind != 'builtin', created_at, id"
            ))
            .map_err(store_error)?;
        let rows = stmt
            .query_map([], provider_row)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter().map(to_provider).collect()
    }

    pub fn provider(&self, id: ProviderId) -> Result<ProviderRow, StoreError> {
        let conn = self.lock_reader();
        let cols = conn
            .query_row(
                &format!("SELECT {PROVIDER_COLUMNS} FROM ai_providers WHERE id = ?1"),
                [id.to_string()],
                provider_row,
            )
            .optional()
            .map_err(store_error)?
            .ok_or_else(|| StoreError::not_found("That provider"))?;
        to_provider(cols)
    }

    /// Inserts or replaces a provider. `api_key_enc: None` in `key` keeps the
    /// stored key; `Some(None)` removes it.
    pub fn save_provider(
        &self,
        settings: &ProviderSettings,
        key: Option<Option<(String, String)>>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM ai_providers WHERE id = ?1",
                [settings.id.to_string()],
                |_| Ok(true),
            )
            .optional()
            .map_err(store_error)?
            .unwrap_or(false);
        let context = i64::from(settings.context_tokens);
        if exists {
            tx.execute(
                "UPDATE ai_providers SET name = ?2, kind = ?3, base_url = ?4, model = ?5,
                        context_tokens = ?6, updated_at = ?7 WHERE id = ?1",
                params![
                    settings.id.to_string(),
                    settings.name,
                    settings.kind.as_str(),
                    settings.base_url,
                    settings.model,
                    context,
                    now.to_string()
                ],
            )
            .map_err(store_error)?;
        } else {
            let has_default: bool = tx
                .query_row(
                    "SELECT 1 FROM ai_providers WHERE is_default = 1",
                    [],
                    |_| Ok(true),
                )
                .optional()
                .map_err(store_error)?
                .unwrap_or(false);
            tx.execute(
                "INSERT INTO ai_providers (id, name, kind, base_url, model, context_tokens,
                        is_default, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    settings.id.to_string(),
                    settings.name,
                    settings.kind.as_str(),
                    settings.base_url,
                    settings.model,
                    context,
                    i64::from(!has_default),
                    now.to_string()
                ],
            )
            .map_err(store_error)?;
        }
        let key_changed = key.is_some();
        if let Some(key) = key {
            let (enc, hint) = match key {
                Some((enc, hint)) => (Some(enc), Some(hint)),
                None => (None, None),
            };
            tx.execute(
                "UPDATE ai_providers SET api_key_enc = ?2, api_key_hint = ?3 WHERE id = ?1",
                params![settings.id.to_string(), enc, hint],
            )
            .map_err(store_error)?;
        }
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::ProviderSaved,
                entity_type: "ai_provider",
                entity_id: settings.id.to_string(),
                details: json!({
                    "kind": settings.kind.as_str(),
                    "base_url": settings.base_url,
                    "model": settings.model,
                    "key_changed": key_changed,
                }),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    /// Deletes a provider; if it was the default, the built-in analyst
    /// becomes the default.
    pub fn delete_provider(&self, id: ProviderId, now: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        let n = tx
            .execute(
                "DELETE FROM ai_providers WHERE id = ?1 AND kind != 'builtin'",
                [id.to_string()],
            )
            .map_err(store_error)?;
        if n == 0 {
            return Err(StoreError::new(
                StoreErrorKind::NotFound,
                "That provider does not exist (the built-in analyst cannot be removed).",
            ));
        }
        tx.execute(
            "UPDATE ai_providers SET is_default = 1
             WHERE kind = 'builtin' AND NOT EXISTS (SELECT 1 FROM ai_providers WHERE is_default = 1)",
            [],
        )
        .map_err(store_error)?;
        write_audit(
            &tx,
            now,
            &NewAuditEntry {
                action: AuditAction::ProviderDeleted,
                entity_type: "ai_provider",
                entity_id: id.to_string(),
                details: json!({}),
            },
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    pub fn make_default_provider(&self, id: ProviderId) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        tx.execute(
            "UPDATE ai_providers SET is_default = 0 WHERE is_default = 1",
            [],
        )
        .map_err(store_error)?;
        let n = tx
            .execute(
                "UPDATE ai_providers SET is_default = 1 WHERE id = ?1",
                [id.to_string()],
            )
            .map_err(store_error)?;
        if n == 0 {
            return Err(StoreError::not_found("That provider"));
        }
        tx.commit().map_err(store_error)
    }

    /// Creates the built-in analyst's row on first start (the default when
    /// nothing else is).
    pub fn ensure_builtin_provider(&self, now: Timestamp) -> Result<(), StoreError> {
        let exists: bool = self
            .lock_reader()
            .query_row(
                "SELECT 1 FROM ai_providers WHERE kind = 'builtin'",
                [],
                |_| Ok(true),
            )
            .optional()
            .map_err(store_error)?
            .unwrap_or(false);
        if exists {
            return Ok(());
        }
        // Seeding, not a user's change: no audit entry.
        let default = self
            .lock_reader()
            .query_row(
                "SELECT 1 FROM ai_providers WHERE is_default = 1",
                [],
                |_| Ok(true),
            )
            .optional()
            .map_err(store_error)?
            .is_none();
        self.lock_writer()
            .execute(
                "INSERT INTO ai_providers (id, name, kind, base_url, model, context_tokens,
                        is_default, created_at, updated_at)
                 VALUES (?1, 'Built-in analyst', 'builtin', '', '', ?2, ?3, ?4, ?4)",
                params![
                    ProviderId::new_at(now).to_string(),
                    i64::from(ProviderKind::Builtin.default_context_tokens()),
                    i64::from(default),
                    now.to_string()
                ],
            )
            .map(drop)
            .map_err(store_error)
    }

    pub fn latest_conversation(
        &self,
        issue: IssueId,
    ) -> Result<Option<ConversationRow>, StoreError> {
        let conn = self.lock_reader();
        let row = conn
            .query_row(
                "SELECT id, provider_id, provider_label, model, question, root_cause, created_at
                 FROM ai_conversations WHERE issue_id = ?1
                 ORDER BY created_at DESC, id DESC LIMIT 1",
                [issue.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                },
            )
            .optional()
            .map_err(store_error)?;
        row.map(|(id, provider, label, model, question, root, created)| {
            Ok(ConversationRow {
                id,
                issue_id: issue,
                provider_id: provider.as_deref().and_then(ProviderId::parse),
                provider_label: label,
                model,
                question,
                root_cause: root,
                created_at: ts(&created)?,
            })
        })
        .transpose()
    }

    pub fn insert_conversation(&self, row: &ConversationRow) -> Result<(), StoreError> {
        self.lock_writer()
            .execute(
                "INSERT INTO ai_conversations (id, issue_id, provider_id, provider_label, model,
                        question, root_cause, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    row.id,
                    row.issue_id.to_string(),
                    row.provider_id.map(|p| p.to_string()),
                    row.provider_label,
                    row.model,
                    row.question,
                    row.root_cause,
                    row.created_at.to_string()
                ],
            )
            .map(drop)
            .map_err(store_error)
    }

    pub fn messages(&self, conversation: &str) -> Result<Vec<MessageRow>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, role, content, tool_calls, provider_label, prompt_tokens,
                        completion_tokens, error, created_at
                 FROM ai_messages WHERE conversation_id = ?1 ORDER BY created_at, id",
            )
            .map_err(store_error)?;
        let rows = stmt
            .query_map([conversation], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(id, role, content, calls, label, pt, ct, error, at)| {
                Ok(MessageRow {
                    id,
                    role: Role::parse(&role).ok_or_else(|| corrupt("message role"))?,
                    content,
                    tool_calls: serde_json::from_str(&calls).map_err(|_| corrupt("tool calls"))?,
                    provider_label: label,
                    prompt_tokens: u32::try_from(pt).unwrap_or(0),
                    completion_tokens: u32::try_from(ct).unwrap_or(0),
                    error,
                    created_at: ts(&at)?,
                })
            })
            .collect()
    }

    /// Stores a message, and with it (one transaction) the audit entry of
    /// the send it belongs to, if any.
    pub fn insert_message(
        &self,
        conversation: &str,
        message: &NewMessage<'_>,
        audit: Option<&NewAuditEntry>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        tx.execute(
            "INSERT INTO ai_messages (id, conversation_id, role, content, tool_calls,
                    provider_label, prompt_tokens, completion_tokens, error, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                message.id,
                conversation,
                message.role.as_str(),
                message.content,
                message.tool_calls.to_string(),
                message.provider_label,
                i64::from(message.prompt_tokens),
                i64::from(message.completion_tokens),
                message.error,
                now.to_string()
            ],
        )
        .map_err(store_error)?;
        if let Some(audit) = audit {
            write_audit(&tx, now, audit).map_err(store_error)?;
        }
        tx.execute(
            "UPDATE ai_conversations SET updated_at = ?2 WHERE id = ?1",
            params![conversation, now.to_string()],
        )
        .map_err(store_error)?;
        tx.commit().map_err(store_error)
    }

    pub fn why_steps(&self, conversation: &str) -> Result<Vec<WhyStep>, StoreError> {
        let conn = self.lock_reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT step_order, question, answer, evidence FROM resolution_steps
                 WHERE conversation_id = ?1 ORDER BY step_order",
            )
            .map_err(store_error)?;
        let rows = stmt
            .query_map([conversation], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(order, question, answer, evidence)| {
                Ok(WhyStep {
                    order: u8::try_from(order).map_err(|_| corrupt("why-step order"))?,
                    question,
                    answer,
                    evidence: serde_json::from_str(&evidence).map_err(|_| corrupt("evidence"))?,
                })
            })
            .collect()
    }

    /// Persists what the state machine did: the steps recorded or cleared,
    /// the open question and root cause, and a timeline event for each level
    /// reached — all in one transaction.
    pub fn apply_triage_effects(
        &self,
        conversation: &ConversationRow,
        question: &str,
        root_cause: Option<&str>,
        effects: &[Effect],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if effects.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock_writer();
        let tx = conn.transaction().map_err(store_error)?;
        for effect in effects {
            match effect {
                Effect::StepRecorded { step } => upsert_step(&tx, conversation, step, now)?,
                Effect::StepsCleared { from } => {
                    tx.execute(
                        "DELETE FROM resolution_steps WHERE conversation_id = ?1 AND step_order >= ?2",
                        params![conversation.id, i64::from(*from)],
                    )
                    .map_err(store_error)?;
                }
                Effect::LevelAdvanced { .. } | Effect::RootCauseIdentified { .. } => {}
            }
        }
        tx.execute(
            "UPDATE ai_conversations SET question = ?2, root_cause = ?3, updated_at = ?4 WHERE id = ?1",
            params![conversation.id, question, root_cause, now.to_string()],
        )
        .map_err(store_error)?;
        let events = step_events(effects);
        if !events.is_empty() {
            write_events(&tx, conversation.issue_id, now, &events).map_err(store_error)?;
        }
        tx.commit().map_err(store_error)
    }
}

fn upsert_step(
    tx: &Transaction<'_>,
    conversation: &ConversationRow,
    step: &WhyStep,
    now: Timestamp,
) -> Result<(), StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let evidence = serde_json::to_string(&step.evidence).map_err(|_| corrupt("evidence"))?;
    tx.execute(
        "INSERT INTO resolution_steps (id, issue_id, conversation_id, step_order, question,
                answer, evidence, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (conversation_id, step_order) DO UPDATE SET
            question = excluded.question, answer = excluded.answer,
            evidence = excluded.evidence, updated_at = excluded.updated_at",
        params![
            id,
            conversation.issue_id.to_string(),
            conversation.id,
            i64::from(step.order),
            step.question,
            step.answer,
            evidence,
            now.to_string()
        ],
    )
    .map(drop)
    .map_err(store_error)
}
