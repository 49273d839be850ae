//! Security: encryption at rest, backups and the audit log (filtered, paged,
//! exportable; every control works without JavaScript).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use tftsr_core::audit::{AuditAction, AuditPage};

use crate::api::system::{BackupNow, get_audit_page, get_security_overview, list_backups};
use crate::components::states::{ErrorBox, Loading};
use crate::wire::{AuditParams, BackupRow, SecurityOverview};

fn params_from_url() -> Memo<AuditParams> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
            AuditParams {
                action: get("action"),
                entity: get("entity"),
                from: get("from"),
                to: get("to"),
                before: get("before"),
                after: get("after"),
            }
        })
    })
}

/// The filter part of a link (validated values: letters, digits, `_`, `-`).
fn filter_query(p: &AuditParams) -> String {
    let mut pairs = Vec::new();
    for (k, v) in [
        ("action", &p.action),
        ("entity", &p.entity),
        ("from", &p.from),
        ("to", &p.to),
    ] {
        if let Some(v) = v {
            pairs.push(format!("{k}={}", urlencode(v)));
        }
    }
    pairs.join("&")
}

fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn with_cursor(p: &AuditParams, key: &str, id: &str) -> String {
    let filter = filter_query(p);
    let sep = if filter.is_empty() { "" } else { "&" };
    format!("/security?{filter}{sep}{key}={}", urlencode(id))
}

