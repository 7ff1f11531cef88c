//! Overview: real counts from the database and the latest audited changes (console).

use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{AuditEntry, Overview};
use crate::server_fns::load_overview;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_overview());
    view! {
        <Title text="Overview · Steward" />
        <h1>"Overview"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(overview) => view! { <Cards overview /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Cards(overview: Overview) -> impl IntoView {
    let roles = overview
        .users_by_role
        .iter()
        .map(|(role, n)| format!("{n} {role}"))
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        {(!overview.notices.is_empty()).then(|| view! {
            <section class="panel notices" aria-labelledby="for-you">
                <h2 id="for-you">"For you"</h2>
                <ul class="activity">
                    {overview.notices.iter().map(|n| view! {
                        <li class=format!("notice-{}", n.tone)>
                            <a href=n.href.clone()>{n.text.clone()}</a>
                            {n.at.map(|at| view! { " " <time>{short_time(at)}</time> })}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <div class="cards">
            <Card label="APIs" value=overview.apis detail=format!("{} live versions", overview.live_versions) />
            <a class="card-link" href="/reviews">
                <Card label="Awaiting review" value=overview.in_review detail="contract versions: open the queue".to_string() />
            </a>
            <Card label="Active users" value=overview.active_users detail=roles />
            <Card label="Teams" value=overview.teams detail=String::new() />
            <Card
                label="Access tokens"
                value=overview.access_tokens
                detail="active, for CI pipelines".to_string()
            />
            <Card
                label="Audit entries"
                value=overview.audit_entries
                detail="hash-chained".to_string()
            />
        </div>
        {(!overview.slos_at_risk.is_empty()).then(|| view! {
            <section class="panel" aria-label="SLOs at risk">
                <h2>"SLOs at risk"</h2>
                <ul class="activity">
                    {overview.slos_at_risk.iter().map(|s| view! {
                        <li data-slo=s.name.clone()>
                            <a href="/slos">{format!("{} · {}", s.api_slug, s.name)}</a>
                            {format!(": SLI {:.2} % against {} %, error budget left: {}", s.status.sli, s.target, s.status.budget_text())}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <section class="panel">
            <h2>"Recent activity"</h2>
            <RecentActivity entries=overview.recent_activity />
        </section>
    }
}

#[component]
fn Card(label: &'static str, value: i64, detail: String) -> impl IntoView {
    view! {
        <div class="card" data-metric=label>
            <p class="card-label">{label}</p>
            <p class="card-value">{value}</p>
            <p class="card-detail">{detail}</p>
        </div>
    }
}

#[component]
fn RecentActivity(entries: Vec<AuditEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="muted">"No changes recorded yet."</p> }.into_any();
    }
    view! {
        <ul class="activity">
            {entries
                .into_iter()
                .map(|e| {
                    view! {
                        <li>
                            <time>{short_time(e.at)}</time>
                            " "
                            <strong>{e.actor}</strong>
                            " "
                            <code>{e.action}</code>
                            " "
                            <span class="muted">{format!("{} {}", e.target_type, e.target_id)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
        .into_any()
}
