//! Sign-in. Failures are shown inline and the typed email stays in the form (console).

use crate::components::form::{Field, FormError, last_error};
use crate::server_fns::SignIn;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = last_error(action);
    view! {
        <Title text="Sign in · Steward" />
        <main class="sign-in">
            <section class="panel">
                <h1>"Sign in to Steward"</h1>
                <p class="muted">"API governance for retail integration."</p>
                <ActionForm action=action attr:aria-label="Sign in">
                    <Field
                        form="sign-in"
                        name="email"
                        label="Email"
                        kind="email"
                        autocomplete="username"
                        required=true
                        error
                    />
                    <Field
                        form="sign-in"
                        name="password"
                        label="Password"
                        kind="password"
                        autocomplete="current-password"
                        required=true
                        error
                    />
                    <FormError error />
                    <button type="submit" class="primary" disabled=move || action.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
