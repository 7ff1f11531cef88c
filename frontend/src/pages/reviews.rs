//! The review queue: every version waiting for review, oldest first, with what
//! a reviewer needs to know before opening it (console).

use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{ReviewItem, Role};
use crate::server_fns::load_review_queue;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ReviewsPage() -> impl IntoView {
    let queue = Resource::new(|| (), |_| load_review_queue());
    let reviewer = use_context::<crate::model::Principal>()
        .is_some_and(|p| matches!(p.role, Role::Admin | Role::Reviewer));
    view! {
        <Title text="Reviews · Steward" />
        <h1>"Review queue"</h1>
        <p class="muted">{if reviewer {
            "Versions waiting for a reviewer, oldest first. You cannot review a version you uploaded: another reviewer must (separation of duties)."
        } else {
            "Versions waiting for a reviewer, oldest first. Reviewers and admins approve or reject them."
        }}</p>
        <section class="panel">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match queue.await {
                        Ok(list) => view! { <Queue list /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Queue(list: Vec<ReviewItem>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"Nothing waits for review."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"API and version"</th><th scope="col">"Uploaded by"</th>
                <th scope="col">"Submitted"</th><th scope="col">"Breaking"</th><th scope="col">"Needs attention"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|item| {
                    let s = &item.summary;
                    let attention: Vec<String> = [
                        item.needs_waiver.then(|| "approval needs a waiver".to_string()),
                        item.semver.clone().map(|m| format!("release number: {m}")),
                        item.yours.then(|| "you uploaded it: another reviewer must review it".to_string()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    view! {
                        <tr data-review=format!("{}@{}", item.api_slug, s.version)>
                            <td><a href=format!("/versions/{}", s.id)>{format!("{} {}", item.api_name, s.version)}</a></td>
                            <td>{s.uploaded_by.clone().unwrap_or_default()}</td>
                            <td>{item.submitted_at.map(short_time).unwrap_or_default()}</td>
                            <td>{s.breaking.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
                            <td>{attention.join("; ")}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
