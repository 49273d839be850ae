//! MCP on the triage page: the card of one call (what was asked, where it
//! stands, the redacted result, and the confirm or attach buttons), and the
//! tools panel where the engineer runs a tool by hand from a form built
//! from its JSON Schema, or reads a resource.

use leptos::prelude::*;
use tftsr_core::mcp::{
    FieldKind, FormField, McpCall, McpCallKind, McpCallOrigin, McpCallStatus, McpTool, ToolForm,
    option_text,
};

use crate::api::mcp::{AttachMcpCall, DecideMcpCall, ReadMcpResource, RunMcpTool, mcp_toolbox};
use crate::components::states::{ErrorBox, Loading};

/// The MCP actions of the triage page.
#[derive(Clone, Copy)]
pub struct McpActions {
    pub decide: ServerAction<DecideMcpCall>,
    pub attach: ServerAction<AttachMcpCall>,
    pub run: ServerAction<RunMcpTool>,
    pub read: ServerAction<ReadMcpResource>,
}

impl McpActions {
    pub fn new() -> Self {
        Self {
            decide: ServerAction::new(),
            attach: ServerAction::new(),
            run: ServerAction::new(),
            read: ServerAction::new(),
        }
    }

    pub fn version(&self) -> usize {
        self.decide.version().get()
            + self.attach.version().get()
            + self.run.version().get()
            + self.read.version().get()
    }

