//! Breaking-change and lint reports. Changes are grouped by operation with counts
//! per level; groups render their rows only when opened, so reports with thousands
//! of changes stay responsive (console).

use crate::model::location::readable;
use crate::model::{Change, ChangeReport, Finding, Level, Severity};
use leptos::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A link into a version's contract view at the place `pointer` names.
pub fn contract_link(version: Uuid, pointer: &str) -> String {
    let mut encoded = String::with_capacity(pointer.len() * 2);
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("/versions/{version}/contract?at={encoded}")
}

fn level_name(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    }
}

/// `revision` is the compared version: findings link into its contract, or
/// into the base's where they name something the revision no longer has.
#[component]
pub fn ReportView(report: ChangeReport, revision: Uuid) -> impl IntoView {
    let base = report.base_id;
    let guidance = StoredValue::new(
        report
            .guidance
            .iter()
            .map(|g| (g.check.clone(), (g.why.clone(), g.what_to_do.clone())))
            .collect::<BTreeMap<_, _>>(),
    );
    let (min_level, set_min_level) = signal(Level::Info);
    let (text, set_text) = signal(String::new());
    let changes = StoredValue::new(report.changes);
    let groups = move || {
        let needle = text.get().to_lowercase();
        let mut groups: BTreeMap<String, Vec<Change>> = BTreeMap::new();
        changes.with_value(|all| {
            for c in all.iter().filter(|c| c.level >= min_level.get()) {
                if !needle.is_empty()
                    && !c.text.to_lowercase().contains(&needle)
                    && !c.id.contains(&needle)
                    && !c
                        .operation
                        .as_deref()
                        .unwrap_or_default()
                        .to_lowercase()
                        .contains(&needle)
                {
                    continue;
                }
                let key = c.operation.clone().unwrap_or_else(|| "Document".into());
                groups.entry(key).or_default().push(c.clone());
            }
        });
        groups
    };
    let against = match (&report.base_version, &report.basis) {
        (Some(base), Some(basis)) => format!(
            "{} compared with {base}{}: {basis}.",
            report.revision_version,
            report
                .base_state
                .map(|s| format!(" ({})", s.label()))
                .unwrap_or_default()
        ),
        (Some(base), None) => format!("{} compared with {base}.", report.revision_version),
        _ => "The API's first version: nothing to compare with.".into(),
    };
    view! {
        <div class="report">
            <p class="muted report-base">{against}</p>
            {report.semver.map(|problem| view! {
                <p class="notice semver-problem" role="alert"><strong>"Release number: "</strong>{problem}</p>
            })}
            {report.needs_waiver.then(|| view! {
                <p class="notice needs-waiver">"Publishing needs a reviewer's waiver: these changes break the live version of this major line."</p>
            })}
            <p class="counts" aria-label="Changes by level">
                <span class="badge level-error">{format!("{} breaking", report.errors)}</span>
                " "
                <span class="badge level-warning">{format!("{} potentially breaking", report.warnings)}</span>
                " "
                <span class="badge level-info">{format!("{} non-breaking", report.infos)}</span>
            </p>
            <div class="filters">
                <div class="field">
                    <label for="report-level">"Show"</label>
                    <select id="report-level" on:change=move |ev| set_min_level.set(match event_target_value(&ev).as_str() {
                        "error" => Level::Error,
                        "warning" => Level::Warning,
                        _ => Level::Info,
                    })>
                        <option value="info">"all changes"</option>
                        <option value="warning">"warnings and errors"</option>
                        <option value="error">"breaking only"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="report-text">"Filter"</label>
                    <input id="report-text" type="search" on:input=move |ev| set_text.set(event_target_value(&ev)) />
                </div>
            </div>
            {move || {
                let groups = groups();
                if groups.is_empty() {
                    return view! { <p class="muted">"No changes."</p> }.into_any();
                }
                let many = groups.len() > 20;
                groups.into_iter().map(|(op, list)| view! { <Group op list open=!many revision base guidance /> }).collect_view().into_any()
            }}
        </div>
    }
}

