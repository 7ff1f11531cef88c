//! Showing a secret exactly once: a panel with the value, a copy button and a
//! plain warning. Nothing else in the console ever receives secret material.

use leptos::prelude::*;

/// What to reveal: a heading, and labelled values (the secret, or an id beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reveal {
    pub title: String,
    pub values: Vec<(&'static str, String)>,
}

#[component]
pub fn SecretPanel(reveal: RwSignal<Option<Reveal>>) -> impl IntoView {
    move || {
        reveal.get().map(|r| {
            view! {
                <section class="panel secret" role="dialog" aria-labelledby="secret-title">
                    <h2 id="secret-title">{r.title.clone()}</h2>
                    <p class="warning">
                        <strong>"Copy it now. "</strong>
                        "This is the only time Steward shows this secret: it keeps only a digest, so nobody can show it again. Store it in your secret manager; if it is lost, rotate the credential."
                    </p>
                    {r.values.into_iter().map(|(label, value)| view! { <SecretValue label value /> }).collect_view()}
                    <button type="button" on:click=move |_| reveal.set(None)>"I have stored it"</button>
                </section>
            }
        })
    }
}

#[component]
fn SecretValue(label: &'static str, value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let to_copy = value.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = to_copy.clone();
            leptos::task::spawn_local(async move {
                if let Some(window) = web_sys::window() {
                    let promise = window.navigator().clipboard().write_text(&text);
                    if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                        copied.set(true);
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &to_copy;
    };
    view! {
        <div class="secret-value">
            <span class="label">{label}</span>
            <pre class="token-secret"><code data-secret=label>{value}</code></pre>
            <button type="button" class="primary" on:click=copy aria-label=format!("Copy {label}")>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}
