use reqwest::header::SET_COOKIE;
use std::time::{Duration, Instant};
use steward_model::Role;
use steward_tests::{PASSWORD, problem, spawn_app};

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("steward_session="))
        .map(str::to_string)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn signing_in_sets_an_httponly_samesite_lax_session_cookie() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Admin).await;
    let (client, res) = app.sign_in("ADA@example.test ", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res).expect("session cookie");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "not secure unless configured");
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.test");
    assert_eq!(me["role"], "admin");
    let me: serde_json::Value = client
        .get(app.api("/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["auth"], "session");
}

#[tokio::test]
async fn the_session_id_is_rotated_at_sign_in() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let (client, first) = app.sign_in("ada@example.test", PASSWORD).await;
    let first = cookie_value(&session_cookie(&first).unwrap());
    let second = client
        .post(app.api("/session"))
        .json(&serde_json::json!({"email": "ada@example.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let second = cookie_value(&session_cookie(&second).expect("a new cookie"));
    assert_ne!(first, second);
    // The old id is dead.
    let res = app
        .client()
        .get(app.api("/me"))
        .header("cookie", first)
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer_and_cost() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    // Warm up so the decoy hash is computed outside the measurement.
    let _ = app
        .sign_in("warmup@example.test", "whatever-password")
        .await;

    // Alternate the two and keep each one's fastest answer: load from tests
    // running beside this one only ever adds time, so the minimum is the
    // closest reading of what each path costs. Three wrong passwords stay
    // under the account's throttle. Every try gets the same answer.
    let mut wrong_time = Duration::MAX;
    let mut unknown_time = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let (_, wrong) = app.sign_in("ada@example.test", "not the password").await;
        wrong_time = wrong_time.min(started.elapsed());
        let started = Instant::now();
        let (_, unknown) = app.sign_in("nobody@example.test", "not the password").await;
        unknown_time = unknown_time.min(started.elapsed());

        let wrong = problem(wrong, 401).await;
        let unknown = problem(unknown, 401).await;
        assert_eq!(wrong, unknown);
        assert_eq!(wrong["detail"], "email or password is incorrect");
    }
    // Both paths run one Argon2id verification; without the decoy the unknown
    // email would answer in a fraction of the time.
    assert!(
        unknown_time * 3 > wrong_time,
        "unknown email answered in {unknown_time:?}, wrong password in {wrong_time:?}"
    );
}

#[tokio::test]
async fn five_failures_in_fifteen_minutes_throttle_the_account_with_retry_after() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    for _ in 0..5 {
        let (_, res) = app.sign_in("ada@example.test", "wrong wrong wrong").await;
        problem(res, 401).await;
    }
    // Even the right password is refused while throttled.
    let (_, res) = app.sign_in("ada@example.test", PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 800 && retry <= 900, "retry-after {retry}");
    problem(res, 429).await;
}

#[tokio::test]
async fn many_failures_from_one_client_throttle_the_client() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    for i in 0..20 {
        let (_, res) = app
            .sign_in(&format!("guess{i}@example.test"), "wrong wrong wrong")
            .await;
        problem(res, 401).await;
    }
    let (_, res) = app.sign_in("ada@example.test", PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 429).await;
}

/// Parallel guesses are counted one by one: of fifty sent at once, exactly
/// the allowance of five reach the password check, and the rest get 429.
#[tokio::test]
async fn parallel_guesses_cannot_race_the_throttle() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = app.client();
        let url = app.api("/session");
        guesses.spawn(async move {
            client
                .post(url)
                .json(&serde_json::json!({"email": "ada@example.test", "password": format!("guess number {i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let statuses = guesses.join_all().await;
    let count = |code| statuses.iter().filter(|s| **s == code).count();
    assert_eq!(count(401), 5, "{statuses:?}");
    assert_eq!(count(429), 45, "{statuses:?}");
}

/// A stranger's guesses spend the stranger's allowance: the owner, from
/// another address (127.0.0.2 here), still signs in.
#[tokio::test]
async fn a_strangers_guesses_do_not_lock_the_owner_out() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let stranger = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let guess = async |password: &str| {
        stranger
            .post(app.api("/session"))
            .json(&serde_json::json!({"email": "ada@example.test", "password": password}))
            .send()
            .await
            .unwrap()
    };
    for _ in 0..5 {
        problem(guess("wrong wrong wrong").await, 401).await;
    }
    problem(guess(PASSWORD).await, 429).await;
    let (_, res) = app.sign_in("ada@example.test", PASSWORD).await;
    assert!(res.status().is_success(), "{}", res.status());
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let (client, res) = app.sign_in("ada@example.test", PASSWORD).await;
    let cookie = cookie_value(&session_cookie(&res).unwrap());
    let res = client.delete(app.api("/session")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .client()
        .get(app.api("/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
}

#[tokio::test]
async fn forged_and_expired_session_cookies_get_401() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let forged = app
        .client()
        .get(app.api("/me"))
        .header("cookie", "steward_session=AAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .await
        .unwrap();
    problem(forged, 401).await;
    let garbage = app
        .client()
        .get(app.api("/me"))
        .header("cookie", "steward_session=%%%not-a-session%%%")
        .send()
        .await
        .unwrap();
    problem(garbage, 401).await;

    let (client, _) = app.sign_in("ada@example.test", PASSWORD).await;
    assert_eq!(
        client.get(app.api("/me")).send().await.unwrap().status(),
        200
    );
    sqlx::query("UPDATE tower_sessions.session SET expiry_date = now() - interval '1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    problem(client.get(app.api("/me")).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn sessions_survive_a_server_restart() {
    let mut app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let (_, res) = app.sign_in("ada@example.test", PASSWORD).await;
    let cookie = cookie_value(&session_cookie(&res).unwrap());
    app.stop().await;
    app.start().await;
    let res = app
        .client()
        .get(app.api("/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_a_role_change_applies_at_once() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let id = app.create_user("vera@example.test", Role::Viewer).await;
    let (vera, _) = app.sign_in("vera@example.test", PASSWORD).await;
    problem(vera.get(app.api("/users")).send().await.unwrap(), 403).await;

    let res = admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        vera.get(app.api("/users")).send().await.unwrap().status(),
        200
    );

    let res = admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    problem(vera.get(app.api("/me")).send().await.unwrap(), 401).await;
    // Re-enabling does not revive the old session; a new sign-in is needed.
    admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"disabled": false}))
        .send()
        .await
        .unwrap();
    problem(vera.get(app.api("/me")).send().await.unwrap(), 401).await;
    let (_, res) = app.sign_in("vera@example.test", PASSWORD).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in() {
    let app = spawn_app().await;
    let admin = app.as_role(Role::Admin).await;
    let id = app.create_user("vera@example.test", Role::Viewer).await;
    admin
        .patch(app.api(&format!("/users/{id}")))
        .json(&serde_json::json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    let (_, res) = app.sign_in("vera@example.test", PASSWORD).await;
    problem(res, 401).await;
}

#[tokio::test]
async fn secure_cookies_are_marked_secure_when_configured() {
    let app = spawn_app().await;
    app.create_user("ada@example.test", Role::Viewer).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http = steward_server::app::HttpOptions {
        secure_cookies: true,
        session_idle: time::Duration::hours(1),
        ..Default::default()
    };
    let router =
        steward_server::control_plane(app.pool.clone(), &steward_tests::site_root(), addr, &http)
            .await
            .unwrap();
    let server = tokio::spawn(steward_server::serve_router(
        listener,
        router,
        std::future::pending(),
    ));
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/session"))
        .json(&serde_json::json!({"email": "ada@example.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&res).unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    server.abort();
}
