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

    async fn list_apis(&self, who: &Principal, filter: ApiFilter)
    -> Result<Vec<ApiView>, AppError>;
    async fn get_api(&self, who: &Principal, key: String) -> Result<ApiView, AppError>;
    async fn create_api(&self, who: &Principal, new: NewApi) -> Result<ApiView, AppError>;
    async fn update_api(
        &self,
        who: &Principal,
        key: String,
        patch: ApiPatch,
    ) -> Result<ApiView, AppError>;
    async fn list_versions(
        &self,
        who: &Principal,
        api: String,
    ) -> Result<Vec<VersionSummary>, AppError>;
    async fn upload_version(
        &self,
        who: &Principal,
        api: String,
        new: NewVersion,
    ) -> Result<VersionView, AppError>;
    async fn get_version(&self, who: &Principal, id: Uuid) -> Result<VersionView, AppError>;
    async fn transition(
        &self,
        who: &Principal,
        id: Uuid,
        transition: Transition,
    ) -> Result<VersionView, AppError>;
    async fn compare_versions(
        &self,
        who: &Principal,
        api: String,
        base: Uuid,
        revision: Uuid,
    ) -> Result<ChangeReport, AppError>;
    async fn lint_rules(&self, who: &Principal) -> Result<Vec<LintRuleSetting>, AppError>;
    async fn update_lint_rule(
        &self,
        who: &Principal,
        rule: String,
        patch: LintRulePatch,
    ) -> Result<LintRuleSetting, AppError>;

    async fn gateways(&self, who: &Principal) -> Result<Vec<GatewayView>, AppError>;
    async fn version_traffic(
        &self,
        who: &Principal,
        version: Uuid,
        minutes: i32,
    ) -> Result<VersionTraffic, AppError>;

    async fn version_drift(
        &self,
        who: &Principal,
        version: Uuid,
    ) -> Result<Vec<DriftReport>, AppError>;

    async fn list_slos(&self, who: &Principal) -> Result<Vec<SloView>, AppError>;
    async fn create_slo(&self, who: &Principal, new: NewSlo) -> Result<SloView, AppError>;
    async fn update_slo(
        &self,
        who: &Principal,
        id: Uuid,
        patch: SloPatch,
    ) -> Result<SloView, AppError>;
    async fn delete_slo(&self, who: &Principal, id: Uuid) -> Result<(), AppError>;
    /// An SLO with its series and alerts: everything its page shows.
    async fn slo_detail(
        &self,
        who: &Principal,
        id: Uuid,
        resolution: Resolution,
    ) -> Result<SloDetail, AppError>;
    async fn api_traffic(
        &self,
        who: &Principal,
        key: String,
        hours: i32,
    ) -> Result<ApiTraffic, AppError>;
    async fn deprecations(&self, who: &Principal) -> Result<Vec<DeprecationImpact>, AppError>;

    async fn list_plans(&self, who: &Principal) -> Result<Vec<PlanView>, AppError>;
    async fn update_plan(
        &self,
        who: &Principal,
        key: String,
        patch: PlanPatch,
    ) -> Result<PlanView, AppError>;
    async fn list_consumers(&self, who: &Principal) -> Result<Vec<ConsumerView>, AppError>;
    async fn get_consumer(&self, who: &Principal, key: String) -> Result<ConsumerDetail, AppError>;
    async fn create_consumer(
        &self,
        who: &Principal,
        new: NewConsumer,
    ) -> Result<ConsumerView, AppError>;
    async fn create_application(
        &self,
        who: &Principal,
        consumer: String,
        new: NewApplication,
    ) -> Result<ApplicationView, AppError>;
    async fn list_subscriptions(
        &self,
        who: &Principal,
        filter: SubscriptionFilter,
    ) -> Result<Vec<SubscriptionView>, AppError>;
    async fn create_subscription(
        &self,
        who: &Principal,
        new: NewSubscription,
    ) -> Result<SubscriptionView, AppError>;
    async fn decide_subscription(
        &self,
        who: &Principal,
        id: Uuid,
        decision: SubscriptionDecision,
        reason: Option<String>,
    ) -> Result<SubscriptionView, AppError>;
    async fn create_key(
        &self,
        who: &Principal,
        application: Uuid,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, AppError>;
    async fn rotate_key(
        &self,
        who: &Principal,
        id: Uuid,
        rotation: Rotation,
    ) -> Result<RotatedApiKey, AppError>;
    async fn revoke_key(&self, who: &Principal, id: Uuid) -> Result<ApiKeyView, AppError>;
    async fn create_client(
        &self,
        who: &Principal,
        application: Uuid,
        new: NewOAuthClient,
    ) -> Result<CreatedOAuthClient, AppError>;
    async fn rotate_client(
        &self,
        who: &Principal,
        id: Uuid,
        rotation: Rotation,
    ) -> Result<CreatedOAuthClient, AppError>;
    async fn revoke_client(&self, who: &Principal, id: Uuid) -> Result<OAuthClientView, AppError>;

    async fn audit(&self, who: &Principal, filter: AuditFilter) -> Result<AuditPage, AppError>;
    async fn verify_audit(&self, who: &Principal) -> Result<ChainReport, AppError>;
}
