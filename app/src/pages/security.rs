//! Security: encryption at rest and the audit log.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::system::get_security_overview;
use crate::components::states::{ErrorBox, Loading};
use crate::wire::SecurityOverview;

#[component]
pub fn SecurityPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_security_overview());
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
                <dt>"Database"</dt><dd><code>{e.db_path}</code>" · "{mebibytes(e.db_size_bytes)}</dd>
                <dt>"Migrations"</dt>
                <dd>
                    <ul class="plain">
                        {e.migrations.into_iter().map(|m| view! {
                            <li><code>{m.name}</code>" — "{m.applied_at.unwrap_or_else(|| "pending".into())}</li>
                        }).collect_view()}
                    </ul>
                </dd>
            </dl>
        </section>
        <section class="card" aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Audit log"</h2>
            <p class="hint">"The 50 newest entries. Entries hold ids and field names, never content."</p>
            {if data.audit.is_empty() {
                view! { <p class="empty-inline">"No entries yet: every change you make will be recorded here."</p> }.into_any()
            } else {
                view! {
                    <table class="table" data-testid="audit">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"Action"</th><th scope="col">"Entity"</th><th scope="col">"Details"</th></tr></thead>
                        <tbody>
                            {data.audit.into_iter().map(|a| view! {
                                <tr>
                                    <td><time datetime=a.timestamp.to_string()>{a.timestamp.short()}</time></td>
                                    <td><code>{a.action}</code></td>
                                    <td>{format!("{} {}", a.entity_type, a.entity_id)}</td>
                                    <td><code class="details">{a.details.to_string()}</code></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
