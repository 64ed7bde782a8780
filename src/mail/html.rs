//! Mail HTML made safe for a room. A mail's HTML is untrusted: `ruma-html` parses it and
//! sanitises it to the Matrix subset, and our own policy runs on top where its allowlist is
//! wider than a bridge wants (only http, https and mailto links; only the mail's own `cid:`
//! images, once uploaded; hidden content dropped). The result is a small owned tree,
//! [`Fragment`], that the rest of the rendering can cut — quote folding, the size budget —
//! before it is written out as `formatted_body` ([`Fragment::to_html`]) or as plain text
//! ([`Fragment::to_text`]).
//!
//! The tree keeps a few attributes that are never written out ([`Hints`]: classes, ids,
//! `type="cite"`) because they are how mail clients mark quoted history and signatures.

use ruma_html::{
    ElementAttributesSchemes, Html, ListBehavior, NodeData, NodeRef, PropertiesNames,
    SanitizerConfig,
};

use crate::chat::escape;

/// A sanitised piece of HTML.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fragment(pub Vec<Node>);

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Element(Element),
    /// Text, unescaped; escaped when written.
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// One of [`KEPT`].
    pub name: &'static str,
    /// Attributes that are written out, already checked against our policy.
    pub attrs: Vec<(&'static str, String)>,
    /// What the sender's client said about the element; never written out.
    pub hints: Hints,
    pub children: Vec<Node>,
}

/// Markers mail clients put on quoted history and signatures, read by `quote`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hints {
    pub classes: Vec<String>,
    pub id: Option<String>,
    /// `<blockquote type="cite">` (Apple Mail, Thunderbird, Roundcube).
    pub cite: bool,
}

/// How an `<img src="cid:…">` is shown, as the caller knows it.
pub enum CidImage {
    /// Uploaded to the media repository: shown in place.
    Uploaded { mxc: String },
    /// Not uploaded (yet): a placeholder with the part's file name, if it has one.
    Missing { name: Option<String> },
}

/// A mail's HTML, sanitised, and the content ids of the images it embeds.
pub struct Sanitized {
    pub fragment: Fragment,
    /// Content ids referenced as `cid:` images, in order of appearance, without duplicates.
    pub cids: Vec<String>,
    /// The HTML had more than [`MAX_TAGS`] tags and only its beginning was read.
    pub cut: bool,
}

/// Start tags of a mail's HTML given to the parser; the rest is not read. ruma-html 0.8
/// walks siblings in quadratic time (each step looks its node up in the parent) and frees a
/// tree recursively, so a hostile mail of nested `<div>`s would overflow the stack — an
/// abort, not a panic — and a flat one would take minutes. Nesting cannot exceed the number
/// of start tags; at 4000 both stay small (a few tens of milliseconds, well under 2 MiB of
/// stack in a debug build), and 4000 tags is over a hundred KiB of Outlook HTML, far more than
/// a room event shows.
pub const MAX_TAGS: usize = 4000;

/// The beginning of `html` with at most `max` start tags, cut before a `<` (the parser closes
/// whatever is open at the end of its input), and whether anything was left out.
fn first_tags(html: &str, max: usize) -> (&str, bool) {
    let bytes = html.as_bytes();
    let mut seen = 0;
    for (i, pair) in bytes.windows(2).enumerate() {
        if pair[0] == b'<' && pair[1].is_ascii_alphabetic() {
            seen += 1;
            if seen > max {
                return (&html[..i], true);
            }
        }
    }
    (html, false)
}

/// Elements we write out: the Matrix specification's list (as ruma-html applies it) minus
/// `mx-reply`, which has no meaning in a mail.
pub const KEPT: &[&str] = &[
    "del",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "p",
    "a",
    "ul",
    "ol",
    "sup",
    "sub",
    "li",
    "b",
    "i",
    "u",
    "strong",
    "em",
    "s",
    "code",
    "hr",
    "br",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "pre",
    "span",
    "img",
    "details",
    "summary",
];

