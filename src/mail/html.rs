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

mod fragment;

pub use fragment::{Element, Fragment, Hints, Node};

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

#[cfg(test)]
mod tests;
