//! One API: its metadata, its version timeline, and the upload form (console).

use crate::components::form::{Field, FormError, last_error};
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{ApiView, GatewayView, VersionSummary, upstream_authority};
use crate::server_fns::{EditApi, UploadVersion, get_api, list_gateways, list_versions};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ApiDetailPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let edit = ServerAction::<EditApi>::new();
    let api = Resource::new(
        move || (slug(), edit.version().get()),
        |(slug, _)| get_api(slug),
    );
    let versions = Resource::new(slug, list_versions);
    // Created here with the others: during server rendering, a resource made
    // after an await would be missing from the hydration data.
    let gateways = Resource::new(|| (), |_| list_gateways());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match (api.await, versions.await) {
                    (Ok(api), Ok(versions)) => {
                        // Health is a courtesy: the page works without it.
                        let gateways = gateways.await.unwrap_or_default();
                        view! { <Detail api versions edit gateways /> }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(
    api: ApiView,
    versions: Vec<VersionSummary>,
    edit: ServerAction<EditApi>,
    gateways: Vec<GatewayView>,
) -> impl IntoView {
    let health = upstream_health(&versions, &gateways);
    let can_edit = api.can_edit;
    let slug = api.slug.clone();
    let editable = api.clone();
    view! {
        <Title text=format!("{} · Steward", api.name) />
        <p class="crumbs"><a href="/apis">"APIs"</a> " / " {api.slug.clone()}</p>
        <h1>{api.name.clone()}</h1>
        <section class="panel">
            <dl class="facts">
                <dt>"Team"</dt><dd>{api.team.name.clone()}</dd>
                <dt>"Capability"</dt><dd>{api.capability.clone()}</dd>
                <dt>"Tier"</dt><dd><span class=format!("badge tier-{}", api.tier)>{api.tier.as_str()}</span></dd>
                <dt>"Tags"</dt><dd>{api.tags.join(", ")}</dd>
                <dt>"Gateway validation"</dt><dd>{api.validation_mode.as_str()}</dd>
                <dt>"Live version"</dt><dd>{api.current_version.clone().unwrap_or_else(|| "none yet".into())}</dd>
            </dl>
            <p>{api.description.clone()}</p>
            <p><a href=format!("/apis/{}/traffic", api.slug)>"Traffic and latency"</a></p>
        </section>
        {(!health.is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="upstream-health">
                <h2 id="upstream-health">"Upstreams"</h2>
                <table class="table">
                    <thead><tr><th scope="col">"Version"</th><th scope="col">"Upstream"</th><th scope="col">"At the gateways"</th></tr></thead>
                    <tbody>
                        {health.into_iter().map(|(version, upstream, words, bad)| {
                            let key = upstream.clone();
                            view! {
                            <tr data-upstream=key>
                                <td>{version}</td>
                                <td><code>{upstream}</code></td>
                                <td>{if bad {
                                    view! { <span class="badge upstream-open">{words}</span> }.into_any()
                                } else {
                                    view! { <span class="muted">{words}</span> }.into_any()
                                }}</td>
                            </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        })}
        <section class="panel">
            <h2>"Versions"</h2>
            <Timeline versions />
        </section>
        {can_edit.then(|| view! { <UploadForm slug /> <EditForm api=editable edit /> })}
    }
}

#[component]
fn EditForm(api: ApiView, edit: ServerAction<EditApi>) -> impl IntoView {
    let error = last_error(edit);
    let field = move |id: &'static str, label: &'static str, name: &'static str, value: String| {
        view! {
            <div class="field" class:invalid=move || error.get().and_then(|e| e.field_message(name)).is_some()>
                <label for=id>{label}</label>
                <input id=id name=name value=value />
                <p class="field-error">{move || error.get().and_then(|e| e.field_message(name))}</p>
            </div>
        }
    };
    view! {
        <section class="panel">
            <details>
                <summary>"Edit this API"</summary>
                <ActionForm action=edit attr:aria-label="Edit this API" attr:class="grid-form">
                    <input type="hidden" name="slug" value=api.slug.clone() />
                    {field("edit-name", "Name", "name", api.name.clone())}
                    <div class="field">
                        <label for="edit-tier">"Criticality tier"</label>
                        <select id="edit-tier" name="tier">
                            {crate::model::Tier::ALL.into_iter().map(|t| view! { <option value=t.as_str() selected=t == api.tier>{t.as_str()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="edit-validation">"Gateway validation"</label>
                        <select id="edit-validation" name="validation_mode">
                            {crate::model::ValidationMode::ALL.into_iter().map(|m| view! { <option value=m.as_str() selected=m == api.validation_mode>{m.as_str()}</option> }).collect_view()}
                        </select>
                        <p class="hint">"enforce refuses invalid requests with 400; report lets them through and records them."</p>
                    </div>
                    {field("edit-capability", "Business capability", "capability", api.capability.clone())}
                    {field("edit-tags", "Tags (comma-separated)", "tags", api.tags.join(", "))}
                    {field("edit-description", "Description", "description", api.description.clone())}
                    <FormError error />
                    <button type="submit" class="primary">"Save changes"</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn Timeline(versions: Vec<VersionSummary>) -> impl IntoView {
    if versions.is_empty() {
        return view! { <p class="muted">"No versions yet. Upload the first contract below."</p> }
            .into_any();
    }
    view! {
        <ol class="timeline">
            {versions.into_iter().map(|v| view! {
                <li data-version=v.version.clone()>
                    <a href=format!("/versions/{}", v.id)><strong>{v.version.clone()}</strong></a>
                    " "
                    <span class=format!("badge state-{}", v.state)>{v.state.label()}</span>
                    " "
                    <code>{v.base_path.clone()}</code>
                    <span class="muted">
                        {format!(" · {} operations · {} lint errors, {} warnings", v.operations, v.lint_errors, v.lint_warnings)}
                        {v.breaking.map(|b| format!(" · {b} breaking"))}
                        {format!(" · uploaded {}", short_time(v.created_at))}
                        {v.uploaded_by.map(|u| format!(" by {u}"))}
                        {v.sunset_date.map(|d| format!(" · sunset {d}"))}
                    </span>
                </li>
            }).collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn UploadForm(slug: String) -> impl IntoView {
    let action = ServerAction::<UploadVersion>::new();
    let error = last_error(action);
    let spec_ref = NodeRef::<leptos::html::Textarea>::new();
    let spec_error = move || {
        error.get().and_then(|e| match e {
            crate::model::AppError::Validation { fields } => {
                fields.into_iter().find(|f| f.field == "spec")
            }
            _ => None,
        })
    };
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                leptos::task::spawn_local(async move {
                    if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await
                        && let (Some(area), Some(text)) =
                            (spec_ref.get_untracked(), text.as_string())
                    {
                        area.set_value(&text);
                    }
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, spec_ref);
    };
    view! {
        <section class="panel">
            <h2>"Upload a version"</h2>
            <p class="muted">"OpenAPI 3.0.x, YAML or JSON. The contract is parsed and linted at once; a stored version never changes."</p>
            <ActionForm action=action attr:aria-label="Upload a version">
                <input type="hidden" name="api" value=slug />
                <div class="grid-form">
                    <Field form="upload" name="version" label="Version" hint="Semver, e.g. 2.0.0. Leave it blank to use the contract's info.version." error />
                    <Field form="upload" name="base_path" label="Base path" hint="e.g. /orders/v2" error required=true />
                    <Field form="upload" name="upstream_url" label="Upstream URL" kind="url" hint="Where the gateway forwards to." error required=true />
                </div>
                <div class="field">
                    <label for="upload-file">"Contract file"</label>
                    <input id="upload-file" type="file" accept=".yaml,.yml,.json" on:change=on_file />
                </div>
                <div class="field" class:invalid=move || spec_error().is_some()>
                    <label for="upload-spec">"Contract (paste or load a file)"</label>
                    <textarea id="upload-spec" name="spec" rows="14" spellcheck="false" node_ref=spec_ref aria-describedby="upload-spec-error"></textarea>
                    <p class="field-error" id="upload-spec-error">
                        {move || spec_error().map(|f| {
                            let at = match (f.line, f.column, f.pointer) {
                                (Some(l), Some(c), _) => format!("Line {l}, column {c}: "),
                                (Some(l), None, Some(p)) => format!("Line {l} ({p}): "),
                                (None, _, Some(p)) => format!("At {p}: "),
                                (Some(l), None, None) => format!("Line {l}: "),
                                _ => String::new(),
                            };
                            format!("{at}{}", f.message)
                        })}
                    </p>
                </div>
                <FormError error />
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Upload"</button>
            </ActionForm>
        </section>
    }
}

/// Each live version's upstream and what the live gateways say of it: the
/// version, the upstream's authority, the words, and whether it is failing.
fn upstream_health(
    versions: &[VersionSummary],
    gateways: &[GatewayView],
) -> Vec<(String, String, String, bool)> {
    let live: Vec<&GatewayView> = gateways.iter().filter(|g| g.live).collect();
    versions
        .iter()
        .filter(|v| v.state.is_live())
        .filter_map(|v| {
            let upstream = upstream_authority(&v.upstream_url)?.to_string();
            let reports: Vec<_> = live
                .iter()
                .filter_map(|g| g.upstreams.iter().find(|u| u.upstream == upstream))
                .collect();
            let (words, bad) = match reports
                .iter()
                .max_by_key(|u| (u.state == "open", u.failures))
            {
                _ if live.is_empty() => ("no gateway is reporting".to_string(), false),
                None => ("answering".to_string(), false),
                Some(worst) => (
                    format!(
                        "{} (at {} of {} gateways)",
                        worst.label(),
                        reports.len(),
                        live.len()
                    ),
                    true,
                ),
            };
            Some((v.version.clone(), upstream, words, bad))
        })
        .collect()
}
