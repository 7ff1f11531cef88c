//! The signed-in frame: header, navigation and the page outlet. Pages outside it
//! (sign-in) never see the navigation (console).

use crate::components::status::{ErrorPanel, Loading};
use crate::model::{Principal, Role};
use crate::server_fns::{SignOut, current_user, load_review_queue};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

/// Loads the caller once per mount; an anonymous caller is sent to sign in.
#[component]
pub fn Shell() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(principal)) => view! { <Frame principal /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/sign-in" /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(principal: Principal) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let is_admin = principal.is(Role::Admin);
    // Only the pages a role can open are offered.
    let reads_audit = principal.is(Role::Admin) || principal.is(Role::Reviewer);
    // Pages read the caller from context to decide which forms to offer; the
    // server checks the role again on every command.
    provide_context(principal.clone());
    // What awaits this reviewer, beside the Reviews link: read once the page is
    // live, so that server and browser render the same navigation first.
    let reviews = principal.is(Role::Admin) || principal.is(Role::Reviewer);
    let awaiting = RwSignal::new(0usize);
    Effect::new(move |_| {
        if reviews {
            leptos::task::spawn_local(async move {
                if let Ok(queue) = load_review_queue().await {
                    awaiting.set(queue.iter().filter(|item| !item.yours).count());
                }
            });
        }
    });
    view! {
        <div class="frame">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    "Steward"
                </a>
                <nav aria-label="Main">
                    <A href="/" exact=true>
                        "Overview"
                    </A>
                    <A href="/apis">"APIs"</A>
                    <A href="/reviews">
                        "Reviews"
                        {move || (awaiting.get() > 0).then(|| view! {
                            " " <span class="badge count" title="awaiting your review">{awaiting.get()}</span>
                            <span class="sr-only">" awaiting your review"</span>
                        })}
                    </A>
                    <A href="/consumers">"Consumers"</A>
                    <A href="/gateways">"Gateways"</A>
                    <A href="/slos">"SLOs"</A>
                    <A href="/deprecations">"Deprecations"</A>
                    {reads_audit.then(|| view! { <A href="/audit">"Audit"</A> })}
                    {is_admin.then(|| view! { <A href="/settings">"Settings"</A> })}
                </nav>
                <div class="who">
                    <A href="/account">
                        <span class="who-name">{principal.display_name.clone()}</span>
                    </A>
                    <span class=format!("badge role-{}", principal.role)>
                        {principal.role.as_str()}
                    </span>
                    <ActionForm action=sign_out>
                        <button type="submit" class="link-button">
                            "Sign out"
                        </button>
                    </ActionForm>
                </div>
            </header>
            <main id="main" tabindex="-1">
                <Outlet />
            </main>
        </div>
    }
}
