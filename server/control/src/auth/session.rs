//! Console sign-in and sign-out over tower-sessions (PostgreSQL-backed, so sessions
//! survive a restart).

use crate::audit::{self, Actor, Change};
use crate::auth::{password, throttle, users};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use steward_model::{AppError, AuthMethod, Checks, Principal, SignIn};
use tower_sessions::Session;
use uuid::Uuid;

/// What a session remembers: the user, and the epoch that must still match.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SessionAuth {
    pub user_id: Uuid,
    pub epoch: i32,
}

pub const SESSION_KEY: &str = "auth";

/// Checks credentials with throttling and equal cost for unknown accounts, then
/// rotates the session id (against fixation) and stores the user in the session.
pub async fn sign_in(
    pool: &PgPool,
    session: &Session,
    client: &str,
    form: SignIn,
) -> Result<Principal> {
    Checks::new()
        .check(!form.email.trim().is_empty(), "email", "enter your email")
        .check(!form.password.is_empty(), "password", "enter your password")
        .finish()?;
    let account = users::normalize_email(&form.email);
    let check = async {
        let user = users::find_by_email(pool, &account).await?;
        let stored = match &user {
            Some(u) => u.password_hash.clone(),
            None => password::decoy().await?,
        };
        let matches = password::verify(form.password, stored).await?;
        Ok(user.filter(|u| matches && u.disabled_at.is_none()))
    };
    let Some(user) = throttle::attempt(pool, &account, client, check).await? else {
        return Err(AppError::InvalidCredentials.into());
    };
    session.cycle_id().await.map_err(anyhow::Error::from)?;
    session
        .insert(
            SESSION_KEY,
            SessionAuth {
                user_id: user.id,
                epoch: user.session_epoch,
            },
        )
        .await
        .map_err(anyhow::Error::from)?;
    let principal = Principal {
        user_id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: user.role(),
        auth: AuthMethod::Session,
    };
    let mut tx = pool.begin().await?;
    audit::record(
        &mut tx,
        &Actor::from(&principal),
        Change {
            action: "session.sign_in",
            target_type: "user",
            target_id: user.id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "client": client })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(principal)
}

/// Ends the session: the server-side record is deleted and the cookie cleared.
pub async fn sign_out(pool: &PgPool, session: &Session, who: Option<&Principal>) -> Result<()> {
    session.flush().await.map_err(anyhow::Error::from)?;
    if let Some(who) = who {
        let mut tx = pool.begin().await?;
        audit::record(
            &mut tx,
            &Actor::from(who),
            Change {
                action: "session.sign_out",
                target_type: "user",
                target_id: who.user_id.to_string(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The user behind a session, if the session is still valid: the user exists, is
/// not disabled, and the epoch has not moved on since sign-in.
pub async fn resolve(pool: &PgPool, session: &Session) -> Result<Option<Principal>> {
    let Some(auth) = session
        .get::<SessionAuth>(SESSION_KEY)
        .await
        .map_err(anyhow::Error::from)?
    else {
        return Ok(None);
    };
    let mut conn = pool.acquire().await?;
    let user = users::find(&mut conn, auth.user_id).await?;
    match user {
        Some(u) if u.disabled_at.is_none() && u.session_epoch == auth.epoch => {
            Ok(Some(Principal {
                user_id: u.id,
                email: u.email.clone(),
                display_name: u.display_name.clone(),
                role: u.role(),
                auth: AuthMethod::Session,
            }))
        }
        _ => {
            session.flush().await.map_err(anyhow::Error::from)?;
            Ok(None)
        }
    }
}
