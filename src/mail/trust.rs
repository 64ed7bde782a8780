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

/// One result of an `Authentication-Results` header: `method=result`, its reason and its
/// properties (`header.d=example.org` is `("header.d", "example.org")`). Method, result and
/// property names are lower-cased; values are as written, unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    pub method: String,
    pub result: String,
    pub reason: Option<String>,
    pub properties: Vec<(String, String)>,
}

impl MethodResult {
    /// The first value of property `name` (`"header.d"`, `"smtp.mailfrom"`, …).
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

impl fmt::Display for MethodResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.method, self.result)?;
        if let Some(reason) = &self.reason {
            write!(f, " reason={reason:?}")?;
        }
        for (name, value) in &self.properties {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// One parsed `Authentication-Results` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// Empty when the header has none (Microsoft 365).
    pub authserv_id: String,
    pub results: Vec<MethodResult>,
    /// The header's value unfolded onto one line, whitespace runs collapsed, for display.
    pub raw: String,
}

impl AuthResults {
    /// The results of `method` (`"dkim"`: one per signature).
    pub fn of<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a MethodResult> + 'a {
        self.results.iter().filter(move |r| r.method == method)
    }
}

impl fmt::Display for AuthResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.results.is_empty() {
            return write!(f, "{}: no results", self.authserv_id);
        }
        let list: Vec<String> = self.results.iter().map(ToString::to_string).collect();
        write!(f, "{}: {}", self.authserv_id, list.join("; "))
    }
}

/// Parses the value of one `Authentication-Results` header (RFC 8601), leniently: comments
/// `( … )` (nested, with `\` escapes) are skipped wherever CFWS may appear, quoted strings are
/// read whole, a result that cannot be read is skipped up to the next `;`. `None` when there
/// is nothing but whitespace and comments.
pub fn parse_authentication_results(value: &str) -> Option<AuthResults> {
    let mut p = Parser { s: value, pos: 0 };
    p.skip_cfws();
    if p.at_end() {
        return None;
    }
    // Microsoft 365 starts with "spf=pass …": no authserv-id.
    let start = p.pos;
    let first = p.word(false);
    p.skip_cfws();
    let authserv_id = if p.peek() == Some(b'=') {
        p.pos = start;
        String::new()
    } else {
        // An optional version number, then the results (or "none").
        let version_at = p.pos;
        let version = p.word(false);
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
            p.pos = version_at;
        }
        first
    };
    let mut results = Vec::new();
    loop {
        p.skip_cfws();
        if p.at_end() {
            break;
        }
        if p.peek() == Some(b';') {
            p.pos += 1;
            continue;
        }
        if let Some(result) = p.resinfo() {
            results.push(result);
        }
        p.skip_to_semicolon();
    }
    let raw = value.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(AuthResults {
        authserv_id,
        results,
        raw,
    })
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

