//! One contract version: its lint results, its breaking-change report, review and
//! lifecycle actions, and a picker to diff any two versions of the API (console).

use crate::components::confirm;
use crate::components::report::{LintTable, ReportView};
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{
    AppError, Deprecation, DriftReport, Principal, Retirement, ReviewDecision, Role, SendBack,
    Transition, VersionState, VersionSummary, VersionTraffic, VersionView,
};
use crate::server_fns::{
    VersionTransition, compare_versions, load_version_drift, load_version_page,
    load_version_traffic,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn VersionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let act = ServerAction::<VersionTransition>::new();
    let version = Resource::new(
        move || (id(), act.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_version_page(id).await,
                None => Err(AppError::not_found("version")),
            }
        },
    );
    // Created here, not inside the version's Suspend: a resource made after an
    // await during server rendering would not be in the hydration data.
    let traffic = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_version_traffic(id).await,
            None => Err(AppError::not_found("version")),
        }
    });
    let drift = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_version_drift(id).await,
            None => Err(AppError::not_found("version")),
        }
    });
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match version.await {
                    Ok((v, siblings)) => view! { <Version v siblings act traffic drift /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Version(
    v: VersionView,
    siblings: Vec<VersionSummary>,
    act: ServerAction<VersionTransition>,
    traffic: Resource<Result<VersionTraffic, AppError>>,
    drift: Resource<Result<Vec<DriftReport>, AppError>>,
) -> impl IntoView {
    let s = v.summary.clone();
    let siblings_for_diff = siblings.clone();
    view! {
        <Title text=format!("{} {} · Steward", v.api_name, s.version) />
        <p class="crumbs"><a href="/apis">"APIs"</a> " / " <a href=format!("/apis/{}", v.api_slug)>{v.api_slug.clone()}</a> " / " {s.version.clone()}</p>
        <h1>{format!("{} {}", v.api_name, s.version)} " " <span class=format!("badge state-{}", s.state)>{s.state.label()}</span></h1>
        <section class="panel">
            <dl class="facts">
                <dt>"Base path"</dt><dd><code>{s.base_path.clone()}</code></dd>
                <dt>"Upstream"</dt><dd><code>{s.upstream_url.clone()}</code></dd>
                <dt>"Operations"</dt><dd>{s.operations}</dd>
                <dt>"Uploaded"</dt><dd>{format!("{} by {}", short_time(s.created_at), s.uploaded_by.clone().unwrap_or_default())}</dd>
                <dt>"Contract"</dt><dd><a href=format!("/versions/{}/contract", s.id)>"Read the contract"</a>" · "<a rel="external" href=format!("/api/v1/versions/{}/spec", s.id)>{format!("{} · sha256 {}…", v.spec_format, &v.spec_sha256[..12.min(v.spec_sha256.len())])}</a></dd>
                {v.reviewed_by.clone().map(|r| view! { <dt>"Reviewed by"</dt><dd>{r}{v.review_comment.clone().filter(|c| !c.is_empty()).map(|c| format!(": “{c}”"))}</dd> })}
                {v.waiver_reason.clone().map(|w| view! { <dt>"Waiver"</dt><dd class="waiver">{w}</dd> })}
                {s.sunset_date.map(|d| view! { <dt>"Sunset"</dt><dd>{d.to_string()}</dd> })}
                {v.successor.clone().map(|n| view! { <dt>"Successor"</dt><dd>{n}</dd> })}
                {v.retire_reason.clone().map(|r| view! { <dt>"Retired because"</dt><dd>{r}</dd> })}
            </dl>
        </section>
        <TrafficPanel traffic />
        <DriftPanel drift />
        <Actions v=v.clone() act siblings />
        <section class="panel">
            <h2>{format!("Lint: {} errors, {} warnings", s.lint_errors, s.lint_warnings)}</h2>
            <LintTable findings=v.lint.clone() version=s.id />
        </section>
        <section class="panel">
            <h2>"Breaking-change report"</h2>
            {match v.report.clone() {
                Some(report) => view! { <ReportView report revision=s.id /> }.into_any(),
                None => view! { <p class="muted">"No report yet: it is made when the version is uploaded, and again when it is submitted."</p> }.into_any(),
            }}
        </section>
        <DiffPicker api=v.api_slug.clone() current=s.id siblings=siblings_for_diff />
    }
}

#[component]
fn Actions(
    v: VersionView,
    act: ServerAction<VersionTransition>,
    siblings: Vec<VersionSummary>,
) -> impl IntoView {
    let id = v.summary.id;
    let error = move || {
        act.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    let (comment, set_comment) = signal(String::new());
    let (waiver, set_waiver) = signal(String::new());
    let (sunset, set_sunset) = signal(String::new());
    let (successor, set_successor) = signal(String::new());
    let (reason, set_reason) = signal(String::new());
    let has = |a: &str| v.actions.iter().any(|x| x == a);
    let needs_waiver = v.report.as_ref().is_some_and(|r| r.needs_waiver);
    let me = v.summary.clone();
    let run = move |t: Transition| {
        act.dispatch(VersionTransition { id, transition: t });
    };
    if v.actions.is_empty() {
        return view! {
            <section class="panel">
                <p class="muted">{why_no_actions(&v)}</p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="panel actions" aria-label="Actions">
            <h2>"Actions"</h2>
            <p class="form-error" role="alert">{error}</p>
            {has("submit").then(|| view! {
                <button type="button" class="primary" on:click=move |_| run(Transition::Submit)>"Submit for review"</button>
            })}
            {(has("approve") || has("reject")).then(|| view! {
                <div class="review">
                    <div class="field">
                        <label for="review-comment">"Review comment"</label>
                        <textarea id="review-comment" rows="3" on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                    </div>
                    {needs_waiver.then(|| view! {
                        <div class="field">
                            <label for="review-waiver">"Waiver (needed to approve)"</label>
                            <input id="review-waiver" on:input=move |ev| set_waiver.set(event_target_value(&ev)) />
                            <p class="hint">"This version breaks the live version of its major line. Approve it with a waiver that says why clients can take the change, or reject it so that the owner releases a new major version."</p>
                        </div>
                    })}
                    <button type="button" class="primary" on:click=move |_| run(Transition::Review(ReviewDecision {
                        approve: true,
                        comment: comment.get(),
                        waiver: Some(waiver.get()).filter(|w| !w.trim().is_empty()),
                    }))>"Approve"</button>
                    " "
                    <button type="button" class="danger" on:click=move |_| run(Transition::Review(ReviewDecision {
                        approve: false,
                        comment: comment.get(),
                        waiver: None,
                    }))>"Reject"</button>
                </div>
            })}
            {has("send-back").then(|| view! {
                <fieldset class="dialog">
                    <legend>"Send back to review"</legend>
                    <div class="field">
                        <label for="send-back-comment">"Why"</label>
                        <textarea id="send-back-comment" rows="2" on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                    </div>
                    <button type="button" on:click=move |_| run(Transition::SendBack(SendBack { comment: comment.get() }))>"Send back"</button>
                </fieldset>
            })}
            {has("withdraw").then(|| view! {
                <button type="button" on:click=move |_| run(Transition::Withdraw)>"Withdraw to draft"</button>
            })}
            {has("publish").then(|| {
                let question = format!(
                    "Publish {} {}? Gateways serve it within a second.",
                    v.api_name, v.summary.version
                );
                view! {
                    <button type="button" class="primary" on:click=move |_| {
                        if confirm(&question) {
                            run(Transition::Publish);
                        }
                    }>"Publish"</button>
                }
            })}
            {has("deprecate").then(|| view! {
                <fieldset class="dialog">
                    <legend>"Deprecate"</legend>
                    <div class="field">
                        <label for="deprecate-sunset">"Sunset date"</label>
                        <input id="deprecate-sunset" type="date" on:input=move |ev| set_sunset.set(event_target_value(&ev)) />
                    </div>
                    <div class="field">
                        <label for="deprecate-successor">"Successor version"</label>
                        <select id="deprecate-successor" on:change=move |ev| set_successor.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            {siblings.iter()
                                .filter(|s| s.state == VersionState::Published && s.id != me.id)
                                .map(|s| view! { <option value=s.id.to_string()>{s.version.clone()}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <button type="button" on:click=move |_| {
                        let format = time::macros::format_description!("[year]-[month]-[day]");
                        match (time::Date::parse(&sunset.get(), &format), successor.get().parse::<Uuid>()) {
                            (Ok(sunset_date), Ok(successor_id)) => run(Transition::Deprecate(Deprecation { sunset_date, successor_id })),
                            _ => act.value().set(Some(Err(AppError::invalid("sunset_date", "choose a sunset date and a successor")))),
                        }
                    }>"Deprecate"</button>
                </fieldset>
            })}
            {has("retire").then(|| view! {
                <fieldset class="dialog">
                    <legend>"Retire"</legend>
                    <div class="field">
                        <label for="retire-reason">"Reason (admins only, to retire before the sunset date)"</label>
                        <input id="retire-reason" on:input=move |ev| set_reason.set(event_target_value(&ev)) />
                    </div>
                    <button type="button" class="danger" on:click=move |_| {
                        if confirm("Retire this version? Its callers get 410 Gone from then on.") {
                            run(Transition::Retire(Retirement {
                                override_reason: Some(reason.get()).filter(|r| !r.trim().is_empty()),
                            }));
                        }
                    }>"Retire"</button>
                </fieldset>
            })}
        </section>
    }
    .into_any()
}

#[component]
fn DiffPicker(api: String, current: Uuid, siblings: Vec<VersionSummary>) -> impl IntoView {
    let (base, set_base) = signal(None::<Uuid>);
    let (revision, set_revision) = signal(Some(current));
    // The revision of the comparison on screen, which the findings link into.
    let compared = RwSignal::new(current);
    let api = StoredValue::new(api);
    let compare =
        Action::new(move |(b, r): &(Uuid, Uuid)| compare_versions(api.get_value(), *b, *r));
    let siblings = StoredValue::new(siblings);
    let picker = move |id: &'static str,
                       selected: Option<Uuid>,
                       blank: bool,
                       set: WriteSignal<Option<Uuid>>| {
        view! {
            <select id=id on:change=move |ev| set.set(event_target_value(&ev).parse().ok())>
                {blank.then(|| view! { <option value="">"Choose…"</option> })}
                {siblings.get_value().into_iter()
                    .map(|s| view! { <option value=s.id.to_string() selected=Some(s.id) == selected>{format!("{} ({})", s.version, s.state.label())}</option> })
                    .collect_view()}
            </select>
        }
    };
    view! {
        <section class="panel">
            <h2>"Compare any two versions"</h2>
            <div class="filters">
                <div class="field">
                    <label for="diff-base">"Base"</label>
                    {picker("diff-base", None, true, set_base)}
                </div>
                <div class="field">
                    <label for="diff-revision">"Revision"</label>
                    {picker("diff-revision", Some(current), false, set_revision)}
                </div>
                <button type="button" disabled=move || base.get().is_none() || revision.get().is_none() on:click=move |_| {
                    if let (Some(b), Some(r)) = (base.get(), revision.get()) {
                        compared.set(r);
                        compare.dispatch((b, r));
                    }
                }>"Compare"</button>
            </div>
            {move || compare.value().get().map(|r| match r {
                Ok(report) => view! { <ReportView report revision=compared.get_untracked() /> }.into_any(),
                Err(error) => view! { <ErrorPanel error /> }.into_any(),
            })}
        </section>
    }
}

/// The last hour at the gateways, from the minute aggregates.
#[component]
fn TrafficPanel(traffic: Resource<Result<VersionTraffic, AppError>>) -> impl IntoView {
    view! {
        <section class="panel traffic" aria-label="Traffic">
            <h2>"Traffic, last hour"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match traffic.await {
                        Ok(t) if t.requests == 0 => view! { <p class="muted">"No traffic through the gateways in the last hour."</p> }.into_any(),
                        Ok(t) => view! {
                            <dl class="facts">
                                <dt>"Requests per minute"</dt><dd data-stat="rpm">{format!("{:.1}", t.requests_per_minute)}</dd>
                                <dt>"Error rate (5xx)"</dt><dd data-stat="errors">{format!("{:.2} %", t.error_rate * 100.0)}</dd>
                                <dt>"Latency p95"</dt><dd data-stat="p95">{t.p95_ms.map(|p| format!("≤ {p} ms")).unwrap_or_else(|| "–".into())}</dd>
                                <dt>"By status"</dt><dd>{format!("2xx {} · 3xx {} · 4xx {} · 5xx {}", t.by_class[1], t.by_class[2], t.by_class[3], t.by_class[4])}</dd>
                                <dt>"Top consumers"</dt>
                                <dd>{t.top_consumers.iter().map(|c| format!("{} / {} ({}){}", c.consumer, c.application, c.requests, if c.revoked_key_used { ", revoked key in use" } else { "" })).collect::<Vec<_>>().join("; ")}</dd>
                            </dl>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Sampled upstream responses that do not match the contract (report mode).
#[component]
fn DriftPanel(drift: Resource<Result<Vec<DriftReport>, AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match drift.await {
                    Ok(list) if list.is_empty() => ().into_any(),
                    Ok(list) => view! {
                        <section class="panel drift" aria-label="Contract drift">
                            <h2>"Responses that do not match the contract"</h2>
                            <p class="muted">"Sampled at the gateway (1 in 100) while the API validates in report mode, last 7 days."</p>
                            <table class="table">
                                <thead><tr><th scope="col">"Operation"</th><th scope="col">"Status"</th><th scope="col">"Where"</th><th scope="col">"What"</th><th scope="col">"Seen"</th><th scope="col">"Example"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|d| view! {
                                        <tr>
                                            <td>{d.operation.clone()}</td>
                                            <td>{d.status}</td>
                                            <td><code>{if d.pointer.is_empty() { "/".to_string() } else { d.pointer.clone() }}</code></td>
                                            <td>{d.message.clone()}</td>
                                            <td>{format!("{} times, last {}", d.count, short_time(d.last_seen))}</td>
                                            <td><details><summary>"body"</summary><pre>{d.example.clone()}</pre></details></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Why the caller can do nothing with this version now, in their terms.
fn why_no_actions(v: &VersionView) -> String {
    let me = use_context::<Principal>();
    let state = v.summary.state;
    let uploaded_it = me
        .as_ref()
        .is_some_and(|p| v.summary.uploaded_by.as_deref() == Some(p.email.as_str()));
    let reviewer = me
        .as_ref()
        .is_some_and(|p| matches!(p.role, Role::Admin | Role::Reviewer));
    match state {
        VersionState::InReview | VersionState::Approved if reviewer && uploaded_it => {
            "You uploaded this version, so another reviewer must review it (separation of duties)."
                .into()
        }
        VersionState::InReview => "This version awaits a reviewer.".into(),
        VersionState::Rejected => "This version was rejected; upload a corrected one.".into(),
        VersionState::Retired => "This version is retired: the gateway answers 410 Gone.".into(),
        _ => format!(
            "Nothing for you to do on a version that is {}.",
            state.label()
        ),
    }
}
