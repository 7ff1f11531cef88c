//! One consumer: contacts, and per application its subscriptions, API keys and
//! OAuth2 clients, with the commands to subscribe, issue, rotate and revoke.
//! Secrets appear once, in the panel at the top, and never in the lists (console).

use crate::components::form::LastError;
use crate::components::secret::{Reveal, SecretPanel};
use crate::components::status::{ErrorPanel, Loading, short_time};
use crate::model::*;
use crate::pages::consumers::PartnerTabs;
use crate::server_fns::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

/// The page's commands. One set for the page: the application a form belongs to
/// is remembered on submit, so errors show beside the right form.
#[derive(Clone, Copy)]
struct Commands {
    add_app: ServerAction<AddApplication>,
    subscribe: ServerAction<SubscribeApplication>,
    decide: ServerAction<DecideSubscription>,
    issue: ServerAction<IssueKey>,
    rotate: ServerAction<RotateKey>,
    revoke: ServerAction<RevokeKey>,
    new_client: ServerAction<CreateOauthClient>,
    rotate_client: ServerAction<RotateOauthClient>,
    revoke_client: ServerAction<RevokeOauthClient>,
    /// Which form was submitted last: (application or credential id, form name).
    target: RwSignal<Option<(Uuid, &'static str)>>,
    reveal: RwSignal<Option<Reveal>>,
}

impl Commands {
    fn new() -> Self {
        Commands {
            add_app: ServerAction::new(),
            subscribe: ServerAction::new(),
            decide: ServerAction::new(),
            issue: ServerAction::new(),
            rotate: ServerAction::new(),
            revoke: ServerAction::new(),
            new_client: ServerAction::new(),
            rotate_client: ServerAction::new(),
            revoke_client: ServerAction::new(),
            target: RwSignal::new(None),
            reveal: RwSignal::new(None),
        }
    }

    fn changes(&self) -> usize {
        self.add_app.version().get()
            + self.subscribe.version().get()
            + self.decide.version().get()
            + self.issue.version().get()
            + self.rotate.version().get()
            + self.revoke.version().get()
            + self.new_client.version().get()
            + self.rotate_client.version().get()
            + self.revoke_client.version().get()
    }