/// A cursor over a structured header value. Every syntax character is ASCII, so cutting the
/// `&str` at one of them stays on a character boundary.
struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// Skips whitespace (folding included) and comments.
    fn skip_cfws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'(' => self.skip_comment(),
                _ => break,
            }
        }
    }

    /// Skips one comment, nested ones and quoted pairs included; an unclosed comment runs to
    /// the end.
    fn skip_comment(&mut self) {
        let bytes = self.s.as_bytes();
        let mut depth = 0usize;
        while let Some(&b) = bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.pos = self.pos.min(self.s.len());
    }

    /// A quoted string (unescaped) or a run of characters up to whitespace, `;`, `(`, `"` and,
    /// unless `allow_equals`, `=`. A property value may contain `=` (an SRS address), a name
    /// may not. Empty when the cursor sits on a delimiter.
    fn word(&mut self, allow_equals: bool) -> String {
        let mut out = String::new();
        loop {
            match self.peek() {
                Some(b'"') => out.push_str(&self.quoted()),
                Some(b) if is_delimiter(b) || (b == b'=' && !allow_equals) => break,
                Some(_) => {
                    let start = self.pos;
                    let bytes = self.s.as_bytes();
                    while let Some(&b) = bytes.get(self.pos) {
                        if is_delimiter(b) || b == b'"' || (b == b'=' && !allow_equals) {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.s[start..self.pos]);
                }
                None => break,
            }
        }
        out
    }

    /// A quoted string starting at the cursor, unescaped; an unclosed one runs to the end.
    fn quoted(&mut self) -> String {
        let bytes = self.s.as_bytes();
        self.pos += 1;
        let mut out = Vec::new();
        while let Some(&b) = bytes.get(self.pos) {
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(&next) = bytes.get(self.pos) {
                        out.push(next);
                        self.pos += 1;
                    }
                }
                b => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// `method=result [reason=…] [ptype.property=value …]` at the cursor, or `None` when it
    /// cannot be read (the caller then skips to the next `;`).
    fn resinfo(&mut self) -> Option<MethodResult> {
        let method = self.word(false).to_ascii_lowercase();
        self.skip_cfws();
        if method.is_empty() || self.peek() != Some(b'=') {
            return None;
        }
        self.pos += 1;
        self.skip_cfws();
        let result = self.word(false).to_ascii_lowercase();
        if result.is_empty() {
            return None;
        }
        // "dkim/1": the method version is not needed.
        let method = method.split('/').next().unwrap_or_default().to_string();
        let mut found = MethodResult {
            method,
            result,
            reason: None,
            properties: Vec::new(),
        };
        loop {
            self.skip_cfws();
            match self.peek() {
                None | Some(b';') => break,
                _ => {}
            }
            let at = self.pos;
            let name = self.word(false).to_ascii_lowercase();
            self.skip_cfws();
            if name.is_empty() || self.peek() != Some(b'=') {
                // A stray word or delimiter: step over it and go on.
                if self.pos == at {
                    self.pos += 1;
                }
                continue;
            }
            self.pos += 1;
            self.skip_cfws();
            let value = self.word(true);
            if name == "reason" {
                found.reason = Some(value);
            } else {
                found.properties.push((name, value));
            }
        }
        Some(found)
    }

    /// Moves the cursor to the next `;` outside comments and quoted strings, or to the end.
    fn skip_to_semicolon(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b';' => break,
                b'(' => self.skip_comment(),
                b'"' => {
                    self.quoted();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// The whole value with its comments removed (quoted strings kept as written).
    fn without_comments(&mut self) -> String {
        let mut out = String::new();
        while let Some(b) = self.peek() {
            match b {
                b'(' => {
                    self.skip_comment();
                    out.push(' ');
                }
                b'"' => {
                    let start = self.pos;
                    self.quoted();
                    out.push_str(&self.s[start..self.pos.min(self.s.len())]);
                }
                _ => {
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek().is_some_and(|b| b != b'(' && b != b'"') {
                        self.pos += 1;
                    }
                    out.push_str(&self.s[start..self.pos]);
                }
            }
        }
        out
    }
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    const OURS: &str = "mx.our.example";

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn assess_raw(raw: &str, authserv_ids: &[&str]) -> Trust {
        let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assess(&msg, &ids(authserv_ids))
    }

    fn mailbox(s: &str) -> Mailbox {
        Mailbox::parse(s).unwrap()
    }

    const BODY: &str = "Subject: Expression of interest\r\n\
        Date: Mon, 10 Jun 2024 10:02:03 +0200\r\n\
        Message-ID: <m1@example.org>\r\n\
        To: working-groups@our.example\r\n\
        \r\n\
        Hello.\r\n";

    /// Delivered to a Google Workspace mailbox: Google's header sits below its own
    /// `Received`, and its authserv-id is mx.google.com.
    fn gmail(from: &str, results: &str) -> String {
        format!(
            "Delivered-To: working-groups@our.example\r\n\
             Received: by 2002:a05:6a10:b5c4:b0:5a1:9f2:7c3e with SMTP id x4csp1234567pxq;\r\n\
             \x20       Mon, 10 Jun 2024 01:02:04 -0700 (PDT)\r\n\
             X-Received: by 2002:a17:906:1c9:b0:a6e:f5ab:2a1f with SMTP id 9mr123456.1;\r\n\
             \x20       Mon, 10 Jun 2024 01:02:04 -0700 (PDT)\r\n\
             ARC-Authentication-Results: i=1; mx.google.com;\r\n\
             \x20      dkim=pass header.i=@evil.example header.s=google header.b=Zz9;\r\n\
             \x20      dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=evil.example\r\n\
             Return-Path: <alice@example.org>\r\n\
             Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n\
             \x20       by mx.google.com with SMTPS id a640c23a62f3a-a7a1e2b3c4dsor12345.9\r\n\
             \x20       for <working-groups@our.example>\r\n\
             \x20       (Google Transport Security);\r\n\
             \x20       Mon, 10 Jun 2024 01:02:03 -0700 (PDT)\r\n\
             Received-SPF: pass (google.com: domain of alice@example.org designates 209.85.220.41 as permitted sender) client-ip=209.85.220.41;\r\n\
             Authentication-Results: mx.google.com;\r\n{results}\
             DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=google;\r\n\
             \x20       h=to:subject:message-id:date:from:mime-version; bh=47DEQpj8HBSa=; b=Xy7Zq1Ab\r\n\
             From: Alice Example <{from}>\r\n{BODY}"
        )
    }

    const GMAIL_PASS: &str = "       dkim=pass header.i=@example.org header.s=google header.b=Xy7Zq1Ab;\r\n\
        \x20      spf=pass (google.com: domain of alice@example.org designates 209.85.220.41 as permitted sender) smtp.mailfrom=alice@example.org;\r\n\
        \x20      dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.org\r\n";

    #[test]
    fn gmail_pass() {
        let t = assess_raw(&gmail("alice@example.org", GMAIL_PASS), &["mx.google.com"]);
        assert_eq!(t.verdict, Verdict::Verified(Basis::Dmarc));
        assert_eq!(t.identity.from, Some(mailbox("alice@example.org")));
        assert_eq!(
            t.identity.envelope,
            Envelope::Address(mailbox("alice@example.org"))
        );
        assert_eq!(t.identity.alignment, Alignment::Exact);
        let r = t.results.unwrap();
        assert_eq!(r.authserv_id, "mx.google.com");
        let methods: Vec<&str> = r.results.iter().map(|m| m.method.as_str()).collect();
        assert_eq!(methods, ["dkim", "spf", "dmarc"]);
        let dkim = r.of("dkim").next().unwrap();
        assert_eq!(dkim.property("header.i"), Some("@example.org"));
        assert_eq!(dkim.property("header.s"), Some("google"));
        assert_eq!(
            r.of("spf").next().unwrap().property("smtp.mailfrom"),
            Some("alice@example.org")
        );
        assert!(
            r.raw
                .starts_with("mx.google.com; dkim=pass header.i=@example.org")
        );
        assert!(!r.raw.contains('\n'));
        // The ARC copy above names another domain: it is not an Authentication-Results.
        assert!(!r.to_string().contains("evil.example"));
    }

    #[test]
    fn gmail_without_dmarc_falls_back_to_aligned_dkim_then_spf() {
        let dkim_only = "       dkim=pass header.i=@example.org header.s=s1 header.b=Q1;\r\n\
            \x20      spf=softfail (google.com: domain of transitioning a@example.org does not designate 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.org\r\n";
        let t = assess_raw(&gmail("alice@example.org", dkim_only), &["mx.google.com"]);
        assert_eq!(
            t.verdict,
            Verdict::Verified(Basis::Dkim("example.org".into()))
        );
        let spf_only = "       spf=pass (google.com: domain of b@bounces.example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=b@bounces.example.org\r\n";
        let t = assess_raw(&gmail("alice@example.org", spf_only), &["mx.google.com"]);
        assert_eq!(
            t.verdict,
            Verdict::Verified(Basis::Spf("bounces.example.org".into()))
        );
    }

    #[test]
    fn gmail_for_a_third_party_sender_is_unverified() {
        // Sent through a mailing service signing with its own domain and bouncing to it.
        let esp = "       dkim=pass header.i=@mcsv.example header.s=k1 header.b=Ab;\r\n\
            \x20      spf=pass (google.com: domain of bounce-mc.us1@mail1.mcsv.example designates 198.51.100.1 as permitted sender) smtp.mailfrom=bounce-mc.us1@mail1.mcsv.example\r\n";
        let t = assess_raw(&gmail("alice@example.org", esp), &["mx.google.com"]);
        assert_eq!(t.verdict, Verdict::Unverified);
        // Not configured: the same header proves nothing.
        let t = assess_raw(&gmail("alice@example.org", GMAIL_PASS), &[OURS]);
        assert_eq!(t.verdict, Verdict::Unknown);
        assert_eq!(t.results, None);
        let t = assess_raw(&gmail("alice@example.org", GMAIL_PASS), &[]);
        assert_eq!(t.verdict, Verdict::Unknown);
    }

    /// Exchange Online: no authserv-id, `;` without spaces, `action=` and `compauth=`.
    fn microsoft(results: &str) -> String {
        format!(
            "Received: from AM9PR04MB8211.eurprd04.prod.outlook.com (2603:10a6:20b:40a::12)\r\n\
             \x20by DB9PR04MB9452.eurprd04.prod.outlook.com with HTTPS; Mon, 10 Jun 2024 08:02:05 +0000\r\n\
             Authentication-Results: {results}\r\n\
             Received-SPF: Pass (protection.outlook.com: domain of example.org designates\r\n\
             \x20209.85.221.41 as permitted sender) receiver=protection.outlook.com;\r\n\
             \x20client-ip=209.85.221.41; helo=mail-wr1-f41.google.com; pr=C\r\n\
             Received: from mail-wr1-f41.google.com (209.85.221.41) by\r\n\
             \x20AM4PEPF00027A5F.mail.protection.outlook.com (10.167.16.74) with Microsoft SMTP\r\n\
             \x20Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.7677.15 via\r\n\
             \x20Frontend Transport; Mon, 10 Jun 2024 08:02:04 +0000\r\n\
             Authentication-Results-Original: mx.our.example; dmarc=pass header.from=victim.example\r\n\
             Return-Path: alice@example.org\r\n\
             From: \"Alice\" <alice@example.org>\r\n{BODY}"
        )
    }

    #[test]
    fn microsoft_365() {
        let pass = "spf=pass (sender IP is 209.85.221.41)\r\n smtp.mailfrom=example.org; dkim=pass (signature was verified)\r\n header.d=example.org;dmarc=pass action=none\r\n header.from=example.org;compauth=pass reason=100";
        let t = assess_raw(&microsoft(pass), &[""]);
        assert_eq!(t.verdict, Verdict::Verified(Basis::Dmarc));
        let r = t.results.as_ref().unwrap();
        assert_eq!(r.authserv_id, "");
        let compauth = r.of("compauth").next().unwrap();
        assert_eq!(compauth.result, "pass");
        assert_eq!(compauth.reason.as_deref(), Some("100"));
        assert_eq!(
            r.of("dmarc").next().unwrap().property("action"),
            Some("none")
        );
        assert_eq!(
            r.of("dkim").next().unwrap().property("header.d"),
            Some("example.org")
        );
        assert_eq!(t.identity.alignment, Alignment::Exact);
        // Without "" configured, Microsoft's header is not ours.
        assert_eq!(
            assess_raw(&microsoft(pass), &[OURS]).verdict,
            Verdict::Unknown
        );

        let fail = "spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=example.org; dkim=none\r\n (message not signed) header.d=none;dmarc=fail action=quarantine\r\n header.from=example.org;compauth=fail reason=000";
        assert_eq!(
            assess_raw(&microsoft(fail), &[""]).verdict,
            Verdict::Unverified
        );
    }

    /// Postfix with OpenDKIM and OpenDMARC milters, delivered by Dovecot over LMTP.
    fn postfix(milter_headers: &str, forged: &str) -> String {
        format!(
            "Return-Path: <alice@example.org>\r\n\
             Delivered-To: working-groups@our.example\r\n\
             Received: from mx.our.example\r\n\
             \tby imap.our.example with LMTP\r\n\
             \tid 6Bq2LQuxZmYpHQAAqDT9Aw\r\n\
             \t(envelope-from <alice@example.org>)\r\n\
             \tfor <working-groups@our.example>; Mon, 10 Jun 2024 10:02:05 +0200\r\n\
             {milter_headers}\
             Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n\
             \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\
             \t(No client certificate requested)\r\n\
             \tby mx.our.example (Postfix) with ESMTPS id 4VyJ2s0Gq8z9sT1\r\n\
             \tfor <working-groups@our.example>; Mon, 10 Jun 2024 10:02:04 +0200 (CEST)\r\n\
             {forged}\
             DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;\r\n\
             \tt=1718006523; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCd1234\r\n\
             From: Alice <alice@example.org>\r\n{BODY}"
        )
    }

    const OPENDMARC_OPENDKIM: &str = "DMARC-Filter: OpenDMARC Filter v1.4.2 mx.our.example 4VyJ2s0Gq8z9sT1\r\n\
        Authentication-Results: mx.our.example; dmarc=pass (p=reject dis=none) header.from=example.org\r\n\
        Authentication-Results: mx.our.example;\r\n\
        \tdkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org\r\n\
        \theader.a=rsa-sha256 header.s=mail header.b=AbCd1234;\r\n\
        \tdkim-atps=neutral\r\n\
        DKIM-Filter: OpenDKIM Filter v2.11.0 mx.our.example 4VyJ2s0Gq8z9sT1\r\n\
        Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10; helo=mail.example.org; envelope-from=alice@example.org; receiver=<UNKNOWN>\r\n";

    #[test]
    fn postfix_milters_topmost_header_only() {
        let t = assess_raw(&postfix(OPENDMARC_OPENDKIM, ""), &[OURS]);
        assert_eq!(t.verdict, Verdict::Verified(Basis::Dmarc));
        let r = t.results.unwrap();
        // Only OpenDMARC's header, the topmost one, is read.
        assert_eq!(r.results.len(), 1);
        assert_eq!(r.results[0].property("header.from"), Some("example.org"));
        assert_eq!(t.identity.alignment, Alignment::Exact);

        // Without OpenDMARC, OpenDKIM's header is the topmost and its aligned pass verifies.
        let dkim_only = OPENDMARC_OPENDKIM
            .lines()
            .filter(|l| !l.contains("dmarc") && !l.contains("DMARC"))
            .map(|l| format!("{l}\r\n"))
            .collect::<String>();
        let t = assess_raw(&postfix(&dkim_only, ""), &[OURS]);
        assert_eq!(
            t.verdict,
            Verdict::Verified(Basis::Dkim("example.org".into()))
        );
        let r = t.results.unwrap();
        assert_eq!(
            r.of("dkim").next().unwrap().property("header.a"),
            Some("rsa-sha256")
        );
        assert_eq!(r.of("dkim-atps").next().unwrap().result, "neutral");
    }

    #[test]
    fn rspamd_single_header() {
        let rspamd = "Authentication-Results: mx.our.example;\r\n\
            \tdkim=pass header.d=example.org header.s=s2024 header.b=\"AbCdEf12\";\r\n\
            \tdmarc=fail reason=\"No valid SPF, No valid DKIM\" header.from=example.org (policy=reject);\r\n\
            \tspf=fail (mx.our.example: domain of alice@example.org does not designate 203.0.113.9 as permitted sender) smtp.mailfrom=alice@example.org\r\n";
        // A DMARC fail stands even beside a DKIM pass we would align ourselves: the
        // domain's policy may require strict alignment.
        let t = assess_raw(&postfix(rspamd, ""), &[OURS]);
        assert_eq!(t.verdict, Verdict::Unverified);
        let r = t.results.unwrap();
        let dmarc = r.of("dmarc").next().unwrap();
        assert_eq!(dmarc.reason.as_deref(), Some("No valid SPF, No valid DKIM"));
        assert_eq!(dmarc.property("header.from"), Some("example.org"));
        assert_eq!(
            r.of("dkim").next().unwrap().property("header.b"),
            Some("AbCdEf12")
        );
        let pass = rspamd.replace("dmarc=fail", "dmarc=pass");
        assert_eq!(
            assess_raw(&postfix(&pass, ""), &[OURS]).verdict,
            Verdict::Verified(Basis::Dmarc)
        );
    }

    #[test]
    fn forged_results_lower_down_are_ignored() {
        let ours = "Authentication-Results: mx.our.example; spf=fail smtp.mailfrom=victim.example;\r\n\
            \tdkim=none; dmarc=fail (p=reject) header.from=victim.example\r\n";
        let forged = "Authentication-Results: mx.our.example; dmarc=pass header.from=victim.example;\r\n\
            \tdkim=pass header.d=victim.example; spf=pass smtp.mailfrom=victim.example\r\n";
        let raw = postfix(ours, forged).replace("alice@example.org", "ceo@victim.example");
        let t = assess_raw(&raw, &[OURS]);
        assert_eq!(t.verdict, Verdict::Unverified);
        assert!(t.results.unwrap().of("dkim").all(|r| r.result == "none"));

        // Our server checked and found nothing (`none`): still only ours counts.
        let ours_none = "Authentication-Results: mx.our.example; none\r\n";
        let raw = postfix(ours_none, forged).replace("alice@example.org", "ceo@victim.example");
        let t = assess_raw(&raw, &[OURS]);
        assert_eq!(t.verdict, Verdict::Unverified);
        assert!(t.results.unwrap().results.is_empty());

        // A header with another authserv-id, however high, is not ours.
        let other = "Authentication-Results: mx.our.example.evil.example; dmarc=pass header.from=example.org\r\n\
            Authentication-Results: evil.example; dmarc=pass header.from=example.org\r\n";
        let t = assess_raw(&postfix(other, ""), &[OURS]);
        assert_eq!(t.verdict, Verdict::Unknown);
        // Configured ids match case-insensitively and trimmed.
        let t = assess_raw(&postfix(ours, ""), &[" MX.Our.Example "]);
        assert_eq!(t.verdict, Verdict::Unverified);
        assert!(t.results.is_some());
    }

    #[test]
    fn comments_and_quoted_strings_do_not_confuse_the_parser() {
        let ar = parse_authentication_results(
            " mx.our.example (amavis; dkim=pass) 1;\r\n\
             \tdkim=fail (sig (nested; dkim=pass) \\) still comment; header.d=victim.example) header.d=evil.example;\r\n\
             \tspf=pass reason=\"a; dmarc=pass header.from=victim.example\" smtp.mailfrom=\"odd local\"@evil.example;\r\n\
             \tdmarc = none (p=none) header . from=evil.example; auth=pass smtp.auth=SRS0=HHH=TT=example.org=alice@fwd.example",
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.our.example");
        let methods: Vec<&str> = ar.results.iter().map(|r| r.method.as_str()).collect();
        assert_eq!(methods, ["dkim", "spf", "dmarc", "auth"]);
        assert_eq!(ar.results[0].result, "fail");
        assert_eq!(ar.results[0].property("header.d"), Some("evil.example"));
        assert_eq!(
            ar.results[1].reason.as_deref(),
            Some("a; dmarc=pass header.from=victim.example")
        );
        assert_eq!(
            ar.results[1].property("smtp.mailfrom"),
            Some("odd local@evil.example")
        );
        assert_eq!(ar.results[2].result, "none");
        // An '=' inside a property value (an SRS address) belongs to the value.
        assert_eq!(
            ar.results[3].property("smtp.auth"),
            Some("SRS0=HHH=TT=example.org=alice@fwd.example")
        );
        assert!(!ar.results.iter().any(|r| r.method == "dmarc" && r.passed()));
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(parse_authentication_results(""), None);
        assert_eq!(parse_authentication_results("  (only a comment)  "), None);
        for value in [
            ";;;",
            "mx.our.example",
            "mx.our.example;",
            "mx.our.example; =pass; dkim=; =; spf",
            "mx.our.example; dkim=pass (unclosed comment header.d=example.org",
            "mx.our.example; dkim=pass reason=\"unclosed",
            "mx.our.example; dkim=pass header.d=\\",
            "(((",
            "\"",
            "mx.our.example; é=ü; dkim=pass (é\\é) header.d=é.example",
            "mx.our.example; dkim pass; spf==pass",
        ] {
            let ar = parse_authentication_results(value);
            if let Some(ar) = &ar {
                // Nothing that was not a complete method=result is reported.
                assert!(
                    ar.results
                        .iter()
                        .all(|r| !r.method.is_empty() && !r.result.is_empty()),
                    "{value:?}: {ar:?}"
                );
            }
        }
        let ar = parse_authentication_results("mx.our.example; =pass; dkim=; spf").unwrap();
        assert!(ar.results.is_empty(), "{ar:?}");
        let ar =
            parse_authentication_results("mx.our.example; dkim=pass (unclosed header.d=x.example")
                .unwrap();
        assert_eq!(ar.results.len(), 1);
        assert_eq!(ar.results[0].property("header.d"), None);
        let long = format!(
            "mx.our.example; {}",
            "dkim=pass header.d=example.org; ".repeat(5000)
        );
        assert_eq!(
            parse_authentication_results(&long).unwrap().results.len(),
            5000
        );
        let deep = format!("mx.our.example; dkim=pass {}", "(".repeat(100_000));
        assert_eq!(
            parse_authentication_results(&deep).unwrap().results.len(),
            1
        );
    }

    #[test]
    fn from_identity_needs_exactly_one_mailbox() {
        let from = |headers: &str| {
            let raw = format!("{headers}Subject: x\r\n\r\nx\r\n");
            identity(&MessageParser::default().parse(raw.as_bytes()).unwrap()).from
        };
        assert_eq!(
            from("From: Alice <Alice@Example.org>\r\n"),
            Some(mailbox("Alice@Example.org"))
        );
        assert_eq!(from("From: a@example.org, b@example.org\r\n"), None);
        assert_eq!(
            from("From: a@example.org\r\nFrom: ceo@victim.example\r\n"),
            None
        );
        assert_eq!(from("From: Team: a@example.org, b@example.org;\r\n"), None);
        assert_eq!(from("From: Alice\r\n"), None);
        assert_eq!(from("From: <>\r\n"), None);
        assert_eq!(from("To: x@example.org\r\n"), None);
        let t = assess_raw(
            &postfix(OPENDMARC_OPENDKIM, "").replace(
                "From: Alice <alice@example.org>\r\n",
                "From: Alice <alice@example.org>\r\nFrom: ceo@victim.example\r\n",
            ),
            &[OURS],
        );
        // Two From headers: nothing to vouch for, whatever the results say.
        assert_eq!(t.identity.from, None);
        assert_eq!(t.verdict, Verdict::Unverified);
    }

    fn envelope_of(headers: &str) -> Identity {
        let raw = format!("{headers}Subject: x\r\n\r\nx\r\n");
        identity(&MessageParser::default().parse(raw.as_bytes()).unwrap())
    }

    #[test]
    fn envelope_is_the_topmost_return_path() {
        let i = envelope_of(
            "Return-Path: <bounce@lists.example.net>\r\nReceived: from x by y\r\n\
             Return-Path: <alice@example.org>\r\nFrom: alice@example.org\r\n",
        );
        assert_eq!(
            i.envelope,
            Envelope::Address(mailbox("bounce@lists.example.net"))
        );
        assert_eq!(i.alignment, Alignment::Unaligned);
        let i = envelope_of(
            "Return-Path: <>\r\nReturn-Path: <alice@example.org>\r\nFrom: alice@example.org\r\n",
        );
        assert_eq!(i.envelope, Envelope::Null);
        assert_eq!(i.alignment, Alignment::Unaligned);
        assert_eq!(
            envelope_of("Return-Path: (bounce) < > (x)\r\nFrom: a@b.example\r\n").envelope,
            Envelope::Null
        );
        assert_eq!(
            envelope_of("From: a@b.example\r\n").envelope,
            Envelope::Missing
        );
        assert_eq!(
            envelope_of(
                "Return-Path: <@relay.example:Alice@Example.org>\r\nFrom: alice@example.org\r\n"
            ),
            Identity {
                from: Some(mailbox("alice@example.org")),
                envelope: Envelope::Address(mailbox("Alice@Example.org")),
                alignment: Alignment::Exact,
            }
        );
        assert!(matches!(
            envelope_of("Return-Path: <not an address\r\nFrom: a@b.example\r\n").envelope,
            Envelope::Malformed(_)
        ));
        assert!(matches!(
            envelope_of("Return-Path: <nobody>\r\nFrom: a@b.example\r\n").envelope,
            Envelope::Malformed(_)
        ));
        assert_eq!(Envelope::Null.to_string(), "<>");
    }

    #[test]
    fn alignment_rules() {
        let align = |from: &str, rp: &str| {
            envelope_of(&format!("Return-Path: <{rp}>\r\nFrom: {from}\r\n")).alignment
        };
        assert_eq!(
            align("alice@example.org", "ALICE@EXAMPLE.ORG"),
            Alignment::Exact
        );
        assert_eq!(
            align("alice@example.org", "alice@example.org."),
            Alignment::Exact
        );
        assert_eq!(
            align("alice@example.org", "bounces+123@example.org"),
            Alignment::Relaxed
        );
        assert_eq!(
            align("alice@example.org", "b-1@em.bounces.example.org"),
            Alignment::Relaxed
        );
        assert_eq!(
            align("alice@mail.example.org", "b@example.org"),
            Alignment::Relaxed
        );
        // An SRS forwarder and a mailing list send from their own domains.
        assert_eq!(
            align(
                "alice@example.org",
                "SRS0=HHH=TT=example.org=alice@forwarder.example"
            ),
            Alignment::Unaligned
        );
        assert_eq!(
            align(
                "alice@example.org",
                "wg-bounces+alice=example.org@lists.example.net"
            ),
            Alignment::Unaligned
        );
        assert_eq!(
            align("alice@example.org", "x@badexample.org"),
            Alignment::Unaligned
        );
        assert_eq!(align("alice@example.org", "x@org"), Alignment::Unaligned);
        assert_eq!(
            align("alice@a.example.org", "x@b.example.org"),
            Alignment::Unaligned
        );
        assert!(Alignment::Relaxed.is_aligned() && !Alignment::Unaligned.is_aligned());

        assert!(domains_align("Example.ORG.", "example.org"));
        assert!(domains_align("example.org", "mail.example.org"));
        assert!(!domains_align("org", "example.org"));
        assert!(!domains_align("example.org", ".example.org"));
        assert!(!domains_align("", ""));
        assert!(!domains_align("xample.org", "example.org"));
    }

    #[test]
    fn dmarc_pass_for_another_domain_does_not_verify() {
        let ar = "Authentication-Results: mx.our.example; dmarc=pass header.from=evil.example;\r\n\
            \tdkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example\r\n";
        assert_eq!(
            assess_raw(&postfix(ar, ""), &[OURS]).verdict,
            Verdict::Unverified
        );
    }

    #[test]
    fn verdict_display() {
        assert_eq!(
            Verdict::Verified(Basis::Dmarc).to_string(),
            "verified (DMARC)"
        );
        assert_eq!(
            Verdict::Verified(Basis::Dkim("example.org".into())).to_string(),
            "verified (DKIM, example.org)"
        );
        assert_eq!(Verdict::Unverified.to_string(), "unverified");
        assert!(Verdict::Verified(Basis::Dmarc).is_verified());
        assert!(!Verdict::Unknown.is_verified());
        let ar =
            parse_authentication_results("mx.our.example; spf=pass smtp.mailfrom=a@example.org")
                .unwrap();
        assert_eq!(
            ar.to_string(),
            "mx.our.example: spf=pass smtp.mailfrom=a@example.org"
        );
    }
}
