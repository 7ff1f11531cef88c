//! `steward diff`, `steward lint` and `steward checks`: the contract engines for
//! CI pipelines, on files, without a database. Exit codes: 0 clean, 1 threshold
//! reached, 2 the input could not be read or parsed (the binary).

use crate::cli::{ChecksArgs, DiffArgs, Format, LintArgs, Threshold};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use steward_contracts::{self as contracts, Contract};
use steward_model::{Level, Severity};

use contracts::loader::LOADER_STACK;

fn read_text(path: &Path) -> Result<String, ExitCode> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        ExitCode::from(2)
    })
}

fn read(path: &Path) -> Result<Contract, ExitCode> {
    contracts::loader::load(&read_text(path)?).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        ExitCode::from(2)
    })
}

fn read_model(path: &Path) -> Result<contracts::loader::Model, ExitCode> {
    let model = contracts::loader::load_for_diff(read_text(path)?).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        ExitCode::from(2)
    })?;
    // The comparison goes ahead, but the author should hear what the spec forbids.
    for v in &model.violations {
        let line = v.line.map(|l| format!(":{l}")).unwrap_or_default();
        eprintln!(
            "note: {}{line}: {} ({}; `steward lint` reports it as oas3-schema)",
            path.display(),
            v.message,
            if v.pointer.is_empty() {
                "/"
            } else {
                &v.pointer
            },
        );
    }
    Ok(model)
}

fn threshold_level(t: Threshold) -> Level {
    match t {
        Threshold::Error => Level::Error,
        Threshold::Warning => Level::Warning,
        Threshold::Info => Level::Info,
    }
}

fn threshold_severity(t: Threshold) -> Severity {
    match t {
        Threshold::Error => Severity::Error,
        Threshold::Warning => Severity::Warning,
        Threshold::Info => Severity::Info,
    }
}

