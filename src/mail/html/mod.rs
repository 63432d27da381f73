//! HTML body → text lines that keep what a reader sees: block and line
//! breaks, table cells apart (a tab between cells, a line per row), and for
//! every line *where* it sits — inside a quote container (`<blockquote>`,
//! Gmail's `gmail_quote`, Yahoo's `yahoo_quoted`, Thunderbird's
//! `moz-cite-prefix`, Zimbra's markers, or anywhere after Outlook's
//! `appendonsend`/`divRplyFwdMsg` reply header), inside a signature container
//! (`gmail_signature`, `moz-signature`, Outlook's `Signature`…), or in tiny or
//! grey print. The quote splitter then knows quoted material by structure.
//!
//! Tokenizing is html5gum's (WHATWG tokenizer, entities decoded, no unsafe);
//! the small element stack here is tag soup tolerant: an end tag closes the
//! nearest open element of its name, unknown end tags are ignored.

use html5gum::emitters::callback::{CallbackEmitter, CallbackEvent};
use html5gum::emitters::{Emitter, ForwardingEmitter};
use html5gum::{Span, Tokenizer};

mod lines;
mod tags;
#[cfg(test)]
mod tests;

use tags::*;

/// Where a line sits in the HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ordinary text.
    Body,
    /// Inside a quote container or after a reply/forward header marker.
    Quote,
    /// Inside a signature container.
    Sig,
    /// Tiny or grey print (signatures and disclaimers, usually).
    Small,
}

/// A two-cell table row (`DAM | 118-2026-10-012345`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Index of the first line that holds the row's text.
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// The converted document: its lines (all in one buffer) and table rows.
#[derive(Debug, Default)]
pub struct Doc {
    text: String,
    spans: Vec<(usize, usize, Kind)>,
    pub rows: Vec<Row>,
}

impl Doc {
    /// Every line with where it sits.
    pub fn lines(&self) -> Vec<(&str, Kind)> {
        self.spans.iter().map(|&(a, b, k)| (self.text.get(a..b).unwrap_or(""), k)).collect()
    }

    /// Bytes of visible text.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// No visible text at all.
    pub fn is_blank(&self) -> bool {
        self.spans.iter().all(|&(a, b, _)| a == b)
    }

    fn last_blank(&self) -> bool {
        self.spans.last().is_none_or(|&(a, b, _)| a == b)
    }
}

/// Text kept from one HTML body (bytes); the rest is dropped.
const MAX_TEXT: usize = 1 << 20;
/// Open elements tracked; deeper nesting is read as inline text.
const MAX_DEPTH: usize = 512;
/// Characters kept per table cell for [`Row`]s.
const MAX_CELL: usize = 300;
/// Rows kept.
const MAX_ROWS: usize = 200;

const F_QUOTE: u8 = 1;
const F_SIG: u8 = 2;
const F_SMALL: u8 = 4;
const F_HIDDEN: u8 = 8;
const F_SKIP: u8 = 16;
const F_PRE: u8 = 32;
const F_BLOCK: u8 = 64;

/// A tag name, short names inline (longer ones compare on their first bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Name {
    bytes: [u8; 12],
    len: u8,
}

impl Name {
    fn new(n: &[u8]) -> Self {
        let mut bytes = [0u8; 12];
        let len = n.len().min(12);
        bytes[..len].copy_from_slice(&n[..len]);
        Name { bytes, len: len as u8 }
    }

    fn get(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

#[derive(Clone, Copy)]
struct Elem {
    name: Name,
    flags: u8,
}

/// Which attribute is being read.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Attr {
    #[default]
    Other,
    Class,
    Id,
    Style,
    Type,
    Size,
    Color,
    Marker,
    Hidden,
}

/// One open table: the cells of its current row.
#[derive(Default)]
struct Table {
    cells: Vec<String>,
    in_cell: bool,
    /// The current row holds a nested table: not a key/value row.
    nested: bool,
    row_line: usize,
}

#[derive(Default)]
struct Conv {
    doc: Doc,
    bytes: usize,
    cur: String,
    cur_kind: Option<Kind>,
    cur_mixed: bool,
    cur_blank_content: bool,
    pending_space: bool,
    pending_cell: bool,
    stack: Vec<Elem>,
    quote: u32,
    sig: u32,
    small: u32,
    hidden: u32,
    skip: u32,
    pre: u32,
    /// Everything from here on is quoted history (Outlook's reply header).
    cut: bool,
    tables: Vec<Table>,
    // The start tag being read.
    tag: Vec<u8>,
    attr: Attr,
    class: String,
    id: String,
    style: String,
    typ: String,
    size: String,
    color: String,
    marker: String,
    hidden_attr: bool,
}

/// The callback emitter without the tokenizer's parse-error reporting
/// (a quarter of the tokenizing time goes to validating characters for
/// errors nobody reads).
struct Quiet<E>(E);

impl<E: Emitter> ForwardingEmitter for Quiet<E> {
    type Token = E::Token;

