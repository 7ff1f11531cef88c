//! How pages show loading states and failures (console).

use crate::model::{AppError, Principal, Role};
use leptos::prelude::*;

/// A failed load, worded for the user: 401 asks to sign in, 403 says which role is needed.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let (title, body) = match &error {
        AppError::Unauthorized => ("Signed out", "Your session has ended.".to_string()),
        AppError::Forbidden { message } => ("Not allowed", message.clone()),
        other => ("Something went wrong", other.to_string()),
    };
    let sign_in = matches!(error, AppError::Unauthorized);
    view! {
        <section class="panel error-panel" role="alert">
            <h2>{title}</h2>
            <p>{body}</p>
            {sign_in.then(|| view! { <a href="/sign-in">"Sign in again"</a> })}
        </section>
    }
}

/// Shows `children` to callers holding one of `roles`, and to anyone else the
/// refusal the server would give, without asking the server for what it would
/// refuse (the server checks again on every call regardless).
#[component]
pub fn Requires(
    roles: &'static [Role],
    doing: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let refusal = use_context::<Principal>().and_then(|p| p.require(roles, doing).err());
    match refusal {
        Some(error) => view! { <ErrorPanel error /> }.into_any(),
        None => children().into_any(),
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading">"Loading…"</p> }
}

/// Formats a timestamp for tables: UTC, to the minute.
pub fn short_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.format(&f).unwrap_or_default()
}