    /// The error of `action`, shown only at the form that sent it.
    fn error_at<I, T>(&self, action: ServerAction<I>, id: Uuid, form: &'static str) -> LastError
    where
        I: leptos::server_fn::ServerFn<Output = T, Error = AppError>
            + Clone
            + Send
            + Sync
            + 'static,
        T: Clone + Send + Sync + 'static,
    {
        let target = self.target;
        Signal::derive(move || {
            (target.get() == Some((id, form)))
                .then(|| action.value().get().and_then(|r| r.err()))
                .flatten()
        })
    }
}

#[component]
pub fn ConsumerPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let commands = Commands::new();
    let page = Resource::new(
        move || (slug(), commands.changes()),
        |(slug, _)| load_consumer_page(slug),
    );
    reveal_secrets(commands);
    view! {
        <PartnerTabs current="/consumers" />
        <SecretPanel reveal=commands.reveal />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <Detail page commands /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Moves each freshly issued secret into the reveal panel, which outlives reloads.
fn reveal_secrets(c: Commands) {
    Effect::new(move |_| {
        if let Some(Ok(created)) = c.issue.value().get() {
            c.reveal.set(Some(Reveal {
                title: format!("API key “{}” issued", created.key.name),
                values: vec![("API key", created.secret)],
            }));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(rotated)) = c.rotate.value().get() {
            let until = rotated
                .previous
                .expires_at
                .map(short_time)
                .unwrap_or_else(|| "now".into());
            c.reveal.set(Some(Reveal {
                title: format!(
                    "API key “{}” rotated; the old key works until {until}",
                    rotated.key.name
                ),
                values: vec![("API key", rotated.secret)],
            }));
        }
    });
    let client_secret = move |created: CreatedOAuthClient| {
        c.reveal.set(Some(Reveal {
            title: format!("OAuth client “{}”: new client secret", created.client.name),
            values: vec![
                ("client_id", created.client.client_id),
                ("client_secret", created.client_secret),
            ],
        }));
    };
    Effect::new(move |_| {
        if let Some(Ok(created)) = c.new_client.value().get() {
            client_secret(created);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(created)) = c.rotate_client.value().get() {
            client_secret(created);
        }
    });
}

#[component]
fn Detail(page: ConsumerPage, commands: Commands) -> impl IntoView {
    let ConsumerPage {
        detail,
        plans,
        apis,
    } = page;
    let consumer = detail.consumer.clone();
    let can_manage = detail.can_manage;
    let may_subscribe =
        use_context::<Principal>().is_some_and(|p| matches!(p.role, Role::Admin | Role::Owner));
    view! {
        <Title text=format!("{} · Steward", consumer.name) />
        <p class="crumbs"><a href="/consumers">"Consumers"</a> " / " {consumer.slug.clone()}</p>
        <h1>{consumer.name.clone()}</h1>
        <section class="panel">
            <dl class="facts">
                <dt>"Kind"</dt><dd>{consumer.kind.as_str()}</dd>
                <dt>"Contacts"</dt>
                <dd>
                    {if consumer.contacts.is_empty() { "none recorded".to_string() } else {
                        consumer.contacts.iter().map(|c| format!("{} <{}> {}", c.name, c.email, c.role)).collect::<Vec<_>>().join("; ")
                    }}
                </dd>
            </dl>
            <p>{consumer.description.clone()}</p>
        </section>
        {detail.application_details.into_iter().map(|app| {
            view! { <Application app plans=plans.clone() apis=apis.clone() commands can_manage may_subscribe /> }
        }).collect_view()}
        {can_manage.then(|| view! { <AddApplication consumer=consumer.slug.clone() commands /> })}
    }
}

/// A labelled input with a page-unique id and its inline error.
#[component]
fn Input(
    id: String,
    name: &'static str,
    label: &'static str,
    error: LastError,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] value: String,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field_message(name));
    let err_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || message().is_some()>
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=kind value=value required=required aria-describedby=err_id.clone()
                aria-invalid=move || message().is_some().to_string() />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=err_id>{message}</p>
        </div>
    }
}

/// Errors that belong to no field (403, 409, …).
#[component]
fn GeneralError(error: LastError) -> impl IntoView {
    let general = move || {
        error.get().and_then(|e| match &e {
            AppError::Validation { .. } | AppError::Conflict { field: Some(_), .. } => None,
            other => Some(other.to_string()),
        })
    };
    view! { <p class="form-error" role="alert" hidden=move || general().is_none()>{general}</p> }
}

#[component]
fn Application(
    app: ApplicationDetail,
    plans: Vec<PlanView>,
    apis: Vec<ApiView>,
    commands: Commands,
    can_manage: bool,
    may_subscribe: bool,
) -> impl IntoView {
    let a = app.application.clone();
    let id = a.id;
    view! {
        <section class="panel application" data-application=a.name.clone()>
            <h2>{a.name.clone()} " " <span class=format!("badge env-{}", a.environment)>{a.environment.as_str()}</span></h2>
            {(!a.description.is_empty()).then(|| view! { <p class="muted">{a.description.clone()}</p> })}
            <h3>"Subscriptions"</h3>
            <Subscriptions list=app.subscriptions.clone() commands />
            {may_subscribe.then(|| view! { <SubscribeForm application=id environment=a.environment plans apis commands /> })}
            <h3>"API keys"</h3>
            <Keys list=app.keys.clone() commands can_manage />
            {can_manage.then(|| view! { <IssueKeyForm application=id commands /> })}
            <h3>"OAuth2 clients"</h3>
            <Clients list=app.oauth_clients.clone() commands can_manage />
            {can_manage.then(|| view! { <NewClientForm application=id commands /> })}
        </section>
    }
}