pub fn diff(args: &DiffArgs) -> anyhow::Result<ExitCode> {
    let base_sunset = match &args.base_sunset {
        Some(s) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            Some(
                time::Date::parse(s, &format)
                    .map_err(|_| anyhow::anyhow!("--base-sunset must be YYYY-MM-DD"))?,
            )
        }
        None => None,
    };
    // Load both documents at once, and keep only the typed models: the raw trees
    // and line indexes are not needed for a diff and would double the memory.
    let (base, revision) = std::thread::scope(|scope| {
        let base = std::thread::Builder::new()
            .stack_size(LOADER_STACK)
            .spawn_scoped(scope, || read_model(&args.base));
        let revision = read_model(&args.revision);
        let base = match base {
            Ok(handle) => handle.join().unwrap_or(Err(ExitCode::from(2))),
            Err(_) => read_model(&args.base),
        };
        (base, revision)
    });
    let (base, revision) = match (base, revision) {
        (Ok(b), Ok(r)) => (b, r),
        (Err(code), _) | (_, Err(code)) => return Ok(code),
    };
    let changes = contracts::diff::diff(
        &base.doc,
        &revision.doc,
        &contracts::diff::DiffOptions { base_sunset },
    );
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&changes)?),
        Format::Markdown => print!("{}", contracts::diff::to_markdown(&changes)),
        Format::Text => print!("{}", contracts::diff::to_text(&changes)),
    }
    let limit = threshold_level(args.fail_on);
    let failed = changes.iter().any(|c| c.level >= limit);
    // The process ends here; freeing two large models piece by piece would only
    // delay the exit code that CI waits for.
    std::mem::forget((base, revision, changes));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn lint(args: &LintArgs) -> anyhow::Result<ExitCode> {
    let contract = match read(&args.spec) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let findings = contracts::lint::lint(
        &contract,
        &contracts::lint::LintOptions {
            base_path: args.base_path.clone(),
            overrides: Default::default(),
        },
    );
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
        Format::Markdown => {
            println!("### Lint: {} finding(s)\n", findings.len());
            if !findings.is_empty() {
                println!("| severity | rule | line | message |\n| --- | --- | --- | --- |");
                for f in &findings {
                    println!(
                        "| {:?} | `{}` | {} | {} |",
                        f.severity,
                        f.rule,
                        f.line.map(|l| l.to_string()).unwrap_or_default(),
                        f.message.replace('|', "\\\\|")
                    );
                }
            }
        }
        Format::Text => {
            for f in &findings {
                let at = f
                    .line
                    .map(|l| format!("{}:{l}", args.spec.display()))
                    .unwrap_or_else(|| args.spec.display().to_string());
                println!(
                    "{at}: {:?} {} {} ({})",
                    f.severity, f.rule, f.message, f.pointer
                );
            }
        }
    }
    let limit = threshold_severity(args.fail_on);
    Ok(if findings.iter().any(|f| f.severity >= limit) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The check catalogue and the lint rules, for people (text, Markdown) and
/// tools (JSON).
pub fn checks(args: &ChecksArgs) -> ExitCode {
    let checks = contracts::catalogue::CHECKS;
    let rules = contracts::lint::rules();
    // Written at once, and a closed pipe (`steward checks | head`) is not an error.
    let mut out = String::new();
    match args.format {
        Format::Json => {
            let checks: Vec<serde_json::Value> = checks
                .iter()
                .map(|c| {
                    let words = contracts::catalogue::guidance(c);
                    serde_json::json!({
                        "id": c.id,
                        "level": c.level,
                        "family": c.family.as_str(),
                        "description": c.description,
                        "oasdiff": c.oasdiff,
                        "why": words.why,
                        "what_to_do": words.fix,
                    })
                })
                .collect();
            let doc = serde_json::json!({ "checks": checks, "lint_rules": rules });
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
            );
        }
        Format::Markdown => {
            let shared = checks.iter().filter(|c| c.oasdiff).count();
            let _ = writeln!(
                out,
                "# Checks\n\nGenerated by `steward checks --format markdown`; a test keeps it current.\n"
            );
            let _ = writeln!(
                out,
                "## Breaking-change checks ({}, {shared} with the same id in oasdiff 1.15)\n",
                checks.len()
            );
            let _ = writeln!(
                out,
                "| id | level | family | oasdiff | description |\n| --- | --- | --- | --- | --- |"
            );
            for c in checks {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    c.id,
                    level_name(c.level),
                    c.family.as_str(),
                    if c.oasdiff { "same id" } else { "" },
                    c.description.replace('|', "\\|")
                );
            }
            // The words are shared by many checks: each said once, with its checks.
            let mut said: Vec<(contracts::catalogue::Guidance, Vec<&str>)> = Vec::new();
            for c in checks {
                let words = contracts::catalogue::guidance(c);
                match said.iter_mut().find(|(w, _)| *w == words) {
                    Some((_, ids)) => ids.push(c.id),
                    None => said.push((words, vec![c.id])),
                }
            }
            let _ = writeln!(
                out,
                "\n## Why a change breaks clients, and what to do\n\nThe console shows these beside each finding.\n"
            );
            for (words, ids) in &said {
                let _ = writeln!(
                    out,
                    "- **Why:** {}\n  **What to do:** {}\n  {} checks: {}\n",
                    words.why,
                    words.fix,
                    ids.len(),
                    ids.iter()
                        .map(|id| format!("`{id}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let _ = writeln!(out, "\n## Lint rules ({})\n", rules.len());
            let _ = writeln!(
                out,
                "| id | default severity | description |\n| --- | --- | --- |"
            );
            for r in &rules {
                let _ = writeln!(
                    out,
                    "| `{}` | {:?} | {} |",
                    r.id,
                    r.default_severity,
                    r.description.replace('|', "\\|")
                );
            }
        }
        Format::Text => {
            let width = checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
            for c in checks {
                let _ = writeln!(
                    out,
                    "{:<width$}  {:<7}  {:<14}  {}",
                    c.id,
                    level_name(c.level),
                    c.family.as_str(),
                    c.description
                );
            }
            let _ = writeln!(out);
            for r in &rules {
                let _ = writeln!(
                    out,
                    "{:<width$}  {:<7}  {:<14}  {}",
                    r.id,
                    format!("{:?}", r.default_severity).to_lowercase(),
                    "lint",
                    r.description
                );
            }
        }
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    ExitCode::SUCCESS
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    }
}
