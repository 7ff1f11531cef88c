//! `/applications/{id}/keys`, `/keys`, `/applications/{id}/oauth-clients`,
//! `/oauth-clients` and `/signing-keys`: issuing, rotating and revoking
//! credentials. Only the creation and rotation answers ever carry a secret (control plane).

use super::json::{ApiJson, OptionalJson};
use super::{ApiResult, Caller, Id};
use crate::oauth::signing;
use crate::partners::clients;
use crate::partners::keys;
use crate::state::AppState;
use axum::extract::State;
use http::StatusCode;
use steward_model::{
    ApiKeyView, CreatedApiKey, CreatedOAuthClient, NewApiKey, NewOAuthClient, OAuthClientView,
    RotatedApiKey, Rotation, SigningKeyView,
};

pub async fn create_key(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(application): Id,
    ApiJson(new): ApiJson<NewApiKey>,
) -> ApiResult<(StatusCode, ApiJson<CreatedApiKey>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(keys::create(&s.pool, &who, application, new).await?),
    ))
}

pub async fn rotate_key(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    OptionalJson(rotation): OptionalJson<Rotation>,
) -> ApiResult<(StatusCode, ApiJson<RotatedApiKey>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(keys::rotate(&s.pool, &who, id, rotation).await?),
    ))
}

pub async fn revoke_key(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<ApiKeyView>> {
    Ok(ApiJson(keys::revoke(&s.pool, &who, id).await?))
}

pub async fn create_client(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(application): Id,
    ApiJson(new): ApiJson<NewOAuthClient>,
) -> ApiResult<(StatusCode, ApiJson<CreatedOAuthClient>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(clients::create(&s.pool, &who, application, new).await?),
    ))
}

pub async fn rotate_client(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
    OptionalJson(rotation): OptionalJson<Rotation>,
) -> ApiResult<(StatusCode, ApiJson<CreatedOAuthClient>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(clients::rotate(&s.pool, &who, id, rotation).await?),
    ))
}

pub async fn revoke_client(
    State(s): State<AppState>,
    Caller(who): Caller,
    Id(id): Id,
) -> ApiResult<ApiJson<OAuthClientView>> {
    Ok(ApiJson(clients::revoke(&s.pool, &who, id).await?))
}

pub async fn list_signing_keys(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<ApiJson<Vec<SigningKeyView>>> {
    Ok(ApiJson(signing::list(&s.pool, &who).await?))
}

pub async fn revoke_signing_key(
    State(s): State<AppState>,
    Caller(who): Caller,
    axum::extract::Path(kid): axum::extract::Path<String>,
) -> ApiResult<ApiJson<SigningKeyView>> {
    Ok(ApiJson(
        signing::revoke(&s.pool, &who, &s.oauth.sealer, &kid).await?,
    ))
}

pub async fn rotate_signing_key(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<(StatusCode, ApiJson<SigningKeyView>)> {
    Ok((
        StatusCode::CREATED,
        ApiJson(signing::rotate(&s.pool, &who, &s.oauth.sealer, s.oauth.token_ttl).await?),
    ))
}
