//! The gateways that report in: where they listen, how fresh their policy
//! snapshot is, and what they have not written yet; and, for admins, the
//! upstream policy they enforce (console).

use crate::components::confirm;
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{GatewayView, Principal, Role, SigningKeyView, UpstreamPolicyView};
use crate::server_fns::{
    RevokeSigningKey, RotateSigningKey, SaveUpstreamPolicy, list_gateways, list_signing_keys,
    load_upstream_policy,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn GatewaysPage() -> impl IntoView {
    let gateways = Resource::new(|| (), |_| list_gateways());
    let is_admin = use_context::<Principal>().is_some_and(|p| p.role == Role::Admin);
    view! {
        <Title text="Gateways · Steward" />
        <h1>"Gateways"</h1>
        <p class="muted">"Each gateway serves from an in-memory snapshot of what is published and reports here every few seconds. A snapshot older than a minute means the gateway cannot reach the database; it keeps serving the last good one."</p>
        <section class="panel">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match gateways.await {
                        Ok(list) => view! { <GatewayTable list /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        {is_admin.then(|| view! { <UpstreamPolicyPanel /> <SigningKeysPanel /> })}
    }
}

/// The admin's allow list: where upstream traffic may go beyond the default.
#[component]
fn UpstreamPolicyPanel() -> impl IntoView {
    let save = ServerAction::<SaveUpstreamPolicy>::new();
    // Loaded once: after a refused save the form keeps what the admin typed.
    let policy = Resource::new(|| (), |_| load_upstream_policy());
    view! {
        <section class="panel" aria-labelledby="upstream-policy">
            <h2 id="upstream-policy">"Upstream policy"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match policy.await {
                        Ok(p) => view! { <PolicyForm p save /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PolicyForm(p: UpstreamPolicyView, save: ServerAction<SaveUpstreamPolicy>) -> impl IntoView {
    let error = move || {
        save.value().get().and_then(|r| r.err()).map(|e| match e {
            crate::model::AppError::Validation { fields } => fields
                .iter()
                .map(|f| {
                    // `allow[i]` names the line the user typed, counted from 1.
                    let line = f
                        .field
                        .strip_prefix("allow[")
                        .and_then(|i| i.trim_end_matches(']').parse::<usize>().ok())
                        .map(|i| format!("Line {}: ", i + 1))
                        .unwrap_or_default();
                    format!("{line}{}", f.message)
                })
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        })
    };
    view! {
        <p class="muted">"Refused unless allowed below:"</p>
        <ul class="muted">{p.refused_by_default.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
        <ActionForm action=save attr:aria-label="Upstream policy">
            <div class="field">
                <label for="upstream-allow">"Also allow (one per line: CIDR block, address, address:port, host name or *.domain)"</label>
                <textarea id="upstream-allow" name="allow" rows="5">{p.allow.join("\n")}</textarea>
                <p class="field-error" id="upstream-allow-error" role="alert">{error}</p>
            </div>
            <button type="submit" class="primary">"Save policy"</button>
            <p class="notice" role="status">{move || {
                save.value().get().and_then(|r| r.ok()).map(|saved| {
                    format!("Saved: {} entries. Gateways apply it within a second.", saved.allow.len())
                })
            }}</p>
        </ActionForm>
    }
}

#[component]
fn GatewayTable(list: Vec<GatewayView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No gateway has reported in the last day."</p> }
            .into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Instance"</th><th scope="col">"Status"</th><th scope="col">"Snapshot"</th>
                <th scope="col">"Versions / keys"</th><th scope="col">"Flush backlog"</th><th scope="col">"Dropped samples"</th>
                <th scope="col">"Started"</th><th scope="col">"Upstreams"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|g| view! {
                    <tr data-gateway=g.address.clone()>
                        <td><strong>{g.hostname.clone()}</strong><br /><code>{g.address.clone()}</code></td>
                        <td>{if g.live {
                            view! { <span class="badge cred-active">"live"</span> }.into_any()
                        } else {
                            view! { <span class="badge cred-expired">{format!("silent since {}", short_time(g.last_seen))}</span> }.into_any()
                        }}</td>
                        <td>{format!("generation {} · {:.1} s old", g.snapshot_generation, g.snapshot_age_seconds)}</td>
                        <td>{format!("{} / {}", g.versions, g.keys)}</td>
                        <td>{format!("{} aggregates · {} key stamps", g.telemetry_backlog, g.usage_backlog)}</td>
                        <td>{g.telemetry_dropped}</td>
                        <td>{short_time(g.started_at)}</td>
                        <td>{if g.upstreams.is_empty() {
                            view! { <span class="muted">"all answering"</span> }.into_any()
                        } else {
                            view! { <ul class="plain">{g.upstreams.iter().map(|u| view! {
                                <li data-upstream=u.upstream.clone()><code>{u.upstream.clone()}</code> " " <span class=format!("badge upstream-{}", u.state)>{u.label()}</span></li>
                            }).collect_view()}</ul> }.into_any()
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The keys that sign access tokens, which every gateway verifies: rotate one
/// that is old, revoke one that is compromised.
#[component]
fn SigningKeysPanel() -> impl IntoView {
    let rotate = ServerAction::<RotateSigningKey>::new();
    let revoke = ServerAction::<RevokeSigningKey>::new();
    let keys = Resource::new(
        move || (rotate.version().get(), revoke.version().get()),
        |_| list_signing_keys(),
    );
    let error = move || {
        rotate
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| revoke.value().get().and_then(|r| r.err()))
            .map(|e| e.to_string())
    };
    view! {
        <section class="panel" aria-labelledby="signing-keys">
            <h2 id="signing-keys">"Token signing keys"</h2>
            <p class="muted">"Rotation retires the signing key and keeps it verifiable until its tokens expire. Revocation is for a compromised key: it leaves the JWKS and every gateway within a second, and every token it signed stops working."</p>
            <p class="form-error" role="alert">{error}</p>
            <button type="button" on:click=move |_| { rotate.dispatch(RotateSigningKey {}); }>"Rotate now"</button>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) => view! { <KeyTable list revoke /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn KeyTable(list: Vec<SigningKeyView>, revoke: ServerAction<RevokeSigningKey>) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th scope="col">"Key"</th><th scope="col">"Created"</th><th scope="col">"State"</th><th scope="col"></th></tr></thead>
            <tbody>
                {list.into_iter().map(|k| {
                    let state = match (k.revoked_at, k.active, k.publish_until) {
                        (Some(at), _, _) => format!("revoked {}", short_time(at)),
                        (None, true, _) => "signing".to_string(),
                        (None, false, Some(until)) => format!("retired; verifiable until {}", short_time(until)),
                        (None, false, None) => "retired".to_string(),
                    };
                    let kid = k.kid.clone();
                    let confirm_text = format!("Revoke key {}? Every token it signed stops working at once.", k.kid);
                    view! {
                        <tr data-kid=k.kid.clone()>
                            <td><code>{k.kid.clone()}</code></td>
                            <td>{short_time(k.created_at)}</td>
                            <td>{state}</td>
                            <td>{k.revoked_at.is_none().then(|| view! {
                                <button type="button" class="danger" on:click=move |_| {
                                    if confirm(&confirm_text) {
                                        revoke.dispatch(RevokeSigningKey { kid: kid.clone() });
                                    }
                                }>"Revoke"</button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