#[component]
fn Subscriptions(list: Vec<SubscriptionView>, commands: Commands) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No subscriptions."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"API"</th><th scope="col">"Line"</th><th scope="col">"Plan"</th>
                <th scope="col">"Scopes"</th><th scope="col">"State"</th><th scope="col">"Actions"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|s| view! { <SubscriptionRow s commands /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One subscription with the decisions its state allows.
#[component]
fn SubscriptionRow(s: SubscriptionView, commands: Commands) -> impl IntoView {
    let id = s.id;
    let error = commands.error_at(commands.decide, id, "decide");
    let decisions: &[(&str, &str)] = match s.state {
        SubscriptionState::Pending => &[("approve", "Approve"), ("cancel", "Reject")],
        SubscriptionState::Active => &[("suspend", "Suspend"), ("cancel", "Cancel")],
        SubscriptionState::Suspended => &[("resume", "Resume"), ("cancel", "Cancel")],
        SubscriptionState::Cancelled => &[],
    };
    let target = commands.target;
    view! {
        <tr data-subscription=s.api_slug.clone()>
            <td><a href=format!("/apis/{}", s.api_slug)>{s.api_name.clone()}</a> " " <span class=format!("badge tier-{}", s.api_tier)>{s.api_tier.as_str()}</span></td>
            <td>{format!("{}.x", s.major)}</td>
            <td>{s.plan.name.clone()}</td>
            <td>{if s.scopes.is_empty() { "none".to_string() } else { s.scopes.join(" ") }}</td>
            <td>
                <span class=format!("badge sub-{}", s.state)>{s.state.as_str()}</span>
                {s.state_reason.clone().map(|r| view! { <br /><span class="muted">{r}</span> })}
                {s.approved_by.clone().map(|u| view! { <br /><span class="muted">{format!("approved by {u}")}</span> })}
            </td>
            <td>
                {s.can_decide.then(|| decisions.iter().map(|(decision, label)| {
                    let with_reason = *decision == "suspend";
                    view! {
                        <ActionForm action=commands.decide attr:class="inline-form" on:submit=move |_| target.set(Some((id, "decide")))>
                            <input type="hidden" name="id" value=id.to_string() />
                            <input type="hidden" name="decision" value=*decision />
                            {if with_reason {
                                view! {
                                    <label class="sr-only" for=format!("reason-{id}")>"Reason"</label>
                                    <input id=format!("reason-{id}") name="reason" placeholder="Reason" required=true />
                                }.into_any()
                            } else {
                                view! { <input type="hidden" name="reason" value="" /> }.into_any()
                            }}
                            <button type="submit">{*label}</button>
                        </ActionForm>
                    }
                }).collect_view())}
                <p class="field-error">{move || error.get().map(|e| e.to_string())}</p>
            </td>
        </tr>
    }
}

#[component]
fn SubscribeForm(
    application: Uuid,
    environment: Environment,
    plans: Vec<PlanView>,
    apis: Vec<ApiView>,
    commands: Commands,
) -> impl IntoView {
    let error = commands.error_at(commands.subscribe, application, "subscribe");
    let target = commands.target;
    let prefix = format!("sub-{application}");
    let select_error =
        move |name: &'static str| move || error.get().and_then(|e| e.field_message(name));
    view! {
        <details class="inline-panel">
            <summary>"Subscribe to an API"</summary>
            <ActionForm action=commands.subscribe attr:class="grid-form" attr:aria-label="Subscribe to an API"
                on:submit=move |_| target.set(Some((application, "subscribe")))>
                <input type="hidden" name="application_id" value=application.to_string() />
                <div class="field">
                    <label for=format!("{prefix}-api")>"API"</label>
                    <select id=format!("{prefix}-api") name="api">
                        {apis.into_iter().map(|a| view! {
                            <option value=a.slug.clone()>{format!("{} ({}, {})", a.name, a.current_version.clone().unwrap_or_default(), a.tier)}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error">{select_error("api")}</p>
                </div>
                <div class="field">
                    <label for=format!("{prefix}-plan")>"Plan"</label>
                    <select id=format!("{prefix}-plan") name="plan">
                        {plans.into_iter().filter(|p| p.environments.contains(&environment)).map(|p| view! {
                            <option value=p.slug.clone()>{format!("{}: {}/s, burst {}", p.name, p.rate_per_second, p.burst)}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-error">{select_error("plan")}</p>
                </div>
                <Input id=format!("{prefix}-scopes") name="scopes" label="Scopes" error hint="Space-separated OAuth2 scopes, e.g. orders:read" />
                <GeneralError error />
                <button type="submit" class="primary">"Subscribe"</button>
                <p class="hint">"Subscriptions to critical APIs wait for approval by an owner of the API's team."</p>
            </ActionForm>
        </details>
    }
}

fn status_badge(status: CredentialStatus) -> impl IntoView {
    view! { <span class=format!("badge cred-{status}")>{status.as_str()}</span> }
}

fn when(t: Option<time::OffsetDateTime>, none: &'static str) -> String {
    t.map(short_time).unwrap_or_else(|| none.to_string())
}

#[component]
fn Keys(list: Vec<ApiKeyView>, commands: Commands, can_manage: bool) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No API keys."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th>
                <th scope="col">"Expires"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                {can_manage.then(|| view! { <th scope="col">"Actions"</th> })}
            </tr></thead>
            <tbody>
                {list.into_iter().map(|k| {
                    let usable = matches!(k.status, CredentialStatus::Active | CredentialStatus::Expiring);
                    view! {
                        <tr data-key=k.prefix.clone()>
                            <td>{k.name.clone()}</td>
                            <td><code class="masked">{format!("{}_••••", k.prefix)}</code></td>
                            <td>{short_time(k.created_at)}{k.created_by.clone().map(|u| format!(" by {u}"))}</td>
                            <td>{when(k.expires_at, "never")}</td>
                            <td>{when(k.last_used_at, "never")}</td>
                            <td>{status_badge(k.status)}</td>
                            {can_manage.then(|| view! {
                                <td>{usable.then(|| view! {
                                    <CredentialActions id=k.id label=k.name.clone() kind="key" commands />
                                })}</td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Clients(list: Vec<OAuthClientView>, commands: Commands, can_manage: bool) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No OAuth2 clients."</p> }.into_any();
    }
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Name"</th><th scope="col">"client_id"</th><th scope="col">"Secrets"</th>
                <th scope="col">"Last used"</th><th scope="col">"Status"</th>
                {can_manage.then(|| view! { <th scope="col">"Actions"</th> })}
            </tr></thead>
            <tbody>
                {list.into_iter().map(|c| {
                    let usable = c.revoked_at.is_none();
                    let secrets = c.secrets.iter().map(|s| format!("••••{} ({}{})", s.hint, s.status,
                        s.expires_at.map(|e| format!(" until {}", short_time(e))).unwrap_or_default())).collect::<Vec<_>>().join(", ");
                    view! {
                        <tr data-client=c.client_id.clone()>
                            <td>{c.name.clone()}</td>
                            <td><code>{c.client_id.clone()}</code></td>
                            <td>{secrets}</td>
                            <td>{when(c.last_used_at, "never")}</td>
                            <td>{status_badge(c.status)}</td>
                            {can_manage.then(|| view! {
                                <td>{usable.then(|| view! {
                                    <CredentialActions id=c.id label=c.name.clone() kind="client" commands />
                                })}</td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Rotate with an overlap, or revoke after a confirmation.
#[component]
fn CredentialActions(
    id: Uuid,
    label: String,
    kind: &'static str,
    commands: Commands,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let target = commands.target;
    let rotate_error = if kind == "key" {
        commands.error_at(commands.rotate, id, "rotate")
    } else {
        commands.error_at(commands.rotate_client, id, "rotate")
    };
    let revoke = move |_| {
        target.set(Some((id, "revoke")));
        if kind == "key" {
            commands.revoke.dispatch(RevokeKey { id });
        } else {
            commands.revoke_client.dispatch(RevokeOauthClient { id });
        }
        confirming.set(false);
    };
    let overlap_id = format!("overlap-{id}");
    let rotate_form = move || {
        let fields = view! {
            <input type="hidden" name="id" value=id.to_string() />
            <label for=overlap_id.clone()>"Overlap (hours)"</label>
            <input id=overlap_id.clone() name="overlap_hours" type="number" min="0" max="720" value="24" class="narrow" />
            <button type="submit">"Rotate"</button>
            <p class="field-error">{move || rotate_error.get().map(|e| e.to_string())}</p>
        };
        if kind == "key" {
            view! { <ActionForm action=commands.rotate attr:class="inline-form" on:submit=move |_| target.set(Some((id, "rotate")))>{fields}</ActionForm> }.into_any()
        } else {
            view! { <ActionForm action=commands.rotate_client attr:class="inline-form" on:submit=move |_| target.set(Some((id, "rotate")))>{fields}</ActionForm> }.into_any()
        }
    };
    view! {
        <div class="credential-actions">
            {rotate_form}
            <Show when=move || confirming.get() fallback=move || view! {
                <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Revoke…"</button>
            }>
                <p role="alert" class="confirm">
                    {format!("Revoke “{label}” now? Calls using it fail at once.")}
                    " "
                    <button type="button" class="danger" on:click=revoke>"Revoke now"</button>
                    " "
                    <button type="button" on:click=move |_| confirming.set(false)>"Keep it"</button>
                </p>
            </Show>
        </div>
    }
}

#[component]
fn IssueKeyForm(application: Uuid, commands: Commands) -> impl IntoView {
    let error = commands.error_at(commands.issue, application, "issue");
    let target = commands.target;
    view! {
        <ActionForm action=commands.issue attr:class="grid-form compact" attr:aria-label="Issue an API key"
            on:submit=move |_| target.set(Some((application, "issue")))>
            <input type="hidden" name="application_id" value=application.to_string() />
            <Input id=format!("key-name-{application}") name="name" label="Key name" error required=true hint="What uses it, e.g. checkout." />
            <Input id=format!("key-days-{application}") name="expires_in_days" label="Expires in (days)" kind="number" error hint="Empty for no expiry." />
            <GeneralError error />
            <button type="submit" class="primary">"Issue API key"</button>
        </ActionForm>
    }
}

#[component]
fn NewClientForm(application: Uuid, commands: Commands) -> impl IntoView {
    let error = commands.error_at(commands.new_client, application, "client");
    let target = commands.target;
    view! {
        <ActionForm action=commands.new_client attr:class="grid-form compact" attr:aria-label="Create an OAuth2 client"
            on:submit=move |_| target.set(Some((application, "client")))>
            <input type="hidden" name="application_id" value=application.to_string() />
            <Input id=format!("client-name-{application}") name="name" label="Client name" error required=true />
            <GeneralError error />
            <button type="submit" class="primary">"Create OAuth2 client"</button>
        </ActionForm>
    }
}

#[component]
fn AddApplication(consumer: String, commands: Commands) -> impl IntoView {
    // Applications have no id before they exist; the nil id stands for "new".
    let error = commands.error_at(commands.add_app, Uuid::nil(), "app");
    let target = commands.target;
    // After a success the form starts afresh, so a second click cannot add
    // the same application twice; after an error it keeps what was typed.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = commands.add_app.value().get()
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    view! {
        <section class="panel">
            <h2>"Add an application"</h2>
            <ActionForm action=commands.add_app node_ref=form attr:class="grid-form" attr:aria-label="Add an application"
                on:submit=move |_| target.set(Some((Uuid::nil(), "app")))>
                <input type="hidden" name="consumer" value=consumer />
                <Input id="app-name".to_string() name="name" label="Name" error required=true hint="e.g. storefront" />
                <div class="field">
                    <label for="app-environment">"Environment"</label>
                    // Sandbox first: production credentials are the ones to think twice about.
                    <select id="app-environment" name="environment">
                        <option value="sandbox">"sandbox"</option>
                        <option value="production">"production"</option>
                    </select>
                </div>
                <Input id="app-description".to_string() name="description" label="Description" error />
                <GeneralError error />
                <button type="submit" class="primary">"Add application"</button>
            </ActionForm>
        </section>
    }
}
