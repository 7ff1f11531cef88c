//! One SLO: where it stands, its SLI against the target over time, the burn-down
//! of its error budget, the burn rate of each alerting window, and its alerts (console).

use crate::components::chart::{BarChart, Line, LineChart, Rule, time_label};
use crate::components::form::{Field, FormError, SelectField, last_error};
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::*;
use crate::server_fns::{ChangeSlo, DeleteSlo, load_slo_detail};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn SloPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let resolution = RwSignal::new(Resolution::Day);
    let change = ServerAction::<ChangeSlo>::new();
    let data = Resource::new(
        move || (id(), resolution.get(), change.version().get()),
        |(id, resolution, _)| async move {
            match id {
                Some(id) => load_slo_detail(id, resolution).await,
                None => Err(AppError::not_found("SLO")),
            }
        },
    );
    view! {
        <Title text="SLO · Steward" />
        <p><a href="/slos">"← All SLOs"</a></p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(detail) => view! { <Detail detail resolution change /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn objective(s: &SloView) -> String {
    match s.kind {
        SloKind::Availability => format!("{}% of requests without a 5xx answer", s.target),
        SloKind::Latency => format!(
            "{}% of requests answered within {} ms",
            s.target,
            s.threshold_ms.unwrap_or_default()
        ),
    }
}

#[component]
fn Detail(
    detail: SloDetail,
    resolution: RwSignal<Resolution>,
    change: ServerAction<ChangeSlo>,
) -> impl IntoView {
    let SloDetail {
        slo,
        series,
        alerts,
    } = detail;
    let may_edit =
        use_context::<Principal>().is_some_and(|p| matches!(p.role, Role::Admin | Role::Owner));
    let editable = slo.clone();
    let res = match series.resolution {
        Resolution::Hour => "hour",
        Resolution::Day => "day",
    };
    let labels: Vec<String> = series
        .points
        .iter()
        .map(|p| time_label(p.start, res))
        .collect();
    let sli = vec![Line {
        name: "SLI".into(),
        class: "series-1",
        values: series.points.iter().map(|p| p.sli).collect(),
    }];
    let burn_down = vec![Line {
        name: "Budget left".into(),
        class: "series-2",
        values: series
            .points
            .iter()
            .map(|p| Some(p.budget_remaining_percent))
            .collect(),
    }];
    let windows: Vec<String> = series.burn_rates.iter().map(|b| b.window.clone()).collect();
    let rates: Vec<f64> = series.burn_rates.iter().map(|b| b.burn_rate).collect();
    let limits: Vec<Option<f64>> = series.burn_rates.iter().map(|b| b.threshold).collect();
    let st = slo.status.clone();
    let left_class = if st.too_little_traffic {
        "badge cred-expiring"
    } else if st.budget_remaining_percent <= 0.0 {
        "badge cred-revoked"
    } else if st.budget_remaining_percent < 25.0 {
        "badge cred-expiring"
    } else {
        "badge cred-active"
    };
    let scope = [
        slo.version_id.map(|_| "one version".to_string()),
        slo.operation.clone().map(|o| format!("operation {o}")),
        slo.application_id.map(|_| "one application".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let per = if res == "day" { "day" } else { "hour" };
    view! {
        <Title text=format!("{} · SLO · Steward", slo.name) />
        <h1>{slo.name.clone()}</h1>
        <p class="muted">
            <a href=format!("/apis/{}", slo.api_slug)>{slo.api_slug.clone()}</a>
            {format!(" · {} over a rolling {} days", objective(&slo), slo.window_days)}
            {(!scope.is_empty()).then(|| format!(" · narrowed to {scope}"))}
            " · " <a rel="external" href=format!("/api/v1/slos/{}/openslo", slo.id)>"OpenSLO"</a>
        </p>
        <section class="panel stats" aria-label="Where the SLO stands">
            <div data-stat="sli"><span class="stat">{format!("{:.3} %", st.sli)}</span><span class="muted">"SLI"</span></div>
            <div data-stat="target"><span class="stat">{format!("{} %", slo.target)}</span><span class="muted">"target"</span></div>
            <div data-stat="good"><span class="stat">{format!("{} / {}", st.good, st.total)}</span><span class="muted">"good / total requests"</span></div>
            <div data-stat="budget"><span class="stat">{st.budget_text()}</span>
                <span class="muted">{format!("budget left ({:.0} of {:.0} bad requests allowed used)", st.budget_consumed, st.budget_total)}</span></div>
            <div><span class=left_class>{if st.compliant { "meets target" } else { "misses target" }}</span></div>
        </section>
        <section class="panel">
            <div class="toolbar" role="group" aria-label="Resolution">
                <button type="button" aria-pressed=move || (resolution.get() == Resolution::Day).to_string()
                    on:click=move |_| resolution.set(Resolution::Day)>"Daily"</button>
                <button type="button" aria-pressed=move || (resolution.get() == Resolution::Hour).to_string()
                    on:click=move |_| resolution.set(Resolution::Hour)>"Hourly"</button>
            </div>
            <LineChart id="sli" title=format!("SLI per {per} against the {}% target", slo.target)
                labels=labels.clone() lines=sli unit="%" ceiling=100.0
                rules=vec![Rule { label: format!("target {}%", slo.target), value: slo.target }] />
            <LineChart id="burn-down" title="Error budget left (burn-down over the window)".to_string()
                labels lines=burn_down unit="%" ceiling=100.0
                rules=vec![Rule { label: "exhausted".into(), value: 0.0 }] />
            <BarChart id="burn-rates" title="Burn rate now, per alerting window (1 spends the budget exactly over the window)".to_string()
                labels=windows values=rates thresholds=limits unit="×" />
        </section>
        <section class="panel">
            <h2>"Alerts"</h2>
            <AlertTable alerts />
        </section>
        {may_edit.then(|| view! { <Manage slo=editable change /> })}
    }
    .into_any()
}

#[component]
fn AlertTable(alerts: Vec<SloAlert>) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="muted">"No alert has fired."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Severity"</th><th scope="col">"Windows"</th><th scope="col">"Burn rates when fired"</th>
                <th scope="col">"Fired"</th><th scope="col">"Resolved"</th>
            </tr></thead>
            <tbody>
                {alerts.into_iter().map(|a| view! {
                    <tr data-alert=a.long_window.clone()>
                        <td><span class=if a.resolved_at.is_none() { "badge cred-revoked" } else { "badge" }>{a.severity.clone()}</span></td>
                        <td>{format!("{} / {} above {}×", a.long_window, a.short_window, a.threshold)}</td>
                        <td>{format!("{:.1}× / {:.1}×", a.long_burn, a.short_burn)}</td>
                        <td>{short_time(a.fired_at)}</td>
                        <td>{a.resolved_at.map(short_time).unwrap_or_else(|| "firing".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Changing the objective, and deleting the SLO after a confirmation. The server
/// decides who may (admins, owners in the API's team); refusals show inline.
#[component]
fn Manage(slo: SloView, change: ServerAction<ChangeSlo>) -> impl IntoView {
    let error = last_error(change);
    let delete = ServerAction::<DeleteSlo>::new();
    let delete_error = last_error(delete);
    let confirming = RwSignal::new(false);
    let id = slo.id;
    let name = slo.name.clone();
    let windows = [30, 28, 7]
        .into_iter()
        .filter(|d| *d != slo.window_days)
        .map(|d| (d.to_string(), format!("{d} days")));
    let windows: Vec<(String, String)> = std::iter::once((
        slo.window_days.to_string(),
        format!("{} days", slo.window_days),
    ))
    .chain(windows)
    .collect();
    view! {
        <section class="panel">
            <h2>"Change the objective"</h2>
            <ActionForm action=change attr:aria-label="Change the objective" attr:class="grid-form">
                <input type="hidden" name="id" value=id.to_string() />
                <Field form="slo-change" name="target" label="Target (%)" value=slo.target.to_string() error required=true />
                <SelectField form="slo-change" name="window_days" label="Window" error options=windows />
                <Field form="slo-change" name="description" label="Description" value=slo.description.clone() error />
                <FormError error />
                <button type="submit" class="primary">"Save"</button>
            </ActionForm>
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Delete SLO…"</button>
            }>
                <p role="alert" class="confirm">
                    {format!("Delete “{name}” with its alerts? This cannot be undone.")}
                    " "
                    <button type="button" class="danger" on:click=move |_| { delete.dispatch(DeleteSlo { id }); }>"Delete now"</button>
                    " "
                    <button type="button" on:click=move |_| confirming.set(false)>"Keep it"</button>
                </p>
            </Show>
            <p class="field-error" role="alert">{move || delete_error.get().map(|e| e.to_string())}</p>
        </section>
    }
    .into_any()
}
