//! Who a mail says it is from, and whether our own receiving server vouched for that.
//!
//! The mailbox is public: anyone can write any `From`, add a `Return-Path` or paste an
//! `Authentication-Results` header claiming `dmarc=pass`. This module reads only what a
//! sender cannot have written, and says so when it cannot tell. It is pure: the caller
//! passes the parsed message and the authserv-ids of its own servers.
//!
//! # Identity ([`identity`])
//! - **From**: exactly one `From` header holding exactly one mailbox. None, several headers (a
//!   classic way to show one address and have another verified), several addresses or a group
//!   give no identity.
//! - **Envelope sender**: the **topmost** `Return-Path` only. The delivery agent of our server
//!   prepends it when it stores the mail, so it is the first one; any lower one came with the
//!   message. (`mail_parser`'s own accessors return the *last* header of a name, which is why
//!   this module walks the headers itself.) `<>` is the null sender of automatic mail.
//! - **Alignment** of the two ([`Alignment`]):
//!   - `Exact`: the same address, local part and domain compared case-insensitively as given
//!     (no removal of `+tags` or dots: that would be a guess about someone else's server).
//!   - `Relaxed`: the domains are the same, or one is a subdomain of the other on a label
//!     boundary (`bounces.example.org` and `example.org`; never `badexample.org`), and the
//!     shorter one has at least two labels (never a bare TLD). This is DMARC's relaxed
//!     alignment without the public-suffix list: a pair that can only be controlled by one
//!     party, the domain's owner or its registry, since whoever controls a parent or a child
//!     of a domain either is its owner or delegated it. A mailing list or an SRS forwarder
//!     rewrites the envelope into *its own* domain (`list-bounces@lists.example.net`,
//!     `SRS0=…=example.org=alice@forwarder.example`), so it never aligns with someone else's
//!     From; only the local part of an SRS address names the original domain, and local
//!     parts are never read.
//!   - `Unaligned`: anything else, including the null sender (aligns with nothing), a missing
//!     or malformed `Return-Path`, and no From identity.
//!
//! # Which `Authentication-Results` count ([`trusted_results`])
//! RFC 8601 headers are only worth what their position says about who wrote them. Two rules:
//! 1. The authserv-id must be one of the configured ones (case-insensitively); all others are
//!    ignored, whoever claims them. Microsoft 365 writes its header without an authserv-id;
//!    configure the empty string `""` to trust that one.
//! 2. Of the headers with a configured authserv-id, only the **topmost** counts. Our server
//!    adds its header when it receives the mail, above everything the sender wrote, so a
//!    forged copy with our authserv-id is always lower. A rule such as "every header with our
//!    id above the first foreign `Received`" would need to know our relay host names, and in
//!    Gmail's layout our header sits *below* our own `Received`, directly above the sender's
//!    headers, so nothing but order tells ours from a forged one placed first.
//!
//! The cost of rule 2: a setup where separate milters each add a header (OpenDKIM, then
//! OpenDMARC) is read from its topmost header alone, usually OpenDMARC's, whose DMARC result
//! is what matters; the lower DKIM header is not shown. Its benefit: no position a sender can
//! reach is ever read. It assumes our server stamps every message it accepts (all common ones
//! do); a server that removes incoming headers with its own authserv-id, as RFC 8601 §5 asks,
//! is safer still.
//!
//! # Verdict ([`verdict`])
//! From the trusted results and the From identity:
//! - [`Verdict::Unknown`]: no trusted header.
//! - [`Verdict::Verified`]: DMARC `pass` (whose `header.from`, if given, is the From domain);
//!   else DKIM `pass` whose `header.d` (or the domain of `header.i`) aligns with the From
//!   domain; else SPF `pass` whose `smtp.mailfrom` domain aligns with it. Alignment is the
//!   relaxed rule above.
//! - [`Verdict::Unverified`]: everything else, including no From identity and any DMARC
//!   `fail`: that result already says no aligned DKIM or SPF passed under the domain owner's
//!   own policy (which may be strict), so a pass we would align ourselves does not override it.
//!
//! Every value here (addresses, raw results) came from mail: escape it before display.

use std::borrow::Cow;
use std::fmt;

use mail_parser::{Address, Header, HeaderValue, Message};

mod header;

use header::Parser;
pub use header::{AuthResults, MethodResult, parse_authentication_results};

/// An address split at its last `@`, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub local: String,
    pub domain: String,
}

