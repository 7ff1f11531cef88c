//! The pipeline glue: resolve → lifecycle → authenticate → authorize → rate limit
//! → forward → respond. Each phase is a call into `policy`, `ratelimit` or
//! `forward`; this function only threads their answers together (data plane).

use crate::Gateway;
use crate::pipeline::forward::{self, Identity, Outbound};
use crate::pipeline::policy;
use crate::pipeline::problem::Refusal;
use crate::pipeline::ratelimit;
use crate::pipeline::target;
use crate::snapshot::routes::Operation;
use crate::snapshot::validate::{BodyProblem, Mode};
use crate::snapshot::{Snapshot, Version};
use crate::telemetry;
use crate::wire::client::Answer;
use crate::wire::fields::{Fields, Raw};
use crate::wire::h1::Known;
use crate::wire::stamp::{Rate, Stamp};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use steward_shared::usage::Credential;
use time::OffsetDateTime;

/// The router's fallback: the same pipeline for a gateway served through axum
/// (the tests' single-runtime setup); workers call [`handle`] directly.
pub async fn fallback(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    handle(&gw, req, None, peer).await.into_response()
}

/// Serves one request. Its header fields are in `raw` when the connection loop
/// parsed it, else in its header map.
pub async fn handle(
    gw: &Gateway,
    mut req: Request,
    raw: Option<Raw>,
    peer: Option<SocketAddr>,
) -> Answer {
    let started = Instant::now();
    let now = OffsetDateTime::now_utc();
    // The fields and the target stay here, read by every phase; the request
    // moves on without them. (Taking the target rather than cloning it spares
    // two atomic reference counts on the bytes it shares with the read buffer.)
    let map = std::mem::take(req.headers_mut());
    let uri = std::mem::take(req.uri_mut());
    let fields = match &raw {
        Some(raw) => Fields::Raw(raw),
        None => Fields::Map(&map),
    };
    // Made once: the same value goes upstream, into a refusal and back.
    let request_id = fields
        .value(Known::RequestId)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.to_str().is_ok())
        .unwrap_or_else(request_id);
    let has_body = {
        use http_body::Body as _;
        req.body().size_hint().exact() != Some(0)
    };
    // Held for the whole request: the answer's stamp borrows from it.
    let snapshot = gw.held_snapshot();
    let mut stamp = Stamp::new(request_id);
    let mut trace = Trace::default();
    let mut answer = match pipeline(
        gw,
        &snapshot,
        req,
        Arrival {
            uri: &uri,
            fields,
            peer,
            started,
            now,
        },
        &mut stamp,
        &mut trace,
    )
    .await
    {
        Ok(r) => r,
        Err(refusal) => {
            let mut response =
                refusal.into_response(stamp.request_id().to_str().unwrap_or_default());
            // A refusal may leave the body unread, and a server that then closes
            // the connection without saying so loses the client's next request
            // on it. (A connection that did read the body keeps itself alive.)
            if has_body {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Answer::from(response)
        }
    };
    if let (Some((version, api)), Some(operation)) = (trace.version, trace.operation) {
        gw.telemetry.record(
            telemetry::Key {
                minute: now.unix_timestamp() / 60,
                version,
                api,
                operation,
                application: trace.application.unwrap_or_default(),
                class: (answer.response.status().as_u16() / 100).clamp(1, 5) as u8,
            },
            started.elapsed(),
        );
    }
    // A proxied answer carries the stamp among its passed lines already.
    if answer.passed.is_none() {
        stamp.apply(answer.response.headers_mut());
    }
    answer
}

/// What telemetry needs to know about a request, filled in as phases learn it.
#[derive(Default)]
struct Trace {
    version: Option<(uuid::Uuid, uuid::Uuid)>,
    operation: Option<Arc<str>>,
    application: Option<uuid::Uuid>,
}

/// What is known of a request besides the request itself.
struct Arrival<'r> {
    uri: &'r http::Uri,
    fields: Fields<'r>,
    peer: Option<SocketAddr>,
    // One clock reading serves the limiter, expiry checks and telemetry.
    started: Instant,
    now: OffsetDateTime,
}