/// Dropped with everything inside them. Elements outside the Matrix list are otherwise only
/// unwrapped by ruma-html, which would turn the text of a script or a style sheet into visible
/// text; forms are unwrapped (their labels are text), their controls dropped.
const REMOVED: &[&str] = &[
    "script", "style", "head", "title", "meta", "base", "link", "noscript", "template", "iframe",
    "frame", "frameset", "noframes", "object", "embed", "applet", "param", "svg", "math", "canvas",
    "audio", "video", "source", "track", "picture", "map", "area", "input", "button", "select",
    "option", "optgroup", "textarea", "datalist", "output", "dialog", "xml",
];

/// Elements on which ruma-html keeps the attributes we read as hints or for hidden content.
/// They are read while building the tree and never written out.
const HINTED: &[&str] = &[
    "div",
    "blockquote",
    "span",
    "pre",
    "p",
    "hr",
    "table",
    "td",
    "tr",
    "li",
    "a",
    "img",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
];

const VOID: &[&str] = &["br", "hr", "img"];

/// Block elements: they start and end a line in a text rendering.
pub const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "caption",
    "details",
    "summary",
    "hr",
];

fn config() -> SanitizerConfig {
    let hint_attrs: Vec<PropertiesNames<'static>> = HINTED
        .iter()
        .map(|&parent| PropertiesNames {
            parent,
            properties: &["class", "id", "type", "style", "hidden"],
        })
        .collect();
    let hint_classes: Vec<PropertiesNames<'static>> = HINTED
        .iter()
        .map(|&parent| PropertiesNames {
            parent,
            properties: &["*"],
        })
        .collect();
    SanitizerConfig::strict()
        .remove_elements(REMOVED.iter().copied())
        .remove_reply_fallback()
        .allow_attributes(hint_attrs, ListBehavior::Add)
        .allow_classes(hint_classes, ListBehavior::Add)
        // Narrower than the specification (no ftp, magnet; no mxc images: a mail has no
        // business pointing at arbitrary media). Not relied on alone, see `convert`.
        .allow_schemes(
            [
                ElementAttributesSchemes {
                    element: "a",
                    attr_schemes: &[PropertiesNames {
                        parent: "href",
                        properties: &["https", "http", "mailto"],
                    }],
                },
                ElementAttributesSchemes {
                    element: "img",
                    attr_schemes: &[PropertiesNames {
                        parent: "src",
                        properties: &["cid"],
                    }],
                },
            ],
            ListBehavior::Override,
        )
}

/// Parses and sanitises a mail's HTML. `cid` says how each embedded image is shown.
pub fn sanitize(html: &str, cid: &dyn Fn(&str) -> CidImage) -> Sanitized {
    let (html, cut) = first_tags(html, MAX_TAGS);
    let dom = Html::parse(html);
    dom.sanitize_with(&config());
    let mut cx = Convert {
        cid,
        cids: Vec::new(),
    };
    let mut nodes = Vec::new();
    for child in dom.children() {
        cx.node(&child, false, &mut nodes);
    }
    Sanitized {
        fragment: Fragment(nodes),
        cids: cx.cids,
        cut,
    }
}

struct Convert<'a> {
    cid: &'a dyn Fn(&str) -> CidImage,
    cids: Vec<String>,
}

