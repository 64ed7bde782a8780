//! The HTTP listener: `/healthz` (liveness: 503 when a worker keeps dying), `/readyz`
//! (readiness: 200 only when Matrix has synced, IMAP is connected or within its reconnect
//! grace, and the database answers; 503 naming the failing parts), `/metrics` (Prometheus
//! text) and the calendar feeds (`/calendar/<group>.ics`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::health::{Health, Need};
use crate::metrics::{Depth, Metrics, Scrape};
use crate::storage::{Db, now_ms};

/// What the operational endpoints read.
#[derive(Clone)]
pub struct Ops {
    pub health: Arc<Health>,
    pub metrics: Metrics,
    pub db: Db,
    /// The components `/readyz` requires, with their grace.
    pub needs: Vec<Need>,
}

pub fn router(ops: Ops, calendar: crate::calendar::Service) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
        .merge(crate::calendar::http::routes(calendar))
}

async fn healthz(State(ops): State<Ops>) -> (StatusCode, String) {
    let snap = ops.health.snapshot();
    let body = serde_json::to_string(&snap).unwrap_or_default();
    let status = if snap.live {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

/// Whether the database answers a trivial query within 5 s.
async fn database_answers(db: &Db) -> bool {
    let ping = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&db.pool);
    matches!(
        tokio::time::timeout(Duration::from_secs(5), ping).await,
        Ok(Ok(1))
    )
}

async fn readyz(State(ops): State<Ops>) -> (StatusCode, String) {
    ops.health.set("database", database_answers(&ops.db).await);
    let r = ops.health.readiness(&ops.needs);
    let status = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, serde_json::to_string(&r).unwrap_or_default())
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    match scrape(&ops).await {
        Ok(s) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
            ops.metrics.encode(&s),
        ),
        Err(e) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "metrics: the database did not answer"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "the database did not answer\n".to_owned(),
            )
        }
    }
}

/// What the database and the daemon know, read now.
async fn scrape(ops: &Ops) -> anyhow::Result<Scrape> {
    let now = now_ms();
    let outbox = crate::outbox::queue::depth(&ops.db)
        .await?
        .into_iter()
        .map(|(transport, pending, oldest, failed)| Depth {
            transport,
            pending,
            failed,
            oldest_pending_secs: oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0),
        })
        .collect();
    let (on_time, late, skipped) = crate::calendar::store::fired_counts(&ops.db).await?;
    let snap = ops.health.snapshot();
    Ok(Scrape {
        eois_by_status: crate::applications::store::count_by_status(&ops.db).await?,
        outbox,
        reminders: vec![("on_time", on_time), ("late", late), ("skipped", skipped)],
        worker_restarts: ops
            .health
            .restarts()
            .into_iter()
            .map(|(w, n)| (w.to_owned(), n))
            .collect(),
        leader: ops.health.leader(),
        components: snap
            .components
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    })
}

pub async fn serve(addr: String, app: Router, cancel: CancellationToken) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "HTTP listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await?;
    Ok(())
}
