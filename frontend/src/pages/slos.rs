//! SLOs: every objective with its SLI and error budget over its window, the one
//! with the least budget left first, and the form to define one (console).

use crate::components::form::{Field, FormError, SelectField, last_error};
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::{ApiView, Principal, Role, SloKind, SloView};
use crate::server_fns::{DefineSlo, load_slos};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SlosPage() -> impl IntoView {
    let define = ServerAction::<DefineSlo>::new();
    let data = Resource::new(move || define.version().get(), |_| load_slos());
    let may_define =
        use_context::<Principal>().is_some_and(|p| matches!(p.role, Role::Admin | Role::Owner));
    view! {
        <Title text="SLOs · Steward" />
        <h1>"Service level objectives"</h1>
        <p class="muted">"Computed from the traffic the gateways saw, re-evaluated every minute. Availability counts requests that are not 5xx; latency counts requests answered within the threshold."</p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((slos, apis)) => view! {
                        <section class="panel"><SloTable slos /></section>
                        {may_define.then(|| view! { <DefineForm define apis /> })}
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn health(s: &SloView) -> (&'static str, &'static str) {
    let left = s.status.budget_remaining_percent;
    if s.status.too_little_traffic {
        ("too little traffic", "cred-expiring")
    } else if left <= 0.0 {
        ("exhausted", "cred-revoked")
    } else if left < 25.0 {
        ("at risk", "cred-expiring")
    } else {
        ("healthy", "cred-active")
    }
}

#[component]
fn SloTable(slos: Vec<SloView>) -> impl IntoView {
    if slos.is_empty() {
        return view! { <p class="muted">"No SLOs yet."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"SLO"</th><th scope="col">"API"</th><th scope="col">"Objective"</th>
                <th scope="col">"SLI"</th><th scope="col">"Error budget left"</th><th scope="col">"Status"</th>
            </tr></thead>
            <tbody>
                {slos.into_iter().map(|s| {
                    let (label, class) = health(&s);
                    let objective = match s.kind {
                        SloKind::Availability => format!("{}% available over {} days", s.target, s.window_days),
                        SloKind::Latency => format!("{}% within {} ms over {} days", s.target, s.threshold_ms.unwrap_or_default(), s.window_days),
                    };
                    let left = s.status.budget_remaining_percent;
                    view! {
                        <tr data-slo=s.name.clone()>
                            <td><a href=format!("/slos/{}", s.id)>{s.name.clone()}</a><br /><a class="muted" rel="external" href=format!("/api/v1/slos/{}/openslo", s.id)>"OpenSLO"</a></td>
                            <td><a href=format!("/apis/{}", s.api_slug)>{s.api_slug.clone()}</a></td>
                            <td>{objective}</td>
                            <td data-stat="sli">{format!("{:.2} %", s.status.sli)}<br /><span class="muted" title=format!("as of {}", short_time(s.status_as_of))>{format!("{} of {} good", s.status.good, s.status.total)}</span></td>
                            <td data-stat="budget">
                                <meter min="-100" max="100" low="0" high="25" optimum="100" value=left.clamp(-100.0, 100.0)
                                    aria-label="error budget left">{format!("{left:.1} %")}</meter>
                                " " {s.status.budget_text()}
                            </td>
                            <td><span class=format!("badge {class}")>{label}</span></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn DefineForm(define: ServerAction<DefineSlo>, apis: Vec<ApiView>) -> impl IntoView {
    let error = last_error(define);
    let api_options = apis
        .into_iter()
        .map(|a| (a.slug.clone(), a.name.clone()))
        .collect();
    let kinds = vec![
        ("availability".to_string(), "availability".to_string()),
        ("latency".to_string(), "latency".to_string()),
    ];
    let windows = vec![
        ("28".to_string(), "28 days".to_string()),
        ("30".to_string(), "30 days".to_string()),
        ("7".to_string(), "7 days".to_string()),
    ];
    view! {
        <section class="panel">
            <h2>"Define an SLO"</h2>
            <ActionForm action=define attr:aria-label="Define an SLO" attr:class="grid-form">
                <SelectField form="slo" name="api" label="API" error options=api_options />
                <Field form="slo" name="name" label="Name" hint="e.g. order acceptance available" error required=true />
                <SelectField form="slo" name="kind" label="Kind" error options=kinds />
                <Field form="slo" name="target" label="Target (%)" value="99.9" error required=true />
                <SelectField form="slo" name="window_days" label="Window" error options=windows />
                <Field form="slo" name="threshold_ms" label="Latency threshold (ms)" hint="Latency SLOs: 5, 10, 25, 50, 100, 200, 300, 500, 750, 1000, …" error />
                <FormError error />
                <button type="submit" class="primary">"Define SLO"</button>
            </ActionForm>
        </section>
    }
}