impl Convert<'_> {
    fn children(&mut self, node: &NodeRef, pre: bool, out: &mut Vec<Node>) {
        for child in node.children() {
            self.node(&child, pre, out);
        }
    }

    /// Our policy over ruma-html's output. ruma-html 0.8 stops checking URL schemes at the
    /// first attribute without a scheme rule, and attributes are visited in sorted order, so
    /// `<a class=… href="javascript:…">` and `<img alt=… src="https://tracker/…">` come
    /// through it (ruma/ruma#2557): every link and image is checked again here.
    fn node(&mut self, node: &NodeRef, pre: bool, out: &mut Vec<Node>) {
        let data = match node.data() {
            NodeData::Text(text) => {
                push_text(out, &text.borrow(), pre);
                return;
            }
            NodeData::Element(data) => data,
            _ => return,
        };
        let local = data.name.local.as_ref();
        let attrs = data.attrs.borrow();
        let get = |name: &str| {
            attrs
                .iter()
                .find(|a| a.name.prefix.is_none() && a.name.local.as_ref() == name)
                .map(|a| a.value.to_string())
        };
        if get("hidden").is_some() || get("style").is_some_and(|s| hides(&s)) {
            // Invisible to the sender's reader (newsletter preheaders, tricks to fool filters).
            return;
        }
        let html_ns = data.name.ns.as_ref() == "http://www.w3.org/1999/xhtml";
        let Some(name) = KEPT
            .iter()
            .copied()
            .find(|k| *k == local)
            .filter(|_| html_ns)
        else {
            return self.children(node, pre, out);
        };
        let hints = Hints {
            classes: get("class")
                .map(|c| c.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            id: get("id").filter(|id| !id.is_empty()),
            cite: name == "blockquote"
                && get("type").is_some_and(|t| t.eq_ignore_ascii_case("cite")),
        };
        let mut kept: Vec<(&'static str, String)> = Vec::new();
        match name {
            "img" => {
                drop(attrs);
                return self.image(data, out);
            }
            "a" => match get("href").and_then(|h| link(&h)) {
                Some(href) => kept.push(("href", href)),
                // A link we do not allow keeps its text.
                None => return self.children(node, pre, out),
            },
            "ol" => {
                if let Some(start) = get("start").filter(|s| number(s)) {
                    kept.push(("start", start));
                }
            }
            "code" => {
                if let Some(class) = get("class").filter(|c| language_class(c)) {
                    kept.push(("class", class));
                }
            }
            "span" => {
                for attr in ["data-mx-color", "data-mx-bg-color"] {
                    if let Some(colour) = get(attr).filter(|c| hex_colour(c)) {
                        kept.push((attr, colour));
                    }
                }
                if kept.is_empty() && hints == Hints::default() {
                    // A bare span says nothing: keep its content only.
                    return self.children(node, pre, out);
                }
            }
            _ => {}
        }
        drop(attrs);
        let mut children = Vec::new();
        self.children(node, pre || name == "pre", &mut children);
        out.push(Node::Element(Element {
            name,
            attrs: kept,
            hints,
            children,
        }));
    }

    fn image(&mut self, data: &ruma_html::ElementData, out: &mut Vec<Node>) {
        let attrs = data.attrs.borrow();
        let get = |name: &str| {
            attrs
                .iter()
                .find(|a| a.name.prefix.is_none() && a.name.local.as_ref() == name)
                .map(|a| a.value.trim().to_owned())
        };
        let alt = get("alt").filter(|a| !a.is_empty());
        let content_id = get("src").and_then(|src| {
            let (scheme, rest) = src.split_once(':')?;
            scheme
                .eq_ignore_ascii_case("cid")
                .then(|| percent_decode(rest.trim_matches(['<', '>'])))
        });
        let Some(content_id) = content_id.filter(|c| !c.is_empty()) else {
            // A remote image: never fetched on the reader's behalf (tracking pixels), only its
            // description is kept.
            if let Some(alt) = alt {
                push_text(out, &format!("[image: {alt}]"), false);
            }
            return;
        };
        if !self.cids.contains(&content_id) {
            self.cids.push(content_id.clone());
        }
        match (self.cid)(&content_id) {
            CidImage::Uploaded { mxc } if mxc_uri(&mxc) => {
                let mut kept = vec![("src", mxc)];
                for attr in ["alt", "title"] {
                    if let Some(v) = get(attr).filter(|v| !v.is_empty()) {
                        kept.push((attr, v));
                    }
                }
                for attr in ["width", "height"] {
                    if let Some(v) = get(attr).filter(|v| number(v)) {
                        kept.push((attr, v));
                    }
                }
                out.push(Node::Element(Element {
                    name: "img",
                    attrs: kept,
                    hints: Hints::default(),
                    children: Vec::new(),
                }));
            }
            CidImage::Uploaded { .. } | CidImage::Missing { .. } if alt.is_some() => {
                push_text(out, &format!("[image: {}]", alt.unwrap_or_default()), false);
            }
            CidImage::Missing { name: Some(name) } => {
                push_text(out, &format!("[image: {name}]"), false);
            }
            _ => push_text(out, "[image]", false),
        }
    }
}

/// Appends text, collapsing white space as a browser would outside `<pre>` (mail HTML is full
/// of indentation that would otherwise cost event bytes), dropping control characters.
fn push_text(out: &mut Vec<Node>, text: &str, pre: bool) {
    let mut s = String::with_capacity(text.len());
    let mut space = matches!(out.last(), Some(Node::Text(t)) if t.ends_with(' '));
    for c in text.chars() {
        if pre {
            if c == '\n' || c == '\t' || !c.is_control() {
                s.push(c);
            }
        } else if c.is_ascii_whitespace() {
            if !space {
                s.push(' ');
            }
            space = true;
        } else if !c.is_control() {
            s.push(c);
            space = false;
        }
    }
    if s.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(Node::Text(t)) => t.push_str(&s),
        _ => out.push(Node::Text(s)),
    }
}

