//! `/plans`, `/consumers`, `/applications` and `/subscriptions`: partner access
//! over HTTP (control plane).

use super::apis::bad_query;
use super::json::{ApiJson, OptionalJson};
use super::{ApiResult, Caller, Id};
use crate::partners::{applications, consumers, plans, subscriptions};
use crate::state::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use http::StatusCode;
use steward_model::{
    ApplicationDetail, ApplicationView, ConsumerDetail, ConsumerPatch, ConsumerView, DecisionNote,
    NewApplication, NewConsumer, NewPlan, NewSubscription, PlanPatch, PlanView,
    SubscriptionDecision, SubscriptionFilter, SubscriptionView,
};

type Created<T> = ApiResult<(StatusCode, ApiJson<T>)>;

pub async fn list_plans(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<PlanView>>> {
    Ok(ApiJson(plans::list(&s.pool, &who).await?))
}

pub async fn create_plan(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewPlan>,
) -> Created<PlanView> {
    Ok((
        StatusCode::CREATED,
        ApiJson(plans::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_plan(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
) -> ApiResult<ApiJson<PlanView>> {
    Ok(ApiJson(plans::get(&s.pool, &who, &key).await?))
}

pub async fn update_plan(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
    ApiJson(patch): ApiJson<PlanPatch>,
) -> ApiResult<ApiJson<PlanView>> {
    Ok(ApiJson(plans::update(&s.pool, &who, &key, patch).await?))
}

pub async fn list_consumers(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<ConsumerView>>> {
    Ok(ApiJson(consumers::list(&s.pool, &who).await?))
}

pub async fn create_consumer(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewConsumer>,
) -> Created<ConsumerView> {
    Ok((
        StatusCode::CREATED,
        ApiJson(consumers::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_consumer(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
) -> ApiResult<ApiJson<ConsumerDetail>> {
    Ok(ApiJson(consumers::get(&s.pool, &who, &key).await?))
}

pub async fn update_consumer(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(key): Path<String>,
    ApiJson(patch): ApiJson<ConsumerPatch>,
) -> ApiResult<ApiJson<ConsumerView>> {
    Ok(ApiJson(
        consumers::update(&s.pool, &who, &key, patch).await?,
    ))
}

pub async fn create_application(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(consumer): Path<String>,
    ApiJson(new): ApiJson<NewApplication>,
) -> Created<ApplicationView> {
    Ok((
        StatusCode::CREATED,
        ApiJson(applications::create(&s.pool, &who, &consumer, new).await?),
    ))
}

pub async fn get_application(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<ApplicationDetail>> {
    Ok(ApiJson(applications::get(&s.pool, &who, id).await?))
}

pub async fn list_subscriptions(
    State(s): State<AppState>,
    Caller(who): Caller,
    query: Result<Query<SubscriptionFilter>, QueryRejection>,
) -> ApiResult<ApiJson<Vec<SubscriptionView>>> {
    let Query(filter) = query.map_err(bad_query)?;
    Ok(ApiJson(subscriptions::list(&s.pool, &who, &filter).await?))
}

pub async fn create_subscription(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(new): ApiJson<NewSubscription>,
) -> Created<SubscriptionView> {
    Ok((
        StatusCode::CREATED,
        ApiJson(subscriptions::create(&s.pool, &who, new).await?),
    ))
}

pub async fn get_subscription(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<SubscriptionView>> {
    Ok(ApiJson(subscriptions::get(&s.pool, &who, id).await?))
}

async fn decide(
    s: AppState,
    who: steward_model::Principal,
    id: uuid::Uuid,
    decision: SubscriptionDecision,
    note: DecisionNote,
) -> ApiResult<ApiJson<SubscriptionView>> {
    Ok(ApiJson(
        subscriptions::decide(&s.pool, &who, id, decision, note.reason).await?,
    ))
}

macro_rules! decision_handler {
    ($name:ident, $decision:expr) => {
        pub async fn $name(
            State(s): State<AppState>,
            Caller(who): Caller,
            Id(id): Id,
            OptionalJson(note): OptionalJson<DecisionNote>,
        ) -> ApiResult<ApiJson<SubscriptionView>> {
            decide(s, who, id, $decision, note).await
        }
    };
}

decision_handler!(approve_subscription, SubscriptionDecision::Approve);
decision_handler!(suspend_subscription, SubscriptionDecision::Suspend);
decision_handler!(resume_subscription, SubscriptionDecision::Resume);
decision_handler!(cancel_subscription, SubscriptionDecision::Cancel);
