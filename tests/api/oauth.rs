//! The OAuth2 client-credentials server: the token endpoint with both client
//! authentication methods, its RFC 6749 errors, JWTs against the JWKS, key and
//! secret rotation, and two independent clients (the `oauth2` crate, and Python's
//! Authlib, which also verifies the JWT with its own JOSE code).

use reqwest::Client;
use serde_json::{Value, json};
use steward_shared::jwt;
use steward_tests::partners::{Fixture, fixture, subscribe};
use steward_tests::{TestApp, problem, spawn_app};

struct Credentials {
    id: String,
    client_id: String,
    secret: String,
}

/// An active subscription to inventory (read) and a client for the application.
async fn client_for(app: &TestApp, f: &Fixture) -> Credentials {
    let res = subscribe(
        app,
        &f.admin,
        &f.production_app,
        "inventory",
        "gold",
        &["inventory:read", "inventory:write"],
    )
    .await;
    assert_eq!(res.status(), 201);
    let res = f
        .admin
        .post(app.api(&format!("/applications/{}/oauth-clients", f.production_app)))
        .json(&json!({"name": "order sync"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    Credentials {
        id: created["client"]["id"].as_str().unwrap().into(),
        client_id: created["client"]["client_id"].as_str().unwrap().into(),
        secret: created["client_secret"].as_str().unwrap().into(),
    }
}

async fn token_basic(
    app: &TestApp,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn oauth_error(res: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert_eq!(res.headers()["cache-control"], "no-store");
    if status == 401 {
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
    }
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].is_string());
    body
}

async fn jwks(app: &TestApp) -> Vec<(String, ed25519_dalek::VerifyingKey)> {
    use base64::Engine;
    let set: Value = Client::new()
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(
                (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str()),
                (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
            );
            let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(k["x"].as_str().unwrap())
                .unwrap();
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
            (k["kid"].as_str().unwrap().to_string(), key)
        })
        .collect()
}

fn verify(
    app: &TestApp,
    keys: &[(String, ed25519_dalek::VerifyingKey)],
    token: &str,
) -> Result<jwt::AccessClaims, jwt::VerifyError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    jwt::verify(
        token,
        |kid| keys.iter().find(|(k, _)| k == kid).map(|(_, key)| key),
        &app.url(""),
        "steward-gateway",
        now,
    )
}

