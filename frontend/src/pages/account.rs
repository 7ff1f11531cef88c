//! The signed-in user's personal access tokens for the admin API (console).

use crate::components::form::{Field, FormError, last_error};
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::TokenView;
use crate::server_fns::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let error = last_error(create);

    view! {
        <Title text="Access tokens · Steward" />
        <h1>"Personal access tokens"</h1>
        <p class="muted">
            "Tokens call the admin API as you, with your role: "
            <code>"Authorization: Bearer stwp_…"</code>
        </p>
        {move || {
            create.value().get().and_then(|r| r.ok()).map(|created| {
                view! {
                    <section class="panel secret" role="status">
                        <h2>"Copy your new token now"</h2>
                        <p>"It is shown only once. Steward keeps a digest, not the token."</p>
                        <pre class="token-secret"><code>{created.secret}</code></pre>
                    </section>
                }
            })
        }}
        <section class="panel">
            <h2>"Create a token"</h2>
            <ActionForm action=create attr:aria-label="Create a token" attr:class="grid-form">
                <Field form="new-token" name="name" label="Name" hint="What uses it, e.g. ci-contract-check." error required=true />
                <Field form="new-token" name="expires_in_days" label="Expires in (days)" kind="number" hint="Leave empty for no expiry." error />
                <FormError error />
                <button type="submit" class="primary">"Create token"</button>
            </ActionForm>
        </section>
        <section class="panel">
            <h2>"Your tokens"</h2>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenTable list revoke /> }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<TokenView>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No tokens yet."</p> }.into_any();
    }
    let when = |t: Option<time::OffsetDateTime>, none: &'static str| {
        t.map(short_time).unwrap_or_else(|| none.to_string())
    };
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Token"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|t| {
                        let id = t.id;
                        let revoked = t.revoked_at.is_some();
                        view! {
                            <tr>
                                <td>{t.name.clone()}</td>
                                <td><code>{format!("{}…", t.prefix)}</code></td>
                                <td>{short_time(t.created_at)}</td>
                                <td>{when(t.expires_at, "never")}</td>
                                <td>{when(t.last_used_at, "never")}</td>
                                <td>
                                    {if revoked {
                                        view! { <span class="badge">"revoked"</span> }.into_any()
                                    } else {
                                        view! {
                                            <button type="button" class="danger" on:click=move |_| { revoke.dispatch(RevokeToken { id }); }>
                                                "Revoke"
                                            </button>
                                        }
                                            .into_any()
                                    }}
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
