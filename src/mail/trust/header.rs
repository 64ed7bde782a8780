//! The grammar of the structured header values this module reads (RFC 8601
//! `Authentication-Results`, and the CFWS-laden address of a `Return-Path`): a small cursor
//! over the value, comments and quoted strings included, and what an
//! `Authentication-Results` header says, parsed ([`AuthResults`]).

use std::fmt;

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

/// A cursor over a structured header value. Every syntax character is ASCII, so cutting the
/// `&str` at one of them stays on a character boundary.
pub(super) struct Parser<'a> {
    pub(super) s: &'a str,
    pub(super) pos: usize,
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
    pub(super) fn without_comments(&mut self) -> String {
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
