//! One version's contract, to read: a reference of its operations (parameters,
//! request and response bodies as field tables, security), then its source with
//! line numbers, each line an anchor (`#L12`). Findings link here, by line or by
//! pointer (`?at=/paths/~1orders/get`), and the line they name is marked (console).

use crate::components::report::contract_link;
use crate::components::status::{ErrorPanel, Loading};
use crate::model::{
    AppError, BodyOutline, ContractOutline, MAX_SOURCE_LINES as MAX_LINES, OperationOutline,
    SourceWindow, VersionView,
};
use crate::server_fns::load_contract_page;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};
use uuid::Uuid;

#[component]
pub fn ContractPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<Uuid>().ok());
    let at = move || query.read().get("at").unwrap_or_default();
    let page = Resource::new(
        move || (id(), at()),
        |(id, at)| async move {
            match id {
                Some(id) => load_contract_page(id, at).await,
                None => Err(AppError::not_found("version")),
            }
        },
    );
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((v, source, outline)) => view! { <Contract v source outline /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Contract(v: VersionView, source: SourceWindow, outline: ContractOutline) -> impl IntoView {
    let s = v.summary.clone();
    let at_line = outline.at_line;
    // The line named by `#L12` (a link the router followed, which `:target`
    // never sees) or by the pointer asked for is marked and brought into view
    // once the page is live.
    let hash = use_location().hash;
    Effect::new(move |first: Option<()>| {
        let from_hash = hash
            .get()
            .strip_prefix("#L")
            .and_then(|n| n.parse::<u32>().ok());
        // The pointer's line on arrival only: later hash changes (the table of
        // contents, "jump to the source") must not be dragged back to it.
        let Some(line) = from_hash.or(at_line.filter(|_| first.is_none())) else {
            return;
        };
        let document = document();
        if let Ok(Some(old)) = document.query_selector(".source .line.marked") {
            let _ = old.set_attribute("class", "line");
        }
        if let Some(el) = document.get_element_by_id(&format!("L{line}")) {
            let _ = el.set_attribute("class", "line marked");
            el.scroll_into_view();
        }
    });
    let missed = outline.at.clone().filter(|_| at_line.is_none());
    let o = outline.outline;
    let windowed = source.total > MAX_LINES;
    view! {
        <Title text=format!("{} {} contract · Steward", v.api_name, s.version) />
        <p class="crumbs">
            <a href="/apis">"APIs"</a> " / "
            <a href=format!("/apis/{}", v.api_slug)>{v.api_slug.clone()}</a> " / "
            <a href=format!("/versions/{}", s.id)>{s.version.clone()}</a> " / contract"
        </p>
        <h1>{format!("{} {}: contract", v.api_name, s.version)}</h1>
        {missed.map(|p| view! {
            <p class="notice" role="status">{format!("The place {p} is not in this version's contract: it may exist only in the other version of the comparison.")}</p>
        })}
        <section class="panel">
            <p>{o.description.clone()}</p>
            <p class="muted">
                {format!("{} operations · base path ", o.operations.len())}<code>{s.base_path.clone()}</code>
                " · " <a rel="external" href=format!("/api/v1/versions/{}/spec", s.id)>"download the source"</a>
                " · " <a href="#source">"jump to the source"</a>
            </p>
            {o.truncated.then(|| view! { <p class="hint">"Some deeply nested or very large schemas are shortened here; the source below has them in full."</p> })}
        </section>
        <nav class="panel toc" aria-label="Operations">
            <h2>"Operations"</h2>
            <ul>
                {o.operations.iter().map(|op| view! {
                    <li><a href=format!("#{}", anchor(op))><span class="badge method">{op.method.clone()}</span> " " <code>{op.path.clone()}</code></a> " " {op.summary.clone()}</li>
                }).collect_view()}
            </ul>
        </nav>
        {o.operations.into_iter().map(|op| view! { <Operation op version=s.id windowed /> }).collect_view()}
        <Source source at_line />
    }
}

fn anchor(op: &OperationOutline) -> String {
    let path: String = op
        .path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("op-{}{}", op.method.to_lowercase(), path)
}

#[component]
fn Operation(op: OperationOutline, version: Uuid, windowed: bool) -> impl IntoView {
    // In a contract shown whole, the line is on the page; in a long one it may
    // not be, so the link asks for the window around the operation.
    let pointer = format!(
        "/paths/{}/{}",
        op.path.replace('~', "~0").replace('/', "~1"),
        op.method.to_lowercase()
    );
    let line_link = move |l: u32| {
        if windowed {
            contract_link(version, &pointer)
        } else {
            format!("#L{l}")
        }
    };
    let id = anchor(&op);
    view! {
        <section class="panel operation" id=id aria-label=format!("{} {}", op.method, op.path)>
            <h2>
                <span class="badge method">{op.method.clone()}</span> " " <code>{op.path.clone()}</code>
                {op.deprecated.then(|| view! { " " <span class="badge state-deprecated">"deprecated"</span> })}
            </h2>
            <p>
                {op.summary.clone()}
                {op.operation_id.clone().map(|id| view! { " " <code class="muted">{id}</code> })}
                {op.line.map(|l| view! { " · " <a href=line_link(l)>{format!("line {l}")}</a> })}
            </p>
            {(!op.security.is_empty()).then(|| view! {
                <p class="muted">"Needs " {op.security.join(" or ")}</p>
            })}
            {(!op.parameters.is_empty()).then(|| view! {
                <h3>"Parameters"</h3>
                <table class="table">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"In"</th><th scope="col">"Type"</th><th scope="col">"Required"</th><th scope="col">"Description"</th></tr></thead>
                    <tbody>
                        {op.parameters.iter().map(|p| view! {
                            <tr>
                                <td><code>{p.name.clone()}</code></td>
                                <td>{p.location.clone()}</td>
                                <td>{p.type_label.clone()}</td>
                                <td>{if p.required { "yes" } else { "no" }}</td>
                                <td>{p.description.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(!op.request.is_empty()).then(|| view! {
                <h3>"Request body"</h3>
                {op.request.iter().cloned().map(|b| view! { <Body body=b /> }).collect_view()}
            })}
            <h3>"Responses"</h3>
            {op.responses.into_iter().map(|r| view! {
                <details class="response">
                    <summary><strong>{r.status.clone()}</strong> " " {r.description.clone()}</summary>
                    {r.bodies.into_iter().map(|b| view! { <Body body=b /> }).collect_view()}
                </details>
            }).collect_view()}
        </section>
    }
}

#[component]
fn Body(body: BodyOutline) -> impl IntoView {
    view! {
        <p class="muted"><code>{body.media_type.clone()}</code> " · " {body.type_label.clone()}</p>
        {(!body.fields.is_empty()).then(|| view! {
            <table class="table fields">
                <thead><tr><th scope="col">"Field"</th><th scope="col">"Type"</th><th scope="col">"Required"</th><th scope="col">"Description"</th></tr></thead>
                <tbody>
                    {body.fields.into_iter().map(|f| view! {
                        <tr>
                            <td><code>{f.path}</code></td>
                            <td>{f.type_label}</td>
                            <td>{if f.required { "yes" } else { "no" }}</td>
                            <td>{f.description}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

/// The source with a number and an anchor per line. Built as one piece of
/// markup rather than a node per line: a contract has thousands of lines, and
/// none of them ever changes on the page.
#[component]
fn Source(source: SourceWindow, at_line: Option<u32>) -> impl IntoView {
    let SourceWindow { first, total, text } = source;
    let mut html = String::with_capacity(text.len() * 2);
    let mut last = first.saturating_sub(1);
    for (i, line) in text.lines().enumerate() {
        let n = first + i;
        last = n;
        let marked = if at_line == Some(n as u32) {
            " marked"
        } else {
            ""
        };
        html.push_str(&format!(
            "<span class=\"line{marked}\" id=\"L{n}\"><a class=\"ln\" href=\"#L{n}\" aria-label=\"line {n}\">{n}</a>"
        ));
        escape_into(line, &mut html);
        html.push_str("\n</span>");
    }
    view! {
        <section class="panel" id="source" aria-label="Source">
            <h2>"Source"</h2>
            {(first > 1 || last < total).then(|| view! {
                <p class="hint">{format!("Lines {first} to {last} of {total}; download the source for the rest.")}</p>
            })}
            <pre class="source"><code inner_html=html></code></pre>
        </section>
    }
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}