async fn pipeline<'s>(
    gw: &Gateway,
    snapshot: &'s Snapshot,
    req: Request,
    Arrival {
        uri,
        fields,
        peer,
        started,
        now,
    }: Arrival<'_>,
    stamp: &mut Stamp<'s>,
    trace: &mut Trace,
) -> Result<Answer, Refusal> {
    // The path as routed is the path forwarded: dot-segments resolved here,
    // not by the upstream behind the gateway's back.
    let path = target::normalise(uri.path()).map_err(|why| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "ambiguous-path",
            "Ambiguous path",
            why.detail(),
        )
    })?;
    let path = &*path;
    // resolve
    let (version, rest) = snapshot.resolve(path).ok_or_else(|| {
        Refusal::new(
            StatusCode::NOT_FOUND,
            "no-route",
            "No such API",
            format!("no published API version serves {path}"),
        )
    })?;
    trace.version = Some((version.id, version.api_id));
    // lifecycle: a retired version answers 410 before anything else is checked.
    stamp.announce(policy::lifecycle(version)?);
    let (operation, params) = version
        .routes
        .find(req.method(), if rest.is_empty() { "/" } else { rest })
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                "no-operation",
                "No such operation",
                format!(
                    "{} {} {} has no operation {} {}",
                    version.api_slug,
                    version.version,
                    version.base_path,
                    req.method(),
                    if rest.is_empty() { "/" } else { rest }
                ),
            )
        })?;
    trace.operation = Some(operation.label.clone());
    // authenticate
    let caller = policy::authenticate(
        snapshot,
        fields,
        &gw.config.issuer,
        &gw.config.audience,
        now,
    )
    .inspect_err(|_| {
        // A revoked or expired key's calls are its application's, not anonymous.
        if let Some((key, _)) = policy::refused_key(snapshot, fields, now) {
            trace.application = Some(key.application_id);
            gw.usage.record(Credential::ApiKey, key.id, now);
        }
    })?;
    let identity = match &caller {
        None if operation.is_public() => {
            // Anonymous callers are limited per source, so that one of them
            // cannot take an open operation's upstream for itself.
            if let Some(peer) = peer {
                let plan = &gw.public_plan;
                let source = ratelimit::source_key(peer.ip());
                let verdict = gw.limiter.check(source, version.api_id, plan, started, now);
                stamp.rate(Rate {
                    limit: verdict.limit,
                    remaining: verdict.remaining,
                    reset: verdict.reset,
                });
                if !verdict.allowed {
                    return Err(Refusal::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate-limited",
                        "Too many requests",
                        format!(
                            "anonymous callers from one address may make {} requests per second with a burst of {}; a credential gets its plan's limits",
                            plan.rate_per_second, plan.burst
                        ),
                    )
                    .with_header(header::RETRY_AFTER, verdict.retry_after.max(1).to_string()));
                }
            }
            None
        }
        None => return Err(policy::missing_credential()),
        Some(caller) => {
            trace.application = Some(caller.application.id);
            // authorize
            let (_, plan) = policy::authorize(
                snapshot,
                version,
                operation,
                caller,
                &gw.config.environments,
            )?;
            // rate limit
            let verdict =
                gw.limiter
                    .check(caller.application.id, version.api_id, plan, started, now);
            stamp.rate(Rate {
                limit: verdict.limit,
                remaining: verdict.remaining,
                reset: verdict.reset,
            });
            if !verdict.allowed {
                let detail = match verdict.quota_exhausted {
                    Some(which) => format!("the plan's {which} quota is used up"),
                    None => format!(
                        "the plan allows {} requests per second with a burst of {}",
                        plan.rate_per_second, plan.burst
                    ),
                };
                return Err(Refusal::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    detail,
                )
                .with_header(header::RETRY_AFTER, verdict.retry_after.max(1).to_string()));
            }
            if let Some(key) = caller.key {
                gw.usage.record(Credential::ApiKey, key.id, now);
            }
            Some(Identity {
                consumer: &caller.application.consumer_header,
                application: &caller.application.application_header,
            })
        }
    };
    // validate
    let (req, buffered) =
        validate(gw, version, operation, &params, req, uri.query(), fields).await?;
    // A body known in full leaves with the head; an empty one is known too.
    let known_body = buffered.or_else(|| {
        use http_body::Body as _;
        (req.body().size_hint().exact() == Some(0)).then(axum::body::Bytes::new)
    });
    let query = uri.query();
    let sample =
        version.validation == Mode::Report && !operation.responses.is_empty() && gw.drift.sample();
    // forward
    let answer = forward::forward(
        &gw.breakers,
        &gw.retry_budget,
        req,
        Outbound {
            upstream: version.upstream_parts.as_ref(),
            rest,
            query,
            client_addr: peer,
            trusted_proxy: peer.is_some_and(|p| gw.config.trusts(p.ip())),
            fields,
            identity,
            timeout: version.timeout,
            body_wait: gw.config.body_wait,
            tls: &gw.config.upstream_tls,
            policy: &snapshot.upstream_policy,
            cookies: operation.cookies,
            https: gw.config.listener_tls,
            started,
            known_body,
            stamp: &*stamp,
        },
    )
    .await?;
    if sample {
        return Ok(check_drift(gw, version, operation, answer).await);
    }
    Ok(answer)
}

