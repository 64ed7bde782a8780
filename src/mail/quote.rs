//! Where a reply's new text ends: a mail body split into the new part, the signature and the
//! quoted history, for plain text ([`split_text`]) and sanitised HTML ([`split_html`]).
//!
//! Both are read as a list of lines — in HTML one per block or `<br>`, quoted inside a
//! `<blockquote>` — and the same rules find the cuts: an attribution ("On … wrote:", "Le … a
//! écrit :", "Am … schrieb …:" and the other languages of the groups) before a quote that runs
//! to the end; Outlook header blocks ("From: / Sent: / Subject:" and their translations) and
//! "Original Message" separators, after which everything is history; the `-- ` signature
//! delimiter and phone trailers. In HTML the markers clients put on their quotes and
//! signatures (Gmail, Outlook on the web, Apple Mail, Thunderbird…) are candidates too.
//!
//! Conservative by design: a cut that would leave no new text, that has unquoted text after
//! it (an inline reply), or that opens a forwarded message is refused — when unsure, the whole
//! body is new.

use std::sync::LazyLock;

use regex::Regex;

use super::html::{BLOCKS, Element, Fragment, Node};

/// A body cut in three. `signature` and `quoted` are `None` when nothing was found.
#[derive(Clone, Debug, PartialEq)]
pub struct Split<T> {
    pub new: T,
    pub signature: Option<T>,
    pub quoted: Option<T>,
}

/// What may be folded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    /// A reply: the quoted history and the signature.
    QuoteAndSignature,
    /// A forward: the forwarded message is the content, only the signature is folded.
    SignatureOnly,
}

/// Whether a subject announces a forward (`Fwd:`, `TR :`, `WG:`, `RV:`, `I:`…), whose
/// "quoted" part is the very content the secretariat must read. `VS:` is a forward in Danish
/// and Norwegian but a reply in Finnish: taken as a forward, which folds less.
pub fn is_forward(subject: &str) -> bool {
    static FORWARD_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(fwd?|tr|wg|rv|i|enc|doorst|pd|vs|vb|vl)\s*:").expect("regex")
    });
    FORWARD_SUBJECT.is_match(subject)
}

/// A signature longer than this after a `-- ` line is more likely text after a separator.
const MAX_SIGNATURE_LINES: usize = 30;

/// One line of a body as the rules see it.
#[derive(Debug)]
struct Line {
    /// Trimmed.
    text: String,
    /// Starts with `>` (text) or sits in a `<blockquote>` (HTML).
    quoted: bool,
    /// A horizontal rule (`<hr>`, a line of underscores) that may open a header block.
    rule: bool,
}