#[tokio::test]
async fn both_client_authentication_methods_get_a_verifiable_rfc_9068_token() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let c = client_for(&app, &f).await;

    let res = token_basic(
        &app,
        &c.client_id,
        &c.secret,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "inventory:read"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let basic: Value = res.json().await.unwrap();
    assert_eq!(basic["token_type"], "Bearer");
    assert_eq!(basic["expires_in"], 3600);
    assert_eq!(basic["scope"], "inventory:read");

    let res = Client::new()
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let post: Value = res.json().await.unwrap();
    assert_eq!(
        post["scope"], "inventory:read inventory:write",
        "no scope asks for everything granted"
    );

    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 1);
    let a = verify(&app, &keys, basic["access_token"].as_str().unwrap()).unwrap();
    let b = verify(&app, &keys, post["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(a.sub, c.client_id);
    assert_eq!(a.client_id, c.client_id);
    assert_eq!(a.iss, app.url(""));
    assert_eq!(a.exp - a.iat, 3600);
    assert_eq!(a.consumer, "northwind-market");
    assert_eq!(a.env, "production");
    assert_eq!(a.application, f.production_app);
    assert_ne!(a.jti, b.jti);

    let meta: Value = Client::new()
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], app.url(""));
    assert_eq!(meta["token_endpoint"], app.url("/oauth2/token"));
    assert_eq!(meta["jwks_uri"], app.url("/.well-known/jwks.json"));
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));

    // "Last used" arrives with the next batch.
    let mut seen = false;
    for _ in 0..50 {
        let detail: Value = f
            .viewer
            .get(app.api(&format!("/applications/{}", f.production_app)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if detail["oauth_clients"][0]["last_used_at"].is_string() {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the client's last use was recorded");
}

#[tokio::test]
async fn the_token_endpoint_refuses_what_rfc_6749_says_to_refuse() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let c = client_for(&app, &f).await;
    let grant = [("grant_type", "client_credentials")];

    oauth_error(
        token_basic(&app, &c.client_id, "stwcs_wrong", &grant).await,
        401,
        "invalid_client",
    )
    .await;
    oauth_error(
        token_basic(&app, "stwc_nobodyhere000000000", &c.secret, &grant).await,
        401,
        "invalid_client",
    )
    .await;
    let anonymous = Client::new()
        .post(app.url("/oauth2/token"))
        .form(&grant)
        .send()
        .await
        .unwrap();
    oauth_error(anonymous, 401, "invalid_client").await;
    oauth_error(
        token_basic(&app, &c.client_id, &c.secret, &[("grant_type", "password")]).await,
        400,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(
        token_basic(
            &app,
            &c.client_id,
            &c.secret,
            &[("scope", "inventory:read")],
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    let body = oauth_error(
        token_basic(
            &app,
            &c.client_id,
            &c.secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "inventory:read orders:write"),
            ],
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("orders:write")
    );
    let json_body = Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth(&c.client_id, Some(&c.secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    oauth_error(json_body, 400, "invalid_request").await;
    let twice = Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth(&c.client_id, Some(&c.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    oauth_error(twice, 400, "invalid_request").await;
    let both = Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth(&c.client_id, Some(&c.secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
            ("client_secret", &c.secret),
        ])
        .send()
        .await
        .unwrap();
    oauth_error(both, 400, "invalid_request").await;
    let garbage = Client::new()
        .post(app.url("/oauth2/token"))
        .header("authorization", "Basic %%%not-base64")
        .form(&grant)
        .send()
        .await
        .unwrap();
    oauth_error(garbage, 401, "invalid_client").await;

    // A suspended subscription grants nothing any more.
    let subs: Vec<Value> = f
        .admin
        .get(app.api("/subscriptions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = subs[0]["id"].as_str().unwrap();
    f.admin
        .post(app.api(&format!("/subscriptions/{id}/suspend")))
        .json(&json!({"reason": "audit"}))
        .send()
        .await
        .unwrap();
    oauth_error(
        token_basic(
            &app,
            &c.client_id,
            &c.secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "inventory:read"),
            ],
        )
        .await,
        400,
        "invalid_scope",
    )
    .await;
}

#[tokio::test]
async fn guessing_secrets_is_throttled() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let c = client_for(&app, &f).await;
    let grant = [("grant_type", "client_credentials")];
    for _ in 0..5 {
        oauth_error(
            token_basic(&app, &c.client_id, "stwcs_guess", &grant).await,
            401,
            "invalid_client",
        )
        .await;
    }
    let res = token_basic(&app, &c.client_id, &c.secret, &grant).await;
    assert_eq!(
        res.status(),
        429,
        "even the right secret waits once the client is throttled"
    );
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 900);
}

#[tokio::test]
async fn secrets_and_signing_keys_rotate_without_breaking_live_tokens() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let c = client_for(&app, &f).await;
    let grant = [("grant_type", "client_credentials")];

    let res = f
        .admin
        .post(app.api(&format!("/oauth-clients/{}/rotate", c.id)))
        .json(&json!({"overlap_hours": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["client_secret"].as_str().unwrap().to_string();
    assert_eq!(rotated["client"]["secrets"].as_array().unwrap().len(), 2);
    assert!(
        !serde_json::to_string(&rotated["client"])
            .unwrap()
            .contains(&new_secret[6..])
    );
    assert_eq!(
        token_basic(&app, &c.client_id, &c.secret, &grant)
            .await
            .status(),
        200,
        "old secret, in the overlap"
    );
    let before: Value = token_basic(&app, &c.client_id, &new_secret, &grant)
        .await
        .json()
        .await
        .unwrap();

    // Signing key rotation: admins only; old tokens keep verifying.
    for who in [&f.owner, &f.viewer, &f.reviewer] {
        problem(
            who.post(app.api("/signing-keys/rotate"))
                .send()
                .await
                .unwrap(),
            403,
        )
        .await;
    }
    let res = f
        .admin
        .post(app.api("/signing-keys/rotate"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let listed: Vec<Value> = f
        .admin
        .get(app.api("/signing-keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed.iter().filter(|k| k["active"] == true).count(), 1);
    let after: Value = token_basic(&app, &c.client_id, &new_secret, &grant)
        .await
        .json()
        .await
        .unwrap();
    let keys = jwks(&app).await;
    assert_eq!(
        keys.len(),
        2,
        "the retired key stays published while its tokens live"
    );
    let old = verify(&app, &keys, before["access_token"].as_str().unwrap());
    let new = verify(&app, &keys, after["access_token"].as_str().unwrap());
    assert!(old.is_ok() && new.is_ok());

    // A zero overlap ends the older secrets; revocation ends the client.
    f.admin
        .post(app.api(&format!("/oauth-clients/{}/rotate", c.id)))
        .json(&json!({"overlap_hours": 0}))
        .send()
        .await
        .unwrap();
    oauth_error(
        token_basic(&app, &c.client_id, &new_secret, &grant).await,
        401,
        "invalid_client",
    )
    .await;
    let res = f
        .admin
        .delete(app.api(&format!("/oauth-clients/{}", c.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "revoked");
    problem(
        f.admin
            .delete(app.api(&format!("/oauth-clients/{}", c.id)))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    for action in ["create", "rotate", "revoke"] {
        assert!(
            app.audit_count(&format!("oauth_client.{action}")).await >= 1,
            "{action}"
        );
    }
    assert_eq!(app.audit_count("signing_key.rotate").await, 1);
}

#[tokio::test]
async fn the_oauth2_crate_gets_a_token_with_either_method() {
    use oauth2::basic::BasicClient;
    use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let c = client_for(&app, &f).await;
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let keys = jwks(&app).await;
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = BasicClient::new(ClientId::new(c.client_id.clone()))
            .set_client_secret(ClientSecret::new(c.secret.clone()))
            .set_token_uri(TokenUrl::new(app.url("/oauth2/token")).unwrap())
            .set_auth_type(auth.clone());
        let token = client
            .exchange_client_credentials()
            .add_scope(Scope::new("inventory:write".into()))
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(token.scopes().unwrap()[0].as_str(), "inventory:write");
        let claims = verify(&app, &keys, token.access_token().secret()).unwrap();
        assert_eq!(claims.scope, "inventory:write");
    }
}

/// A Python virtualenv with Authlib, made once per machine under `target/`.
fn python_with_authlib() -> std::path::PathBuf {
    use std::process::Command;
    static VENV: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let venv = root.join("target/oauth-venv");
        let python = venv.join("bin/python");
        let requirements = root.join("tests/oauth/requirements.txt");
        let stamp = venv.join("requirements.txt");
        let wanted = std::fs::read_to_string(&requirements).unwrap();
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(ok.success(), "python3 -m venv failed");
            let ok = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements)
                .status()
                .unwrap();
            assert!(
                ok.success(),
                "pip install -r tests/oauth/requirements.txt failed"
            );
            std::fs::write(&stamp, wanted).unwrap();
        }
        python
    })
    .clone()
}

#[tokio::test]
async fn authlib_gets_tokens_and_verifies_them_against_the_jwks() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let c = client_for(&app, &f).await;
    let python = tokio::task::spawn_blocking(python_with_authlib)
        .await
        .unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("oauth/authlib_client.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .args([
            app.url("").as_str(),
            &c.client_id,
            &c.secret,
            "inventory:read",
            "steward-gateway",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "authlib failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    for method in ["client_secret_basic", "client_secret_post"] {
        assert_eq!(result[method]["claims"]["client_id"], c.client_id.as_str());
        assert_eq!(result[method]["claims"]["scope"], "inventory:read");
    }
}

/// Signing keys are sealed at rest: the stored bytes are not the seed, a copy
/// of the database opens nothing without the key-encryption key, and rotating
/// that key rewraps every signing key at start.
#[tokio::test]
async fn signing_keys_are_sealed_and_their_key_rotates() {
    use steward_control::oauth::signing;
    use steward_control::sealing::{Kek, Sealer};
    let app = spawn_app().await;
    let (private, public, kek_id): (Vec<u8>, Vec<u8>, Option<String>) = sqlx::query_as(
        "SELECT private_key, public_key, kek_id FROM signing_keys WHERE retired_at IS NULL",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(kek_id.is_some());
    assert_eq!(private.len(), 12 + 32 + 16, "nonce, sealed seed, tag");
    for window in private.windows(32) {
        let seed: [u8; 32] = window.try_into().unwrap();
        let derived = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        assert_ne!(
            derived.as_bytes().as_slice(),
            public.as_slice(),
            "the seed is stored in the clear"
        );
    }

    // Another key-encryption key opens nothing, and says which key it needs.
    let ttl = time::Duration::hours(1);
    let a = Sealer::new(Kek::new([1; 32]), Vec::new());
    let e = signing::seal_stored(&app.pool, &a).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("STEWARD_PREVIOUS_KEY_ENCRYPTION_KEYS"),
        "{e}"
    );

    // With keys sealed under A, rotating to B with A as previous rewraps them.
    sqlx::query("DELETE FROM signing_keys")
        .execute(&app.pool)
        .await
        .unwrap();
    let signed = signing::active(&app.pool, &a, ttl).await.unwrap();
    let b = Sealer::new(Kek::new([2; 32]), vec![Kek::new([1; 32])]);
    assert_eq!(signing::seal_stored(&app.pool, &b).await.unwrap(), 1);
    assert_eq!(
        signing::seal_stored(&app.pool, &b).await.unwrap(),
        0,
        "already done"
    );
    let only_b = Sealer::new(Kek::new([2; 32]), Vec::new());
    let opened = signing::active(&app.pool, &only_b, ttl).await.unwrap();
    assert_eq!(opened.kid, signed.kid);
    assert_eq!(opened.key.to_bytes(), signed.key.to_bytes());
    assert!(
        signing::active(&app.pool, &a, ttl).await.is_err(),
        "A is retired"
    );
}
