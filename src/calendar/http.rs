//! Calendar feeds over HTTP (to be written): `/calendar/<group>.ics`, `/calendar/all.ics`.

use axum::Router;

use crate::app::Ctx;

pub fn routes() -> Router<Ctx> {
    Router::new()
}