impl Line {
    fn blank(&self) -> bool {
        self.text.is_empty() && !self.rule
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A quote that must run to the end of the body (only quoted lines after its first one).
    Thread,
    /// A header block or separator: everything after it is the previous mail.
    History,
}

/// Where a split may start: the first line it takes, and where to cut (a line index for text,
/// a node path for HTML).
#[derive(Clone, Debug)]
struct Candidate<P> {
    line: usize,
    kind: Kind,
    at: P,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("quote pattern")
}

/// `(?i)` + `before` + `(a|b|…)` + `after`.
fn any_of(before: &str, words: &[&str], after: &str) -> Regex {
    re(&format!("(?i){before}({}){after}", words.join("|")))
}

/// Verbs that end an attribution, before its colon. Those some clients put before the date
/// ("schrieb am …:", "skrev den …:") take what follows.
const REPLY_VERBS: &[&str] = &[
    "wrote",
    r"a\s+écrit",
    r"schrieb\b.{0,200}",
    "geschrieben",
    r"ha\s+scritto",
    "escribió",
    "escreveu",
    r"schreef\b.{0,200}",
    "geschreven",
    r"napisał(a|\(a\))?",
    "pisze",
    r"skrev\b.{0,200}",
    r"kirjoitti\b.{0,200}",
    r"napsal(a|\(a\))?",
    r"napísal(a|\(a\))?",
    "írta",
    r"a\s+scris",
    "έγραψε",
    "написа",
    "rakstīja",
    "rašė",
    "kirjutas",
];
/// How attributions open: "On", "Le", "Am", "Il (giorno)", "El", "Op", "Em", "No dia",
/// "W dniu", "Dnia", "Den".
const ATTRIBUTION_OPENINGS: &[&str] = &[
    "on", "le", "am", "il", "el", "op", "em", "no dia", "w dniu", "dnia", "den",
];
/// Outlook's header labels, in the languages it is used in here.
const FROM_LABELS: &[&str] = &["from", "de", "von", "da", "van", "od", "fra", "från"];
const DATE_LABELS: &[&str] = &[
    "sent",
    "date",
    "envoyé",
    "gesendet",
    "datum",
    "inviato",
    "data",
    "enviado el",
    "enviado",
    "enviada",
    "fecha",
    "verzonden",
    "wysłano",
    "sendt",
    "skickat",
];
const SUBJECT_LABELS: &[&str] = &[
    "subject",
    "objet",
    "betreff",
    "oggetto",
    "asunto",
    "onderwerp",
    "assunto",
    "temat",
    "emne",
    "ämne",
];
const ORIGINAL_MESSAGE_TITLES: &[&str] = &[
    "original message",
    "message d'origine",
    "message original",
    "ursprüngliche nachricht",
    "originalnachricht",
    "messaggio originale",
    "mensaje original",
    "oorspronkelijk bericht",
    "origineel bericht",
    "mensagem original",
    "wiadomość oryginalna",
];
const FORWARD_TITLES: &[&str] = &[
    "forwarded message",
    "begin forwarded message",
    "message transféré",
    "message réexpédié",
    "weitergeleitete nachricht",
    "messaggio inoltrato",
    "mensaje reenviado",
    "doorgestuurd bericht",
    "mensagem encaminhada",
    "mensagem reencaminhada",
    "wiadomość przekazana",
];
/// The last line a phone or a webmail appends.
const TRAILERS: &[&str] = &[
    "sent from my .{1,40}",
    "sent from (outlook|mail|yahoo mail|proton ?mail|samsung).{0,40}",
    "get outlook for .{1,20}",
    "sent with .{1,40}",
    "envoyé de mon .{1,40}",
    "envoyé depuis .{1,40}",
    "von meinem .{1,40} gesendet",
    "gesendet von .{1,40}",
    "inviato da(l mio)? .{1,40}",
    "enviado desde mi .{1,40}",
    "enviado do meu .{1,40}",
    "verzonden (vanaf|met) .{1,40}",
    "verstuurd vanaf .{1,40}",
    "wysłane z .{1,40}",
];

static ATTRIBUTION_END: LazyLock<Regex> = LazyLock::new(|| any_of(r"\b", REPLY_VERBS, r"\s*:$"));
static ATTRIBUTION_START: LazyLock<Regex> =
    LazyLock::new(|| any_of("^", ATTRIBUTION_OPENINGS, r"\b"));
static DIGIT: LazyLock<Regex> = LazyLock::new(|| re(r"\d"));
/// Outlook bolds labels in plain text as `*From:*`.
static HEADER_FROM: LazyLock<Regex> =
    LazyLock::new(|| any_of(r"^\*?\s*", FROM_LABELS, r"\s*:\s*\*?\s*\S"));
static HEADER_DATE: LazyLock<Regex> = LazyLock::new(|| any_of(r"^\*?\s*", DATE_LABELS, r"\s*:"));
static HEADER_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| any_of(r"^\*?\s*", SUBJECT_LABELS, r"\s*:"));
static ORIGINAL_MESSAGE: LazyLock<Regex> =
    LazyLock::new(|| any_of(r"^-{2,}\s*", ORIGINAL_MESSAGE_TITLES, r"\s*-{2,}$"));
static FORWARDED: LazyLock<Regex> = LazyLock::new(|| any_of("", FORWARD_TITLES, ""));
static TRAILER: LazyLock<Regex> = LazyLock::new(|| any_of("^", TRAILERS, "$"));

