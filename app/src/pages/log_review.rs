//! Reviewing one log file: what the PII engine found, grouped by type and
//! value; the text a page at a time with findings highlighted; decisions
//! (redact or keep) for one finding, a value or a type; manual redactions;
//! a side-by-side preview of the redacted text; and Apply, which writes
//! the redacted copy.
//!
//! The URL holds the view (`view=findings|diff|redacted`) and the position
//! (`page=N` or `line=N`), so every state is linkable and the page works
//! without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use tftsr_core::logs::{
    Decision, FindingCounts, LogFileSummary, LogPage, LogState, Segment, TypeGroup, ViewLine,
};
use tftsr_core::pii::PiiType;

use crate::api::logs::{
    AddManualRedaction, AllowFinding, ApplyRedaction, DecideFindings, DeleteLog, ReopenReview,
    get_log_page, get_log_review,
};
use crate::components::logs::{LogStateBadge, human_bytes, later};
use crate::components::states::{ErrorBox, Loading};
use crate::wire::LogReview;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Findings,
    Diff,
    Redacted,
}

impl View {
    fn parse(text: Option<&str>, state: Option<LogState>) -> Self {
        match text {
            // Once applied there is nothing left to preview.
            Some("diff") if state == Some(LogState::Redacted) => View::Redacted,
            Some("diff") => View::Diff,
            Some("redacted") => View::Redacted,
            Some("findings") => View::Findings,
            _ if state == Some(LogState::Redacted) => View::Redacted,
            _ => View::Findings,
        }
    }

    const fn as_str(self) -> &'static str {
        match self {
            View::Findings => "findings",
            View::Diff => "diff",
            View::Redacted => "redacted",
        }
    }
}

/// All the server actions of the page; any of them changing something
/// refetches the review and the page.
#[derive(Clone, Copy)]
struct Actions {
    decide: ServerAction<DecideFindings>,
    manual: ServerAction<AddManualRedaction>,
    allow: ServerAction<AllowFinding>,
    apply: ServerAction<ApplyRedaction>,
    reopen: ServerAction<ReopenReview>,
    delete: ServerAction<DeleteLog>,
}

impl Actions {
    fn new() -> Self {
        Self {
            decide: ServerAction::new(),
            manual: ServerAction::new(),
            allow: ServerAction::new(),
            apply: ServerAction::new(),
            reopen: ServerAction::new(),
            delete: ServerAction::new(),
        }
    }

    fn version(&self) -> usize {
        self.decide.version().get()
            + self.manual.version().get()
            + self.allow.version().get()
            + self.apply.version().get()
            + self.reopen.version().get()
    }

    fn busy(&self) -> bool {
        self.decide.pending().get()
            || self.manual.pending().get()
            || self.allow.pending().get()
            || self.apply.pending().get()
            || self.reopen.pending().get()
    }
}

