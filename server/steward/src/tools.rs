//! `steward diff` and `steward lint`: the contract engines for CI pipelines, on
//! files, without a database. Exit codes: 0 clean, 1 threshold reached, 2 the
//! input could not be read or parsed.

use crate::cli::{DiffArgs, Format, LintArgs, Threshold};
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

fn read_model(path: &Path) -> Result<openapiv3::OpenAPI, ExitCode> {
    contracts::loader::load_model(read_text(path)?).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        ExitCode::from(2)
    })
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
        &base,
        &revision,
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
