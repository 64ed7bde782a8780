//! The sanitised tree, [`Fragment`], and the ways it is written out: as `formatted_body`
//! ([`Fragment::to_html`]), cut to a budget without splitting a tag or a character
//! ([`Fragment::truncated`]), or as plain text for `body` ([`Fragment::to_text`]).

use super::{BLOCKS, KEPT, VOID};
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
