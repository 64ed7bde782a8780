//! Calendar feeds over HTTP: `/calendar/<group>.ics` and `/calendar/all.ics`, built from the
//! stored calendar with each item's revision as SEQUENCE.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::ics::{self, FeedOptions};
use super::service::Service;
use super::store;

pub fn routes<S: Clone + Send + Sync + 'static>(cal: Service) -> Router<S> {
    Router::new()
        .route("/calendar/{file}", get(feed))
        .with_state(cal)
}

async fn feed(State(ctx): State<Service>, Path(file): Path<String>) -> Response {
    let Some(name) = file.strip_suffix(".ics") else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let group = match name {
        "all" => None,
        slug => match ctx.s.groups.get(slug) {
            Some(g) => Some(g),
            None => return (StatusCode::NOT_FOUND, "no such group\n").into_response(),
        },
    };
    match feed_text(&ctx, group.map(|g| (g.slug.as_str(), g.name.as_str()))).await {
        Ok(body) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "calendar feed");
            (StatusCode::INTERNAL_SERVER_ERROR, "error\n").into_response()
        }
    }
}

/// The feed of one group (slug, name) or of all groups.
pub async fn feed_text(ctx: &Service, group: Option<(&str, &str)>) -> anyhow::Result<String> {
    let snap = store::load(&ctx.db).await?;
    Ok(export(&snap, group, ctx.s.tz))
}

pub fn export(snap: &store::Snapshot, group: Option<(&str, &str)>, tz: chrono_tz::Tz) -> String {
    let name = match group {
        Some((_, name)) => format!("Working groups — {name}"),
        None => "Working groups".to_owned(),
    };
    let opts = FeedOptions {
        name: &name,
        dtstamp: chrono::Utc::now(),
        date_tz: tz,
    };
    ics::export(&snap.cal, group.map(|g| g.0), &|r| snap.sequence(r), &opts)
}
