//! Routing: which group's room an inbound mail belongs to.
//!
//! In order: a plus-address of the functional mailbox in To/Cc/Delivered-To/X-Original-To
//! (`working-groups+health@…`), then one of a group's own addresses (`[[groups]] addresses`)
//! in To/Cc, then a `[Group]` tag in the subject; either may name the
//! group's slug, name or any alias, case-insensitively. Otherwise the management room.

use mail_parser::{Address, HeaderValue, Message};

use crate::config::{Config, GroupConfig, Groups};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub group: Option<String>,
    pub room: String,
    pub why: &'static str,
}

/// What routing reads from the configuration.
#[derive(Debug, Clone)]
pub struct Routing {
    /// The functional mailbox's address (`+tag` routes to groups).
    pub address: String,
    pub groups: Groups,
    pub management_room: String,
}

impl Routing {
    pub fn from_config(config: &Config) -> Routing {
        Routing {
            address: config.mailbox.address.clone(),
            groups: config.groups.clone(),
            management_room: config.matrix.management_room.clone(),
        }
    }
}

/// Routes with the configuration as it is (see [`route_with`]).
pub fn route(msg: &Message<'_>, config: &Config) -> Route {
    route_with(msg, &Routing::from_config(config))
}

pub fn route_with(msg: &Message<'_>, config: &Routing) -> Route {
    if let Some(g) = plus_address_group(msg, config) {
        return Route {
            group: Some(g.slug.clone()),
            room: g.room.clone(),
            why: "plus-address",
        };
    }
    if let Some(g) = group_address(msg, config) {
        return Route {
            group: Some(g.slug.clone()),
            room: g.room.clone(),
            why: "group address",
        };
    }
    if let Some(g) = msg
        .subject()
        .and_then(|s| subject_tag_group(s, &config.groups))
    {
        return Route {
            group: Some(g.slug.clone()),
            room: g.room.clone(),
            why: "subject tag",
        };
    }
    Route {
        group: None,
        room: config.management_room.clone(),
        why: "no group named",
    }
}

fn plus_address_group<'a>(msg: &Message<'_>, config: &'a Routing) -> Option<&'a GroupConfig> {
    let (base_local, base_domain) = config.address.rsplit_once('@')?;
    let mut candidates: Vec<String> = Vec::new();
    for addr in [msg.to(), msg.cc()].into_iter().flatten() {
        collect(addr, &mut candidates);
    }
    for name in ["Delivered-To", "X-Original-To"] {
        for v in msg.header_values(name) {
            if let HeaderValue::Text(t) = v {
                candidates.push(t.trim().trim_matches(['<', '>']).to_owned());
            } else if let HeaderValue::Address(a) = v {
                collect(a, &mut candidates);
            }
        }
    }
    candidates.iter().find_map(|addr| {
        let (local, domain) = addr.rsplit_once('@')?;
        let (base, tag) = local.split_once('+')?;
        (base.eq_ignore_ascii_case(base_local) && domain.eq_ignore_ascii_case(base_domain))
            .then(|| config.groups.find(tag))
            .flatten()
    })
}

fn group_address<'a>(msg: &Message<'_>, config: &'a Routing) -> Option<&'a GroupConfig> {
    let mut candidates: Vec<String> = Vec::new();
    for addr in [msg.to(), msg.cc()].into_iter().flatten() {
        collect(addr, &mut candidates);
    }
    candidates.iter().find_map(|a| config.groups.by_address(a))
}

fn collect(addr: &Address<'_>, out: &mut Vec<String>) {
    for a in addr.iter() {
        if let Some(email) = a.address() {
            out.push(email.to_owned());
        }
    }
}

fn subject_tag_group<'a>(subject: &str, groups: &'a Groups) -> Option<&'a GroupConfig> {
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let close = after.find(']')?;
        if let Some(g) = groups.find(&after[..close]) {
            return Some(g);
        }
        rest = &after[close + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap()
    }

    fn parse(raw: &str) -> Message<'_> {
        mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap()
    }

    #[test]
    fn plus_address_wins() {
        let c = config();
        let m = parse(
            "To: Working Groups <working-groups+health@example.org>\r\nSubject: [Digital] hi\r\n\r\nx",
        );
        let r = route(&m, &c);
        assert_eq!(r.group.as_deref(), Some("health"));
        assert_eq!(r.why, "plus-address");
    }

    #[test]
    fn plus_address_alias_and_other_domain() {
        let c = config();
        let m = parse("To: working-groups+R&I@example.org\r\nSubject: hi\r\n\r\nx");
        assert_eq!(route(&m, &c).group.as_deref(), Some("research-innovation"));
        let m = parse("To: working-groups+health@other.example\r\nSubject: hi\r\n\r\nx");
        assert_eq!(route(&m, &c).group, None);
    }

    #[test]
    fn subject_tag_by_alias_any_case() {
        let c = config();
        let m = parse(
            "To: working-groups@example.org\r\nSubject: Re: [urgent] [gesundheit] Sitzung\r\n\r\nx",
        );
        assert_eq!(route(&m, &c).group.as_deref(), Some("health"));
        let m = parse(
            "To: working-groups@example.org\r\nSubject: [Research & Innovation] call\r\n\r\nx",
        );
        assert_eq!(route(&m, &c).group.as_deref(), Some("research-innovation"));
    }

    #[test]
    fn a_group_address_in_cc_routes_to_its_group() {
        let mut c = config();
        let mut groups: Vec<_> = c.groups.iter().cloned().collect();
        groups[0].addresses = vec!["Digital@WG.example.org".into()];
        c.groups = Groups::new(groups);
        let m = parse(
            "To: someone@else.example\r\nCc: Digital WG <digital@wg.example.org>\r\nSubject: hi\r\n\r\nx",
        );
        let r = route(&m, &c);
        assert_eq!(r.group.as_deref(), Some("digital"));
        assert_eq!(r.why, "group address");
    }

    #[test]
    fn nothing_goes_to_management_room() {
        let c = config();
        let m = parse("To: working-groups@example.org\r\nSubject: [unknown] hello\r\n\r\nx");
        let r = route(&m, &c);
        assert_eq!(r.group, None);
        assert_eq!(r.room, c.matrix.management_room);
    }
}