/// Checks parameters and, when the contract has a JSON schema for it, the body,
/// which is then buffered (up to the limit) and forwarded from memory. Bodies that
/// need no validation stream straight through.
async fn validate(
    gw: &Gateway,
    version: &Version,
    operation: &Operation,
    params: &matchit::Params<'_, '_>,
    req: Request,
    query: Option<&str>,
    fields: Fields<'_>,
) -> Result<(Request, Option<axum::body::Bytes>), Refusal> {
    let mode = version.validation;
    if mode == Mode::Off {
        return Ok((req, None));
    }
    let mut violations = Vec::new();
    let path_params: Vec<(&str, &str)> = params.iter().collect();
    operation
        .rules
        .check_params(path_params.iter().copied(), query, fields, &mut violations);
    let (req, buffered) = if operation.rules.needs_body() {
        let limit = gw.config.body_limit;
        let declared = {
            use http_body::Body as _;
            req.body().size_hint().exact()
        };
        let too_large = || {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                format!("the body exceeds {limit} bytes"),
            )
        };
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let (parts, body) = req.into_parts();
        let bytes = read_body(body, limit).await.ok_or_else(too_large)?;
        let content_type = fields.text(Known::ContentType);
        match operation
            .rules
            .check_body(content_type, &bytes, &mut violations)
        {
            Err(BodyProblem::UnsupportedMediaType(accepted)) if mode == Mode::Enforce => {
                return Err(Refusal::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-media-type",
                    "Unsupported media type",
                    format!("send the body as {}", accepted.join(" or ")),
                ));
            }
            _ => {}
        }
        // The buffered bytes are what goes upstream; the request keeps no body.
        (Request::from_parts(parts, Body::empty()), Some(bytes))
    } else {
        (req, None)
    };
    if violations.is_empty() {
        return Ok((req, buffered));
    }
    if mode == Mode::Report {
        tracing::info!(
            api = %version.api_slug,
            version = %version.version,
            operation = %operation.label(req.method()),
            violations = violations.len(),
            "request does not match the contract (report mode)"
        );
        return Ok((req, buffered));
    }
    let mut refusal = Refusal::new(
        StatusCode::BAD_REQUEST,
        "request-invalid",
        "Request does not match the contract",
        format!(
            "{} violation(s) of {} {}",
            violations.len(),
            version.api_slug,
            operation.label(req.method())
        ),
    );
    refusal.errors = violations
        .iter()
        .filter_map(|v| serde_json::to_value(v).ok())
        .collect();
    Err(refusal)
}

