//! The audit trail: filterable, paginated, with a chain verification action (console).

use crate::components::status::{ErrorPanel, Loading, Requires, short_time};
use crate::model::{AuditEntry, ChainReport, Role};
use crate::server_fns::{VerifyAuditChain, load_audit};
use leptos::prelude::*;
use leptos_meta::Title;

#[derive(Clone, Default, PartialEq)]
struct Query {
    actor: String,
    action: String,
    target: String,
    before_seq: Option<i64>,
}

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit · Steward" />
        <h1>"Audit trail"</h1>
        <Requires roles=&[Role::Admin, Role::Reviewer] doing="Reading the audit trail">
            <AuditTrail />
        </Requires>
    }
}

#[component]
fn AuditTrail() -> impl IntoView {
    let query = RwSignal::new(Query::default());
    let (actor, set_actor) = signal(String::new());
    let (action, set_action) = signal(String::new());
    let (target, set_target) = signal(String::new());
    let page = Resource::new(
        move || query.get(),
        |q| load_audit(q.actor, q.action, q.target, q.before_seq),
    );
    let verify = ServerAction::<VerifyAuditChain>::new();

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        query.set(Query {
            actor: actor.get(),
            action: action.get(),
            target: target.get(),
            before_seq: None,
        });
    };

    view! {
        <section class="panel">
            <form class="filters" on:submit=apply aria-label="Filter audit entries">
                <div class="field">
                    <label for="audit-actor">"Actor"</label>
                    <input id="audit-actor" name="actor" on:input=move |ev| set_actor.set(event_target_value(&ev)) prop:value=actor />
                </div>
                <div class="field">
                    <label for="audit-action">"Action"</label>
                    <input id="audit-action" name="action" placeholder="user.create" on:input=move |ev| set_action.set(event_target_value(&ev)) prop:value=action />
                </div>
                <div class="field">
                    <label for="audit-target">"Target"</label>
                    <input id="audit-target" name="target" on:input=move |ev| set_target.set(event_target_value(&ev)) prop:value=target />
                </div>
                <button type="submit">"Filter"</button>
            </form>
            <div class="verify">
                <button
                    type="button"
                    on:click=move |_| {
                        verify.dispatch(VerifyAuditChain {});
                    }
                    disabled=move || verify.pending().get()
                >
                    "Verify chain"
                </button>
                {move || verify.value().get().map(|r| match r {
                    Ok(report) => view! { <ChainResult report /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                })}
            </div>
        </section>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => {
                        let next = p.next_before_seq;
                        view! {
                            <AuditTable entries=p.entries />
                            {next.map(|seq| view! {
                                <button type="button" on:click=move |_| query.update(|q| q.before_seq = Some(seq))>
                                    "Older entries"
                                </button>
                            })}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ChainResult(report: ChainReport) -> impl IntoView {
    let text = if report.intact {
        format!("Chain intact: {} entries verified.", report.checked)
    } else {
        format!(
            "Chain broken at entry {}: {}",
            report.first_broken_seq.unwrap_or_default(),
            report.reason.unwrap_or_default()
        )
    };
    view! {
        <p class=if report.intact { "chain ok" } else { "chain broken" } role="status">
            {text}
        </p>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="muted">"No entries match."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Actor"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>
                {entries
                    .into_iter()
                    .map(|e| {
                        let change = serde_json::json!({ "before": e.before, "after": e.after });
                        view! {
                            <tr>
                                <td>{e.seq}</td>
                                <td>{short_time(e.at)}</td>
                                <td>{e.actor}</td>
                                <td><code>{e.action}</code></td>
                                <td>{format!("{} {}", e.target_type, e.target_id)}</td>
                                <td>
                                    <details>
                                        <summary>"before / after"</summary>
                                        <pre>{serde_json::to_string_pretty(&change).unwrap_or_default()}</pre>
                                    </details>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
        .into_any()
}