#[component]
fn Group(
    op: String,
    list: Vec<Change>,
    open: bool,
    revision: Uuid,
    base: Option<Uuid>,
    guidance: StoredValue<BTreeMap<String, (String, String)>>,
) -> impl IntoView {
    let (is_open, set_open) = signal(open);
    let errors = list.iter().filter(|c| c.level == Level::Error).count();
    let warnings = list.iter().filter(|c| c.level == Level::Warning).count();
    let infos = list.len() - errors - warnings;
    let list = StoredValue::new(list);
    view! {
        <details class="change-group" open=open on:toggle=move |ev| {
            let el: web_sys::HtmlDetailsElement = event_target(&ev);
            set_open.set(el.open());
        }>
            <summary>
                <code>{op}</code>
                " "
                {(errors > 0).then(|| view! { <span class="badge level-error">{errors}</span> })}
                {(warnings > 0).then(|| view! { <span class="badge level-warning">{warnings}</span> })}
                {(infos > 0).then(|| view! { <span class="badge level-info">{infos}</span> })}
            </summary>
            <Show when=move || is_open.get()>
                <ul class="changes">
                    {list.get_value().into_iter().map(|c| {
                        // Where it is, in the revision if it is there, else in the base.
                        let place = match (&c.revision_pointer, &c.base_pointer, base) {
                            (Some(p), _, _) => Some((p.clone(), contract_link(revision, p))),
                            (None, Some(p), Some(base)) => Some((p.clone(), contract_link(base, p))),
                            _ => None,
                        };
                        view! {
                            <li class=format!("change level-{}", level_name(c.level)) data-check=c.id.clone()>
                                <span class=format!("badge level-{}", level_name(c.level))>{level_name(c.level)}</span>
                                " "
                                <code>{c.id.clone()}</code>
                                " "
                                <Prose text=c.text.clone() />
                                {place.map(|(pointer, href)| {
                                    let at = readable(&pointer);
                                    let label = if at.is_empty() { "in the contract".to_string() } else { at };
                                    view! { " " <a class="where" href=href>{label}</a> }
                                })}
                                {(c.level != Level::Info)
                                    .then(|| guidance.with_value(|g| g.get(&c.id).cloned()))
                                    .flatten()
                                    .map(|(why, fix)| view! {
                                        <details class="guidance">
                                            <summary>"Why it matters"</summary>
                                            <p>{why}</p>
                                            <p><strong>"What to do: "</strong>{fix}</p>
                                        </details>
                                    })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
        </details>
    }
}

/// A finding's text, its `code spans` shown as code rather than as backticks.
#[component]
fn Prose(text: String) -> impl IntoView {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                view! { <code>{part.to_string()}</code> }.into_any()
            } else {
                part.to_string().into_any()
            }
        })
        .collect_view()
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

#[component]
pub fn LintTable(findings: Vec<Finding>, version: Uuid) -> impl IntoView {
    if findings.is_empty() {
        return view! { <p class="muted">"No lint findings."</p> }.into_any();
    }
    view! {
        <table class="table lint">
            <thead>
                <tr>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"Rule"</th>
                    <th scope="col">"Line"</th>
                    <th scope="col">"Where"</th>
                    <th scope="col">"Message"</th>
                </tr>
            </thead>
            <tbody>
                {findings.into_iter().map(|f| view! {
                    <tr data-rule=f.rule.clone()>
                        <td><span class=format!("badge level-{}", severity_name(f.severity))>{severity_name(f.severity)}</span></td>
                        <td><code>{f.rule.clone()}</code></td>
                        <td>{f.line.map(|l| view! { <a href=contract_link(version, &f.pointer)>{l}</a> })}</td>
                        <td>{readable(&f.pointer)}</td>
                        <td>{f.message.clone()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