/// The whole body, or `None` if it is longer than `limit` (or breaks off). A
/// body that came whole with its head, as the connection loop passes it, is one
/// piece: it is taken as it is, without a general collector's buffering.
async fn read_body(mut body: Body, limit: usize) -> Option<axum::body::Bytes> {
    use http_body::Body as _;
    let first = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
    let first = match first {
        None => return Some(axum::body::Bytes::new()),
        Some(Ok(frame)) => frame.into_data().unwrap_or_default(),
        Some(Err(_)) => return None,
    };
    if first.len() > limit {
        return None;
    }
    if body.is_end_stream() {
        return Some(first);
    }
    let rest = axum::body::to_bytes(body, limit - first.len()).await.ok()?;
    let mut all = Vec::with_capacity(first.len() + rest.len());
    all.extend_from_slice(&first);
    all.extend_from_slice(&rest);
    Some(all.into())
}

/// A request id unique across processes without a random draw per request: a
/// random prefix drawn once per thread, then that thread's own counter. (One
/// counter shared by the workers would move its cache line between cores on
/// every request.)
fn request_id() -> HeaderValue {
    use std::cell::Cell;
    thread_local! {
        static NEXT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    let (prefix, count) = NEXT.get();
    let prefix = if prefix == 0 {
        // The lowest bit is set so that zero can mean "not drawn yet".
        uuid::Uuid::new_v4().as_u64_pair().0 | 1
    } else {
        prefix
    };
    NEXT.set((prefix, count.wrapping_add(1)));
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&prefix.to_be_bytes());
    id[8..].copy_from_slice(&count.to_be_bytes());
    // The same 32 hex digits as `{:016x}{:016x}`, without the formatting machinery.
    let mut text = [0u8; 32];
    let _ = hex::encode_to_slice(id, &mut text);
    HeaderValue::from_bytes(&text).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// Buffers a sampled JSON response, checks it against the contract, queues any
/// mismatch, and hands the body on unchanged.
async fn check_drift(
    gw: &Gateway,
    version: &Version,
    operation: &Operation,
    answer: Answer,
) -> Answer {
    let is_json = answer
        .response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .or_else(|| answer.passed.as_ref().and_then(|p| p.get("content-type")))
        .is_some_and(crate::snapshot::validate::is_json);
    if !is_json {
        return answer;
    }
    let Answer { response, passed } = answer;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, gw.config.body_limit).await else {
        // The body is consumed; say so rather than pass on a truncated one.
        return Refusal::new(
            StatusCode::BAD_GATEWAY,
            "upstream-unreachable",
            "Upstream response too large to sample",
            "the upstream's response exceeded the sampling limit",
        )
        .into_response("")
        .into();
    };
    if let Some(violations) = operation.responses.check(parts.status.as_u16(), &bytes)
        && !violations.is_empty()
    {
        gw.drift.push(crate::pipeline::drift::Mismatch {
            version: version.id,
            operation: operation.label.to_string(),
            status: parts.status.as_u16(),
            violations,
            example: gw.config.drift_examples.of(&bytes),
        });
    }
    Answer {
        response: Response::from_parts(parts, Body::from(bytes)),
        passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;

    fn pieces(parts: &[&'static str]) -> Body {
        let chunks: Vec<Result<Bytes, std::io::Error>> = parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn bodies_are_read_whole_within_the_limit() {
        assert_eq!(read_body(Body::from("{}"), 2).await.unwrap(), "{}");
        assert_eq!(read_body(Body::empty(), 0).await.unwrap(), "");
        assert!(read_body(Body::from("{}"), 1).await.is_none());
        assert_eq!(
            read_body(pieces(&["{\"a\"", ":1", "}"]), 7).await.unwrap(),
            "{\"a\":1}"
        );
        assert!(read_body(pieces(&["{\"a\"", ":1", "}"]), 6).await.is_none());
        let broken: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"{")),
            Err(std::io::Error::other("reset")),
        ];
        let broken = Body::from_stream(futures_util::stream::iter(broken));
        assert!(read_body(broken, 100).await.is_none());
    }
}