#[component]
pub fn LogReviewPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let issue_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let file_id = Memo::new(move |_| params.with(|p| p.get("file").unwrap_or_default()));
    let actions = Actions::new();
    let tick = RwSignal::new(0u32);
    let review = Resource::new(
        move || (file_id.get(), actions.version(), tick.get()),
        |(file, _, _)| get_log_review(file),
    );
    // Keep looking while the file is being scanned.
    Effect::new(move |_| {
        if let Some(Ok(r)) = review.get()
            && r.file.state == LogState::Scanning
        {
            later(move || tick.update(|t| *t += 1), 700);
        }
    });
    view! {
        <Transition fallback=|| view! { <Loading label="Loading the log…" /> }>
            {move || Suspend::new(async move {
                match review.await {
                    Ok(r) => view! {
                        <Review review=r issue_id=issue_id.get_untracked() file_id actions query />
                    }.into_any(),
                    Err(e) => view! {
                        <Title text="Log" />
                        <ErrorBox error=e />
                        <p><a href=format!("/issues/{}", issue_id.get_untracked())>"Back to the issue"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Review(
    review: LogReview,
    issue_id: String,
    file_id: Memo<String>,
    actions: Actions,
    query: Memo<leptos_router::params::ParamsMap>,
) -> impl IntoView {
    let LogReview { file, groups } = review;
    let state = file.state;
    let base = format!("/issues/{issue_id}/logs/{}", file.id);
    let view_mode =
        Memo::new(move |_| query.with(|q| View::parse(q.get("view").as_deref(), Some(state))));
    let page_no =
        Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<u32>().ok())));
    let line_no =
        Memo::new(move |_| query.with(|q| q.get("line").and_then(|p| p.parse::<u64>().ok())));
    let page = Resource::new(
        // The view is part of the key so that switching tabs renders again.
        move || {
            (
                file_id.get(),
                page_no.get(),
                line_no.get(),
                view_mode.get(),
                actions.version(),
            )
        },
        move |(file, page, line, _, _)| async move {
            if matches!(state, LogState::Review | LogState::Redacted) {
                get_log_page(file, page, line).await.map(Some)
            } else {
                Ok(None)
            }
        },
    );
    let errors = move || {
        [
            actions.decide.value().get().and_then(Result::err),
            actions.manual.value().get().and_then(Result::err),
            actions.allow.value().get().and_then(Result::err),
            actions.apply.value().get().and_then(Result::err),
            actions.reopen.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let file_for_header = file.clone();
    let file_id_text = file.id.to_string();
    view! {
        <Title text=format!("Review {}", file.name) />
        <header class="page-header">
            <div>
                <p class="breadcrumb">
                    <a href="/issues">"Issues"</a>" / "
                    <a href=format!("/issues/{issue_id}#logs")>"Issue"</a>
                </p>
                <h1 data-testid="log-name">{file.name.clone()}</h1>
                <FileFacts file=file_for_header />
            </div>
        </header>
        {move || errors().map(|e| view! { <ErrorBox error=e /> })}
        <StateBanner file=file.clone() issue_id=issue_id.clone() actions />
        {matches!(state, LogState::Review | LogState::Redacted).then(|| view! {
            <div class="review-grid">
                <FindingsPanel groups=groups.clone() file=file.clone() base=base.clone() actions />
                <section class="card viewer" aria-labelledby="viewer-heading">
                    <h2 id="viewer-heading" class="visually-hidden">"Log text"</h2>
                    <ViewTabs base=base.clone() current=view_mode state />
                    <Transition fallback=|| view! { <Loading label="Loading the page…" /> }>
                        {
                            let base = base.clone();
                            let file = file.clone();
                            move || {
                                let base = base.clone();
                                let file = file.clone();
                                Suspend::new(async move {
                                    match page.await {
                                        Ok(Some(p)) => view! {
                                            <PageView page=p base=base file=file mode=view_mode.get_untracked() actions />
                                        }.into_any(),
                                        Ok(None) => ().into_any(),
                                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                                    }
                                })
                            }
                        }
                    </Transition>
                </section>
            </div>
        })}
        <DeleteLogForm issue_id=issue_id file_id=file_id_text action=actions.delete />
    }
}

#[component]
fn FileFacts(file: LogFileSummary) -> impl IntoView {
    view! {
        <div class="meta">
            <span data-testid="log-state"><LogStateBadge state=file.state /></span>
            <span>{human_bytes(file.size_bytes)}{file.compressed.then_some(" (gzip)")}</span>
            {file.encoding.map(|e| view! { <span>{e.label()}</span> })}
            {file.line_count.map(|n| view! { <span>{format!("{n} lines")}</span> })}
            <span>"Uploaded " <time datetime=file.uploaded_at.to_string()>{file.uploaded_at.short()}</time></span>
            <span class="mono" title="SHA-256 of the uploaded file">{format!("sha256 {}…", &file.sha256[..12.min(file.sha256.len())])}</span>
            {(file.replaced_sequences > 0).then(|| view! {
                <span class="warn">{format!("{} invalid byte sequence(s) shown as �", file.replaced_sequences)}</span>
            })}
        </div>
    }
}

#[component]
fn StateBanner(file: LogFileSummary, issue_id: String, actions: Actions) -> impl IntoView {
    let id = file.id.to_string();
    match file.state {
        LogState::Scanning => {
            let percent = file.progress_percent();
            view! {
                <div class="card banner" role="status" data-testid="scan-progress">
                    <p>"Scanning for personal data and secrets…"</p>
                    <progress max="100" value=percent aria-label="Scanning progress"></progress>
                    <span>{format!("{percent}%")}</span>
                    <noscript><a href="">"Refresh"</a></noscript>
                </div>
            }
            .into_any()
        }
        LogState::Failed => view! {
            <div class="alert alert-error" role="alert" data-testid="scan-error">
                <strong>"This file could not be read"</strong>
                <p>{file.error.clone().unwrap_or_default()}</p>
                <p><a href=format!("/issues/{issue_id}#logs")>"Back to the issue to upload it again"</a></p>
            </div>
        }
        .into_any(),
        LogState::Review => {
            let counts = file.findings;
            view! {
                <div class="card banner review-banner">
                    <p>
                        <strong>{format!("{} finding(s)", counts.total())}</strong>
                        {format!(": {} to redact, {} kept, {} not reviewed. ", counts.approved, counts.rejected, counts.pending)}
                        "Findings not reviewed are redacted when you apply. "
                        "Check the preview, then apply: only the redacted copy can leave this machine."
                    </p>
                    <ActionForm action=actions.apply>
                        <input type="hidden" name="file_id" value=id.clone() />
                        <button type="submit" class="button primary" data-testid="apply-redaction"
                            disabled=move || actions.busy()>
                            {move || if actions.apply.pending().get() { "Applying…" } else { "Apply redaction" }}
                        </button>
                    </ActionForm>
                </div>
            }
            .into_any()
        }
        LogState::Redacted => {
            let counts = file.findings;
            view! {
                <div class="card banner redacted-banner" data-testid="redacted-banner">
                    <p>
                        <strong>"Redacted"</strong>
                        {file.redacted_at.map(|t| format!(" on {}", t.short()))}
                        {format!(": {} finding(s) replaced by placeholders, {} kept. ", counts.approved + counts.pending, counts.rejected)}
                        "This redacted copy is the only version that can be attached to anything leaving the machine."
                    </p>
                    <a class="button" href=format!("/api/logs/{id}/redacted") rel="external" download="" data-testid="download-redacted">
                        "Download redacted copy"
                    </a>
                    <ActionForm action=actions.reopen>
                        <input type="hidden" name="file_id" value=id.clone() />
                        <button type="submit" class="button" disabled=move || actions.busy()>"Reopen review"</button>
                    </ActionForm>
                </div>
            }
            .into_any()
        }
    }
}

#[component]
fn ViewTabs(base: String, current: Memo<View>, state: LogState) -> impl IntoView {
    let tabs: Vec<(View, &str)> = if state == LogState::Redacted {
        vec![
            (View::Redacted, "Redacted"),
            (View::Findings, "Original with findings"),
        ]
    } else {
        vec![
            (View::Findings, "Findings"),
            (View::Diff, "Preview redaction"),
        ]
    };
    view! {
        <nav class="tabs" aria-label="View">
            {tabs.into_iter().map(|(v, label)| {
                let href = format!("{base}?view={}", v.as_str());
                view! {
                    <a href=href class="tab" aria-current=move || (current.get() == v).then_some("page")
                        data-testid=format!("tab-{}", v.as_str())>{label}</a>
                }
            }).collect_view()}
        </nav>
    }
}

fn decision_class(d: Decision) -> &'static str {
    match d {
        Decision::Pending => "pending",
        Decision::Approved => "approved",
        Decision::Rejected => "rejected",
    }
}

fn type_class(kind: PiiType) -> String {
    format!(
        "pii pii-{}",
        kind.as_str().to_ascii_lowercase().replace('_', "-")
    )
}

#[component]
fn PageView(
    page: LogPage,
    base: String,
    file: LogFileSummary,
    mode: View,
    actions: Actions,
) -> impl IntoView {
    let link = |n: u32| format!("{base}?view={}&page={n}", mode.as_str());
    let n = page.page;
    let count = page.page_count;
    let pager = view! {
        <nav class="pager" aria-label="Pages">
            {(n > 0).then(|| view! { <a href=link(n - 1) rel="prev">"← Previous"</a> })}
            <span data-testid="page-position">{format!("Page {} of {}", n + 1, count)}</span>
            {(n + 1 < count).then(|| view! { <a href=link(n + 1) rel="next">"Next →"</a> })}
            <form method="get" action=base.clone() class="goto">
                <input type="hidden" name="view" value=mode.as_str() />
                <label>"Line "<input type="number" name="line" min="1" inputmode="numeric" size="7" /></label>
                <button type="submit" class="button small">"Go"</button>
            </form>
        </nav>
    };
    let findings_here: Vec<(u64, i64, PiiType, String, Decision)> = page
        .lines
        .iter()
        .flat_map(|l| {
            l.segments.iter().filter_map(move |s| match s {
                Segment::Finding {
                    id,
                    kind,
                    display,
                    decision,
                } => Some((l.number, *id, *kind, display.clone(), *decision)),
                Segment::Text(_) => None,
            })
        })
        .collect();
    let editable = file.state == LogState::Review;
    let file_id = file.id.to_string();
    let body = match mode {
        View::Findings => view! {
            <div class="log-view" data-testid="log-view">
                {page.lines.into_iter().map(|l| view! { <OriginalLine line=l /> }).collect_view()}
            </div>
        }.into_any(),
        View::Redacted => view! {
            <div class="log-view" data-testid="redacted-view">
                {page.lines.into_iter().map(|l| view! {
                    <div class="log-line" id=format!("L{}", l.number)>
                        <span class="ln" aria-hidden="true">{l.number}</span>
                        <code>{l.redacted.unwrap_or_default()}</code>
                    </div>
                }).collect_view()}
            </div>
        }.into_any(),
        View::Diff => view! {
            <table class="diff" data-testid="diff-view">
                <thead><tr><th scope="col">"#"</th><th scope="col">"Original"</th><th scope="col">"Redacted"</th></tr></thead>
                <tbody>
                    {page.lines.into_iter().map(|l| {
                        let redacted = l.redacted.clone().unwrap_or_default();
                        let changed = l.segments.iter().any(|s| matches!(s, Segment::Finding { decision, .. } if decision.redacts()));
                        view! {
                            <tr class:changed=changed id=format!("L{}", l.number)>
                                <td class="ln">{l.number}</td>
                                <td><code><Segments segments=l.segments /></code></td>
                                <td><code>{redacted}</code></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any(),
    };
    view! {
        {pager}
        {body}
        {(mode != View::Redacted && !findings_here.is_empty()).then(|| view! {
            <details class="page-findings" open=true>
                <summary>{format!("Findings on this page ({})", findings_here.len())}</summary>
                <ul data-testid="page-findings">
                    {findings_here.into_iter().map(|(line, id, kind, display, decision)| {
                        let file_id = file_id.clone();
                        view! {
                            <li data-testid="page-finding" data-decision=decision_class(decision)>
                                <a href=format!("#L{line}")>{format!("line {line}")}</a>
                                <span class=type_class(kind)>{kind.as_str()}</span>
                                <code class="value">{display}</code>
                                <span class=format!("decision {}", decision_class(decision))>{decision.label()}</span>
                                {editable.then(|| view! {
                                    <DecideButtons actions file_id scope="finding" target=id.to_string() decision />
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </details>
        })}
    }
}

#[component]
fn OriginalLine(line: ViewLine) -> impl IntoView {
    view! {
        <div class="log-line" id=format!("L{}", line.number)>
            <span class="ln" aria-hidden="true">{line.number}</span>
            <code><Segments segments=line.segments /></code>
        </div>
    }
}

#[component]
fn Segments(segments: Vec<Segment>) -> impl IntoView {
    segments
        .into_iter()
        .map(|s| match s {
            Segment::Text(t) => view! { <span>{t}</span> }.into_any(),
            Segment::Finding {
                kind,
                display,
                decision,
                ..
            } => view! {
                <mark class=format!("{} {}", type_class(kind), decision_class(decision))
                    title=format!("{} · {}", kind.as_str(), decision.label())
                    data-pii=kind.as_str()>{display}</mark>
            }
            .into_any(),
        })
        .collect_view()
}

/// "Redact" and "Keep" for a finding, a value, or a type.
#[component]
fn DecideButtons(
    actions: Actions,
    file_id: String,
    scope: &'static str,
    target: String,
    #[prop(optional)] decision: Option<Decision>,
) -> impl IntoView {
    let button = move |d: Decision, label: &'static str| {
        let pressed = decision == Some(d);
        let file_id = file_id.clone();
        let target = target.clone();
        view! {
            <ActionForm action=actions.decide attr:class="inline">
                <input type="hidden" name="file_id" value=file_id />
                <input type="hidden" name="scope" value=scope />
                <input type="hidden" name="target" value=target />
                <input type="hidden" name="decision" value=d.as_str() />
                <button type="submit" class=format!("button small {}", decision_class(d))
                    aria-pressed=pressed.then_some("true")
                    disabled=move || actions.busy()
                    data-testid=format!("{scope}-{}", d.as_str())>{label}</button>
            </ActionForm>
        }
    };
    view! {
        {button(Decision::Approved, "Redact")}
        {button(Decision::Rejected, "Keep")}
    }
}

fn counts_text(c: FindingCounts) -> String {
    let mut parts = Vec::new();
    if c.approved > 0 {
        parts.push(format!("{} redact", c.approved));
    }
    if c.rejected > 0 {
        parts.push(format!("{} keep", c.rejected));
    }
    if c.pending > 0 {
        parts.push(format!("{} not reviewed", c.pending));
    }
    parts.join(" · ")
}

#[component]
fn FindingsPanel(
    groups: Vec<TypeGroup>,
    file: LogFileSummary,
    base: String,
    actions: Actions,
) -> impl IntoView {
    let editable = file.state == LogState::Review;
    let file_id = file.id.to_string();
    let empty = groups.is_empty();
    view! {
        <aside class="card findings-panel" aria-labelledby="findings-heading">
            <h2 id="findings-heading">"Findings"</h2>
            {empty.then(|| view! {
                <p class="empty-inline" data-testid="no-findings">"Nothing sensitive was found. You can still add a manual redaction below."</p>
            })}
            <ul class="type-groups" data-testid="finding-groups">
                {groups.into_iter().map(|g| {
                    let file_id = file_id.clone();
                    let base = base.clone();
                    view! {
                        <li class="type-group" data-testid="type-group" data-type=g.kind.as_str()>
                            <details open=true>
                                <summary>
                                    <span class=type_class(g.kind)>{g.kind.as_str()}</span>
                                    <span class="count">{g.counts.total()}</span>
                                    <span class="muted">{format!("{} distinct · {}", g.distinct, counts_text(g.counts))}</span>
                                </summary>
                                {editable.then(|| view! {
                                    <div class="group-actions">
                                        <span class="muted">"Every "{g.kind.as_str()}": "</span>
                                        <DecideButtons actions file_id=file_id.clone() scope="type" target=g.kind.as_str().to_owned() />
                                    </div>
                                })}
                                <ul class="values">
                                    {g.values.into_iter().map(|v| {
                                        let file_id = file_id.clone();
                                        view! {
                                            <li class="value-row" data-testid="value-row">
                                                <a href=format!("{base}?view=findings&line={}#L{}", v.first_line, v.first_line)
                                                   class="value" title=format!("First on line {}", v.first_line)><code>{v.display.clone()}</code></a>
                                                <span class="count" title=counts_text(v.counts)>{format!("×{}", v.counts.total())}</span>
                                                {editable.then(|| view! {
                                                    <span class="value-actions">
                                                        <DecideButtons actions file_id=file_id.clone() scope="value" target=v.example_id.to_string() />
                                                        <ActionForm action=actions.allow attr:class="inline">
                                                            <input type="hidden" name="file_id" value=file_id.clone() />
                                                            <input type="hidden" name="finding" value=v.example_id.to_string() />
                                                            <button type="submit" class="button small link" disabled=move || actions.busy()
                                                                title="Add to the allowlist: never flag this value again">"Always allow"</button>
                                                        </ActionForm>
                                                    </span>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            </details>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {editable.then(|| view! { <ManualRedaction file_id=file_id.clone() actions /> })}
        </aside>
    }
}

#[component]
fn ManualRedaction(file_id: String, actions: Actions) -> impl IntoView {
    let value_ref = NodeRef::<leptos::html::Input>::new();
    let result = move || actions.manual.value().get().and_then(Result::ok);
    let use_selection = move |_| {
        #[cfg(feature = "hydrate")]
        if let (Some(input), Some(selection)) =
            (value_ref.get(), window().get_selection().ok().flatten())
        {
            let text: String = selection.to_string().into();
            let line = text.lines().next().unwrap_or_default().trim().to_owned();
            if !line.is_empty() {
                input.set_value(&line);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = value_ref;
    };
    view! {
        <section class="manual" aria-labelledby="manual-heading">
            <h3 id="manual-heading">"Redact something else"</h3>
            <p class="muted">"Every occurrence in this file is redacted. Select text in the log and press “Use selection”, or type it."</p>
            <ActionForm action=actions.manual attr:class="form manual-form">
                <input type="hidden" name="file_id" value=file_id />
                <label>"Text"
                    <input node_ref=value_ref type="text" name="value" required maxlength="4096" autocomplete="off" data-testid="manual-value" />
                </label>
                <label>"Kind"
                    <select name="kind">
                        {PiiType::ALL.iter().map(|k| view! {
                            <option value=k.as_str() selected=*k == PiiType::Username>{k.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <div class="actions">
                    <button type="button" class="button small" on:mousedown=|ev| ev.prevent_default() on:click=use_selection>"Use selection"</button>
                    <button type="submit" class="button" disabled=move || actions.busy() data-testid="manual-submit">"Redact every occurrence"</button>
                </div>
                {move || result().map(|n| view! {
                    <p class="muted" role="status">{format!("{n} occurrence(s) added.")}</p>
                })}
            </ActionForm>
        </section>
    }
}

/// Removing a log asks first.
#[component]
fn DeleteLogForm(
    issue_id: String,
    file_id: String,
    action: ServerAction<DeleteLog>,
) -> impl IntoView {
    view! {
        <section class="card danger-zone">
            <details>
                <summary class="button danger">"Remove this log…"</summary>
                <p>"This removes the file, its findings and its redacted copy from TFTSR. The audit log keeps a record. This cannot be undone."</p>
                <ActionForm action=action>
                    <input type="hidden" name="issue_id" value=issue_id />
                    <input type="hidden" name="file_id" value=file_id />
                    <button type="submit" class="button danger" data-testid="confirm-remove-log">"Yes, remove it"</button>
                </ActionForm>
            </details>
        </section>
    }
}
