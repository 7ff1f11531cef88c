//! Prometheus text that both planes put on their `/metrics`.

use std::fmt::Write;

/// Database pool usage, shared by the gateway's and the control plane's `/metrics`.
pub fn pool_metrics(out: &mut String, pool: &sqlx::PgPool) {
    let size = pool.size();
    let idle = pool.num_idle() as u32;
    let _ = writeln!(
        out,
        "# HELP steward_db_pool_connections Database connections by state.\n# TYPE steward_db_pool_connections gauge"
    );
    let _ = writeln!(out, "steward_db_pool_connections{{state=\"idle\"}} {idle}");
    let _ = writeln!(
        out,
        "steward_db_pool_connections{{state=\"in_use\"}} {}",
        size.saturating_sub(idle)
    );
    let _ = writeln!(
        out,
        "steward_db_pool_connections{{state=\"max\"}} {}",
        pool.options().get_max_connections()
    );
}
