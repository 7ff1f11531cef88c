//! Server functions: the console's only way to the server. Under `ssr` each one
//! calls the control plane's services directly, the same ones the REST API
//! calls, so roles, validation and the audit trail are enforced in one place.
//! CSRF is enforced for them by the server's origin check, like every other
//! state-changing request.

use crate::model::*;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::model::{AppError, Principal};
    use leptos::prelude::*;
    pub use steward_control::AppState;
    pub use steward_control::auth::throttle::client_key;
    pub use steward_control::auth::{policy, session, teams, tokens, users};
    /// A service's error, which becomes the client's [`AppError`].
    pub use steward_control::error::Error as ServiceError;
    pub use steward_control::partners::{
        applications, clients, consumers, keys, plans, subscriptions,
    };
    pub use steward_control::registry::{apis, lint_settings, versions};
    pub use steward_control::{audit, overview, slo, traffic, upstreams};

    /// The control plane's state, provided as context by the server.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| AppError::Internal {
            reference: "control-plane-state-missing".into(),
        })
    }

    pub fn parts() -> Result<http::request::Parts, AppError> {
        use_context::<http::request::Parts>().ok_or_else(|| AppError::Internal {
            reference: "request-parts-missing".into(),
        })
    }

    /// The session the server's session layer attached to this request.
    pub fn session(parts: &http::request::Parts) -> Result<tower_sessions::Session, AppError> {
        parts
            .extensions
            .get::<tower_sessions::Session>()
            .cloned()
            .ok_or_else(|| AppError::Internal {
                reference: "session-layer-missing".into(),
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
                if let AppError::TooManyRequests { retry_after_secs }
                | AppError::Busy { retry_after_secs } = err
                {
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

/// Runs `$body` with the control plane's state and the signed-in caller; a
/// service's error becomes the client's [`AppError`] with its HTTP status.
#[cfg(feature = "ssr")]
macro_rules! with_caller {
    (|$state:ident, $who:ident| $body:expr) => {{
        #[cfg(feature = "ssr")]
        {
            answer(
                async {
                    let $state = state()?;
                    let $who = caller()?;
                    Ok($body.await?)
                }
                .await,
            )
        }
    }};
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn current_user() -> Result<Option<Principal>, AppError> {
    Ok(principal())
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    answer(
        async {
            let state = state()?;
            let parts = parts()?;
            let client = client_key(
                parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0),
            );
            let form = crate::model::SignIn { email, password };
            session::sign_in(&state.pool, &session(&parts)?, &client, form).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn sign_out() -> Result<(), AppError> {
    answer(
        async {
            let (state, parts) = (state()?, parts()?);
            let who = parts.extensions.get::<Principal>();
            session::sign_out(&state.pool, &session(&parts)?, who).await?;
            leptos_axum::redirect("/sign-in");
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_overview() -> Result<Overview, AppError> {
    with_caller!(|s, who| overview::load(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    with_caller!(|s, who| users::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn create_user(
    email: String,
    display_name: String,
    role: String,
    password: String,
) -> Result<UserView, AppError> {
    with_caller!(|s, who| async {
        let role = Role::parse(&role).ok_or_else(|| AppError::invalid("role", "pick a role"))?;
        users::create(
            &s.pool,
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

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn change_role(id: Uuid, role: Role) -> Result<UserView, AppError> {
    with_caller!(|s, who| users::update(
        &s.pool,
        &who,
        id,
        UserPatch {
            role: Some(role),
            ..UserPatch::default()
        }
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn set_user_disabled(id: Uuid, disabled: bool) -> Result<UserView, AppError> {
    with_caller!(|s, who| users::update(
        &s.pool,
        &who,
        id,
        UserPatch {
            disabled: Some(disabled),
            ..UserPatch::default()
        }
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_teams() -> Result<Vec<TeamView>, AppError> {
    with_caller!(|s, who| teams::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn create_team(
    slug: String,
    name: String,
    description: String,
) -> Result<TeamView, AppError> {
    with_caller!(|s, who| teams::create(
        &s.pool,
        &who,
        NewTeam {
            slug,
            name,
            description
        }
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn delete_team(id: Uuid) -> Result<(), AppError> {
    with_caller!(|s, who| teams::delete(&s.pool, &who, id))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn add_team_member(team: Uuid, user: Uuid) -> Result<TeamView, AppError> {
    with_caller!(|s, who| teams::set_member(&s.pool, &who, team, user, true))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn remove_team_member(team: Uuid, user: Uuid) -> Result<TeamView, AppError> {
    with_caller!(|s, who| teams::set_member(&s.pool, &who, team, user, false))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    with_caller!(|s, who| tokens::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn create_token(name: String, expires_in_days: String) -> Result<CreatedToken, AppError> {
    with_caller!(|s, who| async {
        let expires_in_days = match expires_in_days.trim() {
            "" | "never" => None,
            days => Some(days.parse::<u32>().map_err(|_| {
                AppError::invalid("expires_in_days", "enter a whole number of days")
            })?),
        };
        tokens::create(
            &s.pool,
            &who,
            NewToken {
                name,
                expires_in_days,
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn revoke_token(id: Uuid) -> Result<TokenView, AppError> {
    with_caller!(|s, who| tokens::revoke(&s.pool, &who, id))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_audit(
    actor: String,
    action: String,
    target: String,
    before_seq: Option<i64>,
) -> Result<AuditPage, AppError> {
    let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    with_caller!(|s, who| async {
        policy::audit_reader(&who)?;
        let filter = AuditFilter {
            actor: some(actor),
            action: some(action),
            target: some(target),
            before_seq,
            limit: Some(50),
        };
        audit::list(&s.pool, &filter).await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn verify_audit_chain() -> Result<ChainReport, AppError> {
    with_caller!(|s, who| async {
        policy::audit_reader(&who)?;
        audit::verify(&s.pool).await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_apis(
    q: String,
    team: String,
    tier: String,
    state: String,
) -> Result<Vec<ApiView>, AppError> {
    let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    with_caller!(|s, who| apis::list(
        &s.pool,
        &who,
        &ApiFilter {
            q: some(q),
            team: some(team),
            tier: Tier::parse(&tier),
            capability: None,
            state: VersionState::parse(&state),
        }
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn get_api(slug: String) -> Result<ApiView, AppError> {
    with_caller!(|s, who| apis::get(&s.pool, &who, &slug))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn register_api(
    slug: String,
    name: String,
    team_id: String,
    tier: String,
    capability: String,
    tags: String,
    description: String,
) -> Result<ApiView, AppError> {
    with_caller!(|s, who| async {
        let team_id = team_id
            .parse::<Uuid>()
            .map_err(|_| AppError::invalid("team_id", "choose a team"))?;
        let tier = Tier::parse(&tier).ok_or_else(|| AppError::invalid("tier", "choose a tier"))?;
        let tags = tags
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let api = apis::create(
            &s.pool,
            &who,
            NewApi {
                slug,
                name,
                team_id,
                description,
                capability,
                tier,
                tags,
                validation_mode: ValidationMode::default(),
            },
        )
        .await?;
        leptos_axum::redirect(&format!("/apis/{}", api.slug));
        Ok::<_, ServiceError>(api)
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn edit_api(
    slug: String,
    name: String,
    tier: String,
    capability: String,
    tags: String,
    description: String,
    validation_mode: String,
) -> Result<ApiView, AppError> {
    with_caller!(|s, who| async {
        let tier = Tier::parse(&tier).ok_or_else(|| AppError::invalid("tier", "choose a tier"))?;
        let validation_mode = ValidationMode::parse(&validation_mode)
            .ok_or_else(|| AppError::invalid("validation_mode", "choose enforce, report or off"))?;
        let tags = tags
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        apis::update(
            &s.pool,
            &who,
            &slug,
            ApiPatch {
                name: Some(name),
                team_id: None,
                description: Some(description),
                capability: Some(capability),
                tier: Some(tier),
                tags: Some(tags),
                validation_mode: Some(validation_mode),
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_versions(api: String) -> Result<Vec<VersionSummary>, AppError> {
    with_caller!(|s, who| versions::list(&s.pool, &who, &api))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn upload_version(
    api: String,
    version: String,
    base_path: String,
    upstream_url: String,
    spec: String,
) -> Result<VersionView, AppError> {
    with_caller!(|s, who| async {
        let v = versions::upload(
            &s.pool,
            &who,
            &api,
            NewVersion {
                version,
                base_path,
                upstream_url,
                spec,
            },
        )
        .await?;
        leptos_axum::redirect(&format!("/versions/{}", v.summary.id));
        Ok::<_, ServiceError>(v)
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn get_version(id: Uuid) -> Result<VersionView, AppError> {
    with_caller!(|s, who| versions::get(&s.pool, &who, id))
}

/// A version with the other versions of its API, in one call: during server
/// rendering, context is only guaranteed before a resource's first await.
#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_version_page(id: Uuid) -> Result<(VersionView, Vec<VersionSummary>), AppError> {
    with_caller!(|s, who| async {
        let v = versions::get(&s.pool, &who, id).await?;
        let siblings = versions::list(&s.pool, &who, &v.api_slug).await?;
        Ok::<_, ServiceError>((v, siblings))
    })
}

/// A version's contract for the contract view: the version, the part of the
/// source the page shows (all of it, or the lines around `at` in a very long
/// contract), and its outline with the line `at` (a JSON pointer) starts on.
#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_contract_page(
    id: Uuid,
    at: String,
) -> Result<(VersionView, SourceWindow, ContractOutline), AppError> {
    with_caller!(|s, who| async {
        let v = versions::get(&s.pool, &who, id).await?;
        let (source, _) = versions::spec(&s.pool, &who, id).await?;
        let at = Some(at).filter(|a| !a.is_empty());
        let outline = versions::outline_of(source.clone(), at).await?;
        let window = SourceWindow::around(&source, outline.at_line);
        Ok::<_, ServiceError>((v, window, outline))
    })
}

#[server(prefix = "/console/fn", input = JsonPost, output = JsonPost)]
pub async fn version_transition(id: Uuid, transition: Transition) -> Result<VersionView, AppError> {
    with_caller!(|s, who| async {
        let (pool, who) = (&s.pool, &who);
        match transition {
            Transition::Submit => versions::submit(pool, who, id).await,
            Transition::Review(decision) => versions::review(pool, who, id, decision).await,
            Transition::Withdraw => versions::withdraw(pool, who, id).await,
            Transition::SendBack(back) => versions::send_back(pool, who, id, back).await,
            Transition::Publish => versions::publish(pool, who, id).await,
            Transition::Deprecate(d) => versions::deprecate(pool, who, id, d).await,
            Transition::Retire(r) => versions::retire(pool, who, id, r).await,
        }
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn compare_versions(
    api: String,
    base: Uuid,
    revision: Uuid,
) -> Result<ChangeReport, AppError> {
    with_caller!(|s, who| versions::compare(&s.pool, &who, &api, base, revision))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn lint_rules() -> Result<Vec<LintRuleSetting>, AppError> {
    with_caller!(|s, who| lint_settings::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn set_lint_rule(rule: String, severity: String) -> Result<LintRuleSetting, AppError> {
    with_caller!(|s, who| async {
        let severity = match severity.as_str() {
            "off" => None,
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => {
                return Err(
                    AppError::invalid("severity", "choose error, warning, info or off").into(),
                );
            }
        };
        lint_settings::update(&s.pool, &who, &rule, LintRulePatch { severity }).await
    })
}

// ---- Partner access -------------------------------------------------------

/// Parses an optional whole number typed into a form; empty means `None`.
#[cfg(feature = "ssr")]
fn optional_number<T: std::str::FromStr>(
    value: &str,
    field: &str,
    what: &str,
) -> Result<Option<T>, AppError> {
    match value.trim() {
        "" => Ok(None),
        n => n
            .parse::<T>()
            .map(Some)
            .map_err(|_| AppError::invalid(field, format!("enter {what}"))),
    }
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_consumers() -> Result<Vec<ConsumerView>, AppError> {
    with_caller!(|s, who| consumers::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn register_consumer(
    slug: String,
    name: String,
    kind: String,
    description: String,
    contact_name: String,
    contact_email: String,
) -> Result<ConsumerView, AppError> {
    with_caller!(|s, who| async {
        let kind = ConsumerKind::parse(&kind)
            .ok_or_else(|| AppError::invalid("kind", "choose partner or internal"))?;
        let contacts = if contact_name.trim().is_empty() && contact_email.trim().is_empty() {
            Vec::new()
        } else {
            vec![Contact {
                name: contact_name,
                email: contact_email,
                role: "technical".into(),
            }]
        };
        let created = consumers::create(
            &s.pool,
            &who,
            NewConsumer {
                slug,
                name,
                kind,
                description,
                contacts,
            },
        )
        .await?;
        leptos_axum::redirect(&format!("/consumers/{}", created.slug));
        Ok::<_, ServiceError>(created)
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_consumer_page(slug: String) -> Result<ConsumerPage, AppError> {
    with_caller!(|s, who| async {
        let detail = consumers::get(&s.pool, &who, &slug).await?;
        let plans = plans::list(&s.pool, &who).await?;
        let apis = apis::list(&s.pool, &who, &ApiFilter::default()).await?;
        Ok::<_, ServiceError>(ConsumerPage {
            detail,
            plans,
            apis: apis
                .into_iter()
                .filter(|a| a.current_version.is_some())
                .collect(),
        })
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn add_application(
    consumer: String,
    name: String,
    environment: String,
    description: String,
) -> Result<ApplicationView, AppError> {
    with_caller!(|s, who| async {
        let environment = Environment::parse(&environment)
            .ok_or_else(|| AppError::invalid("environment", "choose sandbox or production"))?;
        applications::create(
            &s.pool,
            &who,
            &consumer,
            NewApplication {
                name,
                environment,
                description,
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn subscribe_application(
    application_id: Uuid,
    api: String,
    plan: String,
    scopes: String,
) -> Result<SubscriptionView, AppError> {
    let scopes = scopes
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    with_caller!(|s, who| subscriptions::create(
        &s.pool,
        &who,
        NewSubscription {
            application_id,
            api,
            major: None,
            plan,
            scopes,
        }
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_subscriptions(state: String) -> Result<Vec<SubscriptionView>, AppError> {
    with_caller!(|s, who| subscriptions::list(
        &s.pool,
        &who,
        &SubscriptionFilter {
            state: SubscriptionState::parse(&state),
            ..Default::default()
        }
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn decide_subscription(
    id: Uuid,
    decision: String,
    reason: String,
) -> Result<SubscriptionView, AppError> {
    with_caller!(|s, who| async {
        let decision = SubscriptionDecision::parse(&decision)
            .ok_or_else(|| AppError::invalid("decision", "choose an action"))?;
        let reason = (!reason.trim().is_empty()).then_some(reason);
        subscriptions::decide(&s.pool, &who, id, decision, reason).await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn issue_key(
    application_id: Uuid,
    name: String,
    expires_in_days: String,
) -> Result<CreatedApiKey, AppError> {
    with_caller!(|s, who| async {
        let expires_in_days = optional_number(
            &expires_in_days,
            "expires_in_days",
            "a whole number of days",
        )?;
        keys::create(
            &s.pool,
            &who,
            application_id,
            NewApiKey {
                name,
                expires_in_days,
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn rotate_key(id: Uuid, overlap_hours: String) -> Result<RotatedApiKey, AppError> {
    with_caller!(|s, who| async {
        let overlap_hours =
            optional_number(&overlap_hours, "overlap_hours", "a whole number of hours")?
                .unwrap_or(Rotation::default().overlap_hours);
        keys::rotate(&s.pool, &who, id, Rotation { overlap_hours }).await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn revoke_key(id: Uuid) -> Result<ApiKeyView, AppError> {
    with_caller!(|s, who| keys::revoke(&s.pool, &who, id))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn create_oauth_client(
    application_id: Uuid,
    name: String,
) -> Result<CreatedOAuthClient, AppError> {
    with_caller!(|s, who| clients::create(&s.pool, &who, application_id, NewOAuthClient { name }))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn rotate_oauth_client(
    id: Uuid,
    overlap_hours: String,
) -> Result<CreatedOAuthClient, AppError> {
    with_caller!(|s, who| async {
        let overlap_hours =
            optional_number(&overlap_hours, "overlap_hours", "a whole number of hours")?
                .unwrap_or(Rotation::default().overlap_hours);
        clients::rotate(&s.pool, &who, id, Rotation { overlap_hours }).await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn revoke_oauth_client(id: Uuid) -> Result<OAuthClientView, AppError> {
    with_caller!(|s, who| clients::revoke(&s.pool, &who, id))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_plans() -> Result<Vec<PlanView>, AppError> {
    with_caller!(|s, who| plans::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn edit_plan(
    slug: String,
    rate_per_second: String,
    burst: String,
    daily_quota: String,
    monthly_quota: String,
) -> Result<PlanView, AppError> {
    with_caller!(|s, who| async {
        let rate_per_second =
            optional_number(&rate_per_second, "rate_per_second", "a whole number")?;
        let burst = optional_number(&burst, "burst", "a whole number")?;
        // An emptied quota field means "no quota", which the patch spells as 0.
        let daily_quota =
            optional_number(&daily_quota, "daily_quota", "a whole number")?.or(Some(0));
        let monthly_quota =
            optional_number(&monthly_quota, "monthly_quota", "a whole number")?.or(Some(0));
        plans::update(
            &s.pool,
            &who,
            &slug,
            PlanPatch {
                rate_per_second,
                burst,
                daily_quota,
                monthly_quota,
                ..Default::default()
            },
        )
        .await
    })
}

// ---- Traffic ---------------------------------------------------------------

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_gateways() -> Result<Vec<GatewayView>, AppError> {
    with_caller!(|s, who| traffic::gateways(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_review_queue() -> Result<Vec<ReviewItem>, AppError> {
    with_caller!(|s, who| steward_control::registry::versions::review_queue(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn list_signing_keys() -> Result<Vec<SigningKeyView>, AppError> {
    with_caller!(|s, who| steward_control::oauth::signing::list(&s.pool, &who))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn rotate_signing_key() -> Result<SigningKeyView, AppError> {
    with_caller!(|s, who| steward_control::oauth::signing::rotate(
        &s.pool,
        &who,
        &s.oauth.sealer,
        s.oauth.token_ttl
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn revoke_signing_key(kid: String) -> Result<SigningKeyView, AppError> {
    with_caller!(|s, who| steward_control::oauth::signing::revoke(
        &s.pool,
        &who,
        &s.oauth.sealer,
        &kid
    ))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_upstream_policy() -> Result<UpstreamPolicyView, AppError> {
    with_caller!(|s, who| upstreams::get(&s.pool, &who))
}

/// The entries as typed: one per line.
#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn save_upstream_policy(allow: String) -> Result<UpstreamPolicyView, AppError> {
    with_caller!(|s, who| async {
        let allow = allow.lines().map(str::to_string).collect();
        upstreams::set(&s.pool, &who, UpstreamPolicyUpdate { allow }).await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_version_traffic(id: Uuid) -> Result<VersionTraffic, AppError> {
    with_caller!(|s, who| traffic::version_traffic(&s.pool, &who, id, 60))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_version_drift(id: Uuid) -> Result<Vec<DriftReport>, AppError> {
    with_caller!(|s, who| traffic::drift(&s.pool, &who, id))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_api_traffic(key: String, hours: i32) -> Result<ApiTraffic, AppError> {
    with_caller!(|s, who| traffic::api::api_traffic(&s.pool, &who, &key, hours))
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_deprecations() -> Result<Vec<DeprecationImpact>, AppError> {
    with_caller!(|s, who| traffic::deprecations::impact(&s.pool, &who))
}

// ---- SLOs ------------------------------------------------------------------

/// Changes an SLO's target, window and description from the SLO page.
#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn change_slo(
    id: Uuid,
    target: String,
    window_days: String,
    description: String,
) -> Result<SloView, AppError> {
    with_caller!(|s, who| async {
        let target = target
            .trim()
            .parse::<f64>()
            .map_err(|_| AppError::invalid("target", "enter a percentage such as 99.9"))?;
        let window_days = optional_number(&window_days, "window_days", "7, 28 or 30")?;
        slo::definitions::update(
            &s.pool,
            &who,
            id,
            SloPatch {
                name: None,
                description: Some(description),
                target: Some(target),
                window_days,
            },
        )
        .await
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn delete_slo(id: Uuid) -> Result<(), AppError> {
    with_caller!(|s, who| async {
        slo::definitions::delete(&s.pool, &who, id).await?;
        leptos_axum::redirect("/slos");
        Ok::<_, ServiceError>(())
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_slo_detail(id: Uuid, resolution: Resolution) -> Result<SloDetail, AppError> {
    with_caller!(|s, who| async {
        Ok::<_, ServiceError>(SloDetail {
            slo: slo::definitions::get(&s.pool, &who, id).await?,
            series: slo::series::series(&s.pool, &who, id, resolution).await?,
            alerts: slo::alerts::list(&s.pool, &who, id).await?,
        })
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn load_slos() -> Result<(Vec<SloView>, Vec<ApiView>), AppError> {
    with_caller!(|s, who| async {
        let slos = slo::definitions::list(&s.pool, &who).await?;
        let apis = apis::list(&s.pool, &who, &ApiFilter::default()).await?;
        Ok::<_, ServiceError>((slos, apis))
    })
}

#[server(prefix = "/console/fn", output = JsonPost)]
pub async fn define_slo(
    api: String,
    name: String,
    kind: String,
    target: String,
    window_days: String,
    threshold_ms: String,
) -> Result<SloView, AppError> {
    with_caller!(|s, who| async {
        let kind = match kind.as_str() {
            "latency" => SloKind::Latency,
            "availability" => SloKind::Availability,
            _ => {
                return Err(AppError::invalid("kind", "choose availability or latency").into());
            }
        };
        let target = target
            .trim()
            .parse::<f64>()
            .map_err(|_| AppError::invalid("target", "enter a percentage such as 99.9"))?;
        let window_days =
            optional_number(&window_days, "window_days", "7, 28 or 30")?.unwrap_or(28);
        let threshold_ms = match kind {
            SloKind::Latency => optional_number(
                &threshold_ms,
                "threshold_ms",
                "a whole number of milliseconds",
            )?,
            SloKind::Availability => None,
        };
        slo::definitions::create(
            &s.pool,
            &who,
            NewSlo {
                api,
                name,
                description: String::new(),
                kind,
                target,
                window_days,
                threshold_ms,
                version_id: None,
                operation: None,
                application_id: None,
            },
        )
        .await
    })
}
