//! The issue list: filters, full-text search with highlighted snippets, and
//! cursor pagination. Everything is in the URL, so a search can be bookmarked
//! and works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use tftsr_core::query::highlight_runs;
use tftsr_core::{Domain, IssuePage, IssueStatus, IssueSummary, Severity};

use crate::api::issues::{ListParams, list_issues};
use crate::components::badges::{SeverityBadge, StatusBadge};
use crate::components::states::{EmptyState, ErrorBox, Loading};

fn params_from_url() -> Memo<ListParams> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            ListParams {
                q: get("q"),
                status: get("status"),
                severity: get("severity"),
                domain: get("domain"),
                cursor: get("cursor"),
                limit: None,
            }
        })
    })
}

/// A link to the same search with another cursor.
fn page_href(p: &ListParams, cursor: &str) -> String {
    let mut pairs = Vec::new();
    for (k, v) in [
        ("q", &p.q),
        ("status", &p.status),
        ("severity", &p.severity),
        ("domain", &p.domain),
    ] {
        if !v.is_empty() {
            pairs.push(format!("{k}={}", urlencode(v)));
        }
    }
    pairs.push(format!("cursor={}", urlencode(cursor)));
    format!("/issues?{}", pairs.join("&"))
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

#[component]
pub fn IssuesPage() -> impl IntoView {
    let params = params_from_url();
    let page = Resource::new(move || params.get(), list_issues);
    view! {
        <Title text="Issues" />
        <header class="page-header">
            <h1>"Issues"</h1>
            <a class="button primary" href="/issues/new">"New issue"</a>
        </header>
        <Filters params=params />
        <Transition fallback=|| view! { <Loading label="Searching…" /> }>
            {move || Suspend::new(async move {
                let p = params.get_untracked();
                match page.await {
                    Ok(result) => view! { <Results page=result params=p /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Select<T: Copy + Send + Sync + 'static>(
    name: &'static str,
    label: &'static str,
    all: &'static str,
    options: &'static [T],
    text: fn(T) -> (&'static str, &'static str),
    current: String,
) -> impl IntoView {
    view! {
        <label class="field compact">
            <span>{label}</span>
            <select name=name>
                <option value="">{all}</option>
                {options
                    .iter()
                    .map(|o| {
                        let (value, label) = text(*o);
                        view! { <option value=value selected=current == value>{label}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

#[component]
fn Filters(params: Memo<ListParams>) -> impl IntoView {
    // Re-render the form when the URL changes (back/forward, pagination).
    move || {
        let p = params.get();
        view! {
            <Form method="GET" action="/issues" attr:class="filters" attr:role="search">
                <label class="field grow">
                    <span>"Search"</span>
                    <input type="search" name="q" value=p.q.clone() placeholder="Title, description or tag — prefixes match" />
                </label>
                <Select name="status" label="Status" all="Any status" options=IssueStatus::ALL
                    text=|s: IssueStatus| (s.as_str(), s.label()) current=p.status.clone() />
                <Select name="severity" label="Severity" all="Any severity" options=Severity::ALL
                    text=|s: Severity| (s.as_str(), s.label()) current=p.severity.clone() />
                <Select name="domain" label="Domain" all="Any domain" options=Domain::ALL
                    text=|d: Domain| (d.as_str(), d.label()) current=p.domain.clone() />
                <button type="submit" class="button">"Apply"</button>
                {p.is_filtered().then(|| view! { <a class="button ghost" href="/issues">"Clear"</a> })}
            </Form>
        }
    }
}

#[component]
fn Results(page: IssuePage, params: ListParams) -> impl IntoView {
    if page.items.is_empty() {
        return if params.is_filtered() {
            view! {
                <EmptyState title="No matching issues">
                    <p>"Nothing matches these filters. Try fewer words or another status."</p>
                    <a class="button" href="/issues">"Show all issues"</a>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No issues yet">
                    <p>"Issues you file appear here, newest first."</p>
                    <a class="button primary" href="/issues/new">"File an issue"</a>
                </EmptyState>
            }
            .into_any()
        };
    }
    let shown = page.items.len();
    let prev = page.prev.map(|c| page_href(&params, &c.to_string()));
    let next = page.next.map(|c| page_href(&params, &c.to_string()));
    view! {
        <p class="result-count" data-testid="result-count">
            {if page.total_capped {
                format!("More than {} issues · showing {}", tftsr_core::query::SEARCH_COUNT_CAP, shown)
            } else {
                format!("{} issue{} · showing {}", page.total, if page.total == 1 { "" } else { "s" }, shown)
            }}
        </p>
        <div class="card"><IssueRows items=page.items /></div>
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a class="button" rel="prev" href=href>"← Newer"</a> })}
            {next.map(|href| view! { <a class="button" rel="next" href=href>"Older →"</a> })}
        </nav>
    }
    .into_any()
}

/// Rows of issues, used by the list and the dashboard.
#[component]
pub fn IssueRows(items: Vec<IssueSummary>) -> impl IntoView {
    view! {
        <ul class="issue-rows" data-testid="issue-rows">
            {items
                .into_iter()
                .map(|i| view! { <IssueRow issue=i /> })
                .collect_view()}
        </ul>
    }
}

#[component]
fn IssueRow(issue: IssueSummary) -> impl IntoView {
    let href = format!("/issues/{}", issue.id);
    view! {
        <li class="issue-row">
            <div class="issue-row-main">
                <a class="issue-title" href=href>{issue.title}</a>
                {issue.snippet.map(|s| view! { <Snippet text=s /> })}
                <div class="meta">
                    <SeverityBadge severity=issue.severity />
                    <StatusBadge status=issue.status />
                    <span class="domain">{issue.domain.label()}</span>
                    {issue.tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()}
                </div>
            </div>
            <time datetime=issue.created_at.to_string()>{issue.created_at.short()}</time>
        </li>
    }
}

/// A search excerpt with its matches marked, built as text nodes (never as
/// HTML), so stored text can't inject markup.
#[component]
fn Snippet(text: String) -> impl IntoView {
    view! {
        <p class="snippet">
            {highlight_runs(&text)
                .into_iter()
                .map(|(run, marked)| if marked { view! { <mark>{run}</mark> }.into_any() } else { run.into_any() })
                .collect_view()}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_filters_and_escape() {
        let p = ListParams {
            q: "disk & full".into(),
            status: "open".into(),
            ..Default::default()
        };
        assert_eq!(
            page_href(&p, "a1~x"),
            "/issues?q=disk%20%26%20full&status=open&cursor=a1~x"
        );
    }
}