impl Mailbox {
    /// `local@domain` with both parts non-empty, no whitespace or control characters, no
    /// angle brackets, and a domain of non-empty labels (one trailing dot is dropped).
    pub fn parse(address: &str) -> Option<Mailbox> {
        let (local, domain) = address.trim().rsplit_once('@')?;
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>');
        let domain_ok = !domain.is_empty()
            && domain.split('.').all(|label| !label.is_empty())
            && !domain.contains(|c: char| {
                bad(c)
                    || matches!(
                        c,
                        '@' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '\\' | '"'
                    )
            });
        if local.is_empty() || local.contains(bad) || !domain_ok {
            return None;
        }
        Some(Mailbox {
            local: local.to_string(),
            domain: domain.to_string(),
        })
    }

    /// The same address, both parts compared case-insensitively.
    pub fn same_address(&self, other: &Mailbox) -> bool {
        self.local.to_lowercase() == other.local.to_lowercase()
            && normalise_domain(&self.domain) == normalise_domain(&other.domain)
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// The envelope sender our server recorded (the topmost `Return-Path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// No `Return-Path` at all.
    Missing,
    /// `<>`: a bounce or another automatic notification.
    Null,
    Address(Mailbox),
    /// Present but not an address; the value, on one line.
    Malformed(String),
}

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Envelope::Missing => f.write_str("(no Return-Path)"),
            Envelope::Null => f.write_str("<>"),
            Envelope::Address(m) => write!(f, "<{m}>"),
            Envelope::Malformed(raw) => write!(f, "(malformed Return-Path: {raw})"),
        }
    }
}

/// How the envelope sender relates to the From address (rules in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alignment {
    Exact,
    Relaxed,
    Unaligned,
}

impl Alignment {
    /// `Exact` or `Relaxed`.
    pub fn is_aligned(self) -> bool {
        self != Alignment::Unaligned
    }
}

/// The sender as the mail presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The one From mailbox; `None` for no From, several From headers or several addresses.
    pub from: Option<Mailbox>,
    pub envelope: Envelope,
    pub alignment: Alignment,
}

/// The From identity, the envelope sender and their alignment of `msg`.
pub fn identity(msg: &Message) -> Identity {
    let mut froms = headers_named(msg, "From");
    let from = match (froms.next(), froms.next()) {
        (Some(h), None) => single_mailbox(&h.value),
        _ => None,
    };
    let envelope = headers_named(msg, "Return-Path")
        .next()
        .map_or(Envelope::Missing, |h| parse_return_path(&raw_value(msg, h)));
    let alignment = match (&from, &envelope) {
        (Some(f), Envelope::Address(e)) if f.same_address(e) => Alignment::Exact,
        (Some(f), Envelope::Address(e)) if domains_align(&f.domain, &e.domain) => {
            Alignment::Relaxed
        }
        _ => Alignment::Unaligned,
    };
    Identity {
        from,
        envelope,
        alignment,
    }
}

/// Relaxed alignment of two domains: equal, or one a subdomain of the other on a label
/// boundary while the shorter has at least two labels. Case-insensitive; one trailing dot is
/// ignored.
pub fn domains_align(a: &str, b: &str) -> bool {
    let (a, b) = (normalise_domain(a), normalise_domain(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    short.contains('.')
        && long
            .strip_suffix(short.as_str())
            .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
}

/// The topmost `Authentication-Results` header of `msg` whose authserv-id is one of
/// `authserv_ids` (rules in the module documentation). `None` when there is none.
pub fn trusted_results(msg: &Message, authserv_ids: &[String]) -> Option<AuthResults> {
    headers_named(msg, "Authentication-Results")
        .filter_map(|h| parse_authentication_results(&raw_value(msg, h)))
        .find(|ar| {
            authserv_ids
                .iter()
                .any(|id| id.trim().eq_ignore_ascii_case(&ar.authserv_id))
        })
}

/// What the trusted results say about the From identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Our server vouches for the From domain, on this basis.
    Verified(Basis),
    /// Our server checked, and nothing it found vouches for the From domain.
    Unverified,
    /// Our server left no results we can trust.
    Unknown,
}

impl Verdict {
    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified(_))
    }
}

