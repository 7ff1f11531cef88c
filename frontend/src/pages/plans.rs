//! Plans: rates and quotas the gateway enforces per application and API.
//! Everyone reads them; admins edit them in place (console).

use crate::components::status::{ErrorPanel, Loading};
use crate::model::{PlanView, Principal, Role};
use crate::pages::consumers::PartnerTabs;
use crate::server_fns::{EditPlan, list_plans};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PlansPage() -> impl IntoView {
    let edit = ServerAction::<EditPlan>::new();
    let plans = Resource::new(move || edit.version().get(), |_| list_plans());
    let is_admin = use_context::<Principal>().is_some_and(|p| p.is(Role::Admin));
    // The plan whose form was sent last, so its errors show beside it only.
    let last = RwSignal::new(None::<String>);
    view! {
        <Title text="Plans · Steward" />
        <h1>"Plans"</h1>
        <PartnerTabs current="/plans" />
        <p class="muted">"Each subscription has a plan: a steady rate with a burst, and optional daily and monthly quotas. Limits apply per application and API."</p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match plans.await {
                    Ok(list) => list.into_iter().map(|plan| view! { <Plan plan edit last is_admin /> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Plan(
    plan: PlanView,
    edit: ServerAction<EditPlan>,
    last: RwSignal<Option<String>>,
    is_admin: bool,
) -> impl IntoView {
    let slug = plan.slug.clone();
    let submitted = plan.slug.clone();
    let error = move |name: &'static str| {
        let slug = slug.clone();
        move || {
            edit.value()
                .get()
                .and_then(|r| r.err())
                .filter(|_| last.get().as_deref() == Some(slug.as_str()))
                .and_then(|e| e.field_message(name))
        }
    };
    let quota = |q: Option<i64>| q.map(|q| q.to_string()).unwrap_or_default();
    let envs = plan
        .environments
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let key = plan.slug.clone();
    let field = move |name: &'static str, label: &'static str, value: String| {
        let id = format!("plan-{key}-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <input id=id name=name type="number" min="0" value=value disabled=!is_admin />
                <p class="field-error">{error(name)}</p>
            </div>
        }
    };
    let PlanView { slug, name, .. } = plan.clone();
    let hidden_slug = slug.clone();
    view! {
        <section class="panel" data-plan=slug.clone()>
            <h2>{name.clone()} " " <code class="muted">{slug.clone()}</code></h2>
            <p class="muted">{format!("{} · environments: {envs} · {} subscriptions", plan.description, plan.subscriptions)}</p>
            <ActionForm action=edit attr:class="grid-form" attr:aria-label=format!("Edit plan {name}")
                on:submit=move |_| last.set(Some(submitted.clone()))>
                <input type="hidden" name="slug" value=hidden_slug />
                {field("rate_per_second", "Requests per second", plan.rate_per_second.to_string())}
                {field("burst", "Burst", plan.burst.to_string())}
                {field("daily_quota", "Daily quota (empty: none)", quota(plan.daily_quota))}
                {field("monthly_quota", "Monthly quota (empty: none)", quota(plan.monthly_quota))}
                {if is_admin {
                    view! { <button type="submit" class="primary">"Save plan"</button> }.into_any()
                } else {
                    view! { <p class="hint">"Read only: admins change plans."</p> }.into_any()
                }}
            </ActionForm>
        </section>
    }
}
