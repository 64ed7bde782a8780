//! Expressions of interest: reading them from mail ([`extract`]), taking them in ([`intake`]:
//! whose application it is, record, acknowledgement, card; the call from [`calls`], the
//! replies from [`replies`] within the [`limits`] on automatic mail), storing them
//! ([`store`]), the secretariat's review ([`commands`], [`review`]), mail [`templates`], the
//! room [`card`], [`export`] and the CLI ([`cli`]).

pub mod calls;
pub mod card;
pub mod cli;
pub mod commands;
pub mod export;
pub mod extract;
pub mod intake;
pub mod limits;
pub mod replies;
pub mod review;
pub mod store;
pub mod templates;

use std::sync::Arc;

use crate::config::{ApplicationsConfig, Config, Groups};
use crate::outbox::Outbox;
use crate::storage::Db;

/// The handles the applications module works with (cheap to clone).
#[derive(Clone)]
pub struct Applications {
    pub db: Db,
    pub outbox: Outbox,
    pub s: Arc<Settings>,
}

/// The configuration the applications module reads.
#[derive(Debug)]
pub struct Settings {
    pub cfg: ApplicationsConfig,
    pub groups: Groups,
    pub tz: chrono_tz::Tz,
    pub management_room: String,
    /// The extractor's view of this deployment (groups with aliases, our own address).
    pub extract: extract::ExtractConfig,
    /// Our receiving servers' authserv-ids (`mailbox.authserv_id`).
    pub authserv_ids: Vec<String>,
    /// Cards show name, group and status only (`privacy.minimal_cards`).
    pub minimal_cards: bool,
    /// The space accepted applicants are invited to (`matrix.space`).
    pub space: Option<String>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            cfg: config.applications.clone(),
            groups: config.groups.clone(),
            tz: config.tz(),
            management_room: config.matrix.management_room.clone(),
            extract: intake::extract_config(config),
            authserv_ids: config.mailbox.authserv_id.clone(),
            minimal_cards: config.privacy.minimal_cards,
            space: config.matrix.space.clone(),
        }
    }

    /// The room of a group, as configured.
    pub fn group_room(&self, slug: &str) -> Option<&str> {
        self.groups.get(slug).map(|g| g.room.as_str())
    }
}

impl Applications {
    pub fn new(db: Db, outbox: Outbox, config: &Config) -> Applications {
        Applications {
            db,
            outbox,
            s: Arc::new(Settings::from_config(config)),
        }
    }
}

#[cfg(test)]
mod tests;