/// Which result verified the From domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    Dmarc,
    /// A passing DKIM signature, with its (aligned) signing domain.
    Dkim(String),
    /// A passing SPF check, with its (aligned) envelope domain.
    Spf(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Verified(Basis::Dmarc) => f.write_str("verified (DMARC)"),
            Verdict::Verified(Basis::Dkim(d)) => write!(f, "verified (DKIM, {d})"),
            Verdict::Verified(Basis::Spf(d)) => write!(f, "verified (SPF, {d})"),
            Verdict::Unverified => f.write_str("unverified"),
            Verdict::Unknown => f.write_str("unknown (no results from our server)"),
        }
    }
}

/// The verdict on `identity` from `results` (rules in the module documentation).
pub fn verdict(identity: &Identity, results: Option<&AuthResults>) -> Verdict {
    let Some(results) = results else {
        return Verdict::Unknown;
    };
    let Some(from) = &identity.from else {
        return Verdict::Unverified;
    };
    let from_domain = normalise_domain(&from.domain);
    if results.of("dmarc").any(|r| r.result == "fail") {
        return Verdict::Unverified;
    }
    let dmarc_pass = results.of("dmarc").any(|r| {
        r.passed()
            && r.property("header.from")
                .is_none_or(|d| normalise_domain(d) == from_domain)
    });
    if dmarc_pass {
        return Verdict::Verified(Basis::Dmarc);
    }
    for r in results.of("dkim").filter(|r| r.passed()) {
        let domain = r
            .property("header.d")
            .or_else(|| r.property("header.i").map(domain_of));
        if let Some(d) = domain.filter(|d| domains_align(d, &from_domain)) {
            return Verdict::Verified(Basis::Dkim(normalise_domain(d)));
        }
    }
    for r in results.of("spf").filter(|r| r.passed()) {
        if let Some(d) = r
            .property("smtp.mailfrom")
            .map(domain_of)
            .filter(|d| domains_align(d, &from_domain))
        {
            return Verdict::Verified(Basis::Spf(normalise_domain(d)));
        }
    }
    Verdict::Unverified
}

/// Identity, trusted results and verdict of one mail together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub identity: Identity,
    pub results: Option<AuthResults>,
    pub verdict: Verdict,
}

/// [`identity`], [`trusted_results`] and [`verdict`] of `msg` in one call.
pub fn assess(msg: &Message, authserv_ids: &[String]) -> Trust {
    let identity = identity(msg);
    let results = trusted_results(msg, authserv_ids);
    let verdict = verdict(&identity, results.as_ref());
    Trust {
        identity,
        results,
        verdict,
    }
}

/// The top-level headers called `name`, top to bottom.
fn headers_named<'m, 'x>(
    msg: &'m Message<'x>,
    name: &'static str,
) -> impl Iterator<Item = &'m Header<'x>> + 'm {
    msg.headers()
        .iter()
        .filter(move |h| h.name.as_str().eq_ignore_ascii_case(name))
}

/// The undecoded value of `header`, as received (folding included).
fn raw_value<'m>(msg: &'m Message, header: &Header) -> Cow<'m, str> {
    msg.raw_message
        .get(header.offset_start as usize..header.offset_end as usize)
        .map(String::from_utf8_lossy)
        .unwrap_or_default()
}

fn single_mailbox(value: &HeaderValue) -> Option<Mailbox> {
    match value {
        HeaderValue::Address(Address::List(list)) if list.len() == 1 => {
            Mailbox::parse(list[0].address.as_deref()?)
        }
        _ => None,
    }
}

fn parse_return_path(raw: &str) -> Envelope {
    let mut p = Parser { s: raw, pos: 0 };
    let text = p.without_comments();
    let text = text.trim();
    let inner = match text.find('<') {
        Some(open) => match text[open + 1..].find('>') {
            Some(close) => &text[open + 1..open + 1 + close],
            None => return Envelope::Malformed(one_line(raw)),
        },
        None => text,
    };
    // RFC 5321 source route: "<@relay.example:alice@example.org>".
    let inner = match inner.trim() {
        route if route.starts_with('@') => route.split_once(':').map_or("", |(_, a)| a),
        address => address,
    };
    if inner.trim().is_empty() {
        return Envelope::Null;
    }
    Mailbox::parse(inner).map_or_else(|| Envelope::Malformed(one_line(raw)), Envelope::Address)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalise_domain(d: &str) -> String {
    let d = d.trim();
    d.strip_suffix('.').unwrap_or(d).to_lowercase()
}

/// The domain of an address (`alice@example.org`, `@example.org`) or a bare domain.
fn domain_of(value: &str) -> &str {
    value.rsplit_once('@').map_or(value, |(_, d)| d)
}

#[cfg(test)]
mod tests;
