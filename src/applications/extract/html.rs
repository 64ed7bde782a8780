//! HTML to plain text, just enough to read an application written in a mail client.
//!
//! The text keeps the structure the extractor relies on: every block element (`<p>`, `<div>`,
//! `<br>`, `<li>`, `<tr>`...) starts a new line, `<p>` and tables are set off by a blank line,
//! table cells of a row are joined by a tab (so a "label | value" table reads as
//! `label<TAB>value`), `<blockquote>` lines are prefixed with `> ` like a quoted plain-text
//! reply, and `<script>`, `<style>`, `<head>` contents are dropped. Entities: the HTML 4 named
//! set for Latin-1 plus common punctuation, and every numeric reference. One pass, no
//! backtracking: the cost is linear in the size of the HTML.

/// Converts an HTML document or fragment to plain text.
pub fn to_text(html: &str) -> String {
    let mut w = Writer::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        w.text(&rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some((tag, after)) = parse_tag(rest) else {
            // A lone '<' in text.
            w.text("<");
            rest = &rest[1..];
            continue;
        };
        rest = after;
        if !tag.closing && matches!(tag.name.as_str(), "script" | "style" | "head" | "title") {
            rest = skip_element(rest, &tag.name);
            continue;
        }
        w.tag(&tag);
    }
    w.text(rest);
    w.finish()
}

struct Tag {
    name: String,
    closing: bool,
}

/// Parses `<name ...>` at the start of `s`; returns the tag and what follows it.
fn parse_tag(s: &str) -> Option<(Tag, &str)> {
    let inner = &s[1..];
    let closing = inner.starts_with('/');
    let name_start = usize::from(closing);
    let name: String = inner[name_start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '!' || *c == '?')
        .collect::<String>()
        .to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let mut quote = None;
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') if i > name_start + name.len() => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some((Tag { name, closing }, &inner[i + 1..])),
            _ => {}
        }
    }
    Some((Tag { name, closing }, ""))
}

/// Skips to just after `</name>` (case-insensitive), or to the end.
fn skip_element<'a>(s: &'a str, name: &str) -> &'a str {
    let mut rest = s;
    while let Some(pos) = rest.find("</") {
        let candidate = &rest[pos + 2..];
        if candidate.len() >= name.len()
            && candidate.is_char_boundary(name.len())
            && candidate[..name.len()].eq_ignore_ascii_case(name)
        {
            return candidate.find('>').map_or("", |end| &candidate[end + 1..]);
        }
        rest = candidate;
    }
    ""
}

#[derive(Default)]
struct Writer {
    out: String,
    pending_space: bool,
    quote_depth: usize,
    pre: usize,
    in_cell: bool,
    cell_has_text: bool,
}

impl Writer {
    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    fn newline(&mut self) {
        self.pending_space = false;
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
    }

    fn ensure_line(&mut self) {
        if !self.at_line_start() {
            self.newline();
        }
        self.pending_space = false;
    }

