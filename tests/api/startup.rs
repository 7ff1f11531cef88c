use std::process::Command;

fn steward_binary() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug/steward");
    assert!(
        path.exists(),
        "build the binary first (cargo build --bin steward); .ci/run does"
    );
    path
}

#[test]
fn unreachable_postgres_gives_one_clear_line_and_a_failure_exit() {
    let out = Command::new(steward_binary())
        .arg("migrate")
        .env(
            "DATABASE_URL",
            "postgres://postgres:secret@127.0.0.1:1/steward",
        )
        .env("STEWARD_LOG", "off")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line, got: {stderr}");
    assert!(
        lines[0].contains("cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/steward")
    );
    assert!(lines[0].contains("DATABASE_URL"));
    assert!(!stderr.contains("secret"), "the password is never printed");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn help_documents_every_setting() {
    let out = Command::new(steward_binary())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DATABASE_URL",
        "STEWARD_CONSOLE_ADDR",
        "STEWARD_GATEWAY_ADDR",
        "STEWARD_SECURE_COOKIES",
        "LEPTOS_SITE_ROOT",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
    // The configuration table and `--help` name the same variables.
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/steward/CONFIGURATION.md"),
    )
    .unwrap();
    let names = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()))
            .filter(|w| {
                w.starts_with("STEWARD_") || *w == "DATABASE_URL" || *w == "LEPTOS_SITE_ROOT"
            })
            .map(str::to_string)
            .collect()
    };
    let (in_help, mut in_doc) = (names(&help), names(&doc));
    // The log filter is read by the tracing subscriber before the CLI is parsed.
    assert!(in_doc.remove("STEWARD_LOG"));
    assert_eq!(
        in_help.difference(&in_doc).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in --help, not in CONFIGURATION.md"
    );
    assert_eq!(
        in_doc.difference(&in_help).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in CONFIGURATION.md, not in --help"
    );
}

#[tokio::test]
async fn cli_creates_users_and_verifies_the_audit_chain() {
    let app = steward_tests::spawn_app().await;
    let bin = steward_binary();
    let out = Command::new(&bin)
        .args([
            "admin",
            "create-user",
            "--email",
            "ops@example.test",
            "--name",
            "Ops",
            "--role",
            "admin",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("STEWARD_LOG", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("generated password (shown once): "))
        .expect("a generated password is printed once")
        .to_string();
    let (_, res) = app.sign_in("ops@example.test", &password).await;
    assert_eq!(res.status(), 200);

    let out = Command::new(&bin)
        .args([
            "admin",
            "reset-password",
            "--email",
            "ops@example.test",
            "--password",
            "a brand new passphrase",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env("STEWARD_LOG", "off")
        .output()
        .unwrap();
    assert!(out.status.success());
    let (_, res) = app
        .sign_in("ops@example.test", "a brand new passphrase")
        .await;
    assert_eq!(res.status(), 200);

    let verify = |app: &steward_tests::TestApp| {
        Command::new(&bin)
            .args(["audit", "verify"])
            .env("DATABASE_URL", &app.database_url)
            .env("STEWARD_LOG", "off")
            .output()
            .unwrap()
    };
    let out = verify(&app);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain intact"));

    crate::audit::tamper(&app, 2).await;
    let out = verify(&app);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BROKEN at entry 2"));
}

#[test]
fn diff_and_lint_work_on_files_without_a_database() {
    let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/retail");
    let out = Command::new(steward_binary())
        .args(["diff", "--format", "json"])
        .arg(specs.join("orders-v1.yaml"))
        .arg(specs.join("orders-v2.yaml"))
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "breaking changes fail the build"
    );
    let changes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "api-removed-without-deprecation")
    );

    let out = Command::new(steward_binary())
        .args(["diff", "--format", "markdown"])
        .arg(specs.join("orders-v1.yaml"))
        .arg(specs.join("orders-v1-1.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "additions only: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = Command::new(steward_binary())
        .args(["lint", "--base-path", "/orders/v1"])
        .arg(specs.join("orders-v1.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let broken = std::env::temp_dir().join(format!("steward-broken-{}.yaml", std::process::id()));
    std::fs::write(&broken, "openapi: 3.0.3\ninfo: [\n").unwrap();
    let out = Command::new(steward_binary())
        .arg("lint")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line"));
    let _ = std::fs::remove_file(broken);
}

#[test]
fn steward_checks_prints_the_whole_catalogue_and_the_lint_rules() {
    let out = Command::new(steward_binary())
        .args(["checks", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let catalogue: Vec<&str> = steward_contracts::catalogue::CHECKS
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, catalogue);
    let removed = &doc["checks"][ids
        .iter()
        .position(|id| *id == "request-parameter-removed")
        .unwrap()];
    assert_eq!(removed["level"], "warning");
    assert_eq!(removed["family"], "parameters");
    assert_eq!(
        doc["lint_rules"].as_array().unwrap().len(),
        steward_contracts::lint::rules().len()
    );
    let markdown = Command::new(steward_binary())
        .args(["checks", "--format", "markdown"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        text.contains("| `response-property-type-changed` | error | responses |"),
        "{text}"
    );
}

/// `steward diff` reads a document that breaks a rule of the spec, as oasdiff
/// does: it prints its findings, and a note on stderr says what is wrong and where.
#[test]
fn diff_reads_past_spec_violations_and_says_so() {
    let dir = std::env::temp_dir().join(format!("steward-lenient-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = dir.join("base.yaml");
    let rev = dir.join("rev.yaml");
    std::fs::write(
        &base,
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /orders:\n    get:\n      parameters:\n        - {name: limit, in: query, schema: {type: integer}}\n      responses: {'200': {description: ok}}\n",
    )
    .unwrap();
    // No `responses` at all, which 3.0 requires, and the query parameter is gone.
    std::fs::write(
        &rev,
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /orders:\n    get:\n      summary: list\n",
    )
    .unwrap();
    let out = Command::new(steward_binary())
        .args(["diff", "--format", "json"])
        .arg(&base)
        .arg(&rev)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a breaking change was found");
    let changes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"request-parameter-removed"), "{ids:?}");
    assert!(ids.contains(&"response-success-status-removed"), "{ids:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rev.yaml:5: an operation must have `responses`")
            && stderr.contains("/paths/~1orders/get/responses")
            && stderr.contains("oas3-schema"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The table of checks in the docs is the catalogue's own output, kept current.
#[test]
fn the_checks_table_in_the_docs_is_current() {
    let out = Command::new(steward_binary())
        .args(["checks", "--format", "markdown"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/contracts/CHECKS.md"),
    )
    .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "regenerate it: steward checks --format markdown > server/contracts/CHECKS.md"
    );
}
