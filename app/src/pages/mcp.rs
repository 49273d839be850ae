//! Settings → MCP servers: the servers the assistant may call tools on.
//! Each shows its discovery status (with the last error in plain words),
//! its tools and resources; it can be added, edited, switched off,
//! discovered again or removed. Secrets are write-only: the page shows
//! their last four characters at most. While a discovery runs in the
//! background the page looks again every second.

use leptos::prelude::*;
use leptos_meta::Title;
use tftsr_core::mcp::{DiscoveryStatus, McpAuth, McpServerSettings, McpTransport};

use crate::api::mcp::{
    DeleteMcpServer, DiscoverMcpServer, SaveMcpServer, SetMcpServerEnabled, mcp_server, mcp_servers,
};
use crate::components::logs::later;
use crate::components::states::{ErrorBox, Loading};

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveMcpServer>,
    enable: ServerAction<SetMcpServerEnabled>,
    delete: ServerAction<DeleteMcpServer>,
    discover: ServerAction<DiscoverMcpServer>,
}

impl Actions {
    fn version(&self) -> usize {
        self.save.version().get()
            + self.enable.version().get()
            + self.delete.version().get()
            + self.discover.version().get()
    }

    fn error(&self) -> Option<crate::AppError> {
        [
            self.enable.value().get().and_then(Result::err),
            self.delete.value().get().and_then(Result::err),
            self.discover.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

fn status_badge(status: DiscoveryStatus, enabled: bool) -> (&'static str, &'static str) {
    if !enabled {
        return ("badge", "disabled");
    }
    match status {
        DiscoveryStatus::Pending => ("badge warn", "discovering…"),
        DiscoveryStatus::Connected => ("badge ok", "connected"),
        DiscoveryStatus::Unreachable => ("badge danger", "unreachable"),
        DiscoveryStatus::Error => ("badge danger", "error"),
    }
}

#[component]
pub fn McpServersPage() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::new(),
        enable: ServerAction::new(),
        delete: ServerAction::new(),
        discover: ServerAction::new(),
    };
    let tick = RwSignal::new(0u32);
    let servers = Resource::new(move || (actions.version(), tick.get()), |_| mcp_servers());
    // A discovery started by a save or an enable runs in the background.
    Effect::new(move |_| {
        let pending = matches!(servers.get(), Some(Ok(ref list))
            if list.iter().any(|s| s.enabled && s.status == DiscoveryStatus::Pending));
        if pending {
            later(move || tick.update(|t| *t += 1), 1_000);
        }
    });
    view! {
        <Title text="MCP servers" />
        <header class="page-header">
            <div>
                <p class="breadcrumb"><a href="/settings">"Settings"</a>" / "</p>
                <h1>"MCP servers"</h1>
            </div>
        </header>
        <section class="card">
            <p class="hint">"Tools on these servers can be offered to the assistant during a triage, and run by you from the triage page. Every call's arguments pass the PII check before they leave, every call is written to the audit log before it runs, and results are redacted before the assistant or you see them. Tools that do not declare themselves read-only run only after you confirm."</p>
        </section>
        {move || actions.error().map(|e| view! { <ErrorBox error=e /> })}
        <Transition fallback=|| view! { <Loading label="Loading MCP servers…" /> }>
            {move || Suspend::new(async move {
                match servers.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="card empty" data-testid="mcp-empty">
                            <p>"No MCP servers yet. Add one below: a local command that speaks MCP on stdin/stdout (for example " <code>"npx -y @modelcontextprotocol/server-everything"</code> "), or the URL of a Streamable HTTP server."</p>
                        </section>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="mcp-list" data-testid="mcp-servers">
                            {list.into_iter().map(|s| view! { <ServerCard server=s actions /> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card" aria-labelledby="add-mcp-heading" data-testid="mcp-add">
            <h2 id="add-mcp-heading">"Add a server"</h2>
            <ServerForm server=None actions />
        </section>
    }
}

#[component]
fn ServerCard(server: McpServerSettings, actions: Actions) -> impl IntoView {
    let id = server.id.to_string();
    let (class, label) = status_badge(server.status, server.enabled);
    let where_ = match server.transport {
        McpTransport::Stdio => {
            let mut parts = vec![server.command.clone()];
            parts.extend(server.args.iter().cloned());
            parts.join(" ")
        }
        McpTransport::Http => server.url.clone(),
    };
    let details = {
        let id = id.clone();
        Resource::new(
            move || (id.clone(), actions.discover.version().get()),
            |(id, _)| mcp_server(id),
        )
    };
    let (id_enable, id_discover, id_delete) = (id.clone(), id.clone(), id.clone());
    let enabled = server.enabled;
    let discovering = move || actions.discover.pending().get();
    view! {
        <li class="card mcp-server" data-testid="mcp-server" data-status=server.status.as_str() data-name=server.name.clone()>
            <header class="mcp-server-head">
                <h2>{server.name.clone()}</h2>
                <span class=class data-testid="mcp-status">{label}</span>
                <span class="muted">{server.transport.label()}</span>
                {(server.status == DiscoveryStatus::Connected).then(|| view! {
                    <span class="muted" data-testid="mcp-counts">{format!("{} tools · {} resources", server.tool_count, server.resource_count)}</span>
                })}
            </header>
            <p class="mono muted">{where_}</p>
            {server.secret_hint.clone().map(|h| view! { <p class="mono" title="The secret's last four characters">{format!("{} …{h}", server.auth.label())}</p> })}
            {server.status_error.clone().map(|e| view! {
                <p class="alert alert-error" role="alert" data-testid="mcp-error">{e}</p>
            })}
            {server.last_discovered_at.map(|t| view! {
                <p class="hint">"Last discovered " <time datetime=t.to_string()>{t.short()}</time></p>
            })}
            <div class="actions">
                <ActionForm action=actions.discover>
                    <input type="hidden" name="id" value=id_discover />
                    <button type="submit" class="button" data-testid="mcp-discover" disabled=move || discovering() || !enabled>
                        {move || if discovering() { "Discovering…" } else { "Discover now" }}
                    </button>
                </ActionForm>
                <ActionForm action=actions.enable>
                    <input type="hidden" name="id" value=id_enable />
                    <input type="hidden" name="enabled" value=(!enabled).to_string() />
                    <button type="submit" class="button" data-testid="mcp-toggle">{if enabled { "Disable" } else { "Enable" }}</button>
                </ActionForm>
                <details>
                    <summary class="button">"Edit"</summary>
                    <ServerForm server=Some(server.clone()) actions />
                </details>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="id" value=id_delete />
                    <button type="submit" class="button danger" data-testid="mcp-delete">"Remove"</button>
                </ActionForm>
            </div>
            {(server.tool_count + server.resource_count > 0).then(|| view! {
                <details class="mcp-tools" data-testid="mcp-tools">
                    <summary>"Tools and resources"</summary>
                    <Transition fallback=|| view! { <Loading /> }>
                        {move || Suspend::new(async move {
                            match details.await {
                                Ok(d) => view! {
                                    <ul class="tool-list">
                                        {d.tools.into_iter().map(|t| {
                                            let confirm = t.needs_confirmation();
                                            view! {
                                                <li data-testid="mcp-tool">
                                                    <code>{t.name.clone()}</code>
                                                    {if confirm {
                                                        view! { <span class="badge warn" title="Not declared read-only: the assistant's calls wait for your confirmation">"asks first"</span> }.into_any()
                                                    } else {
                                                        view! { <span class="badge ok">"read-only"</span> }.into_any()
                                                    }}
                                                    <span class="muted">{t.description.clone()}</span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                    {(!d.resources.is_empty()).then(|| view! {
                                        <h3>"Resources"</h3>
                                        <ul class="tool-list">
                                            {d.resources.into_iter().map(|r| view! {
                                                <li data-testid="mcp-resource"><code>{r.uri.clone()}</code>" "<span class="muted">{r.name.clone()}</span></li>
                                            }).collect_view()}
                                        </ul>
                                    })}
                                }.into_any(),
                                Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                            }
                        })}
                    </Transition>
                </details>
            })}
        </li>
    }
}

#[component]
fn ServerForm(server: Option<McpServerSettings>, actions: Actions) -> impl IntoView {
    let prefix = server
        .as_ref()
        .map(|s| s.id.to_string())
        .unwrap_or_else(|| "new".to_owned());
    let field = move |name: &str| format!("mcp-{prefix}-{name}");
    let s = server.clone();
    let get = move |f: fn(&McpServerSettings) -> String| s.as_ref().map(f).unwrap_or_default();
    let transport = server
        .as_ref()
        .map(|s| s.transport)
        .unwrap_or(McpTransport::Stdio);
    let auth = server.as_ref().map(|s| s.auth).unwrap_or(McpAuth::None);
    let has_secret = server.as_ref().is_some_and(|s| s.secret_hint.is_some());
    let enabled = server.as_ref().is_none_or(|s| s.enabled);
    let error_for = move |name: &'static str| {
        move || {
            actions
                .save
                .value()
                .get()
                .and_then(Result::err)
                .and_then(|e| e.field(name))
                .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
        }
    };
    let other_error = move || {
        actions
            .save
            .value()
            .get()
            .and_then(Result::err)
            .filter(|e| !matches!(e, crate::AppError::Invalid(_)))
    };
    let id = get(|s| s.id.to_string());
    let name = get(|s| s.name.clone());
    let command = get(|s| s.command.clone());
    let args = get(|s| s.args.join("\n"));
    let env = get(|s| {
        s.env
            .iter()
            .filter(|e| !e.secret)
            .map(|e| format!("{}={}", e.name, e.value.clone().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let secret_env = get(|s| {
        s.env
            .iter()
            .filter(|e| e.secret)
            .map(|e| e.name.clone())
            .collect::<Vec<_>>()
            .join("\n")
    });
    let url = get(|s| s.url.clone());
    let auth_header = get(|s| s.auth_header.clone());
    view! {
        <ActionForm action=actions.save attr:class="form mcp-form" attr:data-testid="mcp-form">
            <input type="hidden" name="form[id]" value=id />
            <label for=field("name")>"Name"
                <input id=field("name") name="form[name]" required=true maxlength="64" value=name data-testid="mcp-name" />
                <span class="hint">"Tool names the assistant sees start with it."</span>
                {error_for("name")}
            </label>
            <label for=field("transport")>"Transport"
                <select id=field("transport") name="form[transport]" data-testid="mcp-transport">
                    {McpTransport::ALL.iter().map(|t| view! {
                        <option value=t.as_str() selected=*t == transport>{t.label()}</option>
                    }).collect_view()}
                </select>
                {error_for("transport")}
            </label>
            <fieldset>
                <legend>"Local command (stdio)"</legend>
                <label for=field("command")>"Command"
                    <input id=field("command") name="form[command]" value=command spellcheck="false"
                        placeholder="npx" data-testid="mcp-command" />
                    {error_for("command")}
                </label>
                <label for=field("args")>"Arguments (one per line)"
                    <textarea id=field("args") name="form[args]" rows="3" spellcheck="false"
                        placeholder="-y\n@modelcontextprotocol/server-everything" data-testid="mcp-args">{args}</textarea>
                    {error_for("args")}
                </label>
                <label for=field("env")>"Environment (NAME=value per line)"
                    <textarea id=field("env") name="form[env]" rows="2" spellcheck="false">{env}</textarea>
                    {error_for("env")}
                </label>
                <label for=field("secret_env")>"Secret environment (NAME=value per line; stored encrypted; a bare NAME keeps the stored value)"
                    <textarea id=field("secret_env") name="form[secret_env]" rows="2" spellcheck="false" autocomplete="off">{secret_env}</textarea>
                </label>
                <p class="hint">"The command runs with an empty environment except PATH, HOME and what you list here."</p>
            </fieldset>
            <fieldset>
                <legend>"Streamable HTTP"</legend>
                <label for=field("url")>"URL"
                    <input id=field("url") name="form[url]" type="url" value=url placeholder="https://mcp.example.com/mcp" data-testid="mcp-url" />
                    {error_for("url")}
                </label>
                <label for=field("auth")>"Authentication"
                    <select id=field("auth") name="form[auth]">
                        {McpAuth::ALL.iter().map(|a| view! {
                            <option value=a.as_str() selected=*a == auth>{a.label()}</option>
                        }).collect_view()}
                    </select>
                    {error_for("auth")}
                </label>
                <label for=field("auth_header")>"API key header"
                    <input id=field("auth_header") name="form[auth_header]" value=auth_header placeholder="X-API-Key" />
                    {error_for("auth_header")}
                </label>
                <label for=field("secret")>{if has_secret { "Key or token (leave empty to keep the stored one)" } else { "Key or token" }}
                    <input id=field("secret") name="form[secret]" type="password" autocomplete="off" />
                    {error_for("secret")}
                </label>
                {has_secret.then(|| view! {
                    <label><input type="checkbox" name="form[clear_secret]" value="1" />" Remove the stored key"</label>
                })}
            </fieldset>
            <label><input type="checkbox" name="form[enabled]" value="1" checked=enabled />" Enabled (discover now and offer its tools)"</label>
            {error_for("env")}
            {move || other_error().map(|e| view! { <ErrorBox error=e /> })}
            <div class="actions">
                <button type="submit" class="button primary" data-testid="mcp-save" disabled=move || actions.save.pending().get()>
                    {move || if actions.save.pending().get() { "Saving…" } else { "Save server" }}
                </button>
            </div>
        </ActionForm>
    }
}