    fn ensure_blank(&mut self) {
        self.ensure_line();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn push_char(&mut self, c: char) {
        if self.at_line_start() {
            for _ in 0..self.quote_depth {
                self.out.push_str("> ");
            }
        } else if self.pending_space && !self.out.ends_with([' ', '\t']) {
            self.out.push(' ');
        }
        self.pending_space = false;
        self.cell_has_text = true;
        self.out.push(c);
    }

    fn text(&mut self, raw: &str) {
        let mut rest = raw;
        while !rest.is_empty() {
            let (c, used) = if rest.starts_with('&') {
                decode_entity(rest).unwrap_or(('&', 1))
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                (c, c.len_utf8())
            };
            rest = &rest[used..];
            if self.pre > 0 {
                if c == '\n' {
                    self.newline();
                } else if c != '\r' {
                    self.push_char(c);
                }
            } else if c.is_whitespace() {
                // Includes U+00A0: a no-break space is layout, not content.
                self.pending_space = true;
            } else {
                self.push_char(c);
            }
        }
    }

    fn tag(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        match name {
            "br" => {
                self.newline();
            }
            "td" | "th" if !tag.closing => {
                if !self.at_line_start() {
                    while self.out.ends_with(' ') {
                        self.out.pop();
                    }
                    self.out.push('\t');
                }
                self.pending_space = false;
                self.in_cell = true;
                self.cell_has_text = false;
            }
            "td" | "th" => self.in_cell = false,
            "tr" => {
                self.in_cell = false;
                self.ensure_line();
            }
            "table" => {
                self.in_cell = false;
                self.ensure_blank();
            }
            "blockquote" => {
                self.ensure_line();
                if tag.closing {
                    self.quote_depth = self.quote_depth.saturating_sub(1);
                } else {
                    self.quote_depth += 1;
                }
            }
            "pre" => {
                self.ensure_line();
                self.pre = if tag.closing {
                    self.pre.saturating_sub(1)
                } else {
                    self.pre + 1
                };
            }
            "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "hr"
            | "section" | "article" | "header" | "footer" | "address" | "dl" | "dt" | "dd"
            | "form" | "fieldset" | "center" | "body" | "html" => {
                if self.in_cell {
                    // Inside a cell a paragraph is a line; a cell's first block and closing
                    // tags add nothing, so `<td><p>Name</p></td><td><p>Aino</p></td>` stays
                    // one row.
                    if self.cell_has_text && !tag.closing {
                        self.ensure_line();
                    }
                } else if matches!(name, "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6") {
                    self.ensure_blank();
                } else {
                    self.ensure_line();
                }
            }
            _ => {}
        }
    }

    fn finish(self) -> String {
        let mut text = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        for line in self.out.lines() {
            let line = line.trim_end();
            if line.trim().is_empty() {
                blank_run += 1;
                if blank_run > 1 || text.is_empty() {
                    continue;
                }
                text.push('\n');
            } else {
                blank_run = 0;
                text.push_str(line);
                text.push('\n');
            }
        }
        text.truncate(text.trim_end().len());
        text
    }
}

/// HTML 4 names for U+00A0..=U+00FF, in code point order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

const OTHER_ENTITIES: [(&str, char); 30] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("ndash", '–'),
    ("mdash", '—'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("bull", '•'),
    ("hellip", '…'),
    ("euro", '€'),
    ("trade", '™'),
    ("oelig", 'œ'),
    ("OElig", 'Œ'),
    ("scaron", 'š'),
    ("Scaron", 'Š'),
    ("zcaron", 'ž'),
    ("Zcaron", 'Ž'),
    ("Yuml", 'Ÿ'),
    ("ensp", ' '),
    ("emsp", ' '),
    ("thinsp", ' '),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("rsaquo", '›'),
];

/// Decodes the entity at the start of `s` (which starts with '&'); returns the character
/// and the number of bytes consumed.
fn decode_entity(s: &str) -> Option<(char, usize)> {
    // Bounded look-ahead: an '&' without ';' must not make the scan quadratic.
    let end = s
        .bytes()
        .skip(1)
        .take(11)
        .position(|b| b == b';')
        .filter(|&e| e > 0)?
        + 1;
    let body = &s[1..end];
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        match code {
            0 => '\u{fffd}',
            // Windows-1252 smart quotes written as numeric references by old editors.
            0x80..=0x9f => cp1252_c1(code),
            _ => char::from_u32(code).unwrap_or('\u{fffd}'),
        }
    } else if let Some(i) = LATIN1.iter().position(|n| *n == body) {
        char::from_u32(0xa0 + i as u32)?
    } else {
        OTHER_ENTITIES.iter().find(|(n, _)| *n == body)?.1
    };
    Some((c, end + 1))
}

fn cp1252_c1(code: u32) -> char {
    match code {
        0x80 => '€',
        0x91 => '‘',
        0x92 => '’',
        0x93 => '“',
        0x94 => '”',
        0x96 => '–',
        0x97 => '—',
        0x85 => '…',
        _ => ' ',
    }
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn entities_and_breaks() {
        assert_eq!(
            to_text("<p>Caf&eacute; &amp; Co&#233;&#xE9;<br>next&nbsp;line</p><p>para</p>"),
            "Café & Coéé\nnext line\n\npara"
        );
        assert_eq!(to_text("a &unknown; b &lt;c&gt;"), "a &unknown; b <c>");
    }

    #[test]
    fn tables_become_tabbed_rows() {
        let html = "<table><tr><td><p class=MsoNormal>Name:</p></td><td><p>Aino \
                    Virtanen</p></td></tr><tr><th>Country</th><td>Finland</td></tr></table>";
        assert_eq!(to_text(html), "Name:\tAino Virtanen\nCountry\tFinland");
    }

    #[test]
    fn drops_head_style_and_comments() {
        let html = "<html><head><title>x</title><style>p{color:red}</style></head>\
                    <body><!-- hidden --><div>Hello</div><script>var a = '<p>';</script></body>";
        assert_eq!(to_text(html), "Hello");
    }

    #[test]
    fn blockquote_is_quoted() {
        let html = "<div>New</div><blockquote type=\"cite\"><div>Old line</div></blockquote>";
        assert_eq!(to_text(html), "New\n> Old line");
    }

    #[test]
    fn survives_broken_markup() {
        for html in [
            "<",
            "<p",
            "a < b",
            "&#99999999;",
            "<a href='>'>x</a>",
            "&",
            "<td>x",
        ] {
            let _ = to_text(html);
        }
        assert_eq!(to_text("a < b"), "a < b");
    }
}
