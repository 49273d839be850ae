//! The triage of an issue: a conversation with the chosen provider (the
//! built-in analyst by default) that works down the 5 Whys to the root
//! cause, with the why-steps, the root cause and the evidence beside it.
//!
//! Replies stream: while one is being written the page polls the server
//! and shows the text so far. Without JavaScript every form still works;
//! the send waits for the whole reply and the page reloads.

use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use tftsr_core::ai::Role;
use tftsr_core::mcp::{McpCall, McpCallOrigin};
use tftsr_core::triage::{WHY_LEVELS, WhyStep};

use crate::api::triage::{
    CancelTriage, ConcludeTriage, EditWhyStep, RedoWhyStep, RestartTriage, SendTriageMessage,
    get_triage,
};
use crate::components::logs::later;
use crate::components::mcp::{CallCard, McpActions, ToolsPanel};
use crate::components::states::{ErrorBox, Loading};
use crate::wire::{EvidenceFile, TriageMessage, TriageView};

#[derive(Clone, Copy)]
struct Actions {
    send: ServerAction<SendTriageMessage>,
    cancel: ServerAction<CancelTriage>,
    edit: ServerAction<EditWhyStep>,
    redo: ServerAction<RedoWhyStep>,
    conclude: ServerAction<ConcludeTriage>,
    restart: ServerAction<RestartTriage>,
    mcp: McpActions,
}

impl Actions {
    fn new() -> Self {
        Self {
            send: ServerAction::new(),
            cancel: ServerAction::new(),
            edit: ServerAction::new(),
            redo: ServerAction::new(),
            conclude: ServerAction::new(),
            restart: ServerAction::new(),
            mcp: McpActions::new(),
        }
    }

    fn version(&self) -> usize {
        self.send.version().get()
            + self.cancel.version().get()
            + self.edit.version().get()
            + self.redo.version().get()
            + self.conclude.version().get()
            + self.restart.version().get()
            + self.mcp.version()
    }

