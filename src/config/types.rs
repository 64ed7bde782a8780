//! Values checked once, when the configuration is read, and carried as types from then on:
//! the time zone, the From mailbox of outgoing mail, the working groups with their lookups,
//! and the actions of cron jobs.

use std::ops::Deref;

use serde::{Deserialize, Deserializer};

use super::GroupConfig;

/// An IANA time zone, parsed when the configuration is read (`timezone = "Europe/Brussels"`).
pub(super) fn deserialize_tz<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| serde::de::Error::custom(format!("`{name}` is not an IANA time zone")))
}

/// A mailbox (`Name <address>`), parsed when the configuration is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxAddr(pub lettre::message::Mailbox);

impl MailboxAddr {
    /// The bare address, `working-groups@example.org`.
    pub fn address(&self) -> String {
        self.0.email.to_string()
    }
    pub fn domain(&self) -> &str {
        self.0.email.domain()
    }
}

impl Deref for MailboxAddr {
    type Target = lettre::message::Mailbox;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::fmt::Display for MailboxAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for MailboxAddr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<lettre::message::Mailbox>()
            .map(MailboxAddr)
            .map_err(|_| {
                serde::de::Error::custom(format!("`{text}` is not a mailbox (Name <addr@host>)"))
            })
    }
}

impl std::str::FromStr for MailboxAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<lettre::message::Mailbox>()
            .map(MailboxAddr)
            .map_err(|_| format!("`{s}` is not a mailbox (Name <addr@host>)"))
    }
}

/// What a cron job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobAction {
    /// The coming three weeks, to the management room.
    Digest,
    /// The groups short of their cadence this year, to the management room.
    Cadence,
}

/// The working groups, in configuration order, with the lookups everyone needs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct Groups(Vec<GroupConfig>);

impl Groups {
    pub fn new(groups: Vec<GroupConfig>) -> Groups {
        Groups(groups)
    }

    /// The group with this slug.
    pub fn get(&self, slug: &str) -> Option<&GroupConfig> {
        self.0.iter().find(|g| g.slug == slug)
    }

    /// The group whose room this is (as configured: id or alias).
    pub fn by_room(&self, room: &str) -> Option<&GroupConfig> {
        self.0.iter().find(|g| g.room == room)
    }

    /// The group known by this name: slug, name or any alias, ignoring case, spaces, `-`, `_`.
    pub fn find(&self, name: &str) -> Option<&GroupConfig> {
        let want = normalise(name);
        if want.is_empty() {
            return None;
        }
        self.0.iter().find(|g| {
            normalise(&g.slug) == want
                || normalise(&g.name) == want
                || g.aliases.iter().any(|a| normalise(a) == want)
        })
    }

    /// The group one of whose addresses (`[[groups]] addresses`) this is, ignoring case.
    pub fn by_address(&self, address: &str) -> Option<&GroupConfig> {
        self.0.iter().find(|g| {
            g.addresses
                .iter()
                .any(|a| a.trim().eq_ignore_ascii_case(address.trim()))
        })
    }

    /// The slugs, in order.
    pub fn slugs(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|g| g.slug.as_str())
    }

    /// The rooms of the groups named (every group for an empty list), with their slugs.
    pub fn rooms_of<'a>(&'a self, slugs: &[String]) -> Vec<(&'a str, &'a str)> {
        self.0
            .iter()
            .filter(|g| slugs.is_empty() || slugs.contains(&g.slug))
            .map(|g| (g.slug.as_str(), g.room.as_str()))
            .collect()
    }
}

impl Deref for Groups {
    type Target = [GroupConfig];
    fn deref(&self) -> &[GroupConfig] {
        &self.0
    }
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(slug: &str, name: &str, aliases: &[&str]) -> GroupConfig {
        GroupConfig {
            slug: slug.into(),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            room: format!("!{slug}"),
            addresses: Vec::new(),
            cadence: Default::default(),
        }
    }

    #[test]
    fn groups_are_found_by_any_name() {
        let g = Groups::new(vec![
            group("health", "Health", &["Gesundheit"]),
            group("research-innovation", "Research & Innovation", &["R&I"]),
        ]);
        assert_eq!(g.find("GESUNDHEIT").unwrap().slug, "health");
        assert_eq!(
            g.find("research innovation").unwrap().slug,
            "research-innovation"
        );
        assert_eq!(g.find("r&i").unwrap().slug, "research-innovation");
        assert!(g.find("").is_none() && g.find("digital").is_none());
        assert_eq!(g.by_room("!health").unwrap().slug, "health");
        assert_eq!(g.rooms_of(&[]).len(), 2);
        assert_eq!(g.rooms_of(&["health".into()]), vec![("health", "!health")]);
    }

    #[test]
    fn mailbox_parses_or_says_why() {
        let m: MailboxAddr = "Secretariat <wg@example.org>".parse().unwrap();
        assert_eq!(m.address(), "wg@example.org");
        assert_eq!(m.domain(), "example.org");
        assert!("not a mailbox".parse::<MailboxAddr>().is_err());
    }
}