fn is_attribution(s: &str) -> bool {
    // An attribution names a date or an address; "The chair wrote:" before a quote is the
    // sender quoting on purpose, and stays visible.
    s.chars().count() <= 400
        && ATTRIBUTION_END.is_match(s)
        && (ATTRIBUTION_START.is_match(s) || s.contains('@') || DIGIT.is_match(s))
}

fn is_rule(s: &str) -> bool {
    s.chars().count() >= 8 && s.chars().all(|c| c == '_' || c == '-' || c == '—')
}

/// `From:` followed, within a few lines, by a date and a subject.
fn header_block(lines: &[Line], i: usize) -> bool {
    if !HEADER_FROM.is_match(&lines[i].text) {
        return false;
    }
    let next: Vec<&Line> = lines[i + 1..]
        .iter()
        .filter(|l| !l.blank())
        .take(8)
        .collect();
    next.iter().any(|l| HEADER_DATE.is_match(&l.text))
        && next.iter().any(|l| HEADER_SUBJECT.is_match(&l.text))
}

/// Moves a History cut up over a rule just above it (Outlook's `____` or `<hr>`).
fn back_over_rule(lines: &[Line], i: usize) -> usize {
    let mut j = i;
    while j > 0 && lines[j - 1].blank() {
        j -= 1;
    }
    if j > 0 && lines[j - 1].rule { j - 1 } else { i }
}

/// The first quoted line of the quoted run that ends the body, and how many quoted lines it has.
fn trailing_quote(lines: &[Line]) -> Option<(usize, usize)> {
    let mut first = None;
    let mut count = 0;
    for (i, line) in lines.iter().enumerate().rev() {
        if line.blank() {
            continue;
        }
        if !line.quoted {
            break;
        }
        first = Some(i);
        count += 1;
    }
    first.map(|f| (f, count))
}

/// The first line of an attribution ending just above line `q` (up to three lines, as
/// clients wrap long ones). The shortest match that opens like an attribution wins, so a
/// wrapped "On …\n… wrote:" is taken whole but the sentence above it is not.
fn attribution_before(lines: &[Line], q: usize) -> Option<usize> {
    let mut k = q;
    while k > 0 && lines[k - 1].blank() {
        k -= 1;
    }
    let mut joined = String::new();
    let mut shortest = None;
    for start in (k.saturating_sub(3)..k).rev() {
        let line = &lines[start];
        if line.blank() || line.quoted {
            break;
        }
        joined = if joined.is_empty() {
            line.text.clone()
        } else {
            format!("{} {joined}", line.text)
        };
        if is_attribution(&joined) {
            if ATTRIBUTION_START.is_match(&joined) {
                return Some(start);
            }
            shortest = shortest.or(Some(start));
        }
    }
    shortest
}

/// Candidates found in the lines themselves. `bare_quotes`: a trailing run of `>` lines with
/// no attribution counts too (plain text, where `>` is the clients' convention; an HTML
/// `<blockquote>` without an attribution or a marker is as likely the sender's own quotation).
fn line_candidates(lines: &[Line], bare_quotes: bool) -> Vec<(usize, Kind)> {
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.quoted && (ORIGINAL_MESSAGE.is_match(&line.text) || header_block(lines, i)) {
            found.push((back_over_rule(lines, i), Kind::History));
        }
    }
    if let Some((q, count)) = trailing_quote(lines) {
        match attribution_before(lines, q) {
            Some(a) => found.push((a, Kind::Thread)),
            None if bare_quotes && count >= 2 => found.push((q, Kind::Thread)),
            None => {}
        }
    }
    found
}

fn has_new_text(lines: &[Line]) -> bool {
    lines.iter().any(|l| !l.text.is_empty())
}

