//! A small retail backend standing in for the ERP behind the demo gateway: orders,
//! stock levels, shipments and returns with plausible JSON. It answers any other
//! path with an echo, so every published operation reaches *something* (control plane).

use axum::Router;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::net::SocketAddr;

fn order(id: &str) -> Value {
    json!({
        "id": id,
        "status": "accepted",
        "customer_id": "C-10023",
        "channel": "marketplace",
        "currency": "EUR",
        "total": "149.80",
        "lines": [
            {"sku": "TSHIRT-BLK-M", "quantity": 2, "unit_price": "24.90"},
            {"sku": "SNEAKER-WHT-42", "quantity": 1, "unit_price": "100.00"}
        ],
        "created_at": "2026-11-30T09:12:00Z"
    })
}

async fn list_orders() -> axum::Json<Value> {
    axum::Json(json!({
        "items": [order("SO-2026-000981"), order("SO-2026-000982")],
        "next_cursor": null
    }))
}

async fn get_order(Path(id): Path<String>) -> axum::Json<Value> {
    axum::Json(order(&id))
}

async fn create_order(headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let mut created = order("SO-2026-001000");
    if let Ok(input) = serde_json::from_slice::<Value>(&body)
        && let Some(lines) = input.get("lines")
    {
        created["lines"] = lines.clone();
    }
    let mut res = (StatusCode::CREATED, axum::Json(created)).into_response();
    if let Some(key) = headers.get("idempotency-key") {
        res.headers_mut().insert("idempotency-key", key.clone());
    }
    res.headers_mut().insert(
        "location",
        axum::http::HeaderValue::from_static("/orders/v1/orders/SO-2026-001000"),
    );
    res
}

async fn stock_levels() -> axum::Json<Value> {
    axum::Json(json!({
        "items": [
            {"warehouse_id": "WH-BERLIN", "sku": "TSHIRT-BLK-M", "on_hand": 140, "reserved": 12, "available": 128},
            {"warehouse_id": "WH-LYON", "sku": "SNEAKER-WHT-42", "on_hand": 8, "reserved": 6, "available": 2}
        ],
        "next_cursor": null
    }))
}

async fn echo(req: Request) -> axum::Json<Value> {
    axum::Json(json!({
        "ok": true,
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "consumer": req.headers().get("x-consumer-id").and_then(|v| v.to_str().ok()),
    }))
}

pub fn router() -> Router {
    Router::new()
        .route("/orders/orders", get(list_orders).post(create_order))
        .route("/orders/orders/{id}", get(get_order))
        .route("/inventory/stock-levels", get(stock_levels))
        .fallback(echo)
}

/// Starts the demo backend; a busy address is reported, not fatal.
pub async fn start(addr: SocketAddr) {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            println!("demo upstream (stand-in ERP) on http://{addr}");
            tokio::spawn(async move {
                let _ = axum::serve(listener, router()).await;
            });
        }
        Err(e) => tracing::warn!(%addr, error = %e, "demo upstream not started"),
    }
}
