//! The dashboard: where things stand, and the latest issues.

use leptos::prelude::*;
use leptos_meta::Title;
use tftsr_core::Severity;
use tftsr_core::stats::human_duration;

use crate::api::issues::{Dashboard, get_dashboard};
use crate::components::states::{EmptyState, ErrorBox, Loading};
use crate::pages::issues_list::IssueRows;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_dashboard());
    view! {
        <Title text="Dashboard" />
        <header class="page-header">
            <h1>"Dashboard"</h1>
            <a class="button primary" href="/issues/new">"New issue"</a>
        </header>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <DashboardBody data=d /> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                }
            })}
        </Suspense>
        <crate::components::documents::OpenActionItems />
    }
}

#[component]
fn StatCard(label: String, value: String, #[prop(optional)] class: &'static str) -> impl IntoView {
    view! {
        <div class=format!("card stat {class}")>
            <span class="stat-value">{value}</span>
            <span class="stat-label">{label}</span>
        </div>
    }
}

#[component]
fn DashboardBody(data: Dashboard) -> impl IntoView {
    let s = data.stats;
    if s.total == 0 {
        return view! {
            <EmptyState title="No issues yet">
                <p>"TFTSR takes an incident from first report to root cause and a written post-mortem. Start by filing the incident you are working on."</p>
                <a class="button primary" href="/issues/new">"File your first issue"</a>
            </EmptyState>
        }
        .into_any();
    }
    let mttr = s
        .mean_time_to_resolve_secs
        .map_or_else(|| "—".to_owned(), human_duration);
    view! {
        <section class="stats" aria-label="Statistics" data-testid="stats">
            {Severity::ALL
                .iter()
                .map(|sev| view! {
                    <StatCard label=format!("Open · {}", sev.label()) value=s.open_with(*sev).to_string()
                        class=match sev { Severity::Critical => "sev-critical", Severity::High => "sev-high", Severity::Medium => "sev-medium", Severity::Low => "sev-low" } />
                })
                .collect_view()}
            <StatCard label="Investigating".into() value=s.investigating.to_string() />
            <StatCard label="Resolved this week".into() value=s.resolved_this_week.to_string() />
            <StatCard label="Mean time to resolve".into() value=mttr />
        </section>
        <section class="card">
            <header class="section-header">
                <h2>"Recent issues"</h2>
                <a href="/issues">{format!("All {} issues →", s.total)}</a>
            </header>
            <IssueRows items=data.recent />
        </section>
    }
    .into_any()
}
