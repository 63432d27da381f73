//! The text layer of a PDF, read within limits.
//!
//! lopdf's own `extract_text` decodes a page's whole content stream into a
//! `Vec` of operations first: a 107 KB file whose content inflates to
//! millions of `Tj` operators took ~4 GB that way. Here the operations are
//! decoded one at a time (`Content::decode_iter`) and counted, page content
//! is inflated against a per-page and a per-file bound, only the first pages
//! are looked at, and the text stops at its cap — so memory stays at about
//! the file plus one page's content, and CPU at the operator bound. The text
//! logic is lopdf's (`Tf` picks the font's encoding; `Tj`, `TJ`, `'` and `"`
//! show text; `T*` and `ET` end a line).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::content::Content;
use lopdf::{DecompressError, Document, Encoding, LoadOptions, Object};

use super::limits::Limits;
use crate::mail::Problem;

const MIB: f64 = 1024.0 * 1024.0;

/// Read the text layer of a PDF. Problems (unreadable, encrypted, no text
/// layer, a limit reached) go to `problems`; whatever text was read is
/// returned. Never panics: the PDF reader runs under `catch_unwind`.
pub fn text(data: &[u8], limits: &Limits, problems: &mut Vec<Problem>) -> String {
    if !worth_reading(data, limits, problems) {
        return String::new();
    }
    let before = problems.len();
    let read = catch_unwind(AssertUnwindSafe(|| read(data, limits, problems)));
    match read {
        Ok(Ok(text)) => {
            let limited = problems[before..].iter().any(|p| p.code == "extract_limit");
            if text.trim().is_empty() && !limited {
                problems.push(Problem::new("pdf_no_text", "no text layer (a scan?)"));
            }
            text
        }
        Ok(Err(p)) => {
            problems.push(p);
            String::new()
        }
        Err(_) => {
            problems.push(Problem::new("pdf_unreadable", "the PDF reader failed on this file"));
            String::new()
        }
    }
}

/// Is this a PDF within the size limit? (Checked before any reader is
/// started; the reason it is not goes to `problems`.)
pub fn worth_reading(data: &[u8], limits: &Limits, problems: &mut Vec<Problem>) -> bool {
    if data.len() > limits.max_pdf_bytes {
        problems.push(Problem::new("pdf_too_large", format!("{} bytes, limit {}", data.len(), limits.max_pdf_bytes)));
        return false;
    }
    if !data.starts_with(b"%PDF") && !data.get(..1024).is_some_and(|h| h.windows(4).any(|w| w == b"%PDF")) {
        problems.push(Problem::new("pdf_unreadable", "no PDF header"));
        return false;
    }
    true
}

fn load_problem(e: lopdf::Error, limits: &Limits) -> Problem {
    if let lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) = e {
        return Problem::new(
            "extract_limit",
            format!("a stream of this PDF inflates past {:.0} MiB: not read", limits.max_pdf_stream as f64 / MIB),
        );
    }
    let msg = e.to_string();
    let lower = msg.to_ascii_lowercase();
    if lower.contains("encrypt") || lower.contains("password") {
        Problem::new("pdf_encrypted", "password-protected PDF")
    } else {
        Problem::new("pdf_unreadable", msg)
    }
}