fn valid_quote(lines: &[Line], c: usize, kind: Kind) -> bool {
    if !has_new_text(&lines[..c]) {
        return false;
    }
    // A header block inside a quote is older history; what follows the quote may be answers.
    let kind = if lines[c].quoted { Kind::Thread } else { kind };
    // A forward's header block introduces the content, not history.
    let opening = lines[c..].iter().filter(|l| !l.blank()).take(6);
    let closing = lines[..c].iter().rev().filter(|l| !l.blank()).take(2);
    if opening.chain(closing).any(|l| FORWARDED.is_match(&l.text)) {
        return false;
    }
    if kind == Kind::Thread {
        // After the quote starts, unquoted text is an answer between quotes: keep it shown.
        let mut rest = lines[c..]
            .iter()
            .filter(|l| !l.blank())
            .skip_while(|l| !l.quoted);
        if rest.any(|l| !l.quoted) {
            return false;
        }
    }
    true
}

fn choose_quote<P: Ord + Clone>(
    lines: &[Line],
    mut cands: Vec<Candidate<P>>,
) -> Option<Candidate<P>> {
    cands.sort_by(|a, b| (a.line, &a.at).cmp(&(b.line, &b.at)));
    cands
        .into_iter()
        .find(|c| valid_quote(lines, c.line, c.kind))
}

/// Signature candidates among `lines[..end]`: the `-- ` delimiter, a phone trailer.
fn signature_lines(lines: &[Line], end: usize) -> Vec<usize> {
    let mut found = Vec::new();
    if let Some(d) = (0..end).find(|&i| lines[i].text == "--") {
        found.push(d);
    }
    if let Some(t) = (0..end).rev().find(|&i| !lines[i].blank())
        && TRAILER.is_match(&lines[t].text)
    {
        found.push(t);
    }
    found
}

/// A signature runs from its first line to the quote (or the end), so it must be short and
/// hold nothing but itself: no quoted line (a quote left shown, answers below it), no
/// forwarded message or earlier mail.
fn valid_signature(lines: &[Line], c: usize, end: usize) -> bool {
    let region = &lines[c..end];
    has_new_text(&lines[..c])
        && region.iter().filter(|l| !l.blank()).count() <= MAX_SIGNATURE_LINES + 1
        && region.iter().enumerate().all(|(i, l)| {
            !l.quoted
                && !FORWARDED.is_match(&l.text)
                && !ORIGINAL_MESSAGE.is_match(&l.text)
                && !header_block(lines, c + i)
        })
}

fn choose_signature<P: Ord + Clone>(
    lines: &[Line],
    end: usize,
    mut cands: Vec<Candidate<P>>,
) -> Option<Candidate<P>> {
    cands.sort_by(|a, b| (a.line, &a.at).cmp(&(b.line, &b.at)));
    cands
        .into_iter()
        .find(|c| valid_signature(lines, c.line, end))
}

/// Splits a plain-text body.
pub fn split_text(body: &str, fold: Fold) -> Split<String> {
    let raw: Vec<&str> = body.lines().collect();
    let lines: Vec<Line> = raw
        .iter()
        .map(|l| {
            let text = l.trim();
            Line {
                text: text.to_owned(),
                quoted: text.starts_with('>'),
                rule: is_rule(text),
            }
        })
        .collect();
    let quote = match fold {
        Fold::QuoteAndSignature => {
            let cands = line_candidates(&lines, true)
                .into_iter()
                .map(|(line, kind)| Candidate {
                    line,
                    kind,
                    at: line,
                })
                .collect();
            choose_quote(&lines, cands)
        }
        Fold::SignatureOnly => None,
    };
    let end = quote.as_ref().map_or(lines.len(), |c| c.line);
    let sig_cands = signature_lines(&lines, end)
        .into_iter()
        .map(|line| Candidate {
            line,
            kind: Kind::History,
            at: line,
        })
        .collect();
    let sig = choose_signature(&lines, end, sig_cands).map_or(end, |c| c.line);
    let part = |from: usize, to: usize| {
        let s = raw[from..to].join("\n");
        let s = s.trim_matches(['\n', '\r', ' ', '\t']);
        (!s.trim().is_empty()).then(|| s.to_owned())
    };
    Split {
        new: part(0, sig).unwrap_or_default(),
        signature: part(sig, end),
        quoted: part(end, lines.len()),
    }
}