    pub fn error(&self) -> Option<crate::AppError> {
        [
            self.decide.value().get().and_then(Result::err),
            self.attach.value().get().and_then(Result::err),
            self.read.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

impl Default for McpActions {
    fn default() -> Self {
        Self::new()
    }
}

fn status_class(status: McpCallStatus) -> &'static str {
    match status {
        McpCallStatus::AwaitingConfirmation | McpCallStatus::Running => "badge warn",
        McpCallStatus::Done => "badge ok",
        McpCallStatus::ToolError | McpCallStatus::Failed => "badge danger",
        McpCallStatus::Declined => "badge",
    }
}

/// One call, in the conversation or under the tools panel.
#[component]
pub fn CallCard(call: McpCall, issue_id: String, actions: McpActions) -> impl IntoView {
    let what = match call.kind {
        McpCallKind::Tool => format!("{} · {}", call.server_name, call.target),
        McpCallKind::Resource => format!("{} · {}", call.server_name, call.target),
    };
    let verb = match (call.kind, call.origin) {
        (McpCallKind::Resource, _) => "Resource read",
        (_, McpCallOrigin::Model) => "The assistant called a tool",
        (_, McpCallOrigin::User) => "You ran a tool",
    };
    let waiting = call.status == McpCallStatus::AwaitingConfirmation;
    let attachable = call.status == McpCallStatus::Done && call.origin == McpCallOrigin::User;
    let (yes_issue, yes_call) = (issue_id.clone(), call.id.clone());
    let (no_issue, no_call) = (issue_id.clone(), call.id.clone());
    let (attach_issue, attach_call) = (issue_id, call.id.clone());
    let show_args = call.kind == McpCallKind::Tool && call.arguments.trim() != "{}";
    view! {
        <div class="mcp-call" data-testid="mcp-call" data-status=call.status.as_str() data-origin=call.origin.as_str()>
            <p class="mcp-call-head">
                <span class="muted">{verb}" "</span>
                <code>{what}</code>" "
                <span class=status_class(call.status) data-testid="mcp-call-status">{call.status.label()}</span>
                {(call.redacted > 0).then(|| view! {
                    <span class="badge" title="Personal data or secrets in the result were replaced by placeholders">{format!("{} redacted", call.redacted)}</span>
                })}
            </p>
            {show_args.then(|| view! {
                <details><summary>"Arguments"</summary><pre class="mono">{call.arguments.clone()}</pre></details>
            })}
            {call.result.clone().map(|r| view! {
                <pre class="mcp-result mono" data-testid="mcp-result">{r}</pre>
            })}
            {call.error.clone().map(|e| view! { <p class="alert alert-error" data-testid="mcp-call-error">{e}</p> })}
            {waiting.then(|| view! {
                <div class="actions" role="group" aria-label="Confirm the tool call">
                    <p class="hint">"This tool does not declare itself read-only. Run it?"</p>
                    <ActionForm action=actions.decide>
                        <input type="hidden" name="issue_id" value=yes_issue />
                        <input type="hidden" name="call_id" value=yes_call />
                        <input type="hidden" name="run" value="true" />
                        <button type="submit" class="button primary" data-testid="mcp-confirm">"Run it"</button>
                    </ActionForm>
                    <ActionForm action=actions.decide>
                        <input type="hidden" name="issue_id" value=no_issue />
                        <input type="hidden" name="call_id" value=no_call />
                        <input type="hidden" name="run" value="false" />
                        <button type="submit" class="button" data-testid="mcp-decline">"Don't run"</button>
                    </ActionForm>
                </div>
            })}
            {attachable.then(|| view! {
                <ActionForm action=actions.attach>
                    <input type="hidden" name="issue_id" value=attach_issue />
                    <input type="hidden" name="call_id" value=attach_call />
                    <button type="submit" class="button" data-testid="mcp-attach">"Attach to the conversation"</button>
                </ActionForm>
            })}
        </div>
    }
}

/// Run a tool or read a resource by hand, and the results of the last
/// runs. It lives outside the triage view that redraws while replies
/// stream, so an open form stays open.
#[component]
pub fn ToolsPanel(
    issue_id: Memo<String>,
    triage: Resource<Result<crate::wire::TriageView, crate::AppError>>,
    actions: McpActions,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let toolbox = Resource::new(
        move || open.get(),
        |open| async move {
            if open {
                mcp_toolbox().await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let run_error = move || actions.run.value().get().and_then(Result::err);
    view! {
        <section class="card tools-card" aria-labelledby="tools-heading">
            <h2 id="tools-heading">"Tools (MCP)"</h2>
            <details class="tools-panel" on:toggle=move |_| open.set(true) data-testid="tools-panel">
                <summary class="button">"Run a tool or read a resource"</summary>
                <Transition fallback=|| view! { <Loading label="Loading tools…" /> }>
                    {move || Suspend::new(async move {
                        let issue = issue_id.get_untracked();
                        match toolbox.await {
                            Ok(None) => ().into_any(),
                            Ok(Some(servers)) if servers.is_empty() => view! {
                                <p class="muted" data-testid="no-tools">"No connected MCP server. " <a href="/settings/mcp">"Add one in Settings"</a>"."</p>
                            }.into_any(),
                            Ok(Some(servers)) => servers.into_iter().map(|d| {
                                let server_id = d.settings.id.to_string();
                                let issue = issue.clone();
                                let resources_issue = issue.clone();
                                view! {
                                    <h3>{d.settings.name.clone()}</h3>
                                    <ul class="tool-list">
                                        {d.tools.into_iter().map(|t| view! { <li><ToolRunForm tool=t issue_id=issue.clone() actions /></li> }).collect_view()}
                                    </ul>
                                    {(!d.resources.is_empty()).then(|| view! {
                                        <ul class="tool-list" aria-label="Resources">
                                            {d.resources.into_iter().map(|r| {
                                                let server_id = server_id.clone();
                                                let issue = resources_issue.clone();
                                                view! {
                                                    <li data-testid="resource">
                                                        <ActionForm action=actions.read attr:class="inline-form">
                                                            <input type="hidden" name="issue_id" value=issue />
                                                            <input type="hidden" name="server_id" value=server_id />
                                                            <input type="hidden" name="uri" value=r.uri.clone() />
                                                            <code>{r.uri.clone()}</code>" "
                                                            <button type="submit" class="button" data-testid="read-resource">"Read"</button>
                                                        </ActionForm>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    })}
                                }
                            }).collect_view().into_any(),
                            Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                        }
                    })}
                </Transition>
                {move || run_error().filter(|e| !matches!(e, crate::AppError::Invalid(_))).map(|e| view! { <ErrorBox error=e /> })}
            </details>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let issue = issue_id.get_untracked();
                    let mine: Vec<McpCall> = triage
                        .await
                        .map(|v| v.calls)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|c| c.origin == McpCallOrigin::User)
                        .rev()
                        .take(5)
                        .collect();
                    view! {
                        <div class="mcp-calls" data-testid="my-calls">
                            {mine.into_iter().map(|c| view! { <CallCard call=c issue_id=issue.clone() actions /> }).collect_view()}
                        </div>
                    }
                })}
            </Transition>
        </section>
    }
}

/// A form generated from a tool's input schema.
#[component]
fn ToolRunForm(tool: McpTool, issue_id: String, actions: McpActions) -> impl IntoView {
    let form = ToolForm::from_schema(&tool.input_schema);
    let key = tool.key.clone();
    let running = move || actions.run.pending().get();
    view! {
        <details data-testid="tool" data-key=tool.key.clone()>
            <summary><code>{tool.name.clone()}</code>" "<span class="muted">{tool.description.clone()}</span></summary>
            <ActionForm action=actions.run attr:class="form tool-form">
                <input type="hidden" name="issue_id" value=issue_id />
                <input type="hidden" name="tool_key" value=key.clone() />
                {form.fields.into_iter().map(|f| view! { <Field field=f tool_key=key.clone() actions /> }).collect_view()}
                <p class="hint">"The arguments are checked for unreviewed personal data before they leave; the result is redacted."</p>
                <button type="submit" class="button primary" data-testid="run-tool" disabled=running>
                    {move || if running() { "Running…" } else { "Run" }}
                </button>
            </ActionForm>
        </details>
    }
}

#[component]
fn Field(field: FormField, tool_key: String, actions: McpActions) -> impl IntoView {
    let id = format!("tool-{tool_key}-{}", field.name);
    let name = format!("args[{}]", field.name);
    let default = field.default.as_ref().map(option_text).unwrap_or_default();
    let field_name = field.name.clone();
    let error = move || {
        actions
            .run
            .value()
            .get()
            .and_then(Result::err)
            .and_then(|e| e.field(&field_name))
            .map(|m| view! { <span class="field-error" role="alert">{m}</span> })
    };
    let required = field.required;
    let label = if required {
        format!("{} (required)", field.label)
    } else {
        field.label.clone()
    };
    let input = match field.kind {
        FieldKind::Text { min_length, max_length } => view! {
            <input id=id.clone() name=name value=default required=required
                minlength=min_length.map(|n| n.to_string()) maxlength=max_length.map(|n| n.to_string())
                data-testid=format!("arg-{}", field.name) />
        }.into_any(),
        FieldKind::Number { minimum, maximum } => view! {
            <input id=id.clone() name=name type="number" step="any" value=default required=required
                min=minimum.map(|n| n.to_string()) max=maximum.map(|n| n.to_string())
                data-testid=format!("arg-{}", field.name) />
        }.into_any(),
        FieldKind::Integer { minimum, maximum } => view! {
            <input id=id.clone() name=name type="number" step="1" value=default required=required
                min=minimum.map(|n| n.to_string()) max=maximum.map(|n| n.to_string())
                data-testid=format!("arg-{}", field.name) />
        }.into_any(),
        FieldKind::Boolean => view! {
            <input id=id.clone() name=name type="checkbox" value="true" checked=default == "true"
                data-testid=format!("arg-{}", field.name) />
        }.into_any(),
        FieldKind::Choice { options } => view! {
            <select id=id.clone() name=name required=required data-testid=format!("arg-{}", field.name)>
                {(!required).then(|| view! { <option value="">"—"</option> })}
                {options.iter().map(|o| {
                    let text = option_text(o);
                    let selected = text == default;
                    view! { <option value=text.clone() selected=selected>{text.clone()}</option> }
                }).collect_view()}
            </select>
        }.into_any(),
        FieldKind::Json => view! {
            <textarea id=id.clone() name=name rows="3" spellcheck="false" required=required
                placeholder="JSON" data-testid=format!("arg-{}", field.name)>{default}</textarea>
        }.into_any(),
    };
    view! {
        <label for=id>{label}
            {input}
            {(!field.description.is_empty()).then(|| view! { <span class="hint">{field.description.clone()}</span> })}
            {error}
        </label>
    }
}
