//! Deadlines and meetings hidden in inbound mail, proposed to the secretariat (to be written).

use crate::app::Ctx;

/// Called by the mail pipeline for every human-written mail after it was routed.
pub async fn on_mail(_ctx: &Ctx, _inbound_id: i64, _text: &str, _sent: Option<chrono::DateTime<chrono::Utc>>) -> anyhow::Result<()> {
    Ok(())
}