    fn inner(&mut self) -> &mut impl Emitter<Token = Self::Token> {
        &mut self.0
    }

    #[inline]
    fn should_emit_errors(&mut self) -> bool {
        false
    }
}

/// Convert an HTML body.
pub fn to_doc(html: &str) -> Doc {
    let mut conv = Conv::default();
    {
        let mut emitter = CallbackEmitter::new(|event: CallbackEvent<'_>, _span: Span<()>| -> Option<()> {
            conv.event(event);
            None
        });
        emitter.naively_switch_states(true);
        for _ in Tokenizer::new_with_emitter(html, Quiet(emitter)) {}
    }
    conv.finish()
}
impl Conv {
    fn event(&mut self, event: CallbackEvent<'_>) {
        match event {
            CallbackEvent::OpenStartTag { name } => {
                self.tag.clear();
                self.tag.extend_from_slice(name);
                self.attr = Attr::Other;
                self.class.clear();
                self.id.clear();
                self.style.clear();
                self.typ.clear();
                self.size.clear();
                self.color.clear();
                self.marker.clear();
                self.hidden_attr = false;
            }
            CallbackEvent::AttributeName { name } => {
                self.attr = match name {
                    b"class" => Attr::Class,
                    b"id" => Attr::Id,
                    b"style" => Attr::Style,
                    b"type" => Attr::Type,
                    b"size" => Attr::Size,
                    b"color" => Attr::Color,
                    b"data-marker" | b"data-smartmail" => Attr::Marker,
                    b"hidden" => Attr::Hidden,
                    _ => Attr::Other,
                };
                if self.attr == Attr::Hidden {
                    self.hidden_attr = true;
                }
            }
            CallbackEvent::AttributeValue { value } => match self.attr {
                Attr::Class => push_capped(&mut self.class, value, 256),
                Attr::Id => push_capped(&mut self.id, value, 128),
                Attr::Style => push_capped(&mut self.style, value, 2048),
                Attr::Type => push_capped(&mut self.typ, value, 32),
                Attr::Size => push_capped(&mut self.size, value, 16),
                Attr::Color => push_capped(&mut self.color, value, 32),
                Attr::Marker => push_capped(&mut self.marker, value, 64),
                Attr::Other | Attr::Hidden => {}
            },
            CallbackEvent::CloseStartTag { .. } => {
                let tag = std::mem::take(&mut self.tag);
                self.start(&tag);
                self.tag = tag;
            }
            CallbackEvent::EndTag { name } => self.end(name),
            CallbackEvent::String { value } => match std::str::from_utf8(value) {
                Ok(s) => self.text(s),
                Err(_) => self.text(&String::from_utf8_lossy(value)),
            },
            CallbackEvent::Comment { .. } | CallbackEvent::Doctype { .. } | CallbackEvent::Error(_) => {}
        }
    }

    /// The flags an element opens, from its name and attributes.
    fn flags(&mut self, name: &[u8], info: u8) -> u8 {
        let mut f = 0;
        if info & T_BLOCK != 0 {
            f |= F_BLOCK;
        }
        if info & T_SKIP != 0 {
            f |= F_SKIP;
        }
        if name == b"pre" || self.style.contains("white-space:pre") {
            f |= F_PRE;
        }
        if self.class.is_empty()
            && self.id.is_empty()
            && self.style.is_empty()
            && self.marker.is_empty()
            && self.size.is_empty()
            && self.color.is_empty()
            && !self.hidden_attr
            && name != b"blockquote"
        {
            return f;
        }
        let style = &self.style;
        if style.contains("display:none") || style.contains("mso-hide:all") || self.hidden_attr {
            f |= F_HIDDEN;
        }
        let class = &self.class;
        let id = &self.id;
        let marker = &self.marker;
        if name == b"blockquote" {
            // Gmail and Apple Mail indent with a borderless blockquote: that is
            // the sender's own text.
            let indent = style.contains("border:none") && self.typ != "cite" && !class.contains("quote");
            if !indent {
                f |= F_QUOTE;
            }
        }
        if class.contains("gmail_quote")
            || class.contains("yahoo_quoted")
            || class.contains("moz-cite-prefix")
            || class.contains("moz-forward-container")
            || class.contains("protonmail_quote")
            || class.contains("zmail_extra")
            || marker == "__headers__"
            || marker == "__quoted_text__"
        {
            f |= F_QUOTE;
        }
        // Outlook (desktop, web, mobile) and Zimbra: the reply/forward header
        // and everything after it is history, though it is not nested.
        if id == "appendonsend"
            || id == "divrplyfwdmsg"
            || id == "x_divrplyfwdmsg"
            || class.contains("outlookmessageheader")
            || id == "zwchr"
            || marker == "__divider__"
            || style.contains("border-top:solid#e1e1e1")
            || style.contains("border-top:solid#b5c4df")
        {
            self.cut = true;
        }
        if class.contains("signature")
            || id.contains("signature")
            || marker == "gmail_signature"
            || marker == "__sig_pre__"
        {
            f |= F_SIG;
        }
        let small_size = matches!(self.size.as_str(), "1" | "-2" | "-3");
        let grey = is_grey(&self.color) || style.split(';').filter_map(|d| d.strip_prefix("color:")).any(is_grey);
        if small_size || small_font_size(style) || grey {
            f |= F_SMALL;
        }
        f
    }

