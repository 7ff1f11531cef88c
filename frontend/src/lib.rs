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
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// Name of the wasm-bindgen output in `/pkg` (`steward.js`, `steward_bg.wasm`, `steward.css`)
/// before the build names the files by a hash of their content.
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
                <link rel="stylesheet" href=format!("/pkg/{}.css", options.output_name) />
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
                    <Route path=path!("apis") view=pages::apis::ApisPage />
                    <Route path=path!("apis/:slug") view=pages::api_detail::ApiDetailPage />
                    <Route path=path!("apis/:slug/traffic") view=pages::api_traffic::ApiTrafficPage />
                    <Route path=path!("versions/:id") view=pages::version::VersionPage />
                    <Route path=path!("versions/:id/contract") view=pages::contract::ContractPage />
                    <Route path=path!("consumers") view=pages::consumers::ConsumersPage />
                    <Route path=path!("consumers/:slug") view=pages::consumer::ConsumerPage />
                    <Route path=path!("subscriptions") view=pages::subscriptions::SubscriptionsPage />
                    <Route path=path!("plans") view=pages::plans::PlansPage />
                    <Route path=path!("gateways") view=pages::gateways::GatewaysPage />
                    <Route path=path!("reviews") view=pages::reviews::ReviewsPage />
                    <Route path=path!("slos") view=pages::slos::SlosPage />
                    <Route path=path!("slos/:id") view=pages::slo::SloPage />
                    <Route path=path!("deprecations") view=pages::deprecations::DeprecationsPage />
                    <Route path=path!("audit") view=pages::audit::AuditPage />
                    <Route path=path!("settings") view=pages::settings::SettingsPage />
                    <Route path=path!("account") view=pages::account::AccountPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A marker for browser tests, which must not click before the page is live.
    if let Some(window) = web_sys::window() {
        let _ = js_sys::Reflect::set(&window, &"__stewardHydrated".into(), &true.into());
    }
}