fn hides(style: &str) -> bool {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    compact
        .split(';')
        .any(|decl| decl.starts_with("display:none") || decl.starts_with("visibility:hidden"))
}

/// The links a room may show: absolute http(s) and mailto. Relative links have no base in a
/// room, and every other scheme (javascript, data, vbscript, file…) is refused.
fn link(href: &str) -> Option<String> {
    let href = href.trim();
    let lower = href.get(..8).unwrap_or(href).to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (lower.starts_with("mailto:") && href.len() > 7);
    (ok && !href.chars().any(char::is_control)).then(|| href.to_owned())
}

fn number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

fn hex_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn language_class(s: &str) -> bool {
    s.strip_prefix("language-").is_some_and(|l| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_+#.".contains(&b))
    })
}

/// `mxc://<server>/<media id>`, as the media repository hands it out.
fn mxc_uri(s: &str) -> bool {
    let Some((server, media)) = s.strip_prefix("mxc://").and_then(|r| r.split_once('/')) else {
        return false;
    };
    !server.is_empty()
        && !media.is_empty()
        && server
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        && media
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `cid:` URLs are percent-encoded Content-IDs (RFC 2392).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Element {
    /// An element we build ourselves (`details`, `summary`, `p`…), without attributes.
    pub fn new(name: &'static str, children: Vec<Node>) -> Self {
        debug_assert!(KEPT.contains(&name), "{name} is not in the Matrix subset");
        Self {
            name,
            attrs: Vec::new(),
            hints: Hints::default(),
            children,
        }
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.hints
            .classes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(class))
    }

    fn open_tag(&self) -> String {
        let mut s = format!("<{}", self.name);
        for (k, v) in &self.attrs {
            s.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        s.push('>');
        s
    }

    fn close_tag(&self) -> String {
        if VOID.contains(&self.name) {
            String::new()
        } else {
            format!("</{}>", self.name)
        }
    }
}

impl Node {
    pub fn element(name: &'static str, children: Vec<Node>) -> Self {
        Node::Element(Element::new(name, children))
    }

    pub fn text(s: impl Into<String>) -> Self {
        Node::Text(s.into())
    }
}

impl Fragment {
    /// Plain text shown as HTML: escaped, line breaks kept.
    pub fn from_text(text: &str) -> Self {
        let mut nodes = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                nodes.push(Node::element("br", Vec::new()));
            }
            let line: String = line
                .chars()
                .filter(|c| *c == '\t' || !c.is_control())
                .collect();
            if !line.is_empty() {
                nodes.push(Node::Text(line));
            }
        }
        Fragment(nodes)
    }

    /// Whether anything would be seen: text other than white space, or an image.
    pub fn is_blank(&self) -> bool {
        fn blank(nodes: &[Node]) -> bool {
            nodes.iter().all(|n| match n {
                Node::Text(t) => t.trim().is_empty(),
                Node::Element(e) => e.name != "img" && blank(&e.children),
            })
        }
        blank(&self.0)
    }

    pub fn to_html(&self) -> String {
        fn write(nodes: &[Node], out: &mut String) {
            for node in nodes {
                match node {
                    Node::Text(t) => out.push_str(&escape(t)),
                    Node::Element(e) => {
                        out.push_str(&e.open_tag());
                        write(&e.children, out);
                        out.push_str(&e.close_tag());
                    }
                }
            }
        }
        let mut out = String::new();
        write(&self.0, &mut out);
        out
    }

    /// The longest prefix of this fragment, in document order, whose HTML costs at most `max`
    /// by `cost` (callers measure in JSON bytes), and whether anything was left out. The cut
    /// is made in the tree, so every open element is closed and no tag, entity or character
    /// is split.
    pub fn truncated(&self, max: usize, cost: &dyn Fn(&str) -> usize) -> (Fragment, bool) {
        fn cut(
            nodes: &[Node],
            budget: &mut usize,
            cost: &dyn Fn(&str) -> usize,
            out: &mut Vec<Node>,
        ) -> bool {
            for node in nodes {
                match node {
                    Node::Text(t) => {
                        let whole = cost(&escape(t));
                        if whole <= *budget {
                            *budget -= whole;
                            out.push(node.clone());
                            continue;
                        }
                        let mut end = 0;
                        for (i, c) in t.char_indices() {
                            let c_cost = cost(&escape(c.encode_utf8(&mut [0; 4])));
                            if c_cost > *budget {
                                break;
                            }
                            *budget -= c_cost;
                            end = i + c.len_utf8();
                        }
                        // Prefer ending on a word when one ends nearby.
                        let kept = &t[..end];
                        let kept = match kept.rfind(' ') {
                            Some(sp) if end - sp < 40 => &kept[..sp],
                            _ => kept,
                        };
                        if !kept.is_empty() {
                            out.push(Node::Text(kept.to_owned()));
                        }
                        return true;
                    }
                    Node::Element(e) => {
                        let tags = cost(&e.open_tag()) + cost(&e.close_tag());
                        if tags > *budget {
                            return true;
                        }
                        *budget -= tags;
                        let mut children = Vec::new();
                        let stopped = cut(&e.children, budget, cost, &mut children);
                        out.push(Node::Element(Element {
                            name: e.name,
                            attrs: e.attrs.clone(),
                            hints: e.hints.clone(),
                            children,
                        }));
                        if stopped {
                            return true;
                        }
                    }
                }
            }
            false
        }
        let mut budget = max;
        let mut out = Vec::new();
        let stopped = cut(&self.0, &mut budget, cost, &mut out);
        (Fragment(out), stopped)
    }

    /// A plain-text rendering: paragraphs and line breaks, `- ` and `1. ` list items,
    /// `> ` for block quotes, cells separated by ` | `, links followed by their target.
    pub fn to_text(&self) -> String {
        let mut w = TextWriter::default();
        w.nodes(&self.0, false);
        tidy(&w.out)
    }
}

