//! Server functions: the console's only way to the server. Each one is a thin
//! call through the [`ConsoleBackend`](crate::ports::ConsoleBackend) port; the
//! services behind it check roles, validate input and write the audit trail.
//! CSRF is enforced for them by the server's origin check, like every other
//! state-changing request.

use crate::model::*;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::model::{AppError, Principal};
    use crate::ports::Backend;
    use leptos::prelude::*;

    pub fn backend() -> Result<Backend, AppError> {
        use_context::<Backend>().ok_or_else(|| AppError::Internal {
            reference: "console-backend-missing".into(),
        })
    }

    pub fn parts() -> Result<http::request::Parts, AppError> {
        use_context::<http::request::Parts>().ok_or_else(|| AppError::Internal {
            reference: "request-parts-missing".into(),
        })
    }

    /// The caller, as resolved by the server's authentication middleware.
    pub fn principal() -> Option<Principal> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Principal>().cloned())
    }

    pub fn caller() -> Result<Principal, AppError> {
        principal().ok_or(AppError::Unauthorized)
    }

    /// Gives failures their real HTTP status (and `Retry-After`), so the console's
    /// server functions answer like the REST API does.
    pub fn answer<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let (Err(err), Some(res)) = (&result, use_context::<leptos_axum::ResponseOptions>()) {
            {
                if let Ok(status) = http::StatusCode::from_u16(err.status()) {
                    res.set_status(status);
                }
                if let AppError::TooManyRequests { retry_after_secs } = err {
                    res.insert_header(
                        http::header::RETRY_AFTER,
                        http::HeaderValue::from(*retry_after_secs),
                    );
                }
            }
        }
        result
    }
}

#[cfg(feature = "ssr")]
use ssr::*;

/// Runs `$body` with the backend and the signed-in caller, mapping errors to statuses.
#[cfg(feature = "ssr")]
macro_rules! with_caller {
    (|$backend:ident, $who:ident| $body:expr) => {{
        #[cfg(feature = "ssr")]
        {
            answer(
                async {
                    let $backend = backend()?;
                    let $who = caller()?;
                    $body.await
                }
                .await,
            )
        }
    }};
}

#[server(prefix = "/console/fn")]
pub async fn current_user() -> Result<Option<Principal>, AppError> {
    Ok(principal())
}

#[server(prefix = "/console/fn")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    answer(
        async {
            let backend = backend()?;
            let parts = parts()?;
            backend
                .sign_in(&parts, crate::model::SignIn { email, password })
                .await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/console/fn")]
pub async fn sign_out() -> Result<(), AppError> {
    answer(
        async {
            let parts = parts()?;
            backend()?.sign_out(&parts).await?;
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/console/fn")]
pub async fn load_overview() -> Result<Overview, AppError> {
    with_caller!(|b, who| b.overview(&who))
}

#[server(prefix = "/console/fn")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    with_caller!(|b, who| b.list_users(&who))
}

#[server(prefix = "/console/fn")]
pub async fn create_user(
    email: String,
    display_name: String,
    role: String,
    password: String,
) -> Result<UserView, AppError> {
    with_caller!(|b, who| async {
        let role = Role::parse(&role).ok_or_else(|| AppError::invalid("role", "pick a role"))?;
        b.create_user(
            &who,
            NewUser {
                email,
                display_name,
                role,
                password,
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn")]
pub async fn change_role(id: Uuid, role: Role) -> Result<UserView, AppError> {
    with_caller!(|b, who| b.update_user(
        &who,
        id,
        UserPatch {
            role: Some(role),
            ..UserPatch::default()
        }
    ))
}

#[server(prefix = "/console/fn")]
pub async fn set_user_disabled(id: Uuid, disabled: bool) -> Result<UserView, AppError> {
    with_caller!(|b, who| b.update_user(
        &who,
        id,
        UserPatch {
            disabled: Some(disabled),
            ..UserPatch::default()
        }
    ))
}

#[server(prefix = "/console/fn")]
pub async fn list_teams() -> Result<Vec<TeamView>, AppError> {
    with_caller!(|b, who| b.list_teams(&who))
}

#[server(prefix = "/console/fn")]
pub async fn create_team(
    slug: String,
    name: String,
    description: String,
) -> Result<TeamView, AppError> {
    with_caller!(|b, who| b.create_team(
        &who,
        NewTeam {
            slug,
            name,
            description
        }
    ))
}

#[server(prefix = "/console/fn")]
pub async fn delete_team(id: Uuid) -> Result<(), AppError> {
    with_caller!(|b, who| b.delete_team(&who, id))
}

#[server(prefix = "/console/fn")]
pub async fn add_team_member(team: Uuid, user: Uuid) -> Result<TeamView, AppError> {
    with_caller!(|b, who| b.add_member(&who, team, user))
}

#[server(prefix = "/console/fn")]
pub async fn remove_team_member(team: Uuid, user: Uuid) -> Result<TeamView, AppError> {
    with_caller!(|b, who| b.remove_member(&who, team, user))
}

#[server(prefix = "/console/fn")]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    with_caller!(|b, who| b.list_tokens(&who))
}

#[server(prefix = "/console/fn")]
pub async fn create_token(name: String, expires_in_days: String) -> Result<CreatedToken, AppError> {
    with_caller!(|b, who| async {
        let expires_in_days = match expires_in_days.trim() {
            "" | "never" => None,
            days => Some(days.parse::<u32>().map_err(|_| {
                AppError::invalid("expires_in_days", "enter a whole number of days")
            })?),
        };
        b.create_token(
            &who,
            NewToken {
                name,
                expires_in_days,
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn")]
pub async fn revoke_token(id: Uuid) -> Result<TokenView, AppError> {
    with_caller!(|b, who| b.revoke_token(&who, id))
}

#[server(prefix = "/console/fn")]
pub async fn load_audit(
    actor: String,
    action: String,
    target: String,
    before_seq: Option<i64>,
) -> Result<AuditPage, AppError> {
    let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    with_caller!(|b, who| b.audit(
        &who,
        AuditFilter {
            actor: some(actor),
            action: some(action),
            target: some(target),
            before_seq,
            limit: Some(50),
        }
    ))
}

#[server(prefix = "/console/fn")]
pub async fn verify_audit_chain() -> Result<ChainReport, AppError> {
    with_caller!(|b, who| b.verify_audit(&who))
}