    fn error(&self) -> Option<crate::AppError> {
        [
            self.send.value().get().and_then(Result::err),
            self.cancel.value().get().and_then(Result::err),
            self.edit.value().get().and_then(Result::err),
            self.redo.value().get().and_then(Result::err),
            self.conclude.value().get().and_then(Result::err),
            self.restart.value().get().and_then(Result::err),
            self.mcp.error(),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

#[component]
pub fn TriagePage() -> impl IntoView {
    let params = use_params_map();
    let issue_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let actions = Actions::new();
    let tick = RwSignal::new(0u32);
    let triage = Resource::new(
        move || (issue_id.get(), actions.version(), tick.get()),
        |(id, _, _)| get_triage(id),
    );
    // While a reply is being written (or an attached result is being
    // answered), look again shortly to show it grow.
    Effect::new(move |_| {
        // Not while a call waits for a yes or no: the page would redraw
        // under the engineer's focus, and nothing moves until they answer.
        let streaming = matches!(triage.get(), Some(Ok(ref v)) if v.pending.is_some()
            && !v.calls.iter().any(|c| c.status == tftsr_core::mcp::McpCallStatus::AwaitingConfirmation));
        if actions.send.pending().get() || actions.mcp.decide.pending().get() || streaming {
            later(move || tick.update(|t| *t += 1), 400);
        }
    });
    view! {
        <Title text="Triage" />
        <Transition fallback=|| view! { <Loading label="Loading the triage…" /> }>
            {move || Suspend::new(async move {
                match triage.await {
                    Ok(v) => view! { <Triage view=v issue_id=issue_id.get_untracked() actions /> }.into_any(),
                    Err(e) => view! {
                        <ErrorBox error=e />
                        <p><a href=format!("/issues/{}", issue_id.get_untracked())>"Back to the issue"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
        <ToolsPanel issue_id triage actions=actions.mcp />
    }
}

#[component]
fn Triage(view: TriageView, issue_id: String, actions: Actions) -> impl IntoView {
    let TriageView {
        provider_label,
        messages,
        steps,
        question,
        root_cause,
        level,
        pending,
        evidence,
        providers,
        provider_id,
        calls,
        ..
    } = view;
    // The assistant's calls not yet answered (waiting for you, or running)
    // show after the messages; answered ones inside the message that asked.
    let shown: std::collections::HashSet<&str> = messages
        .iter()
        .flat_map(|m| m.calls.iter().map(String::as_str))
        .collect();
    let open_calls: Vec<McpCall> = calls
        .iter()
        .filter(|c| c.origin == McpCallOrigin::Model && !shown.contains(c.id.as_str()))
        .filter(|c| !c.status.is_final() || pending.is_some())
        .cloned()
        .collect();
    drop(shown);
    let all_calls = calls;
    let started = !messages.is_empty() || pending.is_some();
    let busy = move || actions.send.pending().get();
    let streaming = pending.is_some();
    view! {
        <header class="page-header">
            <div>
                <p class="breadcrumb">
                    <a href="/issues">"Issues"</a>" / "
                    <a href=format!("/issues/{issue_id}")>"Issue"</a>
                </p>
                <h1>"Triage: 5 Whys"</h1>
                <p class="meta">"With " <strong data-testid="triage-provider">{provider_label}</strong></p>
            </div>
        </header>
        <WhyProgress level=level />
        {move || actions.error().map(|e| view! { <ErrorBox error=e /> })}
        <div class="triage-grid">
            <section class="card chat" aria-labelledby="chat-heading">
                <h2 id="chat-heading" class="visually-hidden">"Conversation"</h2>
                <ol class="messages" data-testid="messages" aria-live="polite">
                    {messages.into_iter().map(|m| {
                        let mine: Vec<McpCall> = m.calls.iter()
                            .filter_map(|id| all_calls.iter().find(|c| &c.id == id).cloned())
                            .collect();
                        view! { <Message message=m calls=mine issue_id=issue_id.clone() actions=actions.mcp /> }
                    }).collect_view()}
                    {(!open_calls.is_empty()).then(|| view! {
                        <li class="message assistant" data-testid="open-calls">
                            {open_calls.into_iter().map(|c| view! { <CallCard call=c issue_id=issue_id.clone() actions=actions.mcp /> }).collect_view()}
                        </li>
                    })}
                    {pending.map(|text| view! {
                        <li class="message assistant streaming" data-testid="pending-reply">
                            <p class="who">"Writing…"</p>
                            <div class="body">{if text.is_empty() { "…".to_owned() } else { text }}</div>
                        </li>
                    })}
                </ol>
                {(!started).then(|| view! {
                    <div class="empty" data-testid="triage-empty">
                        <p>"Nothing asked yet. Start the triage: the assistant reads the redacted logs, sums up what they show and asks the first why."</p>
                    </div>
                })}
                <Composer issue_id=issue_id.clone() actions started streaming busy=Signal::derive(busy) question=question.clone() done=root_cause.is_some() />
                <RestartForm issue_id=issue_id.clone() actions providers current=provider_id />
            </section>
            <aside class="triage-side">
                <StepsPanel steps=steps.clone() issue_id=issue_id.clone() actions />
                <RootCause root_cause=root_cause has_steps=!steps.is_empty() issue_id=issue_id.clone() actions />
                <Evidence files=evidence issue_id=issue_id />
            </aside>
        </div>
    }
}

#[component]
fn WhyProgress(level: u8) -> impl IntoView {
    let items = (1..=WHY_LEVELS + 1).map(|n| {
        let state = if n < level {
            "done"
        } else if n == level {
            "current"
        } else {
            "todo"
        };
        let label = if n <= WHY_LEVELS {
            format!("Why {n}")
        } else {
            "Root cause".to_owned()
        };
        let current = (n == level).then_some("step");
        view! {
            <li class=format!("why-step {state}") data-state=state data-testid=format!("why-{n}") aria-current=current>
                {label}
            </li>
        }
    });
    view! {
        <nav aria-label="5 Whys progress">
            <ol class="why-progress" data-testid="why-progress" data-level=level>{items.collect_view()}</ol>
        </nav>
    }
}

#[component]
fn Message(
    message: TriageMessage,
    calls: Vec<McpCall>,
    issue_id: String,
    actions: McpActions,
) -> impl IntoView {
    let (class, who) = match message.role {
        Role::User => ("message user", "You".to_owned()),
        Role::Assistant => ("message assistant", message.provider_label.clone()),
        Role::Tool => ("message tool", "Tool result".to_owned()),
        Role::System => ("message system", "System".to_owned()),
    };
    let tokens = (message.prompt_tokens + message.completion_tokens > 0).then(|| {
        format!(
            "{} prompt + {} reply tokens",
            message.prompt_tokens, message.completion_tokens
        )
    });
    view! {
        <li class=class data-testid="message" data-role=message.role.as_str()>
            <p class="who">{who}" · "<time datetime=message.created_at.to_string()>{message.created_at.short()}</time>
                {tokens.map(|t| view! { <span class="tokens">" · "{t}</span> })}
            </p>
            {(!message.content.is_empty()).then(|| view! { <div class="body">{message.content.clone()}</div> })}
            {calls.into_iter().map(|c| view! { <CallCard call=c issue_id=issue_id.clone() actions /> }).collect_view()}
            {message.error.map(|e| view! { <p class="alert alert-error" role="alert" data-testid="message-error">{e}</p> })}
        </li>
    }
}

#[component]
fn Composer(
    issue_id: String,
    actions: Actions,
    started: bool,
    streaming: bool,
    busy: Signal<bool>,
    question: String,
    done: bool,
) -> impl IntoView {
    let input = NodeRef::<html::Textarea>::new();
    // Clear the box once a message went through.
    Effect::new(move |_| {
        if matches!(actions.send.value().get(), Some(Ok(())))
            && let Some(el) = input.get_untracked()
        {
            el.set_value("");
        }
    });
    let placeholder = if done {
        "Ask a follow-up…".to_owned()
    } else if question.is_empty() {
        "Describe what you see…".to_owned()
    } else {
        format!("Answer: {question}")
    };
    let stop_id = issue_id.clone();
    view! {
        {(!started).then(|| {
            let issue_id = issue_id.clone();
            view! {
                <ActionForm action=actions.send attr:class="start-form">
                    <input type="hidden" name="issue_id" value=issue_id />
                    <input type="hidden" name="message" value="" />
                    <button type="submit" class="button primary" data-testid="start-triage" disabled=move || busy.get()>
                        {move || if busy.get() { "Starting…" } else { "Start triage" }}
                    </button>
                </ActionForm>
            }
        })}
        {started.then(|| view! {
            <ActionForm action=actions.send attr:class="composer">
                <input type="hidden" name="issue_id" value=issue_id.clone() />
                <label for="triage-message" class="visually-hidden">"Your message"</label>
                <textarea id="triage-message" name="message" rows="3" node_ref=input
                    placeholder=placeholder.clone() data-testid="triage-input" maxlength="20000"></textarea>
                <div class="composer-actions">
                    <span class="hint">"Reply “yes” to accept a candidate, type your own answer, or “root cause” to stop."</span>
                    <button type="submit" class="button primary" data-testid="send-message" disabled=move || busy.get() || streaming>
                        {move || if busy.get() { "Waiting for the reply…" } else { "Send" }}
                    </button>
                </div>
            </ActionForm>
        })}
        {streaming.then(|| view! {
            <ActionForm action=actions.cancel>
                <input type="hidden" name="issue_id" value=stop_id.clone() />
                <button type="submit" class="button" data-testid="stop-reply">"Stop"</button>
            </ActionForm>
        })}
    }
}

#[component]
fn RestartForm(
    issue_id: String,
    actions: Actions,
    providers: Vec<crate::wire::ProviderChoice>,
    current: Option<String>,
) -> impl IntoView {
    view! {
        <details class="restart">
            <summary>"New conversation…"</summary>
            <ActionForm action=actions.restart>
                <input type="hidden" name="issue_id" value=issue_id />
                <label for="restart-provider">"Provider"</label>
                <select id="restart-provider" name="provider_id" data-testid="restart-provider">
                    {providers.into_iter().map(|p| {
                        let selected = current.as_deref() == Some(p.id.as_str());
                        view! { <option value=p.id selected=selected>{p.label}{p.is_default.then_some(" (default)")}</option> }
                    }).collect_view()}
                </select>
                <p class="hint">"The current conversation stays stored; the new one starts from Why 1."</p>
                <button type="submit" class="button" data-testid="restart-triage">"Start a new conversation"</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn StepsPanel(steps: Vec<WhyStep>, issue_id: String, actions: Actions) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="steps-heading">
            <h2 id="steps-heading">"The 5 Whys"</h2>
            {steps.is_empty().then(|| view! { <p class="muted">"No why answered yet."</p> })}
            <ol class="steps" data-testid="why-steps">
                {steps.into_iter().map(|step| {
                    let order = step.order.to_string();
                    let redo_order = order.clone();
                    let issue_id = issue_id.clone();
                    let redo_issue = issue_id.clone();
                    view! {
                        <li data-testid="why-step">
                            <p class="question"><strong>{format!("Why {}: ", step.order)}</strong>{step.question.clone()}</p>
                            <p class="answer">{step.answer.clone()}</p>
                            {(!step.evidence.is_empty()).then(|| view! {
                                <p class="evidence mono">{step.evidence.join(", ")}</p>
                            })}
                            <details>
                                <summary>"Edit or redo"</summary>
                                <ActionForm action=actions.edit>
                                    <input type="hidden" name="issue_id" value=issue_id />
                                    <input type="hidden" name="order" value=order />
                                    <label>"Question"<input name="question" value=step.question.clone() /></label>
                                    <label>"Answer"<textarea name="answer" rows="3">{step.answer.clone()}</textarea></label>
                                    <button type="submit" class="button">"Save"</button>
                                </ActionForm>
                                <ActionForm action=actions.redo>
                                    <input type="hidden" name="issue_id" value=redo_issue />
                                    <input type="hidden" name="order" value=redo_order />
                                    <button type="submit" class="button">"Redo from this why"</button>
                                </ActionForm>
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

#[component]
fn RootCause(
    root_cause: Option<String>,
    has_steps: bool,
    issue_id: String,
    actions: Actions,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="root-heading">
            <h2 id="root-heading">"Root cause"</h2>
            {match root_cause {
                Some(root) => view! { <p class="root-cause" data-testid="root-cause">{root}</p> }.into_any(),
                None if has_steps => view! {
                    <p class="muted">"Not identified yet. When the chain reaches something the team can fix, name it here."</p>
                    <ActionForm action=actions.conclude>
                        <input type="hidden" name="issue_id" value=issue_id />
                        <label for="root-cause-input" class="visually-hidden">"Root cause"</label>
                        <textarea id="root-cause-input" name="root_cause" rows="2" required=true></textarea>
                        <button type="submit" class="button">"Set root cause"</button>
                    </ActionForm>
                }.into_any(),
                None => view! { <p class="muted">"Answer the first why to get here."</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Evidence(files: Vec<EvidenceFile>, issue_id: String) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="evidence-heading">
            <h2 id="evidence-heading">"Evidence"</h2>
            {files.is_empty().then(|| view! {
                <p class="muted">"No logs attached. " <a href=format!("/issues/{issue_id}#logs")>"Upload logs"</a>" to let the assistant cite them."</p>
            })}
            <ul class="evidence-files" data-testid="evidence-files">
                {files.into_iter().map(|f| {
                    let href = format!("/issues/{issue_id}/logs/{}", f.id);
                    view! {
                        <li data-redacted=f.redacted.to_string()>
                            <a href=href>{f.name}</a>
                            {if f.redacted {
                                view! { <span class="badge ok">{f.lines.map(|n| format!("redacted · {n} lines")).unwrap_or_else(|| "redacted".into())}</span> }.into_any()
                            } else {
                                view! { <span class="badge warn">"not used: review and apply its redaction first"</span> }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
