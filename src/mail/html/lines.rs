//! The text side of the converter: cells and rows, line kinds, line
//! breaks, and the finished document.

use super::*;

impl Conv {
    pub(super) fn finish_row(&mut self) {
        let Some(t) = self.tables.last_mut() else { return };
        let cells: Vec<&str> = t.cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
        if cells.len() == 2 && !t.nested && self.doc.rows.len() < MAX_ROWS {
            let key = cells[0].trim_end_matches(':').trim();
            let value = cells[1];
            if !key.is_empty() && key.chars().count() <= 40 && key.chars().any(char::is_alphabetic) {
                self.doc.rows.push(Row { line: t.row_line, key: key.to_string(), value: value.to_string() });
            }
        }
        t.cells.clear();
        t.nested = false;
        t.in_cell = false;
    }

    pub(super) fn kind_now(&self) -> Kind {
        if self.quote > 0 || self.cut {
            Kind::Quote
        } else if self.sig > 0 {
            Kind::Sig
        } else if self.small > 0 {
            Kind::Small
        } else {
            Kind::Body
        }
    }

    pub(super) fn text(&mut self, s: &str) {
        if self.skip > 0 || self.hidden > 0 || self.bytes > MAX_TEXT {
            return;
        }
        let kind = self.kind_now();
        let pre = self.pre > 0;
        for ch in s.chars() {
            if pre && ch == '\n' {
                self.line_break(true);
                continue;
            }
            if ch == '\r' || crate::text::is_invisible_control(ch) {
                continue;
            }
            if ch.is_ascii_whitespace() && !pre {
                self.pending_space = true;
                continue;
            }
            if ch == '\u{a0}' && !pre {
                self.pending_space = true;
                self.cur_blank_content = true;
                continue;
            }
            self.put(ch, kind);
        }
    }

    pub(super) fn put(&mut self, ch: char, kind: Kind) {
        match self.cur_kind {
            None => self.cur_kind = Some(kind),
            Some(k) if k != kind => self.cur_mixed = true,
            _ => {}
        }
        let sep = if self.pending_cell {
            Some('\t')
        } else if self.pending_space {
            Some(' ')
        } else {
            None
        };
        if let Some(sep) = sep
            && !self.cur.is_empty()
        {
            self.cur.push(sep);
            self.bytes += 1;
        }
        self.pending_cell = false;
        self.pending_space = false;
        let ch = if ch == '\t' { ' ' } else { ch };
        self.cur.push(ch);
        self.bytes += ch.len_utf8();
        if let Some(t) = self.tables.last_mut()
            && t.in_cell
            && let Some(cell) = t.cells.last_mut()
            && cell.len() < MAX_CELL
        {
            if sep.is_some() && !cell.is_empty() {
                cell.push(' ');
            }
            cell.push(ch);
        }
    }

    /// End the current line; `force` (a `<br>`) makes an empty line too.
    pub(super) fn line_break(&mut self, force: bool) {
        let text = self.cur.trim_end();
        if !text.is_empty() {
            let mut kind = self.cur_kind.unwrap_or(Kind::Body);
            if self.cur_mixed && matches!(kind, Kind::Sig | Kind::Small) {
                kind = Kind::Body;
            }
            let start = self.doc.text.len();
            self.doc.text.push_str(text);
            self.doc.spans.push((start, self.doc.text.len(), kind));
        } else if (force || self.cur_blank_content) && !self.doc.last_blank() {
            let kind = self.kind_now();
            let at = self.doc.text.len();
            self.doc.spans.push((at, at, kind));
        }
        if let Some(t) = self.tables.last_mut()
            && t.in_cell
            && let Some(cell) = t.cells.last_mut()
            && !cell.is_empty()
            && !cell.ends_with(' ')
        {
            cell.push(' ');
        }
        self.cur.clear();
        self.cur_kind = None;
        self.cur_mixed = false;
        self.cur_blank_content = false;
        self.pending_space = false;
        self.pending_cell = false;
    }

    pub(super) fn block(&mut self) {
        if !self.cur.is_empty() || self.cur_blank_content {
            self.line_break(false);
        }
        self.pending_space = false;
    }

    pub(super) fn finish(mut self) -> Doc {
        self.pop_to(0);
        self.block();
        while !self.doc.spans.is_empty() && self.doc.last_blank() {
            self.doc.spans.pop();
        }
        self.doc
    }
}
