//! Consumers: the partner organisations and internal teams that call APIs, and
//! the admin form to register one (console).

use crate::components::form::{Field, FormError, SelectField, last_error};
use crate::components::status::{ErrorPanel, Loading};
use crate::model::{ConsumerKind, ConsumerView, Principal, Role};
use crate::server_fns::{RegisterConsumer, list_consumers};
use leptos::prelude::*;
use leptos_meta::Title;

/// Links between the partner-access pages.
#[component]
pub fn PartnerTabs(current: &'static str) -> impl IntoView {
    let tab = move |href: &'static str, label: &'static str| {
        view! { <a href=href class:current=current == href aria-current=(current == href).then_some("page")>{label}</a> }
    };
    view! {
        <nav class="tabs" aria-label="Partner access">
            {tab("/consumers", "Consumers")}
            {tab("/subscriptions", "Subscriptions")}
            {tab("/plans", "Plans")}
        </nav>
    }
}

#[component]
pub fn ConsumersPage() -> impl IntoView {
    let register = ServerAction::<RegisterConsumer>::new();
    let consumers = Resource::new(move || register.version().get(), |_| list_consumers());
    let is_admin = use_context::<Principal>().is_some_and(|p| p.is(Role::Admin));
    view! {
        <Title text="Consumers · Steward" />
        <h1>"Consumers"</h1>
        <PartnerTabs current="/consumers" />
        <p class="muted">"Marketplaces, logistics providers, POS vendors and internal channels. Each has applications per environment, with subscriptions and credentials."</p>
        <section class="panel">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match consumers.await {
                        Ok(list) => view! { <ConsumerTable list /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {is_admin.then(|| view! { <RegisterForm register /> })}
    }
}

#[component]
fn ConsumerTable(list: Vec<ConsumerView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No consumers yet."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Consumer"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Applications"</th>
                    <th scope="col">"Active subscriptions"</th>
                    <th scope="col">"Contact"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|c| view! {
                    <tr>
                        <td><a href=format!("/consumers/{}", c.slug)>{c.name.clone()}</a><br /><code class="muted">{c.slug.clone()}</code></td>
                        <td><span class="badge">{c.kind.as_str()}</span></td>
                        <td>{c.applications}</td>
                        <td>{c.active_subscriptions}</td>
                        <td>{c.contacts.first().map(|k| format!("{} <{}>", k.name, k.email)).unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RegisterForm(register: ServerAction<RegisterConsumer>) -> impl IntoView {
    let error = last_error(register);
    let kinds = ConsumerKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.as_str().to_string()))
        .collect();
    view! {
        <section class="panel">
            <h2>"Register a consumer"</h2>
            <ActionForm action=register attr:aria-label="Register a consumer" attr:class="grid-form">
                <Field form="consumer" name="name" label="Name" hint="e.g. Northwind Marketplace" error required=true />
                <Field form="consumer" name="slug" label="Slug" hint="Lowercase letters, digits and dashes." error required=true />
                <SelectField form="consumer" name="kind" label="Kind" error options=kinds />
                <Field form="consumer" name="description" label="Description" error />
                <Field form="consumer" name="contact_name" label="Contact name" error />
                <Field form="consumer" name="contact_email" label="Contact email" kind="email" error />
                <p class="field-error">{move || error.get().and_then(|e| e.field_message("contacts[0].email"))}</p>
                <FormError error />
                <button type="submit" class="primary" disabled=move || register.pending().get()>"Register consumer"</button>
            </ActionForm>
        </section>
    }
}