/// Collapses runs of blank lines, trims line ends and the whole.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[derive(Default)]
struct TextWriter {
    out: String,
    /// Line breaks owed before the next text: 1 for a line, 2 for a paragraph.
    owed: usize,
}

impl TextWriter {
    fn text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        let at_line_start = self.out.is_empty() || self.out.ends_with('\n') || self.owed > 0;
        let s = if at_line_start {
            s.trim_start_matches(' ')
        } else {
            s
        };
        if s.is_empty() {
            return;
        }
        if !self.out.is_empty() {
            for _ in 0..self.owed {
                self.out.push('\n');
            }
        }
        self.owed = 0;
        self.out.push_str(s);
    }

    fn brk(&mut self, n: usize) {
        self.owed = self.owed.max(n);
    }

    /// Renders `nodes` apart and returns the text, to indent or prefix it.
    fn nested(&self, nodes: &[Node], pre: bool) -> String {
        let mut w = TextWriter::default();
        w.nodes(nodes, pre);
        tidy(&w.out)
    }

    fn nodes(&mut self, nodes: &[Node], pre: bool) {
        for node in nodes {
            match node {
                Node::Text(t) => self.text(t),
                Node::Element(e) => self.element(e, pre),
            }
        }
    }

    fn element(&mut self, e: &Element, pre: bool) {
        match e.name {
            "br" => {
                if self.out.is_empty() || self.owed > 0 {
                    self.brk(self.owed + 1);
                } else {
                    self.out.push('\n');
                }
            }
            "hr" => {
                self.brk(1);
                self.text("---");
                self.brk(1);
            }
            "img" => match e.attrs.iter().find(|(k, _)| *k == "alt") {
                Some((_, alt)) => self.text(&format!("[image: {alt}]")),
                None => self.text("[image]"),
            },
            "a" => {
                let before = self.out.len();
                self.nodes(&e.children, pre);
                let shown = self.out.get(before..).unwrap_or_default().trim().to_owned();
                if let Some((_, href)) = e.attrs.iter().find(|(k, _)| *k == "href") {
                    let target = href.strip_prefix("mailto:").unwrap_or(href);
                    if !shown.contains(target) {
                        self.text(&format!(" <{target}>"));
                    }
                }
            }
            "blockquote" => {
                let inner = self.nested(&e.children, pre);
                self.brk(2);
                let quoted: Vec<String> = inner
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            ">".to_owned()
                        } else {
                            format!("> {l}")
                        }
                    })
                    .collect();
                self.text(&quoted.join("\n"));
                self.brk(2);
            }
            "ul" | "ol" => {
                let mut n: u64 = e
                    .attrs
                    .iter()
                    .find(|(k, _)| *k == "start")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(1);
                self.brk(2);
                for child in &e.children {
                    match child {
                        Node::Element(li) if li.name == "li" => {
                            let inner = self.nested(&li.children, pre);
                            let bullet = if e.name == "ol" {
                                format!("{n}. ")
                            } else {
                                "- ".to_owned()
                            };
                            n += 1;
                            let pad = " ".repeat(bullet.chars().count());
                            let item: Vec<String> = inner
                                .lines()
                                .enumerate()
                                .map(|(i, l)| {
                                    if i == 0 {
                                        format!("{bullet}{l}")
                                    } else {
                                        format!("{pad}{l}")
                                    }
                                })
                                .collect();
                            self.brk(1);
                            self.text(if item.is_empty() {
                                bullet.trim_end()
                            } else {
                                ""
                            });
                            self.text(&item.join("\n"));
                        }
                        other => self.nodes(std::slice::from_ref(other), pre),
                    }
                }
                self.brk(2);
            }
            "pre" => {
                self.brk(2);
                let inner = self.nested(&e.children, true);
                self.text(&inner);
                self.brk(2);
            }
            "td" | "th" => {
                let inner = self.nested(&e.children, pre).replace('\n', " ");
                if !self.out.is_empty() && !self.out.ends_with('\n') && self.owed == 0 {
                    self.text(" | ");
                }
                self.text(&inner);
            }
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "details" => {
                self.brk(2);
                self.nodes(&e.children, pre);
                self.brk(2);
            }
            name if BLOCKS.contains(&name) => {
                self.brk(1);
                self.nodes(&e.children, pre);
                self.brk(1);
            }
            _ => self.nodes(&e.children, pre),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize(html, &|_| CidImage::Missing { name: None })
            .fragment
            .to_html()
    }

    #[test]
    fn drops_active_content_and_keeps_structure() {
        let out = clean(
            r#"<html><head><title>T</title><meta charset="utf-8"><base href="https://evil.test/">
            <style>p { color: red }</style><script>alert(1)</script></head>
            <body><p onclick="steal()" style="color:red">Hello <b>all</b></p>
            <form action="https://evil.test/login"><input name="pw" value="x"><button>Go</button>Login</form>
            <iframe src="https://evil.test/frame">frame</iframe><object data="x.swf">obj</object>
            <embed src="x.swf"><svg><script>alert(2)</script></svg>
            <!-- a comment --><!--[if mso]><p>outlook only</p><![endif]-->
            <a href="javascript:alert(3)">js</a> <a class="c" href="javascript:alert(4)">js2</a>
            <a href="data:text/html,<script>alert(5)</script>">data</a>
            <a href="vbscript:msgbox">vb</a> <a href="/relative">rel</a>
            <a href="https://example.org/agenda">agenda</a> <a href="mailto:wg@example.org">mail</a>
            <ul><li>one</li><li>two</li></ul>
            <table><tr><th>h</th></tr><tr><td>c</td></tr></table>
            <img src="https://tracker.test/p.gif" width="1" height="1">
            <img alt="Chart" src="https://cdn.test/chart.png"></body></html>"#,
        );
        for gone in [
            "<script",
            "alert",
            "<style",
            "color",
            "onclick",
            "steal",
            "<form",
            "<input",
            "<button",
            "<iframe",
            "frame<",
            "<object",
            "<embed",
            "<svg",
            "comment",
            "outlook only",
            "<title",
            "<meta",
            "<base",
            "evil.test",
            "javascript",
            "data:",
            "vbscript",
            "/relative",
            "tracker.test",
            "cdn.test",
            "<img",
        ] {
            assert!(!out.contains(gone), "{gone} survived in {out}");
        }
        for kept in [
            "<p>Hello <b>all</b></p>",
            "Login",
            "<a href=\"https://example.org/agenda\">agenda</a>",
            "<a href=\"mailto:wg@example.org\">mail</a>",
            "<ul><li>one</li><li>two</li></ul>",
            "<table><tbody><tr><th>h</th></tr><tr><td>c</td></tr></tbody></table>",
            "js js2",
            "rel",
            "[image: Chart]",
        ] {
            assert!(out.contains(kept), "{kept} missing from {out}");
        }
    }

    #[test]
    fn keeps_matrix_formatting() {
        let out = clean(
            "<h2>Agenda</h2><p>a<br>b</p><ol start=\"3\"><li>x</li></ol><i>i</i><u>u</u>\
             <strike>old</strike><del>d</del><blockquote>q</blockquote><pre>a\n  b</pre>\
             <code class=\"language-rust\">fn</code><hr><font color=\"#ff0000\">red</font>\
             <details><summary>s</summary>d</details>",
        );
        assert_eq!(
            out,
            "<h2>Agenda</h2><p>a<br>b</p><ol start=\"3\"><li>x</li></ol><i>i</i><u>u</u>\
             <s>old</s><del>d</del><blockquote>q</blockquote><pre>a\n  b</pre>\
             <code class=\"language-rust\">fn</code><hr><span data-mx-color=\"#ff0000\">red</span>\
             <details><summary>s</summary>d</details>"
        );
    }

    #[test]
    fn drops_hidden_content_and_collapses_white_space() {
        let out = clean(
            "<div style=\"display: none\">preheader</div><p hidden>h</p>\
             <span style=\"visibility:hidden\">v</span><p>\n   shown\n   text  </p>",
        );
        assert_eq!(out, "<p> shown text </p>");
    }

    #[test]
    fn cid_images_resolved_or_placeholders() {
        let html = "<p><img src=\"cid:logo@x\" alt=\"Logo\" width=\"40\" onerror=\"x()\">\
                    <img src=\"cid:chart%40x\"><img src=\"cid:gone@x\"></p>";
        let s = sanitize(html, &|cid| match cid {
            "logo@x" => CidImage::Uploaded {
                mxc: "mxc://example.org/abcDEF".into(),
            },
            "chart@x" => CidImage::Missing {
                name: Some("chart.png".into()),
            },
            _ => CidImage::Missing { name: None },
        });
        assert_eq!(
            s.fragment.to_html(),
            "<p><img src=\"mxc://example.org/abcDEF\" alt=\"Logo\" width=\"40\">\
             [image: chart.png][image]</p>"
        );
        assert_eq!(s.cids, ["logo@x", "chart@x", "gone@x"]);
        // A resolver answering with something that is not a media URI gets a placeholder.
        let s = sanitize("<img src=\"cid:a\">", &|_| CidImage::Uploaded {
            mxc: "https://evil.test/x\" onload=\"y".into(),
        });
        assert_eq!(s.fragment.to_html(), "[image]");
    }

    #[test]
    fn truncation_closes_tags_and_respects_characters() {
        let f = sanitize(
            "<p>first <b>bold 日本語 text</b></p><ul><li>never shown</li></ul>",
            &|_| CidImage::Missing { name: None },
        )
        .fragment;
        let full = f.to_html();
        let (whole, cut) = f.truncated(full.len(), &str::len);
        assert!(!cut);
        assert_eq!(whole.to_html(), full);
        for max in 0..full.len() {
            let (t, cut) = f.truncated(max, &str::len);
            let html = t.to_html();
            assert!(cut && html.len() <= max, "{max}: {html}");
            assert_eq!(html.matches("<b>").count(), html.matches("</b>").count());
            assert_eq!(html.matches("<p>").count(), html.matches("</p>").count());
        }
        let (t, _) = f.truncated(24, &str::len);
        assert_eq!(t.to_html(), "<p>first <b>bold</b></p>");
    }

    #[test]
    fn hostile_sizes_are_read_in_part() {
        // Nested far past what freeing the tree recursively survives.
        let deep = format!("<p>start</p>{}", "<div>".repeat(100_000));
        let s = sanitize(&deep, &|_| CidImage::Missing { name: None });
        assert!(s.cut && s.fragment.to_html().starts_with("<p>start</p><div><div>"));
        let flat = "<br>".repeat(1_000_000);
        let s = sanitize(&flat, &|_| CidImage::Missing { name: None });
        assert!(s.cut);
        assert_eq!(s.fragment.to_html().matches("<br>").count(), MAX_TAGS);
        // Cut before a tag, never inside one.
        assert_eq!(
            first_tags("<a href=\"x\">a</a><b>b</b>", 1),
            ("<a href=\"x\">a</a>", true)
        );
        assert_eq!(first_tags("a < b <3", 0), ("a < b <3", false));
    }

    #[test]
    fn text_rendering() {
        let f = sanitize(
            "<p>Dear all,</p><p>see <a href=\"https://x.test/a\">the agenda</a> and \
             <a href=\"https://x.test/b\">https://x.test/b</a>.<br>Thanks</p>\
             <ul><li>one</li><li>two</li></ul><ol start=\"2\"><li>b</li></ol>\
             <blockquote><p>quoted</p></blockquote><table><tr><td>a</td><td>b</td></tr></table>",
            &|_| CidImage::Missing { name: None },
        )
        .fragment;
        assert_eq!(
            f.to_text(),
            "Dear all,\n\nsee the agenda <https://x.test/a> and https://x.test/b.\nThanks\n\n\
             - one\n- two\n\n2. b\n\n> quoted\n\na | b"
        );
        assert_eq!(
            Fragment::from_text("a <b>\n\nc").to_html(),
            "a &lt;b&gt;<br><br>c"
        );
    }
}
