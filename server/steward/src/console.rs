//! The console's backend: implements the frontend's [`ConsoleBackend`] port over the
//! same services the REST API uses, so both enforce the same rules.

use async_trait::async_trait;
use axum::extract::ConnectInfo;
use http::request::Parts;
use sqlx::PgPool;
use std::net::SocketAddr;
use steward_console::ports::ConsoleBackend;
use steward_control::admin::session::client_key;
use steward_control::auth::{session, teams, tokens, users};
use steward_control::error::Error;
use steward_control::oauth::clients;
use steward_control::partners::{applications, consumers, keys, plans, subscriptions};
use steward_control::registry::{apis, lint_settings, versions};
use steward_model::*;
use tower_sessions::Session;
use uuid::Uuid;

pub struct Console {
    pub pool: PgPool,
    pub oauth: std::sync::Arc<steward_control::oauth::OAuthConfig>,
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
        Ok(steward_control::overview::load(&self.pool, who).await?)
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

    async fn list_apis(
        &self,
        who: &Principal,
        filter: ApiFilter,
    ) -> Result<Vec<ApiView>, AppError> {
        Ok(apis::list(&self.pool, who, &filter).await?)
    }

    async fn get_api(&self, who: &Principal, key: String) -> Result<ApiView, AppError> {
        Ok(apis::get(&self.pool, who, &key).await?)
    }

    async fn create_api(&self, who: &Principal, new: NewApi) -> Result<ApiView, AppError> {
        Ok(apis::create(&self.pool, who, new).await?)
    }

    async fn update_api(
        &self,
        who: &Principal,
        key: String,
        patch: ApiPatch,
    ) -> Result<ApiView, AppError> {
        Ok(apis::update(&self.pool, who, &key, patch).await?)
    }

    async fn list_versions(
        &self,
        who: &Principal,
        api: String,
    ) -> Result<Vec<VersionSummary>, AppError> {
        Ok(versions::list(&self.pool, who, &api).await?)
    }

    async fn upload_version(
        &self,
        who: &Principal,
        api: String,
        new: NewVersion,
    ) -> Result<VersionView, AppError> {
        Ok(versions::upload(&self.pool, who, &api, new).await?)
    }

    async fn get_version(&self, who: &Principal, id: Uuid) -> Result<VersionView, AppError> {
        Ok(versions::get(&self.pool, who, id).await?)
    }

    async fn transition(
        &self,
        who: &Principal,
        id: Uuid,
        transition: Transition,
    ) -> Result<VersionView, AppError> {
        let pool = &self.pool;
        Ok(match transition {
            Transition::Submit => versions::submit(pool, who, id).await,
            Transition::Review(decision) => versions::review(pool, who, id, decision).await,
            Transition::Publish => versions::publish(pool, who, id).await,
            Transition::Deprecate(d) => versions::deprecate(pool, who, id, d).await,
            Transition::Retire(r) => versions::retire(pool, who, id, r).await,
        }?)
    }

    async fn compare_versions(
        &self,
        who: &Principal,
        api: String,
        base: Uuid,
        revision: Uuid,
    ) -> Result<ChangeReport, AppError> {
        Ok(versions::compare(&self.pool, who, &api, base, revision).await?)
    }

    async fn lint_rules(&self, who: &Principal) -> Result<Vec<LintRuleSetting>, AppError> {
        Ok(lint_settings::list(&self.pool, who).await?)
    }

    async fn update_lint_rule(
        &self,
        who: &Principal,
        rule: String,
        patch: LintRulePatch,
    ) -> Result<LintRuleSetting, AppError> {
        Ok(lint_settings::update(&self.pool, who, &rule, patch).await?)
    }

    async fn gateways(&self, who: &Principal) -> Result<Vec<GatewayView>, AppError> {
        Ok(steward_control::traffic::gateways(&self.pool, who).await?)
    }

    async fn version_traffic(
        &self,
        who: &Principal,
        version: Uuid,
        minutes: i32,
    ) -> Result<VersionTraffic, AppError> {
        Ok(steward_control::traffic::version_traffic(&self.pool, who, version, minutes).await?)
    }

    async fn version_drift(
        &self,
        who: &Principal,
        version: Uuid,
    ) -> Result<Vec<DriftReport>, AppError> {
        Ok(steward_control::traffic::drift(&self.pool, who, version).await?)
    }

    async fn list_slos(&self, who: &Principal) -> Result<Vec<SloView>, AppError> {
        Ok(steward_control::slo::definitions::list(&self.pool, who).await?)
    }

    async fn create_slo(&self, who: &Principal, new: NewSlo) -> Result<SloView, AppError> {
        Ok(steward_control::slo::definitions::create(&self.pool, who, new).await?)
    }

    async fn update_slo(
        &self,
        who: &Principal,
        id: Uuid,
        patch: SloPatch,
    ) -> Result<SloView, AppError> {
        Ok(steward_control::slo::definitions::update(&self.pool, who, id, patch).await?)
    }

