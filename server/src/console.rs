//! The console's backend: implements the frontend's [`ConsoleBackend`] port over the
//! same services the REST API uses, so both enforce the same rules.

use crate::admin::session::client_key;
use crate::auth::{session, teams, tokens, users};
use crate::error::Error;
use async_trait::async_trait;
use axum::extract::ConnectInfo;
use http::request::Parts;
use sqlx::PgPool;
use std::net::SocketAddr;
use steward_console::model::*;
use steward_console::ports::ConsoleBackend;
use tower_sessions::Session;
use uuid::Uuid;

pub struct Console {
    pub pool: PgPool,
}

fn session_of(request: &Parts) -> Result<Session, AppError> {
    request
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| Error::Other(anyhow::anyhow!("session layer missing")).into_app())
}

#[async_trait]
impl ConsoleBackend for Console {
    async fn sign_in(&self, request: &Parts, form: SignIn) -> Result<Principal, AppError> {
        let session = session_of(request)?;
        let client = client_key(
            request
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        );
        Ok(session::sign_in(&self.pool, &session, &client, form).await?)
    }

    async fn sign_out(&self, request: &Parts) -> Result<(), AppError> {
        let who = request.extensions.get::<Principal>();
        Ok(session::sign_out(&self.pool, &session_of(request)?, who).await?)
    }

    async fn overview(&self, who: &Principal) -> Result<Overview, AppError> {
        Ok(crate::overview::load(&self.pool, who).await?)
    }

    async fn list_users(&self, who: &Principal) -> Result<Vec<UserView>, AppError> {
        Ok(users::list(&self.pool, who).await?)
    }

    async fn create_user(&self, who: &Principal, new: NewUser) -> Result<UserView, AppError> {
        Ok(users::create(&self.pool, who, new).await?)
    }

    async fn update_user(
        &self,
        who: &Principal,
        id: Uuid,
        patch: UserPatch,
    ) -> Result<UserView, AppError> {
        Ok(users::update(&self.pool, who, id, patch).await?)
    }

    async fn list_teams(&self, who: &Principal) -> Result<Vec<TeamView>, AppError> {
        Ok(teams::list(&self.pool, who).await?)
    }

    async fn create_team(&self, who: &Principal, new: NewTeam) -> Result<TeamView, AppError> {
        Ok(teams::create(&self.pool, who, new).await?)
    }

    async fn delete_team(&self, who: &Principal, id: Uuid) -> Result<(), AppError> {
        Ok(teams::delete(&self.pool, who, id).await?)
    }

    async fn add_member(
        &self,
        who: &Principal,
        team: Uuid,
        user: Uuid,
    ) -> Result<TeamView, AppError> {
        Ok(teams::set_member(&self.pool, who, team, user, true).await?)
    }

    async fn remove_member(
        &self,
        who: &Principal,
        team: Uuid,
        user: Uuid,
    ) -> Result<TeamView, AppError> {
        Ok(teams::set_member(&self.pool, who, team, user, false).await?)
    }

    async fn list_tokens(&self, who: &Principal) -> Result<Vec<TokenView>, AppError> {
        Ok(tokens::list(&self.pool, who).await?)
    }

    async fn create_token(&self, who: &Principal, new: NewToken) -> Result<CreatedToken, AppError> {
        Ok(tokens::create(&self.pool, who, new).await?)
    }

    async fn revoke_token(&self, who: &Principal, id: Uuid) -> Result<TokenView, AppError> {
        Ok(tokens::revoke(&self.pool, who, id).await?)
    }

    async fn audit(&self, who: &Principal, filter: AuditFilter) -> Result<AuditPage, AppError> {
        crate::auth::policy::audit_reader(who)?;
        Ok(crate::audit::list(&self.pool, &filter).await?)
    }

    async fn verify_audit(&self, who: &Principal) -> Result<ChainReport, AppError> {
        crate::auth::policy::audit_reader(who)?;
        Ok(crate::audit::verify(&self.pool).await?)
    }
}
