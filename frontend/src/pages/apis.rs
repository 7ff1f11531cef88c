//! The API registry: search and filter the APIs, and register a new one (console).

use crate::components::form::{Field, FormError, SelectField, last_error};
use crate::components::status::{ErrorPanel, Loading};
use crate::model::{ApiView, CAPABILITIES, Tier, VersionState};
use crate::server_fns::{RegisterApi, list_apis, list_teams};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ApisPage() -> impl IntoView {
    let (q, set_q) = signal(String::new());
    let (team, set_team) = signal(String::new());
    let (tier, set_tier) = signal(String::new());
    // A link such as `/apis?state=in_review` opens the list filtered.
    let query = leptos_router::hooks::use_query_map();
    let (state, set_state) = signal(query.with_untracked(|q| q.get("state")).unwrap_or_default());
    let apis = Resource::new(
        move || (q.get(), team.get(), tier.get(), state.get()),
        |(q, team, tier, state)| list_apis(q, team, tier, state),
    );
    let teams = Resource::new(|| (), |_| list_teams());
    // Only admins and owners register APIs: nobody else is offered a form
    // that can only fail.
    let registers = use_context::<crate::model::Principal>().is_some_and(|p| {
        matches!(
            p.role,
            crate::model::Role::Admin | crate::model::Role::Owner
        )
    });

    view! {
        <Title text="APIs · Steward" />
        <h1>"APIs"</h1>
        <section class="panel">
            <div class="filters" role="search" aria-label="Filter APIs">
                <div class="field">
                    <label for="apis-q">"Search"</label>
                    <input id="apis-q" type="search" placeholder="name, slug, tag…" on:input=move |ev| set_q.set(event_target_value(&ev)) prop:value=q />
                </div>
                <div class="field">
                    <label for="apis-team">"Team"</label>
                    <Suspense>
                        {move || Suspend::new(async move {
                            let list = teams.await.unwrap_or_default();
                            view! {
                                <select id="apis-team" on:change=move |ev| set_team.set(event_target_value(&ev))>
                                    <option value="">"All teams"</option>
                                    {list.into_iter().map(|t| view! { <option value=t.slug.clone()>{t.name}</option> }).collect_view()}
                                </select>
                            }
                        })}
                    </Suspense>
                </div>
                <div class="field">
                    <label for="apis-tier">"Tier"</label>
                    <select id="apis-tier" on:change=move |ev| set_tier.set(event_target_value(&ev))>
                        <option value="">"All tiers"</option>
                        {Tier::ALL.into_iter().map(|t| view! { <option value=t.as_str()>{t.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="apis-state">"Has a version"</label>
                    <select id="apis-state" on:change=move |ev| set_state.set(event_target_value(&ev))>
                        <option value="">"In any state"</option>
                        {VersionState::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || state.get() == s.as_str()>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match apis.await {
                        Ok(list) => view! { <ApiTable list /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {registers.then(|| view! { <RegisterForm /> })}
    }
}

#[component]
fn ApiTable(list: Vec<ApiView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No APIs match."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"API"</th>
                    <th scope="col">"Team"</th>
                    <th scope="col">"Capability"</th>
                    <th scope="col">"Tier"</th>
                    <th scope="col">"Live version"</th>
                    <th scope="col">"Versions"</th>
                    <th scope="col">"Tags"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|a| view! {
                    <tr data-api=a.slug.clone()>
                        <td><a href=format!("/apis/{}", a.slug)>{a.name}</a><br /><code class="muted">{a.slug.clone()}</code></td>
                        <td>{a.team.name}</td>
                        <td>{a.capability}</td>
                        <td><span class=format!("badge tier-{}", a.tier)>{a.tier.as_str()}</span></td>
                        <td>{a.current_version.unwrap_or_else(|| "none".into())}</td>
                        <td>{a.version_count}</td>
                        <td>{a.tags.join(", ")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn RegisterForm() -> impl IntoView {
    let action = ServerAction::<RegisterApi>::new();
    let error = last_error(action);
    let teams = Resource::new(|| (), |_| list_teams());
    // Owners register for their own teams only; admins for any.
    let me = use_context::<crate::model::Principal>();
    let tiers: Vec<(String, String)> = Tier::ALL
        .iter()
        .map(|t| (t.as_str().to_string(), t.as_str().to_string()))
        .collect();
    view! {
        <section class="panel">
            <h2>"Register an API"</h2>
            <p class="muted">"Owners register APIs for their teams; admins for any team."</p>
            <ActionForm action=action attr:aria-label="Register an API" attr:class="grid-form">
                <Field form="new-api" name="name" label="Name" error required=true />
                <Field form="new-api" name="slug" label="Slug" hint="Lowercase, dashes, e.g. orders." error required=true />
                <Suspense fallback=Loading>
                    {move || {
                        let me = me.clone();
                        Suspend::new(async move {
                        let options: Vec<(String, String)> = teams
                            .await
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|t| match &me {
                                Some(p) if p.role == crate::model::Role::Owner => {
                                    t.members.iter().any(|m| m.user_id == p.user_id)
                                }
                                _ => true,
                            })
                            .map(|t| (t.id.to_string(), t.name))
                            .collect();
                        if options.is_empty() {
                            return view! { <p class="hint" role="status">"You are in no team yet: an admin adds you to one before you can register its APIs."</p> }.into_any();
                        }
                        view! { <SelectField form="new-api" name="team_id" label="Owning team" error options /> }.into_any()
                    })}}
                </Suspense>
                <SelectField form="new-api" name="tier" label="Criticality tier" error options=tiers.clone() selected="standard".to_string() />
                <div class="field">
                    <label for="new-api-capability">"Business capability"</label>
                    <input id="new-api-capability" name="capability" list="capabilities" />
                    <datalist id="capabilities">
                        {CAPABILITIES.into_iter().map(|c| view! { <option value=c></option> }).collect_view()}
                    </datalist>
                    <p class="field-error">{move || error.get().and_then(|e| e.field_message("capability"))}</p>
                </div>
                <Field form="new-api" name="tags" label="Tags" hint="Comma-separated." error />
                <Field form="new-api" name="description" label="Description" error />
                <FormError error />
                <button type="submit" class="primary">"Register API"</button>
            </ActionForm>
        </section>
    }
}
