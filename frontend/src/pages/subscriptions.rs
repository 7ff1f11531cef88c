//! Subscriptions across all consumers, pending ones first: the approval queue
//! for owners of critical APIs (console).

use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{SubscriptionState, SubscriptionView};
use crate::pages::consumers::PartnerTabs;
use crate::server_fns::{DecideSubscription, list_subscriptions};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let decide = ServerAction::<DecideSubscription>::new();
    let state = RwSignal::new("pending".to_string());
    let subs = Resource::new(
        move || (state.get(), decide.version().get()),
        |(state, _)| list_subscriptions(state),
    );
    let error = move || {
        decide
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    view! {
        <Title text="Subscriptions · Steward" />
        <h1>"Subscriptions"</h1>
        <PartnerTabs current="/subscriptions" />
        <div class="filters">
            <label for="sub-state">"State"</label>
            <select id="sub-state" on:change=move |ev| state.set(event_target_value(&ev))>
                <option value="pending" selected=true>"pending"</option>
                {SubscriptionState::ALL.iter().filter(|s| **s != SubscriptionState::Pending).map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                <option value="">"all"</option>
            </select>
        </div>
        <p class="form-error" role="alert" hidden=move || error().is_none()>{error}</p>
        <section class="panel">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match subs.await {
                        Ok(list) => view! { <Queue list decide /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Queue(list: Vec<SubscriptionView>, decide: ServerAction<DecideSubscription>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"Nothing here."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Consumer / application"</th><th scope="col">"API"</th><th scope="col">"Plan"</th>
                <th scope="col">"Scopes"</th><th scope="col">"Requested"</th><th scope="col">"State"</th><th scope="col">"Decision"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|s| {
                    let id = s.id;
                    let pending = s.state == SubscriptionState::Pending && s.can_decide;
                    view! {
                        <tr data-subscription=s.api_slug.clone()>
                            <td>{format!("{} / {} ({})", s.consumer_name, s.application_name, s.environment)}</td>
                            <td><a href=format!("/apis/{}", s.api_slug)>{format!("{} {}.x", s.api_name, s.major)}</a> " " <span class=format!("badge tier-{}", s.api_tier)>{s.api_tier.as_str()}</span></td>
                            <td>{s.plan.name.clone()}</td>
                            <td>{s.scopes.join(" ")}</td>
                            <td>{short_time(s.created_at)}{s.requested_by.clone().map(|u| format!(" by {u}"))}</td>
                            <td><span class=format!("badge sub-{}", s.state)>{s.state.as_str()}</span></td>
                            <td>{pending.then(|| view! {
                                <button type="button" class="primary" on:click=move |_| { decide.dispatch(DecideSubscription { id, decision: "approve".into(), reason: String::new() }); }>"Approve"</button>
                                " "
                                <button type="button" on:click=move |_| { decide.dispatch(DecideSubscription { id, decision: "cancel".into(), reason: "rejected in review".into() }); }>"Reject"</button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