    async fn delete_slo(&self, who: &Principal, id: Uuid) -> Result<(), AppError> {
        Ok(steward_control::slo::definitions::delete(&self.pool, who, id).await?)
    }

    async fn slo_detail(
        &self,
        who: &Principal,
        id: Uuid,
        resolution: Resolution,
    ) -> Result<SloDetail, AppError> {
        Ok(SloDetail {
            slo: steward_control::slo::definitions::get(&self.pool, who, id).await?,
            series: steward_control::slo::series::series(&self.pool, who, id, resolution).await?,
            alerts: steward_control::slo::alerts::list(&self.pool, who, id).await?,
        })
    }

    async fn api_traffic(
        &self,
        who: &Principal,
        key: String,
        hours: i32,
    ) -> Result<ApiTraffic, AppError> {
        Ok(steward_control::traffic::api::api_traffic(&self.pool, who, &key, hours).await?)
    }

    async fn deprecations(&self, who: &Principal) -> Result<Vec<DeprecationImpact>, AppError> {
        Ok(steward_control::traffic::deprecations::impact(&self.pool, who).await?)
    }

    async fn list_plans(&self, who: &Principal) -> Result<Vec<PlanView>, AppError> {
        Ok(plans::list(&self.pool, who).await?)
    }

    async fn update_plan(
        &self,
        who: &Principal,
        key: String,
        patch: PlanPatch,
    ) -> Result<PlanView, AppError> {
        Ok(plans::update(&self.pool, who, &key, patch).await?)
    }

    async fn list_consumers(&self, who: &Principal) -> Result<Vec<ConsumerView>, AppError> {
        Ok(consumers::list(&self.pool, who).await?)
    }

    async fn get_consumer(&self, who: &Principal, key: String) -> Result<ConsumerDetail, AppError> {
        Ok(consumers::get(&self.pool, who, &key).await?)
    }

    async fn create_consumer(
        &self,
        who: &Principal,
        new: NewConsumer,
    ) -> Result<ConsumerView, AppError> {
        Ok(consumers::create(&self.pool, who, new).await?)
    }

    async fn create_application(
        &self,
        who: &Principal,
        consumer: String,
        new: NewApplication,
    ) -> Result<ApplicationView, AppError> {
        Ok(applications::create(&self.pool, who, &consumer, new).await?)
    }

    async fn list_subscriptions(
        &self,
        who: &Principal,
        filter: SubscriptionFilter,
    ) -> Result<Vec<SubscriptionView>, AppError> {
        Ok(subscriptions::list(&self.pool, who, &filter).await?)
    }

    async fn create_subscription(
        &self,
        who: &Principal,
        new: NewSubscription,
    ) -> Result<SubscriptionView, AppError> {
        Ok(subscriptions::create(&self.pool, who, new).await?)
    }

    async fn decide_subscription(
        &self,
        who: &Principal,
        id: Uuid,
        decision: SubscriptionDecision,
        reason: Option<String>,
    ) -> Result<SubscriptionView, AppError> {
        Ok(subscriptions::decide(&self.pool, who, id, decision, reason).await?)
    }

    async fn create_key(
        &self,
        who: &Principal,
        application: Uuid,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, AppError> {
        Ok(keys::create(&self.pool, who, application, new).await?)
    }

    async fn rotate_key(
        &self,
        who: &Principal,
        id: Uuid,
        rotation: Rotation,
    ) -> Result<RotatedApiKey, AppError> {
        Ok(keys::rotate(&self.pool, who, id, rotation).await?)
    }

    async fn revoke_key(&self, who: &Principal, id: Uuid) -> Result<ApiKeyView, AppError> {
        Ok(keys::revoke(&self.pool, who, id).await?)
    }

    async fn create_client(
        &self,
        who: &Principal,
        application: Uuid,
        new: NewOAuthClient,
    ) -> Result<CreatedOAuthClient, AppError> {
        Ok(clients::create(&self.pool, who, application, new).await?)
    }

    async fn rotate_client(
        &self,
        who: &Principal,
        id: Uuid,
        rotation: Rotation,
    ) -> Result<CreatedOAuthClient, AppError> {
        Ok(clients::rotate(&self.pool, who, id, rotation).await?)
    }

    async fn revoke_client(&self, who: &Principal, id: Uuid) -> Result<OAuthClientView, AppError> {
        Ok(clients::revoke(&self.pool, who, id).await?)
    }

    async fn audit(&self, who: &Principal, filter: AuditFilter) -> Result<AuditPage, AppError> {
        steward_control::auth::policy::audit_reader(who)?;
        Ok(steward_control::audit::list(&self.pool, &filter).await?)
    }

    async fn verify_audit(&self, who: &Principal) -> Result<ChainReport, AppError> {
        steward_control::auth::policy::audit_reader(who)?;
        Ok(steward_control::audit::verify(&self.pool).await?)
    }
}