fn export_href(p: &AuditParams, format: &str) -> String {
    let filter = filter_query(p);
    let sep = if filter.is_empty() { "" } else { "&" };
    format!("/api/audit/export?format={format}{sep}{filter}")
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let params = params_from_url();
    let data = Resource::new(|| (), |_| get_security_overview());
    let audit = Resource::new(move || params.get(), get_audit_page);
    let backup = ServerAction::<BackupNow>::new();
    let backups = Resource::new(move || backup.version().get(), |_| list_backups());
    view! {
        <Title text="Security" />
        <header class="page-header"><h1>"Security"</h1></header>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => view! { <Overview data=o /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <Backups backup=backup backups=backups />
        <section class="card" aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Audit log"</h2>
            <p class="hint">"Newest first, 50 a page. Entries hold ids, hashes and field names, never content."</p>
            <AuditFilters params=params />
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    let p = params.get_untracked();
                    match audit.await {
                        Ok(page) => view! { <AuditTable page=page params=p /> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[component]
fn Overview(data: SecurityOverview) -> impl IntoView {
    let e = data.encryption;
    view! {
        <section class="card" aria-labelledby="enc-heading">
            <h2 id="enc-heading">"Encryption at rest"</h2>
            <dl class="facts" data-testid="encryption">
                <dt>"Cipher"</dt><dd>{format!("SQLCipher {} (AES-256, SQLite {})", e.cipher_version, e.sqlite_version)}</dd>
                <dt>"Key derivation"</dt><dd>{format!("{} with {} iterations", e.kdf, e.kdf_iter)}</dd>
                <dt>"Page HMAC"</dt><dd>{e.hmac}</dd>
                <dt>"Page size"</dt><dd>{e.page_size.to_string()}</dd>
                <dt>"Key source"</dt><dd>{e.key_source}</dd>
                <dt>"Database"</dt>
                <dd>
                    <code>{e.db_path}</code>" · "{mebibytes(e.db_size_bytes)}
                    {(e.wal_size_bytes > 0).then(|| format!(" (of which write-ahead log {})", mebibytes(e.wal_size_bytes)))}
                </dd>
                <dt>"Migrations"</dt>
                <dd>
                    <ul class="plain">
                        {e.migrations.into_iter().map(|m| view! {
                            <li><code>{m.name}</code>" — "{m.applied_at.unwrap_or_else(|| "pending".into())}</li>
                        }).collect_view()}
                    </ul>
                </dd>
            </dl>
            <p class="hint" data-testid="rekey-hint">
                "The key is changed from the command line only, with the server stopped: "
                <code>"TFTSR_NEW_DB_KEY=… tftsr db rekey"</code>
                " (or pipe the new key into " <code>"tftsr db rekey"</code> "). See Troubleshooting."
            </p>
        </section>
    }
}

#[component]
fn Backups(
    backup: ServerAction<BackupNow>,
    backups: Resource<Result<Vec<BackupRow>, crate::AppError>>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="backup-heading">
            <h2 id="backup-heading">"Backups"</h2>
            <p class="hint">
                "An encrypted copy of the database with the same key, in the data directory's "
                <code>"backups"</code>" folder. Keep the key with it: a backup does not open without it. "
                "From the command line: "<code>"tftsr db backup FILE"</code>"."
            </p>
            <ActionForm action=backup>
                <button type="submit" class="button" data-testid="backup-now" disabled=move || backup.pending().get()>
                    {move || if backup.pending().get() { "Backing up…" } else { "Back up now" }}
                </button>
            </ActionForm>
            {move || backup.value().get().map(|r| match r {
                Ok(b) => view! {
                    <p class="notice" role="status">{format!("Wrote {} ({}).", b.name, mebibytes(b.size_bytes))}</p>
                }.into_any(),
                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
            })}
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match backups.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty-inline">"No backups yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="plain" data-testid="backups">
                                {list.into_iter().map(|b| view! {
                                    <li><code>{b.name}</code>" · "{mebibytes(b.size_bytes)}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditFilters(params: Memo<AuditParams>) -> impl IntoView {
    move || {
        let p = params.get();
        let current = p.action.clone().unwrap_or_default();
        let filtered =
            p.action.is_some() || p.entity.is_some() || p.from.is_some() || p.to.is_some();
        view! {
            <Form method="GET" action="/security" attr:class="filters" attr:role="search">
                <label class="field">
                    <span>"Action"</span>
                    <select name="action">
                        <option value="" selected=current.is_empty()>"Any action"</option>
                        {AuditAction::ALL.iter().map(|a| {
                            let name = a.as_str();
                            view! { <option value=name selected=current == name>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Entity type"</span>
                    <input type="text" name="entity" value=p.entity.clone().unwrap_or_default() placeholder="issue, log_file, database…" />
                </label>
                <label class="field">
                    <span>"From"</span>
                    <input type="date" name="from" value=p.from.clone().unwrap_or_default() />
                </label>
                <label class="field">
                    <span>"To"</span>
                    <input type="date" name="to" value=p.to.clone().unwrap_or_default() />
                </label>
                <button type="submit" class="button">"Apply"</button>
                {filtered.then(|| view! { <a class="button ghost" href="/security">"Clear"</a> })}
            </Form>
        }
    }
}

#[component]
fn AuditTable(page: AuditPage, params: AuditParams) -> impl IntoView {
    let older = page.older.map(|id| with_cursor(&params, "before", &id));
    let newer = page.newer.map(|id| with_cursor(&params, "after", &id));
    let csv = export_href(&params, "csv");
    let json = export_href(&params, "json");
    view! {
        <p class="actions">
            "Export what the filter shows: "
            <a class="button ghost" href=csv data-testid="audit-export-csv">"CSV"</a>
            <a class="button ghost" href=json>"JSON"</a>
        </p>
        {if page.entries.is_empty() {
            view! { <p class="empty-inline">"No entries match."</p> }.into_any()
        } else {
            view! {
                <table class="table" data-testid="audit">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Entity"</th><th scope="col">"Details"</th></tr></thead>
                    <tbody>
                        {page.entries.into_iter().map(|a| {
                            let details = serde_json::to_string_pretty(&a.details).unwrap_or_default();
                            view! {
                                <tr>
                                    <td><time datetime=a.timestamp.to_string()>{a.timestamp.short()}</time></td>
                                    <td><code>{a.action}</code></td>
                                    <td>{format!("{} {}", a.entity_type, a.entity_id)}</td>
                                    <td>
                                        <details>
                                            <summary>"Details"</summary>
                                            <pre class="details">{details}</pre>
                                        </details>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <nav class="pager" aria-label="Audit pages">
            {newer.map(|href| view! { <a class="button" rel="prev" href=href>"← Newer"</a> })}
            {older.map(|href| view! { <a class="button" rel="next" href=href>"Older →"</a> })}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_filter_and_add_one_cursor() {
        let p = AuditParams {
            action: Some("ai_send".into()),
            from: Some("2026-01-01".into()),
            before: Some("ignored".into()),
            ..Default::default()
        };
        assert_eq!(
            with_cursor(&p, "before", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
            "/security?action=ai_send&from=2026-01-01&before=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
        );
        assert_eq!(
            export_href(&p, "csv"),
            "/api/audit/export?format=csv&action=ai_send&from=2026-01-01"
        );
        assert_eq!(
            export_href(&AuditParams::default(), "json"),
            "/api/audit/export?format=json"
        );
    }
}
