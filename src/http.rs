//! The HTTP listener: `/healthz` now; the calendar feeds (`/calendar/<group>.ics`) and
//! metrics plug in here.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::app::Ctx;

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::calendar::http::routes())
        .with_state(ctx)
}

async fn healthz(State(ctx): State<Ctx>) -> (StatusCode, String) {
    let health = ctx.health.snapshot();
    let ok = health.values().all(|v| *v);
    let body = serde_json::to_string(&health).unwrap_or_default();
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        body,
    )
}

pub async fn run(ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    let Some(addr) = ctx.config.http.listen.clone() else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "HTTP listening");
    axum::serve(listener, router(ctx))
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await?;
    Ok(())
}
