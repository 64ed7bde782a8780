//! Calendar chat commands (to be written).

use crate::app::Ctx;
use crate::commands::{Invocation, Reply};

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[];

pub fn handles(name: &str) -> bool {
    HELP.iter().any(|h| h.0 == name)
}

pub async fn execute(_ctx: &Ctx, _inv: &Invocation<'_>, name: &str, _args: &[&str]) -> anyhow::Result<Reply> {
    anyhow::bail!("`{name}` is not a calendar command")
}

/// A reaction on one of convene's events; returns true when it was the calendar's.
pub async fn on_reaction(_ctx: &Ctx, _sender: &str, _room_id: &str, _target_key: &str, _key: &str) -> anyhow::Result<bool> {
    Ok(false)
}
