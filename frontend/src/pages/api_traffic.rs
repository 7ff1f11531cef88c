//! An API's traffic: requests by status class and latency percentiles over
//! time, from the gateways' histograms, and the consumers that call it most (console).

use crate::components::chart::{Line, LineChart, number, time_label};
use crate::components::status::{ErrorPanel, Loading};
use crate::model::*;
use crate::server_fns::load_api_traffic;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

const WINDOWS: [(i32, &str); 4] = [
    (6, "6 hours"),
    (24, "24 hours"),
    (168, "7 days"),
    (720, "30 days"),
];

#[component]
pub fn ApiTrafficPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let hours = RwSignal::new(24);
    let data = Resource::new(
        move || (slug(), hours.get()),
        |(slug, hours)| load_api_traffic(slug, hours),
    );
    view! {
        <Title text="Traffic · Steward" />
        <p><a href=move || format!("/apis/{}", slug())>"← API"</a></p>
        <div class="toolbar" role="group" aria-label="Window">
            {WINDOWS.into_iter().map(|(h, label)| view! {
                <button type="button" aria-pressed=move || (hours.get() == h).to_string()
                    on:click=move |_| hours.set(h)>{label}</button>
            }).collect_view()}
        </div>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(traffic) => view! { <Traffic traffic /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn ms(v: Option<f64>) -> String {
    v.map(|v| format!("≤ {} ms", number(v)))
        .unwrap_or_else(|| "–".into())
}

#[component]
fn Traffic(traffic: ApiTraffic) -> impl IntoView {
    let labels: Vec<String> = traffic
        .points
        .iter()
        .map(|p| time_label(p.start, &traffic.resolution))
        .collect();
    let classes = [
        ("2xx", 1, "series-1"),
        ("4xx", 3, "series-3"),
        ("5xx", 4, "series-5"),
    ];
    let requests: Vec<Line> = classes
        .iter()
        .map(|(name, i, class)| Line {
            name: (*name).into(),
            class,
            values: traffic
                .points
                .iter()
                .map(|p| Some(p.by_class[*i] as f64))
                .collect(),
        })
        .collect();
    let latency: Vec<Line> = [
        ("p50", "series-1"),
        ("p95", "series-2"),
        ("p99", "series-5"),
    ]
    .into_iter()
    .map(|(name, class)| Line {
        name: name.into(),
        class,
        values: traffic
            .points
            .iter()
            .map(|p| match name {
                "p50" => p.p50_ms,
                "p95" => p.p95_ms,
                _ => p.p99_ms,
            })
            .collect(),
    })
    .collect();
    let per = traffic.resolution.clone();
    view! {
        <h1>{format!("{} traffic", traffic.api_name)}</h1>
        <section class="panel stats" aria-label="Totals">
            <div data-stat="requests"><span class="stat">{traffic.requests}</span><span class="muted">"requests"</span></div>
            <div data-stat="errors"><span class="stat">{format!("{:.2} %", traffic.error_rate * 100.0)}</span><span class="muted">"5xx"</span></div>
            <div data-stat="4xx"><span class="stat">{traffic.by_class[3]}</span><span class="muted">"4xx"</span></div>
            <div data-stat="p50"><span class="stat">{ms(traffic.p50_ms)}</span><span class="muted">"p50"</span></div>
            <div data-stat="p95"><span class="stat">{ms(traffic.p95_ms)}</span><span class="muted">"p95"</span></div>
            <div data-stat="p99"><span class="stat">{ms(traffic.p99_ms)}</span><span class="muted">"p99"</span></div>
        </section>
        <section class="panel">
            <LineChart id="requests" title=format!("Requests per {per}, by status class") labels=labels.clone()
                lines=requests unit="" floor=0.0 />
            <LineChart id="latency" title=format!("Latency per {per} (upper bound of the histogram bucket)") labels
                lines=latency unit=" ms" floor=0.0 />
        </section>
        <section class="panel">
            <h2>"Top consumers"</h2>
            {if traffic.top_consumers.is_empty() {
                view! { <p class="muted">"No traffic in this window."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Consumer"</th><th scope="col">"Application"</th><th scope="col">"Requests"</th><th scope="col">"5xx"</th></tr></thead>
                        <tbody>
                            {traffic.top_consumers.into_iter().map(|c| view! {
                                <tr>
                                    <td>{c.consumer}</td>
                                    <td>{c.application}{c.revoked_key_used.then(|| view! { " " <span class="badge cred-revoked">"revoked key in use"</span> })}</td>
                                    <td>{c.requests}</td>
                                    <td>{c.errors}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