/// The page count the document declares (for the report only).
fn declared_pages(doc: &Document) -> Option<i64> {
    let pages = doc.catalog().ok()?.get(b"Pages").ok()?;
    let pages = match pages {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    pages.get(b"Count").ok()?.as_i64().ok()
}

fn read(data: &[u8], limits: &Limits, problems: &mut Vec<Problem>) -> Result<String, Problem> {
    let options = LoadOptions { max_decompressed_size: Some(limits.max_pdf_stream), ..LoadOptions::default() };
    let doc = Document::load_mem_with_options(data, options).map_err(|e| load_problem(e, limits))?;
    if doc.is_encrypted() {
        return Err(Problem::new("pdf_encrypted", "password-protected PDF"));
    }
    let mut reader = TextReader {
        text: String::new(),
        content_left: limits.max_pdf_content,
        operators_left: limits.max_pdf_operators,
        max_text: limits.max_text_bytes,
    };
    let max_pages = limits.max_pdf_pages as usize;
    let mut pages = doc.page_iter();
    for (i, page) in pages.by_ref().take(max_pages).enumerate() {
        match reader.page(&doc, page, limits) {
            Page::Read => {}
            Page::Skipped(why) => problems.push(Problem::new("extract_limit", format!("page {}: {why}", i + 1))),
            Page::Stop(why) => {
                problems.push(Problem::new("extract_limit", format!("stopped at page {}: {why}", i + 1)));
                return Ok(reader.text);
            }
        }
    }
    if pages.next().is_some() {
        let total = declared_pages(&doc).map(|n| format!("{n} pages")).unwrap_or_else(|| "more pages".into());
        problems.push(Problem::new("extract_limit", format!("{total}: only the first {max_pages} read")));
    }
    Ok(reader.text)
}

enum Page {
    Read,
    /// This page was not read; the next ones may be.
    Skipped(String),
    /// A bound for the whole file was reached.
    Stop(String),
}

struct TextReader {
    text: String,
    content_left: usize,
    operators_left: u64,
    max_text: usize,
}

impl TextReader {
    fn page(&mut self, doc: &Document, page: lopdf::ObjectId, limits: &Limits) -> Page {
        let cap = limits.max_pdf_page_content.min(self.content_left);
        let content = match doc.get_page_content_with_limit(page, cap) {
            Ok(c) => c,
            Err(lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })) => {
                if cap < limits.max_pdf_page_content {
                    return Page::Stop(format!(
                        "the pages' content inflates past {:.0} MiB",
                        limits.max_pdf_content as f64 / MIB
                    ));
                }
                return Page::Skipped(format!(
                    "its content inflates past {:.0} MiB: not read",
                    limits.max_pdf_page_content as f64 / MIB
                ));
            }
            // As lopdf's extract_text: a page that cannot be read adds nothing.
            Err(_) => return Page::Read,
        };
        self.content_left = self.content_left.saturating_sub(content.len());
        let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = doc
            .get_page_fonts(page)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(name, font)| {
                font.get_font_encoding_with_limit(doc, limits.max_pdf_stream).ok().map(|e| (name, e))
            })
            .collect();
        let mut encoding: Option<&Encoding<'_>> = None;
        for op in Content::decode_iter(&content) {
            // A syntax error ends the page (lopdf drops the whole page there).
            let Ok(op) = op else { break };
            if self.operators_left == 0 {
                return Page::Stop(format!("over {} content operators", limits.max_pdf_operators));
            }
            self.operators_left -= 1;
            match op.operator.as_str() {
                "Tf" => {
                    encoding = op.operands.first().and_then(|o| o.as_name().ok()).and_then(|n| encodings.get(n));
                }
                "Tj" | "TJ" => {
                    if let Some(e) = encoding {
                        collect(&mut self.text, e, &op.operands);
                    }
                }
                "'" => {
                    if let Some(e) = encoding {
                        self.newline();
                        collect(&mut self.text, e, &op.operands);
                    }
                }
                "\"" => {
                    if let Some(e) = encoding {
                        self.newline();
                        collect(&mut self.text, e, op.operands.get(2..).unwrap_or_default());
                    }
                }
                "T*" | "ET" => self.newline(),
                _ => {}
            }
            if self.text.len() > self.max_text {
                super::truncate(&mut self.text, self.max_text);
                return Page::Stop(format!("text cut at {} bytes", self.max_text));
            }
        }
        self.text.push('\n');
        Page::Read
    }

    fn newline(&mut self) {
        if !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

/// The text a show-text operator's operands carry (lopdf's `collect_text`):
/// strings through the font's encoding, a space after a `TJ` array and for
/// a kerning gap wider than 100.
fn collect(text: &mut String, encoding: &Encoding<'_>, operands: &[Object]) {
    for operand in operands {
        match operand {
            Object::String(bytes, _) => {
                let _ = encoding.write_to_string(bytes, text);
            }
            Object::Array(items) => {
                collect(text, encoding, items);
                text.push(' ');
            }
            Object::Integer(i) if *i < -100 => text.push(' '),
            _ => {}
        }
    }
}
