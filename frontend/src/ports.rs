//! Ports: what the console needs from the server, declared here so the dependency
//! points from `server` to `frontend` and never back. The server implements
//! [`ConsoleBackend`] over its services and provides it as Leptos context.
//! Every method takes the caller and checks its role itself, exactly as the REST
//! API does, because both call the same services.

use crate::model::*;
use http::request::Parts;
use std::sync::Arc;
use uuid::Uuid;

pub type Backend = Arc<dyn ConsoleBackend>;

#[async_trait::async_trait]
pub trait ConsoleBackend: Send + Sync + 'static {
    /// Verifies the credentials, rotates the session id and stores the user in it.
    async fn sign_in(&self, request: &Parts, form: SignIn) -> Result<Principal, AppError>;
    async fn sign_out(&self, request: &Parts) -> Result<(), AppError>;

    async fn overview(&self, who: &Principal) -> Result<Overview, AppError>;

    async fn list_users(&self, who: &Principal) -> Result<Vec<UserView>, AppError>;
    async fn create_user(&self, who: &Principal, new: NewUser) -> Result<UserView, AppError>;
    async fn update_user(
        &self,
        who: &Principal,
        id: Uuid,
        patch: UserPatch,
    ) -> Result<UserView, AppError>;

    async fn list_teams(&self, who: &Principal) -> Result<Vec<TeamView>, AppError>;
    async fn create_team(&self, who: &Principal, new: NewTeam) -> Result<TeamView, AppError>;
    async fn delete_team(&self, who: &Principal, id: Uuid) -> Result<(), AppError>;
    async fn add_member(
        &self,
        who: &Principal,
        team: Uuid,
        user: Uuid,
    ) -> Result<TeamView, AppError>;
    async fn remove_member(
        &self,
        who: &Principal,
        team: Uuid,
        user: Uuid,
    ) -> Result<TeamView, AppError>;

    async fn list_tokens(&self, who: &Principal) -> Result<Vec<TokenView>, AppError>;
    async fn create_token(&self, who: &Principal, new: NewToken) -> Result<CreatedToken, AppError>;
    async fn revoke_token(&self, who: &Principal, id: Uuid) -> Result<TokenView, AppError>;

    async fn audit(&self, who: &Principal, filter: AuditFilter) -> Result<AuditPage, AppError>;
    async fn verify_audit(&self, who: &Principal) -> Result<ChainReport, AppError>;
}
