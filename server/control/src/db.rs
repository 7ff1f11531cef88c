//! Database bootstrap (control plane): create the database if it is missing, apply
//! migrations, and explain in one line when PostgreSQL cannot be reached.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::time::Duration;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A start-up failure, worded for the operator who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL ({0})")]
    BadUrl(String),
    #[error(
        "cannot reach PostgreSQL at {url} ({reason}). Start PostgreSQL or point DATABASE_URL at a running server."
    )]
    Unreachable { url: String, reason: String },
    #[error("cannot create database {name} at {url}: {reason}")]
    CreateFailed {
        name: String,
        url: String,
        reason: String,
    },
    #[error("migrations failed on {url}: {reason}")]
    Migrate { url: String, reason: String },
}

/// The URL without its password, safe to print.
pub fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or_default();
                if userinfo.contains(':') {
                    format!("{scheme}://{user}:***@{host}")
                } else {
                    format!("{scheme}://{userinfo}@{host}")
                }
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Connects, creating the database and applying migrations as needed.
pub async fn prepare(url: &str) -> Result<PgPool, StartupError> {
    let shown = redact(url);
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StartupError::BadUrl(e.to_string()))?
        .log_statements(tracing::log::LevelFilter::Debug);
    let name = options.get_database().unwrap_or("postgres").to_string();
    create_database_if_missing(&options, &name, &shown).await?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| StartupError::Unreachable {
            url: shown.clone(),
            reason: e.to_string(),
        })?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| StartupError::Migrate {
            url: shown,
            reason: e.to_string(),
        })?;
    Ok(pool)
}

async fn create_database_if_missing(
    options: &PgConnectOptions,
    name: &str,
    shown: &str,
) -> Result<(), StartupError> {
    // One attempt against the maintenance database: a refused connection should
    // produce one clear line, not a stack of retries.
    let admin = options.clone().database("postgres");
    let mut conn = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&admin))
        .await
        .map_err(|_| StartupError::Unreachable {
            url: shown.to_string(),
            reason: "timed out after 5 s".into(),
        })?
        .map_err(|e| StartupError::Unreachable {
            url: shown.to_string(),
            reason: root_cause(&e),
        })?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| StartupError::Unreachable {
                url: shown.to_string(),
                reason: e.to_string(),
            })?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::query(&sql).execute(&mut conn).await {
            // Two processes starting at once may race; losing that race is fine.
            let raced = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04");
            if !raced {
                return Err(StartupError::CreateFailed {
                    name: name.to_string(),
                    url: shown.to_string(),
                    reason: e.to_string(),
                });
            }
        }
        tracing::info!(database = name, "created database");
    }
    let _ = conn.close().await;
    Ok(())
}

fn root_cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// True when the database answers and every known migration is applied.
pub async fn ready(pool: &PgPool) -> Result<(), String> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(|e| format!("database not reachable: {e}"))?;
    let missing: Vec<i64> = MIGRATOR
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("migrations not applied: {missing:?}"))
    }
}