    fn open(&mut self, flags: u8) {
        self.quote += u32::from(flags & F_QUOTE != 0);
        self.sig += u32::from(flags & F_SIG != 0);
        self.small += u32::from(flags & F_SMALL != 0);
        self.hidden += u32::from(flags & F_HIDDEN != 0);
        self.skip += u32::from(flags & F_SKIP != 0);
        self.pre += u32::from(flags & F_PRE != 0);
    }

    fn close(&mut self, flags: u8) {
        let dec = |v: &mut u32, bit: u8| {
            if flags & bit != 0 {
                *v = v.saturating_sub(1);
            }
        };
        dec(&mut self.quote, F_QUOTE);
        dec(&mut self.sig, F_SIG);
        dec(&mut self.small, F_SMALL);
        dec(&mut self.hidden, F_HIDDEN);
        dec(&mut self.skip, F_SKIP);
        dec(&mut self.pre, F_PRE);
    }

    /// Pop the open elements down to and including index `i`.
    fn pop_to(&mut self, i: usize) {
        while self.stack.len() > i {
            let Some(e) = self.stack.pop() else { break };
            self.closed(e);
        }
    }

    fn closed(&mut self, e: Elem) {
        let n = e.name.get();
        match n {
            b"td" | b"th" => {
                if let Some(t) = self.tables.last_mut() {
                    t.in_cell = false;
                }
            }
            b"tr" => self.finish_row(),
            b"table" => {
                self.finish_row();
                self.tables.pop();
            }
            _ => {}
        }
        if e.flags & F_BLOCK != 0 {
            self.block();
        }
        self.close(e.flags);
    }

    /// Index of the nearest open element named `n`, not looking past `stop`.
    fn find_open(&self, n: &[u8], stop: &[&[u8]]) -> Option<usize> {
        for (i, e) in self.stack.iter().enumerate().rev() {
            let en = e.name.get();
            if en == n {
                return Some(i);
            }
            if stop.contains(&en) {
                return None;
            }
        }
        None
    }

    fn start(&mut self, name: &[u8]) {
        let info = tag_info(name);
        // Implied end tags of the elements mail clients leave open.
        match name {
            b"td" | b"th" => {
                if let Some(i) = self.find_open(b"td", &[b"table", b"tr"]).or(self.find_open(b"th", &[b"table", b"tr"]))
                {
                    self.pop_to(i);
                }
            }
            b"tr" => {
                if let Some(i) = self.find_open(b"tr", &[b"table"]) {
                    self.pop_to(i);
                }
            }
            b"li" => {
                if let Some(i) = self.find_open(b"li", &[b"ul", b"ol"]) {
                    self.pop_to(i);
                }
            }
            _ => {}
        }
        if info & T_BLOCK != 0 && self.stack.last().is_some_and(|e| e.name.get() == b"p") {
            let i = self.stack.len() - 1;
            self.pop_to(i);
        }
        let flags = self.flags(name, info);
        match name {
            b"br" => {
                self.line_break(true);
                return;
            }
            b"hr" => {
                self.block();
                return;
            }
            b"table" => {
                self.block();
                if let Some(t) = self.tables.last_mut()
                    && t.in_cell
                {
                    t.nested = true;
                }
                let row_line = self.doc.spans.len();
                self.tables.push(Table { row_line, ..Table::default() });
            }
            b"tr" => {
                self.block();
                let row_line = self.doc.spans.len();
                if let Some(t) = self.tables.last_mut() {
                    t.cells.clear();
                    t.nested = false;
                    t.row_line = row_line;
                }
            }
            b"td" | b"th" => {
                if let Some(t) = self.tables.last_mut() {
                    if !t.cells.is_empty() {
                        self.pending_cell = true;
                    }
                    t.cells.push(String::new());
                    t.in_cell = true;
                }
            }
            _ => {}
        }
        if info & T_VOID != 0 {
            return;
        }
        if flags & F_BLOCK != 0 {
            self.block();
        }
        if self.stack.len() < MAX_DEPTH {
            self.stack.push(Elem { name: Name::new(name), flags });
            self.open(flags);
        }
    }

    fn end(&mut self, name: &[u8]) {
        if let Some(i) = self.find_open(name, &[]) {
            self.pop_to(i);
        } else if name == b"br" {
            self.line_break(true);
        } else if name == b"p" {
            self.block();
        }
    }
}