type Path = Vec<usize>;

/// An HTML fragment read as lines, each with the path of the node it starts at (`None` for a
/// line that starts inside a text node, after a newline in `<pre>`: no cut can be made there).
#[derive(Default)]
struct Linear {
    lines: Vec<Line>,
    starts: Vec<Option<Path>>,
    cur: String,
    start: Option<Option<Path>>,
    quoted: usize,
    cur_quoted: bool,
    path: Path,
}

impl Linear {
    fn read(f: &Fragment) -> Self {
        let mut l = Linear::default();
        l.walk(&f.0);
        l.end();
        l
    }

    fn begin(&mut self, at: Option<Path>) {
        if self.start.is_none() {
            self.start = Some(at);
            self.cur_quoted = self.quoted > 0;
        }
    }

    fn end(&mut self) {
        let text = self.cur.trim();
        if let Some(start) = self.start.take().filter(|_| !text.is_empty()) {
            self.lines.push(Line {
                text: text.to_owned(),
                quoted: self.cur_quoted,
                rule: false,
            });
            self.starts.push(start);
        }
        self.cur.clear();
        self.start = None;
    }

    fn walk(&mut self, nodes: &[Node]) {
        for (i, node) in nodes.iter().enumerate() {
            self.path.push(i);
            match node {
                Node::Text(t) => {
                    for (k, piece) in t.split('\n').enumerate() {
                        if k > 0 {
                            self.end();
                        }
                        if !piece.trim().is_empty() {
                            let at = (k == 0).then(|| self.path.clone());
                            self.begin(at);
                        }
                        self.cur.push_str(piece);
                    }
                }
                Node::Element(e) => self.element(e),
            }
            self.path.pop();
        }
    }

    fn element(&mut self, e: &Element) {
        match e.name {
            "br" => self.end(),
            "hr" => {
                self.end();
                self.lines.push(Line {
                    text: String::new(),
                    quoted: self.quoted > 0,
                    rule: true,
                });
                self.starts.push(Some(self.path.clone()));
            }
            "img" => {
                self.begin(Some(self.path.clone()));
                self.cur.push_str("[image]");
            }
            name if BLOCKS.contains(&name) => {
                self.end();
                let quote = name == "blockquote";
                self.quoted += usize::from(quote);
                self.walk(&e.children);
                self.end();
                self.quoted -= usize::from(quote);
            }
            "td" | "th" => {
                self.cur.push(' ');
                self.walk(&e.children);
                self.cur.push(' ');
            }
            _ => {
                self.begin(Some(self.path.clone()));
                self.walk(&e.children);
            }
        }
    }
}

/// Markers clients put on quoted history and signatures, by class or id. Outlook prefixes the
/// ids and classes of a quoted mail with `x_`, so that prefix is ignored.
fn marker(e: &Element) -> Option<Role> {
    let names = e.hints.classes.iter().chain(e.hints.id.iter());
    for name in names {
        let n = name.to_ascii_lowercase();
        let n = n.strip_prefix("x_").unwrap_or(&n);
        match n {
            "gmail_quote"
            | "gmail_quote_container"
            | "yahoo_quoted"
            | "protonmail_quote"
            | "moz-cite-prefix" => return Some(Role::Quote(Kind::Thread)),
            "divrplyfwdmsg"
            | "appendonsend"
            | "outlookmessageheader"
            | "mail-editor-reference-message-container"
            | "zwchr" => {
                return Some(Role::Quote(Kind::History));
            }
            "gmail_signature"
            | "gmail_signature_prefix"
            | "moz-signature"
            | "signature"
            | "applemailsignature"
            | "ms-outlook-mobile-signature" => return Some(Role::Signature),
            _ => {}
        }
    }
    (e.name == "blockquote" && e.hints.cite).then_some(Role::Quote(Kind::Thread))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Quote(Kind),
    Signature,
}

