//! Settings (admins only): users, roles, teams and lint rules. Other roles see
//! the refusal; the server enforces the role on every call (console).

use crate::components::confirm;
use crate::components::form::{Field, FormError, SelectField, last_error};
use crate::components::status::{ErrorPanel, Loading, Requires};
use crate::model::{AppError, Role, TeamView, UserView};
use crate::server_fns::*;
use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings · Steward" />
        <h1>"Settings"</h1>
        <Requires roles=&[Role::Admin] doing="Managing users, teams and lint rules">
            <Users />
            <LintRules />
        </Requires>
    }
}

/// Every row action's failure lands here, so a refused change is never silent.
fn row_error<I, T>(action: ServerAction<I>) -> impl Fn() -> Option<String> + Copy
where
    I: leptos::server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    }
}

#[component]
fn Users() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let role = ServerAction::<ChangeRole>::new();
    let disable = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                role.version().get(),
                disable.version().get(),
            )
        },
        |_| list_users(),
    );
    // The teams' resource and actions are made here, before any await: a
    // resource made inside the users' Suspend would be made after one during
    // server rendering, miss the hydration data, and break hydration of the
    // page when it is loaded directly.
    let team_actions = TeamActions {
        create: ServerAction::<CreateTeam>::new(),
        add: ServerAction::<AddTeamMember>::new(),
        remove: ServerAction::<RemoveTeamMember>::new(),
        delete: ServerAction::<DeleteTeam>::new(),
    };
    let teams = Resource::new(
        move || {
            (
                team_actions.create.version().get(),
                team_actions.add.version().get(),
                team_actions.remove.version().get(),
                team_actions.delete.version().get(),
            )
        },
        |_| list_teams(),
    );
    let error = last_error(create);
    let role_error = row_error(role);
    let disable_error = row_error(disable);
    let role_options: Vec<(String, String)> = Role::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), r.as_str().to_string()))
        .collect();

    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match users.await {
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    Ok(list) => {
                        let for_teams = list.clone();
                        view! {
                            <section class="panel">
                                <h2>"Users"</h2>
                                <p class="form-error" role="alert">{move || role_error().or_else(disable_error)}</p>
                                <UserTable list role disable />
                            </section>
                            <Teams users=for_teams teams actions=team_actions />
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
        <section class="panel">
            <h2>"Add a user"</h2>
            <ActionForm action=create attr:aria-label="Add a user" attr:class="grid-form">
                <Field form="new-user" name="email" label="Email" kind="email" error required=true />
                <Field form="new-user" name="display_name" label="Name" error required=true />
                <SelectField
                    form="new-user"
                    name="role"
                    label="Role"
                    error
                    options=role_options
                    selected="viewer".to_string()
                />
                <Field
                    form="new-user"
                    name="password"
                    label="Initial password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 12 characters."
                    error
                    required=true
                />
                <FormError error />
                <button type="submit" class="primary">"Add user"</button>
            </ActionForm>
            {move || {
                create.value().get().and_then(|r| r.ok()).map(|u| {
                    view! { <p class="notice" role="status">{format!("Added {}.", u.email)}</p> }
                })
            }}
        </section>
    }
}

#[component]
fn UserTable(
    list: Vec<UserView>,
    role: ServerAction<ChangeRole>,
    disable: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Teams"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|u| {
                        let id = u.id;
                        let current = u.role;
                        let label = format!("Role of {}", u.email);
                        let email = u.email.clone();
                        view! {
                            <tr data-user=u.email.clone()>
                                <td>{u.display_name.clone()}</td>
                                <td>{u.email.clone()}</td>
                                <td>
                                    <select
                                        aria-label=label
                                        on:change=move |ev| {
                                            let Some(r) = Role::parse(&event_target_value(&ev)) else {
                                                return;
                                            };
                                            // One slip must not make someone an admin.
                                            if confirm(&format!("Make {email} {r}? This changes what they may do at once.")) {
                                                role.dispatch(ChangeRole { id, role: r });
                                            } else {
                                                event_target::<web_sys::HtmlSelectElement>(&ev)
                                                    .set_value(current.as_str());
                                            }
                                        }
                                    >
                                        {Role::ALL
                                            .into_iter()
                                            .map(|r| view! { <option value=r.as_str() selected=r == current>{r.as_str()}</option> })
                                            .collect_view()}
                                    </select>
                                </td>
                                <td>{u.teams.join(", ")}</td>
                                <td>{if u.disabled { "disabled" } else { "active" }}</td>
                                <td>
                                    <button
                                        type="button"
                                        on:click=move |_| {
                                            disable.dispatch(SetUserDisabled { id, disabled: !u.disabled });
                                        }
                                    >
                                        {if u.disabled { "Enable" } else { "Disable" }}
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// What the Teams section does, made where its resource is.
#[derive(Clone, Copy)]
struct TeamActions {
    create: ServerAction<CreateTeam>,
    add: ServerAction<AddTeamMember>,
    remove: ServerAction<RemoveTeamMember>,
    delete: ServerAction<DeleteTeam>,
}

#[component]
fn Teams(
    users: Vec<UserView>,
    teams: Resource<Result<Vec<TeamView>, AppError>>,
    actions: TeamActions,
) -> impl IntoView {
    let TeamActions {
        create,
        add,
        remove,
        delete,
    } = actions;
    let error = last_error(create);
    let add_error = row_error(add);
    let remove_error = row_error(remove);
    let delete_error = row_error(delete);
    let users = StoredValue::new(users);

    view! {
        <section class="panel">
            <h2>"Teams"</h2>
            <p class="form-error" role="alert">
                {move || add_error().or_else(remove_error).or_else(delete_error)}
            </p>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match teams.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(list) if list.is_empty() => {
                            view! { <p class="muted">"No teams yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            list.into_iter()
                                .map(|t| view! { <TeamCard team=t users=users.get_value() add remove delete /> })
                                .collect_view()
                                .into_any()
                        }
                    }
                })}
            </Transition>
            <h3>"Create a team"</h3>
            <ActionForm action=create attr:aria-label="Create a team" attr:class="grid-form">
                <Field form="new-team" name="slug" label="Slug" hint="Lowercase letters, digits and dashes, e.g. order-platform." error required=true />
                <Field form="new-team" name="name" label="Name" error required=true />
                <Field form="new-team" name="description" label="Description" error />
                <FormError error />
                <button type="submit" class="primary">"Create team"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TeamCard(
    team: TeamView,
    users: Vec<UserView>,
    add: ServerAction<AddTeamMember>,
    remove: ServerAction<RemoveTeamMember>,
    delete: ServerAction<DeleteTeam>,
) -> impl IntoView {
    let team_id = team.id;
    let (pick, set_pick) = signal(None::<Uuid>);
    let candidates: Vec<UserView> = users
        .into_iter()
        .filter(|u| !team.members.iter().any(|m| m.user_id == u.id))
        .collect();
    let select_label = format!("Add a member to {}", team.name);
    view! {
        <article class="team" data-team=team.slug.clone()>
            <header>
                <h3>{team.name.clone()} " " <code>{team.slug.clone()}</code></h3>
                <button type="button" class="danger" on:click=move |_| { delete.dispatch(DeleteTeam { id: team_id }); }>
                    "Delete team"
                </button>
            </header>
            <p class="muted">{team.description.clone()}</p>
            <ul class="members">
                {team
                    .members
                    .iter()
                    .map(|m| {
                        let user = m.user_id;
                        view! {
                            <li>
                                {format!("{} <{}>", m.display_name, m.email)}
                                " "
                                <button type="button" class="link-button" on:click=move |_| { remove.dispatch(RemoveTeamMember { team: team_id, user }); }>
                                    "Remove"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <div class="inline-form">
                <select aria-label=select_label on:change=move |ev| set_pick.set(event_target_value(&ev).parse().ok())>
                    <option value="">"Choose a user…"</option>
                    {candidates
                        .into_iter()
                        .map(|u| view! { <option value=u.id.to_string()>{format!("{} <{}>", u.display_name, u.email)}</option> })
                        .collect_view()}
                </select>
                <button
                    type="button"
                    disabled=move || pick.get().is_none()
                    on:click=move |_| {
                        if let Some(user) = pick.get() {
                            add.dispatch(AddTeamMember { team: team_id, user });
                        }
                    }
                >
                    "Add member"
                </button>
            </div>
        </article>
    }
}

/// The organisation's lint ruleset: switch rules off or change their severity.
#[component]
fn LintRules() -> impl IntoView {
    let set = ServerAction::<SetLintRule>::new();
    let rules = Resource::new(move || set.version().get(), |_| lint_rules());
    let set_error = row_error(set);
    view! {
        <section class="panel">
            <h2>"Lint rules"</h2>
            <p class="muted">"Applied to every uploaded contract. Errors block submission for review."</p>
            <p class="form-error" role="alert">{set_error}</p>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match rules.await {
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th scope="col">"Rule"</th><th scope="col">"Description"</th><th scope="col">"Severity"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|r| {
                                        let current = r.severity.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_else(|| "off".into());
                                        let rule = r.id.clone();
                                        let label = format!("Severity of {}", r.id);
                                        view! {
                                            <tr data-rule=r.id.clone()>
                                                <td><code>{r.id.clone()}</code></td>
                                                <td>{r.description.clone()}</td>
                                                <td>
                                                    <select aria-label=label on:change=move |ev| {
                                                        set.dispatch(SetLintRule { rule: rule.clone(), severity: event_target_value(&ev) });
                                                    }>
                                                        {["error", "warning", "info", "off"].into_iter().map(|o| view! {
                                                            <option value=o selected=o == current>{o}</option>
                                                        }).collect_view()}
                                                    </select>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
