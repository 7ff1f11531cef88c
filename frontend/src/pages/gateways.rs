//! The gateways that report in: where they listen, how fresh their policy
//! snapshot is, and what they have not written yet (console).

use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::GatewayView;
use crate::server_fns::list_gateways;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn GatewaysPage() -> impl IntoView {
    let gateways = Resource::new(|| (), |_| list_gateways());
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
                <th scope="col">"Started"</th>
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
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
