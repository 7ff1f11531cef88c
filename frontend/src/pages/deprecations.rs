//! Deprecation impact: each deprecated version, the days left until its sunset,
//! and who still called it in the last 7 days, with contacts to reach them (console).

use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::*;
use crate::server_fns::load_deprecations;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DeprecationsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_deprecations());
    view! {
        <Title text="Deprecations · Steward" />
        <h1>"Deprecation impact"</h1>
        <p class="muted">"Who still calls each deprecated version (last 7 days), and how long is left until its sunset."</p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No version is deprecated."</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|d| view! { <Impact d /> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Impact(d: DeprecationImpact) -> impl IntoView {
    let sunset = match (d.sunset_date, d.days_left) {
        (Some(date), Some(left)) if left >= 0 => format!("sunset {date}, {left} days left"),
        (Some(date), _) => format!("sunset {date}, passed"),
        _ => "no sunset date".into(),
    };
    let urgent = d.days_left.is_some_and(|l| l <= 30);
    view! {
        <section class="panel" data-deprecated=format!("{}/{}", d.api_slug, d.version)>
            <h2><a href=format!("/versions/{}", d.version_id)>{format!("{} {}", d.api_name, d.version)}</a></h2>
            <p>
                <span class=if urgent { "badge cred-expiring" } else { "badge" }>{sunset}</span>
                {d.successor.map(|s| format!(" · successor {s}"))}
                {format!(" · {} requests in 7 days", d.requests)}
            </p>
            {if d.callers.is_empty() {
                view! { <p class="muted">"No consumer called it in the last 7 days: it can be retired."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr>
                            <th scope="col">"Consumer"</th><th scope="col">"Application"</th><th scope="col">"Requests (7 days)"</th>
                            <th scope="col">"Last call"</th><th scope="col">"Contacts"</th>
                        </tr></thead>
                        <tbody>
                            {d.callers.into_iter().map(|c| view! {
                                <tr>
                                    <td>{if c.consumer_slug.is_empty() {
                                        view! { <span>{c.consumer.clone()}</span> }.into_any()
                                    } else {
                                        view! { <a href=format!("/consumers/{}", c.consumer_slug)>{c.consumer.clone()}</a> }.into_any()
                                    }}</td>
                                    <td>{format!("{} ({})", c.application, c.environment)}</td>
                                    <td>{c.requests}</td>
                                    <td>{short_time(c.last_seen)}</td>
                                    <td>{if c.contacts.is_empty() { "none registered".to_string() } else { c.contacts.join(", ") }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
