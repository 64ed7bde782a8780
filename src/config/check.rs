//! The checks serde cannot do: every error names the offending key.

use anyhow::bail;

use super::{Config, TlsMode};

impl Config {
    /// Semantic checks serde cannot do; every error names the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut errors = Vec::new();
        let mut err = |key: &str, why: String| errors.push(format!("key `{key}`: {why}"));
        let m = &self.matrix;
        match m.homeserver.split_once("://") {
            Some(("https", _)) => {}
            Some(("http", rest)) if is_loopback(url_host(rest)) => {}
            Some(("http", _)) => err(
                "matrix.homeserver",
                "plain http:// is allowed only to a loopback host; use https://".into(),
            ),
            _ => err(
                "matrix.homeserver",
                "must be an https:// URL (http:// to a loopback host)".into(),
            ),
        }
        if !is_user_id(&m.user) {
            err(
                "matrix.user",
                format!("`{}` is not a Matrix user id (@name:server)", m.user),
            );
        }
        if !is_room_ref(&m.management_room) {
            err(
                "matrix.management_room",
                "must be a room id (!…) or alias (#…:server)".into(),
            );
        }
        for (i, a) in m.admins.iter().enumerate() {
            if !is_user_id(a) {
                err(
                    &format!("matrix.admins[{i}]"),
                    format!("`{a}` is not a Matrix user id"),
                );
            }
        }
        if m.command_prefix.is_empty() || m.command_prefix.contains(char::is_whitespace) {
            err(
                "matrix.command_prefix",
                "must be non-empty, without spaces".into(),
            );
        }
        if !self.mailbox.address.contains('@') {
            err("mailbox.address", "must be an email address".into());
        }
        if self.mailbox.idle_refresh_secs == 0 || self.mailbox.idle_refresh_secs >= 29 * 60 {
            err(
                "mailbox.idle_refresh_secs",
                "must be between 1 and 1739 (under 29 minutes)".into(),
            );
        }
        if self.mailbox.timeout_secs == 0 {
            err("mailbox.timeout_secs", "must be at least 1".into());
        }
        if self.mailbox.poll_secs == 0 {
            err("mailbox.poll_secs", "must be at least 1".into());
        }
        if self.mailbox.tls == TlsMode::Plain && !is_loopback(&self.mailbox.host) {
            err(
                "mailbox.tls",
                "plain IMAP is allowed only to a loopback host".into(),
            );
        }
        if self.smtp.tls == TlsMode::Plain && !is_loopback(&self.smtp.host) {
            err(
                "smtp.tls",
                "plain SMTP is allowed only to a loopback host".into(),
            );
        }
        if self.smtp.user.is_some() != self.smtp.secret.is_some() {
            err(
                "smtp.secret",
                "smtp.user and smtp.secret go together".into(),
            );
        }
        let o = &self.outbox;
        if o.retry_min <= chrono::TimeDelta::zero() {
            err("outbox.retry_min", "must be more than 0s".into());
        }
        if o.retry_max < o.retry_min {
            err(
                "outbox.retry_max",
                "must not be less than outbox.retry_min".into(),
            );
        }
        if o.retry_for < o.retry_min {
            err(
                "outbox.retry_for",
                "must not be less than outbox.retry_min".into(),
            );
        }
        if let Some(listen) = &self.http.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            err("http.listen", format!("`{listen}` is not host:port"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            let slug_ok = !g.slug.is_empty()
                && g.slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug_ok {
                err(
                    &format!("groups[{i}].slug"),
                    "use lowercase letters, digits and -".into(),
                );
            }
            if !seen.insert(g.slug.clone()) {
                err(
                    &format!("groups[{i}].slug"),
                    format!("`{}` is used twice", g.slug),
                );
            }
            if !is_room_ref(&g.room) {
                err(
                    &format!("groups[{i}].room"),
                    "must be a room id (!…) or alias".into(),
                );
            }
        }
        let a = &self.applications;
        if a.call.trim().is_empty() {
            err("applications.call", "must not be empty".into());
        }
        if a.max_leaders > a.max_members {
            err(
                "applications.max_leaders",
                "must not exceed applications.max_members".into(),
            );
        }
        for (key, value) in [
            ("applications.accept_reaction", &a.accept_reaction),
            ("applications.decline_reaction", &a.decline_reaction),
        ] {
            if value.trim().is_empty() {
                err(key, "must not be empty".into());
            }
        }
        if a.accept_reaction.trim() == a.decline_reaction.trim() {
            err(
                "applications.decline_reaction",
                "must differ from applications.accept_reaction".into(),
            );
        }
        if m.secretariat_power_level <= 0 {
            err(
                "matrix.secretariat_power_level",
                "must be more than 0 (every member has power level 0 by default)".into(),
            );
        }
        if let Some(dir) = &a.templates
            && !dir.is_dir()
        {
            err(
                "applications.templates",
                format!("`{}` is not a directory", dir.display()),
            );
        }
        for (i, addr) in self.calendar.secretariat_email.iter().enumerate() {
            if addr.parse::<lettre::message::Mailbox>().is_err() {
                err(
                    &format!("calendar.secretariat_email[{i}]"),
                    format!("`{addr}` is not a mail address"),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            bail!(errors.join("\n"))
        }
    }
}

fn is_user_id(s: &str) -> bool {
    s.strip_prefix('@')
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(l, h)| !l.is_empty() && !h.is_empty())
}

/// Room ids of room version 12 have no `:server` part, so only the sigil is checked.
fn is_room_ref(s: &str) -> bool {
    (s.starts_with('!') && s.len() > 1) || (s.starts_with('#') && s.contains(':'))
}

/// The host of `host[:port][/path]` (an IPv6 literal in brackets without them).
fn url_host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
