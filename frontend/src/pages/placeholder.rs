//! Sections that later work fills. They say so plainly instead of pretending.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Upcoming(title: &'static str, what: &'static str) -> impl IntoView {
    view! {
        <Title text=format!("{title} · Steward") />
        <h1>{title}</h1>
        <section class="panel upcoming">
            <h2>"Not available yet"</h2>
            <p>{what}</p>
        </section>
    }
}

#[component]
pub fn SlosPage() -> impl IntoView {
    view! {
        <Upcoming
            title="SLOs"
            what="SLOs, error budgets and burn rates need gateway traffic, which is not recorded yet. Nothing on this page is live."
        />
    }
}
