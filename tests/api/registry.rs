use serde_json::{Value, json};
use steward_model::Role;
use steward_tests::{PASSWORD, TestApp, problem, spawn_app};

fn spec(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../specs/retail")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// An owner in the order team, a reviewer, and the team's id.
struct Org {
    owner: reqwest::Client,
    reviewer: reqwest::Client,
    admin: reqwest::Client,
    team: String,
}

async fn org(app: &TestApp) -> Org {
    let admin = app.as_role(Role::Admin).await;
    let team: Value = admin
        .post(app.api("/teams"))
        .json(&json!({"slug": "order-platform", "name": "Order Platform"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let team = team["id"].as_str().unwrap().to_string();
    let owner_id = app.create_user("owner@example.test", Role::Owner).await;
    admin
        .put(app.api(&format!("/teams/{team}/members/{owner_id}")))
        .send()
        .await
        .unwrap();
    let (owner, _) = app.sign_in("owner@example.test", PASSWORD).await;
    let reviewer = app.as_role(Role::Reviewer).await;
    Org {
        owner,
        reviewer,
        admin,
        team,
    }
}

async fn register(app: &TestApp, org: &Org) -> Value {
    let res = org
        .owner
        .post(app.api("/apis"))
        .json(
            &json!({"slug": "orders", "name": "Orders", "team_id": org.team, "tier": "critical",
                      "capability": "orders", "tags": ["ERP", "channels", "erp"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// The contract with `info.version` set to the version it is uploaded as.
fn as_version(text: &str, version: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        if !done && line.starts_with("  version: ") {
            out.push_str(&format!("  version: {version}\n"));
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

async fn upload(
    app: &TestApp,
    who: &reqwest::Client,
    version: &str,
    base_path: &str,
    file: &str,
) -> reqwest::Response {
    who.post(app.api("/apis/orders/versions"))
        .json(&json!({"version": version, "base_path": base_path, "upstream_url": "http://127.0.0.1:9/orders", "spec": as_version(&spec(file), version)}))
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, who: &reqwest::Client, path: &str, body: Value) -> reqwest::Response {
    who.post(app.api(path)).json(&body).send().await.unwrap()
}

/// Upload → submit → approve → publish, returning the version id.
async fn publish(
    app: &TestApp,
    org: &Org,
    version: &str,
    base_path: &str,
    file: &str,
    waiver: Option<&str>,
) -> (String, reqwest::Response) {
    let res = upload(app, &org.owner, version, base_path, file).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let res = post(
        app,
        &org.owner,
        &format!("/versions/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = post(
        app,
        &org.reviewer,
        &format!("/versions/{id}/review"),
        json!({"approve": true, "comment": "ok", "waiver": waiver}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = post(
        app,
        &org.owner,
        &format!("/versions/{id}/publish"),
        json!({}),
    )
    .await;
    (id, res)
}

#[tokio::test]
async fn an_api_goes_from_upload_through_review_to_publication() {
    let app = spawn_app().await;
    let org = org(&app).await;
    let api = register(&app, &org).await;
    assert_eq!(api["tags"], json!(["channels", "erp"]));
    assert_eq!(api["can_edit"], true);

    let res = upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml").await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "draft");
    assert_eq!(v["lint_errors"], 0, "{}", v["lint"]);
    assert_eq!(v["actions"], json!(["submit"]));
    let id = v["id"].as_str().unwrap();

    // Separation of duties: the uploader cannot review, a viewer cannot either.
    post(
        &app,
        &org.owner,
        &format!("/versions/{id}/submit"),
        json!({}),
    )
    .await;
    let p = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/review"),
            json!({"approve": true}),
        )
        .await,
        403,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("review"));
    let viewer = app.as_role(Role::Viewer).await;
    problem(
        post(
            &app,
            &viewer,
            &format!("/versions/{id}/review"),
            json!({"approve": true}),
        )
        .await,
        403,
    )
    .await;
    // Publishing before approval is an illegal transition that says what is allowed.
    let p = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/publish"),
            json!({}),
        )
        .await,
        409,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("needs state approved"),
        "{p}"
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("allows only: approve, reject"),
        "{p}"
    );

    let res = post(
        &app,
        &org.reviewer,
        &format!("/versions/{id}/review"),
        json!({"approve": true, "comment": "looks good"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        &app,
        &org.owner,
        &format!("/versions/{id}/publish"),
        json!({}),
    )
    .await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "published");
    let api: Value = org
        .owner
        .get(app.api("/apis/orders"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["current_version"], "1.0.0");

    for action in [
        "version.upload",
        "version.submit",
        "version.approve",
        "version.publish",
        "api.create",
    ] {
        assert_eq!(app.audit_count(action).await, 1, "{action}");
    }
    let spec_res = org
        .owner
        .get(app.api(&format!("/versions/{id}/spec")))
        .send()
        .await
        .unwrap();
    assert_eq!(spec_res.headers()["content-type"], "application/yaml");
    assert_eq!(
        spec_res.text().await.unwrap(),
        as_version(&spec("orders-v1.yaml"), "1.0.0")
    );
}

#[tokio::test]
async fn breaking_changes_under_the_same_major_need_a_waiver() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let (_, res) = publish(&app, &org, "1.0.0", "/orders/v1", "orders-v1.yaml", None).await;
    assert_eq!(res.status(), 200);

    // The v2 contract under a 1.x number: the report, made at upload, shows
    // the breaks, flags the release number, and says a waiver is needed.
    let res = upload(&app, &org.owner, "1.2.0", "/orders/v1", "orders-v2.yaml").await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let report = &v["report"];
    assert_eq!(report["base_version"], "1.0.0");
    assert_eq!(report["base_state"], "published");
    assert_eq!(report["basis"], "the latest live version of major line 1");
    assert_eq!(report["needs_waiver"], true);
    assert!(
        report["semver"]
            .as_str()
            .unwrap()
            .contains("under a minor bump (1.2.0 over 1.0.0): release them as 2.0.0"),
        "{report}"
    );
    assert!(report["errors"].as_u64().unwrap() >= 3, "{report}");
    let ids: Vec<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for expected in [
        "new-required-request-property",
        "response-required-property-removed",
        "request-parameter-became-required",
    ] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    let res = post(
        &app,
        &org.owner,
        &format!("/versions/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);
    // An approval without a waiver would leave a version that can never be
    // published: it is refused, and says what to do instead.
    let p = problem(
        post(
            &app,
            &org.reviewer,
            &format!("/versions/{id}/review"),
            json!({"approve": true, "comment": "ok"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "waiver");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("or reject it"),
        "{p}"
    );

    // With a reviewer's waiver it goes through.
    let (_, res) = publish(
        &app,
        &org,
        "1.3.0",
        "/orders/v1",
        "orders-v2.yaml",
        Some("coordinated with all channel teams"),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    // A major bump needs a new base path: lint says so first...
    let v: Value = upload(&app, &org.owner, "2.0.0", "/orders/v1", "orders-v2.yaml")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        v["lint"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "base-path-major-version"),
        "{v}"
    );
    let id = v["id"].as_str().unwrap();
    problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/submit"),
            json!({}),
        )
        .await,
        409,
    )
    .await;
    // ...and publication refuses it even with that rule switched off.
    let res = org
        .admin
        .put(app.api("/lint/rules/base-path-major-version"))
        .json(&json!({"severity": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/submit"),
            json!({})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        post(
            &app,
            &org.reviewer,
            &format!("/versions/{id}/review"),
            json!({"approve": true})
        )
        .await
        .status(),
        200
    );
    let p = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/publish"),
            json!({}),
        )
        .await,
        409,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("new base path"),
        "{p}"
    );
    let (_, res) = publish(&app, &org, "2.0.1", "/orders/v2", "orders-v2.yaml", None).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// Until something of its major line is live, a version is compared with the
/// latest earlier one in any state but rejected, and says so: 1.1.0, uploaded
/// while 1.0.0 is still in review, shows its breaks against 1.0.0 at once.
#[tokio::test]
async fn a_report_compares_with_the_latest_earlier_version_until_one_is_live() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let res = upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml").await;
    let first: Value = res.json().await.unwrap();
    assert!(first["report"]["base_version"].is_null(), "{first}");
    let first_id = first["id"].as_str().unwrap();
    let res = post(
        &app,
        &org.owner,
        &format!("/versions/{first_id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);

    let res = upload(&app, &org.owner, "1.1.0", "/orders/v1", "orders-v2.yaml").await;
    let v: Value = res.json().await.unwrap();
    let report = &v["report"];
    assert_eq!(report["base_version"], "1.0.0", "{report}");
    assert_eq!(report["base_state"], "in_review");
    assert_eq!(
        report["basis"],
        "the latest earlier version (in review); nothing of major line 1 is live yet"
    );
    assert!(report["errors"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(v["breaking"], report["errors"]);
    assert!(
        report["semver"]
            .as_str()
            .unwrap()
            .contains("under a minor bump"),
        "{report}"
    );
    // Nothing is live, so nothing needs waiving: the reviewer is not asked.
    assert_eq!(report["needs_waiver"], false);

    // A patch with breaking changes is flagged the same way.
    let res = upload(&app, &org.owner, "1.1.1", "/orders/v1", "orders-v1.yaml").await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["report"]["base_version"], "1.1.0");
    assert!(
        v["report"]["semver"]
            .as_str()
            .unwrap()
            .starts_with(&format!(
                "{} breaking change(s) under a patch bump (1.1.1 over 1.1.0)",
                v["report"]["errors"]
            )),
        "{v}"
    );
}

/// Review never dead-ends: a reviewer can send an approved version back, and
/// its owner can withdraw it to draft; both clear the approval and are audited.
#[tokio::test]
async fn approved_versions_can_be_sent_back_or_withdrawn() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let res = upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml").await;
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let to = |action: &str| format!("/versions/{id}/{action}");
    assert_eq!(
        post(&app, &org.owner, &to("submit"), json!({}))
            .await
            .status(),
        200
    );
    let approve = json!({"approve": true, "comment": "looks right"});
    assert_eq!(
        post(&app, &org.reviewer, &to("review"), approve.clone())
            .await
            .status(),
        200
    );
    let v: Value = org
        .reviewer
        .get(app.api(&format!("/versions/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["actions"], json!(["send-back"]), "{v}");

    // Sending back needs a reason, and a reviewer.
    let p = problem(
        post(
            &app,
            &org.reviewer,
            &to("send-back"),
            json!({"comment": " "}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "comment");
    problem(
        post(
            &app,
            &org.owner,
            &to("send-back"),
            json!({"comment": "mine"}),
        )
        .await,
        403,
    )
    .await;
    let res = post(
        &app,
        &org.reviewer,
        &to("send-back"),
        json!({"comment": "pricing changed; look again"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "in_review");
    assert!(v["reviewed_by"].is_null());
    assert_eq!(app.audit_count("version.send_back").await, 1);

    // The owner withdraws it to draft (a viewer cannot), and may submit again.
    let viewer = app.as_role(Role::Viewer).await;
    problem(post(&app, &viewer, &to("withdraw"), json!({})).await, 403).await;
    let res = post(&app, &org.owner, &to("withdraw"), json!({})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "draft");
    assert_eq!(app.audit_count("version.withdraw").await, 1);
    let p = problem(
        post(&app, &org.owner, &to("withdraw"), json!({})).await,
        409,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("withdraw needs state in_review or approved"),
        "{p}"
    );
    assert_eq!(
        post(&app, &org.owner, &to("submit"), json!({}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn deprecation_needs_a_future_sunset_and_a_successor_and_retirement_waits_for_it() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let (v1, _) = publish(&app, &org, "1.0.0", "/orders/v1", "orders-v1.yaml", None).await;
    let (v2, res) = publish(&app, &org, "2.0.0", "/orders/v2", "orders-v2.yaml", None).await;
    assert_eq!(res.status(), 200);

    let past = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{v1}/deprecate"),
            json!({"sunset_date": "2020-01-01", "successor_id": v2}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(past["errors"][0]["field"], "sunset_date");
    let bad_successor = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{v1}/deprecate"),
            json!({"sunset_date": "2099-01-01", "successor_id": v1}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(bad_successor["errors"][0]["field"], "successor_id");
    let res = post(
        &app,
        &org.owner,
        &format!("/versions/{v1}/deprecate"),
        json!({"sunset_date": "2099-01-01", "successor_id": v2}),
    )
    .await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "deprecated");
    assert_eq!(v["successor"], "2.0.0");

    let p = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{v1}/retire"),
            json!({}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("sunset date"));
    problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{v1}/retire"),
            json!({"override_reason": "please"}),
        )
        .await,
        403,
    )
    .await;
    let res = post(
        &app,
        &org.admin,
        &format!("/versions/{v1}/retire"),
        json!({"override_reason": "all consumers migrated"}),
    )
    .await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "retired");
    assert_eq!(v["retire_reason"], "all consumers migrated");
    assert_eq!(app.audit_count("version.retire").await, 1);
}

#[tokio::test]
async fn bad_contracts_get_422_with_line_column_or_pointer() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let send = |text: &str| {
        org.owner
            .post(app.api("/apis/orders/versions"))
            .json(&json!({"version": "1.0.0", "base_path": "/orders/v1", "upstream_url": "http://127.0.0.1:9", "spec": text}))
            .send()
    };
    let p = problem(
        send("openapi: 3.0.3\ninfo:\n  title: [unclosed\n")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "spec");
    assert!(
        p["errors"][0]["line"].as_u64().is_some() && p["errors"][0]["column"].as_u64().is_some(),
        "{p}"
    );
    // The position is said once, as fields; the message does not repeat it.
    let message = p["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("syntax error: "), "{message}");
    assert!(!message.contains("line"), "{message}");
    let p = problem(
        send("{\"openapi\": \"3.0.3\",\n \"info\": }")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["line"], 2);
    let p = problem(
        send("swagger: '2.0'\ninfo: {title: x, version: 1.0.0}\npaths: {}\n")
            .await
            .unwrap(),
        422,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("Swagger 2.0"), "{p}");
    let remote = "openapi: 3.0.3\ninfo: {title: x, version: 1.0.0}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: 'https://evil.example/r.yaml'\n";
    let p = problem(send(remote).await.unwrap(), 422).await;
    assert!(p["detail"].as_str().unwrap().contains("remote"), "{p}");
    let p = problem(send("openapi: 3.0.3\n- a\n").await.unwrap(), 422).await;
    assert!(p["errors"][0]["line"].as_u64().is_some(), "{p}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing stored");
}

/// A document that breaks a rule of the spec is still stored and reviewed, the way
/// oasdiff still compares it; lint reports the violation at error severity
/// (`oas3-schema`) with its pointer and line, and the publish gate sees it.
#[tokio::test]
async fn spec_violations_are_lint_errors_not_refusals() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let text = "openapi: 3.0.3\ninfo: {title: x, version: 1.0.0}\npaths:\n  /a:\n    get:\n      operationId: getA\n      responses: 12\n";
    let res = org
        .owner
        .post(app.api("/apis/orders/versions"))
        .json(&json!({"version": "1.0.0", "base_path": "/orders/v1", "upstream_url": "http://127.0.0.1:9", "spec": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let lint = v["lint"].as_array().unwrap();
    let hit = lint
        .iter()
        .find(|f| f["rule"] == "oas3-schema")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(hit["severity"], "error");
    assert_eq!(hit["pointer"], "/paths/~1a/get/responses");
    assert_eq!(hit["line"], 7);
}

#[tokio::test]
async fn only_owners_of_the_team_and_admins_change_an_api() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let outsider = app.as_role(Role::Owner).await;
    problem(
        upload(&app, &outsider, "1.0.0", "/orders/v1", "orders-v1.yaml").await,
        403,
    )
    .await;
    problem(
        upload(&app, &org.reviewer, "1.0.0", "/orders/v1", "orders-v1.yaml").await,
        403,
    )
    .await;
    let viewer = app.as_role(Role::Viewer).await;
    let p = problem(
        post(
            &app,
            &viewer,
            "/apis",
            json!({"slug": "x-api", "name": "X", "team_id": org.team}),
        )
        .await,
        403,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("owner"));
    let p = problem(
        post(
            &app,
            &outsider,
            "/apis",
            json!({"slug": "x-api", "name": "X", "team_id": org.team}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "team_id");
    let res = outsider
        .patch(app.api("/apis/orders"))
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = org
        .owner
        .patch(app.api("/apis/orders"))
        .json(&json!({"description": "Order capture", "tier": "standard"}))
        .send()
        .await
        .unwrap();
    let api: Value = res.json().await.unwrap();
    assert_eq!(api["tier"], "standard");
    // Everyone signed in can read, search and filter.
    let found: Value = viewer
        .get(app.api("/apis?q=capture&tier=standard&team=order-platform"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let none: Value = viewer
        .get(app.api("/apis?tier=critical"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);
    let dupe = post(
        &app,
        &org.owner,
        "/apis",
        json!({"slug": "orders", "name": "Again", "team_id": org.team}),
    )
    .await;
    assert_eq!(problem(dupe, 409).await["errors"][0]["field"], "slug");
}

#[tokio::test]
async fn admins_tune_the_lint_ruleset_and_lint_errors_block_submission() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let rules: Value = org
        .owner
        .get(app.api("/lint/rules"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(rules.as_array().unwrap().len() >= 20);

    let sloppy = "openapi: 3.0.3\ninfo: {title: Sloppy, version: 1.0.0}\npaths:\n  /Orders/:\n    get:\n      responses:\n        '200': {description: ok}\n";
    let res = org.owner
        .post(app.api("/apis/orders/versions"))
        .json(&json!({"version": "1.0.0", "base_path": "/orders/v1", "upstream_url": "http://127.0.0.1:9", "spec": sloppy}))
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert!(v["lint_errors"].as_i64().unwrap() > 0);
    let first_rule = v["lint"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "error")
        .unwrap()["rule"]
        .as_str()
        .unwrap()
        .to_string();
    let id = v["id"].as_str().unwrap();
    let p = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/submit"),
            json!({}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("lint error"));

    problem(
        org.owner
            .put(app.api(&format!("/lint/rules/{first_rule}")))
            .json(&json!({"severity": null}))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let res = org
        .admin
        .put(app.api(&format!("/lint/rules/{first_rule}")))
        .json(&json!({"severity": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let rules: Value = org
        .owner
        .get(app.api("/lint/rules"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rule = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == first_rule.as_str())
        .unwrap();
    assert!(rule["severity"].is_null());
    assert_eq!(app.audit_count("lint_rule.update").await, 1);
}

#[tokio::test]
async fn a_rejected_version_goes_no_further() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let v: Value = upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml")
        .await
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap();
    post(
        &app,
        &org.owner,
        &format!("/versions/{id}/submit"),
        json!({}),
    )
    .await;
    let res = post(
        &app,
        &org.reviewer,
        &format!("/versions/{id}/review"),
        json!({"approve": false, "comment": "pagination is missing"}),
    )
    .await;
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["state"], "rejected");
    assert_eq!(v["review_comment"], "pagination is missing");
    let p = problem(
        post(
            &app,
            &org.owner,
            &format!("/versions/{id}/publish"),
            json!({}),
        )
        .await,
        409,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("no further transitions"),
        "{p}"
    );
    assert_eq!(app.audit_count("version.reject").await, 1);
    // The same number cannot be uploaded again: versions are immutable.
    let p = problem(
        upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml").await,
        409,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "version");
}

#[tokio::test]
async fn any_two_versions_can_be_compared() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let a: Value = upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml")
        .await
        .json()
        .await
        .unwrap();
    let b: Value = upload(&app, &org.owner, "2.0.0", "/orders/v2", "orders-v2.yaml")
        .await
        .json()
        .await
        .unwrap();
    let url = format!(
        "/apis/orders/diff?base={}&revision={}",
        a["id"].as_str().unwrap(),
        b["id"].as_str().unwrap()
    );
    let report: Value = org
        .reviewer
        .get(app.api(&url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["base_version"], "1.0.0");
    assert!(report["errors"].as_u64().unwrap() > 0);
    let same = format!(
        "/apis/orders/diff?base={0}&revision={0}",
        a["id"].as_str().unwrap()
    );
    let report: Value = org
        .reviewer
        .get(app.api(&same))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["changes"], json!([]));
}

/// The gateway routes by the longest prefix: another API published at
/// `/v1/orders/returns` would take over part of `/v1/orders`, and one at `/v1`
/// would take the rest of `/v1`; a base path may neither nest inside another
/// API's live one nor contain it.
#[tokio::test]
async fn a_base_path_may_not_nest_in_another_apis() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let (_, res) = publish(&app, &org, "1.0.0", "/v1/orders", "orders-v1.yaml", None).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = org
        .owner
        .post(app.api("/apis"))
        .json(
            &json!({"slug": "returns", "name": "Returns", "team_id": org.team, "tier": "standard",
                      "capability": "returns"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    for (version, base_path) in [("1.0.0", "/v1/orders/returns"), ("1.0.1", "/v1")] {
        let res = org
            .owner
            .post(app.api("/apis/returns/versions"))
            .json(&json!({"version": version, "base_path": base_path, "upstream_url": "http://127.0.0.1:9/returns",
                          "spec": as_version(&spec("returns-v1.yaml"), version)}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let v: Value = res.json().await.unwrap();
        let id = v["id"].as_str().unwrap();
        let res = post(
            &app,
            &org.owner,
            &format!("/versions/{id}/submit"),
            json!({}),
        )
        .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let res = post(
            &app,
            &org.reviewer,
            &format!("/versions/{id}/review"),
            json!({"approve": true}),
        )
        .await;
        assert_eq!(res.status(), 200);
        let p = problem(
            post(
                &app,
                &org.owner,
                &format!("/versions/{id}/publish"),
                json!({}),
            )
            .await,
            409,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("overlaps /v1/orders"),
            "{base_path}: {p}"
        );
    }
}

/// Credentials in an upstream URL reach the gateway, and nowhere else: not the
/// version's view, nor the audit trail.
#[tokio::test]
async fn credentials_in_an_upstream_url_are_never_shown_or_audited() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let res = org
        .owner
        .post(app.api("/apis/orders/versions"))
        .json(&json!({"version": "1.0.0", "base_path": "/orders/v1",
            "upstream_url": "http://erp:s3cret-pw@127.0.0.1:9/orders",
            "spec": as_version(&spec("orders-v1.yaml"), "1.0.0")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let text = res.text().await.unwrap();
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(text.contains("http://erp:***@127.0.0.1:9/orders"), "{text}");
    let stored: String = sqlx::query_scalar("SELECT upstream_url FROM api_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(stored.contains("s3cret-pw"), "the gateway still needs them");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE before::text LIKE '%s3cret%' OR after::text LIKE '%s3cret%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 0);
}

/// The review queue lists what waits, oldest first, and tells the uploader
/// that someone else must review it.
#[tokio::test]
async fn the_review_queue_lists_what_waits_for_a_reviewer() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    for (version, file) in [("1.0.0", "orders-v1.yaml"), ("1.1.0", "orders-v2.yaml")] {
        let res = upload(&app, &org.owner, version, "/orders/v1", file).await;
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let res = post(
            &app,
            &org.owner,
            &format!("/versions/{id}/submit"),
            json!({}),
        )
        .await;
        assert_eq!(res.status(), 200);
    }
    let queue = |who: &reqwest::Client| {
        let url = app.api("/reviews");
        let who = who.clone();
        async move {
            who.get(url)
                .send()
                .await
                .unwrap()
                .json::<Vec<Value>>()
                .await
                .unwrap()
        }
    };
    let seen = queue(&org.reviewer).await;
    let versions: Vec<&str> = seen
        .iter()
        .map(|i| i["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.1.0"], "oldest first");
    assert!(
        seen.iter()
            .all(|i| i["yours"] == false && i["api_slug"] == "orders")
    );
    assert!(
        seen[1]["semver"].as_str().unwrap().contains("minor bump"),
        "{}",
        seen[1]
    );
    assert!(queue(&org.owner).await.iter().all(|i| i["yours"] == true));

    // The Overview tells each whom it concerns: the reviewer that two wait,
    // the owner (who may not review their own) nothing yet, then the decisions.
    let notices = |who: &reqwest::Client| {
        let url = app.api("/overview");
        let who = who.clone();
        async move {
            let o: Value = who.get(url).send().await.unwrap().json().await.unwrap();
            o["notices"].as_array().cloned().unwrap_or_default()
        }
    };
    let seen = notices(&org.reviewer).await;
    assert_eq!(seen[0]["text"], "2 versions await your review", "{seen:?}");
    assert_eq!(seen[0]["href"], "/reviews");
    assert_eq!(notices(&org.owner).await, Vec::<Value>::new());
    let (first, second) = (
        queue(&org.reviewer).await[0]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        queue(&org.reviewer).await[1]["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let res = post(
        &app,
        &org.reviewer,
        &format!("/versions/{first}/review"),
        json!({"approve": true, "comment": "fine"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        &app,
        &org.reviewer,
        &format!("/versions/{second}/review"),
        json!({"approve": false, "comment": "a major bump, please"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let told: Vec<(String, String)> = notices(&org.owner)
        .await
        .iter()
        .map(|n| {
            (
                n["text"].as_str().unwrap().to_string(),
                n["tone"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(
        told.iter().any(
            |(t, tone)| t.ends_with("rejected Orders 1.1.0: “a major bump, please”")
                && tone == "bad"
        ),
        "{told:?}"
    );
    assert!(
        told.iter().any(
            |(t, tone)| t.contains("approved (ready to publish) Orders 1.0.0") && tone == "good"
        ),
        "{told:?}"
    );
    assert_eq!(
        notices(&org.reviewer).await,
        Vec::<Value>::new(),
        "nothing waits any more"
    );
}

/// The version defaults to the contract's `info.version`; a version that
/// contradicts it is refused on the field, with both numbers.
#[tokio::test]
async fn the_version_comes_from_the_contract_and_must_agree_with_it() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let send = |version: Option<&str>| {
        let mut body = json!({"base_path": "/orders/v1", "upstream_url": "http://127.0.0.1:9/orders",
            "spec": as_version(&spec("orders-v1.yaml"), "1.3.0")});
        if let Some(v) = version {
            body["version"] = json!(v);
        }
        org.owner
            .post(app.api("/apis/orders/versions"))
            .json(&body)
            .send()
    };
    let p = problem(send(Some("1.2.0")).await.unwrap(), 422).await;
    assert_eq!(p["errors"][0]["field"], "version");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("info.version is 1.3.0: upload it as 1.3.0, or change info.version to 1.2.0"),
        "{p}"
    );
    let res = send(None).await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["version"], "1.3.0");
    let res = send(Some("")).await.unwrap();
    assert_eq!(res.status(), 409, "1.3.0 exists now");
}

/// Through the REST API as the console reads it: a version's contract as a
/// reference, with the line a finding's pointer names; every report carries
/// why each of its checks breaks clients; the APIs list filters by version state.
#[tokio::test]
async fn a_contract_reads_as_an_outline_and_reports_explain_their_checks() {
    let app = spawn_app().await;
    let org = org(&app).await;
    register(&app, &org).await;
    let a: Value = upload(&app, &org.owner, "1.0.0", "/orders/v1", "orders-v1.yaml")
        .await
        .json()
        .await
        .unwrap();
    let b: Value = upload(&app, &org.owner, "2.0.0", "/orders/v2", "orders-v2.yaml")
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap();
    let get = |path: String| {
        let who = org.reviewer.clone();
        let url = app.api(&path);
        async move { who.get(url).send().await.unwrap() }
    };
    let outline: Value = get(format!("/versions/{id}/outline?at=/paths/~1orders/get"))
        .await
        .json()
        .await
        .unwrap();
    let ops = outline["outline"]["operations"].as_array().unwrap();
    let list = ops
        .iter()
        .find(|o| o["method"] == "GET" && o["path"] == "/orders")
        .expect("GET /orders in the outline");
    assert_eq!(outline["at_line"], list["line"], "{outline}");
    assert!(list["line"].as_u64().unwrap() > 1);
    assert!(
        ops.iter()
            .any(|o| !o["responses"].as_array().unwrap().is_empty()),
        "responses are outlined"
    );
    let res = get(format!("/versions/{id}/outline?at={}", "/x".repeat(1001))).await;
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "at");

    let url = format!(
        "/apis/orders/diff?base={id}&revision={}",
        b["id"].as_str().unwrap()
    );
    let report: Value = get(url).await.json().await.unwrap();
    let checks: std::collections::BTreeSet<&str> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let explained: std::collections::BTreeSet<&str> = report["guidance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            assert!(
                !g["why"].as_str().unwrap().is_empty()
                    && !g["what_to_do"].as_str().unwrap().is_empty()
            );
            g["check"].as_str().unwrap()
        })
        .collect();
    assert!(!checks.is_empty());
    assert_eq!(
        checks, explained,
        "each check in the report is explained once"
    );

    // Nothing is in review yet; once 1.0.0 is submitted, the filter finds its API.
    let slugs = |res: reqwest::Response| async move {
        res.json::<Vec<Value>>()
            .await
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(
        slugs(get("/apis?state=in_review".into()).await)
            .await
            .is_empty()
    );
    let res = post(
        &app,
        &org.owner,
        &format!("/versions/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        slugs(get("/apis?state=in_review".into()).await).await,
        ["orders"]
    );
    assert_eq!(
        problem(get("/apis?state=lost".into()).await, 422).await["errors"][0]["field"],
        "query"
    );
}