fn markers(nodes: &[Node], path: &mut Path, out: &mut Vec<(Path, Role)>) {
    for (i, node) in nodes.iter().enumerate() {
        if let Node::Element(e) = node {
            path.push(i);
            if let Some(role) = marker(e) {
                out.push((path.clone(), role));
            }
            markers(&e.children, path, out);
            path.pop();
        }
    }
}

/// Splits `nodes` before the node at `path`, in document order; the elements on the way are
/// copied into both halves. Copies left holding only white space are dropped.
fn split_at(mut nodes: Vec<Node>, path: &[usize]) -> (Vec<Node>, Vec<Node>) {
    let Some((&i, rest)) = path.split_first() else {
        return (Vec::new(), nodes);
    };
    if i >= nodes.len() {
        return (nodes, Vec::new());
    }
    let mut after = nodes.split_off(i);
    if rest.is_empty() {
        return (nodes, after);
    }
    match after.remove(0) {
        Node::Element(mut e) => {
            let (b, a) = split_at(std::mem::take(&mut e.children), rest);
            let blank = |v: &[Node]| {
                v.iter()
                    .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
            };
            if !blank(&b) {
                nodes.push(Node::Element(Element {
                    children: b,
                    ..e.clone()
                }));
            }
            if !blank(&a) {
                after.insert(0, Node::Element(Element { children: a, ..e }));
            }
        }
        text => after.insert(0, text),
    }
    (nodes, after)
}

/// Splits a sanitised HTML body.
pub fn split_html(fragment: Fragment, fold: Fold) -> Split<Fragment> {
    let lin = Linear::read(&fragment);
    let (lines, starts) = (&lin.lines, &lin.starts);
    let mut found = Vec::new();
    markers(&fragment.0, &mut Vec::new(), &mut found);
    // The first line at or after a marked element, and so the lines its cut would take.
    let first_line = |path: &Path| {
        starts
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s >= path))
    };

    let mut quote_cands = Vec::new();
    if fold == Fold::QuoteAndSignature {
        for (line, kind) in line_candidates(lines, false) {
            if let Some(at) = starts[line].clone() {
                quote_cands.push(Candidate { line, kind, at });
            }
        }
        for (path, role) in &found {
            let (Role::Quote(kind), Some(line)) = (*role, first_line(path)) else {
                continue;
            };
            let mut c = Candidate {
                line,
                kind,
                at: path.clone(),
            };
            if kind == Kind::History {
                let r = back_over_rule(lines, line);
                if let Some(at) = starts[r].clone().filter(|at| *at < c.at) {
                    c = Candidate { line: r, kind, at };
                }
            }
            quote_cands.push(c);
        }
    }
    let quote = choose_quote(lines, quote_cands);
    let end = quote.as_ref().map_or(lines.len(), |c| c.line);

    let mut sig_cands: Vec<Candidate<Path>> = signature_lines(lines, end)
        .into_iter()
        .filter_map(|line| {
            let at = starts[line].clone()?;
            Some(Candidate {
                line,
                kind: Kind::History,
                at,
            })
        })
        .collect();
    for (path, role) in &found {
        if let (Role::Signature, Some(line)) = (*role, first_line(path))
            && line < end
        {
            sig_cands.push(Candidate {
                line,
                kind: Kind::History,
                at: path.clone(),
            });
        }
    }
    let sig = choose_signature(lines, end, sig_cands);

    let whole = fragment.clone();
    let (before, quoted) = match &quote {
        Some(c) => split_at(fragment.0, &c.at),
        None => (fragment.0, Vec::new()),
    };
    let (new, signature) = match &sig {
        Some(c) => split_at(before, &c.at),
        None => (before, Vec::new()),
    };
    let part = |nodes: Vec<Node>| Some(Fragment(nodes)).filter(|f| !f.is_blank());
    let new = Fragment(new);
    if new.is_blank() {
        // The tree could not be cut where the lines said (text inside one node): show all.
        return Split {
            new: whole,
            signature: None,
            quoted: None,
        };
    }
    Split {
        new,
        signature: part(signature),
        quoted: part(quoted),
    }
}

#[cfg(test)]
mod tests;
