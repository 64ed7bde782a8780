//! The HTTP listener: `/healthz` (liveness: 503 when a worker keeps dying) and the calendar
//! feeds (`/calendar/<group>.ics`). Metrics and readiness plug in here.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::health::Health;

pub fn router(health: Arc<Health>, calendar: crate::calendar::Service) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(health)
        .merge(crate::calendar::http::routes(calendar))
}

async fn healthz(State(health): State<Arc<Health>>) -> (StatusCode, String) {
    let snap = health.snapshot();
    let body = serde_json::to_string(&snap).unwrap_or_default();
    let status = if snap.live {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

pub async fn serve(addr: String, app: Router, cancel: CancellationToken) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "HTTP listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await?;
    Ok(())
}
