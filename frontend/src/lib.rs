//! Steward's web console: a Leptos app rendered on the server and hydrated in the
//! browser. `model` (the `steward-model` crate) holds the view types shared with
//! the admin REST API; `server_fns` are the console's calls to the server, which
//! under `ssr` run the control plane's services directly.

// Deeply nested views make deeply nested types; the hydrate build needs headroom.
#![recursion_limit = "256"]

pub mod components;
/// The shared types, under the name the pages use.
pub use steward_model as model;
pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// Name of the wasm-bindgen output (`steward.js`, `steward_bg.wasm`) and of the
/// stylesheet (`steward.css`) in the site's package directory.
pub const OUTPUT_NAME: &str = "steward";

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link
                    rel="stylesheet"
                    href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)
                />
                <link rel="icon" href="data:," />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Sets the page's Content-Security-Policy: scripts only from the console's
/// own origin, plus the inline ones Leptos writes for hydration, which carry
/// this response's nonce (the server's context provides one per request);
/// WebAssembly may compile, nothing may frame the console, and forms and
/// fetches stay on its origin. Without a nonce the strict default set for
/// every other answer stays.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Steward" />
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/sign-in") view=pages::sign_in::SignInPage />
                <ParentRoute path=path!("") view=components::layout::Shell>
                    <Route path=path!("") view=pages::overview::OverviewPage />
                    <Route path=path!("apis") view={Lazy::<pages::Apis>::new()} />
                    <Route path=path!("apis/:slug") view={Lazy::<pages::ApiDetail>::new()} />
                    <Route path=path!("apis/:slug/traffic") view={Lazy::<pages::ApiTraffic>::new()} />
                    <Route path=path!("versions/:id") view={Lazy::<pages::Version>::new()} />
                    <Route path=path!("versions/:id/contract") view={Lazy::<pages::Contract>::new()} />
                    <Route path=path!("consumers") view={Lazy::<pages::Consumers>::new()} />
                    <Route path=path!("consumers/:slug") view={Lazy::<pages::Consumer>::new()} />
                    <Route path=path!("subscriptions") view={Lazy::<pages::Subscriptions>::new()} />
                    <Route path=path!("plans") view={Lazy::<pages::Plans>::new()} />
                    <Route path=path!("gateways") view={Lazy::<pages::Gateways>::new()} />
                    <Route path=path!("reviews") view={Lazy::<pages::Reviews>::new()} />
                    <Route path=path!("slos") view={Lazy::<pages::Slos>::new()} />
                    <Route path=path!("slos/:id") view={Lazy::<pages::Slo>::new()} />
                    <Route path=path!("deprecations") view={Lazy::<pages::Deprecations>::new()} />
                    <Route path=path!("audit") view={Lazy::<pages::Audit>::new()} />
                    <Route path=path!("settings") view={Lazy::<pages::Settings>::new()} />
                    <Route path=path!("account") view={Lazy::<pages::Account>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        reload_when_code_cannot_load(info);
    }));
    // Hydration waits for the current page's code, which is split from the
    // shell (`pages`), so it runs as a task.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document()
            .body()
            .expect("a page has a body");
        leptos::mount::hydrate_from_async(body, App).await.forget();
        // A marker for browser tests, which must not click before the page is live.
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(&window, &"__stewardHydrated".into(), &true.into());
        }
    });
}

/// A page group that cannot be fetched (the network dropped, or the server no
/// longer has this build) panics in Leptos' loader, and a panic ends the WASM
/// instance: nothing on the page answers any more. Loading the page afresh
/// recovers. At most once in half a minute, so a server that cannot serve the
/// group does not make the tab reload forever.
#[cfg(feature = "hydrate")]
fn reload_when_code_cannot_load(info: &std::panic::PanicHookInfo<'_>) {
    use wasm_bindgen::{JsCast, JsValue};
    // wasm_split_helpers' message when a split module's load callback fails.
    const LOAD_FAILED: &str = "load callback should succeed";
    const MARK: &str = "steward.reloaded-for-code";
    if !info.to_string().contains(LOAD_FAILED) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    // sessionStorage through Reflect: the one call does not justify another
    // web-sys feature, which would rebuild Leptos on both sides.
    let storage = js_sys::Reflect::get(&window, &"sessionStorage".into()).ok();
    let call = |method: &str, args: js_sys::Array| -> Option<JsValue> {
        let storage = storage.as_ref()?;
        let method: js_sys::Function = js_sys::Reflect::get(storage, &method.into())
            .ok()?
            .dyn_into()
            .ok()?;
        method.apply(storage, &args).ok()
    };
    let now = js_sys::Date::now();
    let last = call("getItem", js_sys::Array::of1(&MARK.into()))
        .and_then(|value| value.as_string())
        .and_then(|value| value.parse::<f64>().ok());
    if last.is_some_and(|at| now - at < 30_000.0) {
        return;
    }
    call(
        "setItem",
        js_sys::Array::of2(&MARK.into(), &now.to_string().into()),
    );
    let _ = window.location().reload();
}
