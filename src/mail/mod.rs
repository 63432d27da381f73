//! Parse: raw bytes → one normalised [`Mail`]. Never panics, whatever the
//! bytes; what could not be read is recorded in [`Mail::problems`].

mod auth;
pub mod extract;
pub mod fields;
pub mod forward;
pub mod html;
pub mod quote;
pub mod signature;

use std::fmt;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use auth::AuthResults;
pub use extract::Limits;

/// Something in a mail that could not be read as expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable short code (`pdf_unreadable`, `no_from`, `encoding`…). The
    /// attachment codes (`pdf_*`, `zip_*`, `extract_limit`, `budget`) are
    /// listed in [`extract`]; one of them asks the caller to act:
    ///
    /// `extractor_died` ([`extract::EXTRACTOR_DIED`]): reading this
    /// attachment killed the extractor process twice in a row (a memory or
    /// CPU limit, a signal, a crash), in two fresh processes. The attachment
    /// is kept without text, and the code is on the mail's problems too
    /// (detail `NAME: …`). The pipeline quarantines such a mail: a poison
    /// mail must never stop the desk. A timeout (`pdf_timeout`,
    /// `zip_timeout`) or a file the reader rejects is not a death.
    pub code: String,
    /// Human detail.
    pub detail: String,
}

impl Problem {
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        Problem { code: code.to_string(), detail: detail.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() { write!(f, "{}", self.code) } else { write!(f, "{}: {}", self.code, self.detail) }
    }
}

/// A mailbox: display name and address (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Addr {
    pub name: String,
    pub address: String,
}

impl Addr {
    /// The domain part, lower case ("" when there is none).
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

/// One attachment (or a member of a ZIP attachment, or a part of a forwarded mail).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    /// Decoded file name (RFC 2047/2231) as the sender wrote it; never a path.
    pub name: String,
    /// MIME type, lower case (`application/pdf`).
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// SHA-256 of the decoded content, hex.
    pub sha256: String,
    /// Extracted text (PDF text layer, text files, ZIP member names and texts), capped.
    pub text: String,
    /// `Content-Disposition: inline` (signature images and the like).
    pub inline: bool,
    /// Name of the ZIP archive or forwarded mail this came from, if any.
    pub container: Option<String>,
    /// Problems reading this attachment.
    pub problems: Vec<Problem>,
    /// The decoded bytes.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// The normalised mail every later stage works on.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Mail {
    /// SHA-256 of the raw bytes, hex: with the Message-ID, the mail's identity.
    pub sha256: String,
    /// Raw size in bytes.
    pub size: usize,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub from: Option<Addr>,
    pub reply_to: Vec<Addr>,
    pub to: Vec<Addr>,
    pub cc: Vec<Addr>,
    /// Return-Path address: `None` absent, `Some("")` the null sender `<>`.
    pub return_path: Option<String>,
    /// Decoded subject ("" when absent).
    pub subject: String,
    /// Date header, RFC 3339.
    pub date: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Every header as (lower-case name, unfolded raw value), in order.
    pub headers: Vec<(String, String)>,
    /// What the sender wrote in this mail (answers between quoted lines
    /// included), without quoted history, forwarded material or signature.
    pub new_text: String,
    /// Quoted history of a reply (`>` lines, quote containers, attribution
    /// and reply header blocks and below).
    pub quoted_text: String,
    /// Only the lines the sender wrote above the first quoted or forwarded
    /// part, signature excluded: staff `#commands` are read from here, so a
    /// client's `#cerrar` quoted below is never obeyed.
    #[serde(default)]
    pub command_text: String,
    /// The body of a forwarded message (from the forward header down, without
    /// the header block): in a client's `RV:`/`FW:` it is what the client sends.
    #[serde(default)]
    pub forwarded_text: String,
    /// The From address(es) the forward header(s) name, outermost first.
    #[serde(default)]
    pub forwarded_from: Vec<Addr>,
    /// The sender's signature and disclaimer block (closing formula, name,
    /// phones, confidentiality notices, "Libro de Reclamaciones" links): kept
    /// out of `new_text` so a company footer never reads as a reclamo.
    #[serde(default)]
    pub signature: String,
    /// Key/value pairs from two-cell HTML table rows and `Key: value` lines
    /// of the new text (`("fecha limite", "04/12/2026")`), keys folded.
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    /// The text came from an HTML part (read first when there is one: its
    /// structure tells quotes, forwards and signatures apart).
    pub from_html: bool,
    pub attachments: Vec<Attachment>,
    /// Auto-reply / bulk / bounce signals (see `auth::auto_signals`).
    pub auto_signals: Vec<String>,
    /// DMARC result from our own MTA's Authentication-Results, if any.
    pub dmarc: Option<String>,
    pub problems: Vec<Problem>,
    /// For a delivery report (bounce): the Message-IDs of buzon's own mails
    /// it quotes (`buzon.…@…`), i.e. what bounced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bounced_ids: Vec<String>,
}

/// Message-IDs of buzon's own mails (`<buzon.…@…>`) quoted anywhere in `raw`.
fn our_quoted_ids(raw: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let needle = b"<buzon.";
    let mut i = 0;
    while let Some(pos) = raw[i..].windows(needle.len()).position(|w| w == needle) {
        let start = i + pos + 1;
        let end = raw[start..].iter().take(200).position(|&b| b == b'>').map(|e| start + e);
        match end {
            Some(end) => {
                let id = String::from_utf8_lossy(&raw[start..end]).into_owned();
                if id.contains('@') && !id.contains(char::is_whitespace) && !out.contains(&id) {
                    out.push(id);
                }
                i = end;
            }
            None => i = start,
        }
    }
    out
}

impl Mail {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The sender's address, lower case ("" when there is none).
    pub fn from_address(&self) -> &str {
        self.from.as_ref().map(|a| a.address.as_str()).unwrap_or("")
    }

    /// Did the mail's author ask not to be answered by machines, or is it one?
    pub fn is_auto(&self) -> bool {
        !self.auto_signals.is_empty()
    }

    /// DMARC failed according to our own MTA.
    pub fn dmarc_failed(&self) -> bool {
        self.dmarc.as_deref() == Some("fail")
    }

    /// The subject as shown to people: at most [`SUBJECT_SHOWN_CHARS`] characters.
    pub fn subject_shown(&self) -> String {
        crate::text::shown(&self.subject, SUBJECT_SHOWN_CHARS)
    }

    /// The value of a field (folded key, see [`fields::fold_key`]).
    pub fn field(&self, key: &str) -> Option<&str> {
        let key = fields::fold_key(key);
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// Caps on what a mail can make buzon echo (in replies, digests, logs).
/// The subject keeps at most this many bytes (RFC 5322's line limit).
pub const MAX_SUBJECT_BYTES: usize = 998;
/// Characters of a subject shown to people.
pub const SUBJECT_SHOWN_CHARS: usize = 300;
/// References ids kept (the first and the most recent).
pub const MAX_REFERENCES: usize = 100;
/// In-Reply-To ids kept.
pub const MAX_IN_REPLY_TO: usize = 10;
/// Longest Message-ID / reference id kept (RFC 5322's line limit; longer
/// ones are dropped, never cut: a cut id names another message).
pub const MAX_ID_BYTES: usize = 998;
/// Characters of a display name kept.
pub const MAX_NAME_CHARS: usize = 200;
/// Headers kept, and bytes kept of each value.
pub const MAX_HEADERS: usize = 500;
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// To and Cc addresses kept (each).
pub const MAX_RECIPIENTS: usize = 200;

/// What parsing needs to know besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Our MTA's authserv-id; Authentication-Results from anyone else are ignored.
    pub authserv_id: String,
    /// Which Authentication-Results header is trusted (`[desk] auth_results`).
    pub auth_results: AuthResults,
    pub limits: Limits,
    /// Skip attachment text extraction (fast path for tests and benchmarks).
    pub skip_extraction: bool,
}

const MAX_NESTING: usize = 4;

/// Parse raw bytes into a [`Mail`]. Never fails: unreadable input yields a
/// mail with what could be read and the problems recorded.
pub fn parse(raw: &[u8], opts: &ParseOptions) -> Mail {
    let sha256 = hex::encode(Sha256::digest(raw));
    // The MIME parser is not ours: should it ever panic on hostile bytes,
    // the mail still reaches the desk, with the problem recorded.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_inner(raw, sha256.clone(), opts)));
    parsed.unwrap_or_else(|_| Mail {
        sha256,
        size: raw.len(),
        problems: vec![Problem::new("parser_panic", "the MIME parser failed on this message")],
        ..Mail::default()
    })
}

fn parse_inner(raw: &[u8], sha256: String, opts: &ParseOptions) -> Mail {
    let mut mail = Mail { sha256, size: raw.len(), ..Mail::default() };
    let Some(msg) = MessageParser::default().parse(raw) else {
        mail.problems.push(Problem::new("unparseable", "no message could be parsed from these bytes"));
        return mail;
    };
    mail.headers = msg
        .headers_raw()
        .take(MAX_HEADERS)
        .map(|(n, v)| {
            let mut v = unfold(v);
            crate::text::cap_bytes(&mut v, MAX_HEADER_BYTES);
            (n.to_ascii_lowercase(), v)
        })
        .collect();
    mail.message_id = msg.message_id().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if mail.message_id.as_ref().is_some_and(|id| id.len() > MAX_ID_BYTES) {
        mail.message_id = None;
        mail.problems.push(Problem::new("long_message_id", format!("a Message-ID longer than {MAX_ID_BYTES} bytes")));
    }
    mail.from = msg.from().and_then(first_addr);
    mail.reply_to = msg.reply_to().map(addrs).unwrap_or_default();
    mail.to = msg.to().map(addrs).unwrap_or_default();
    mail.cc = msg.cc().map(addrs).unwrap_or_default();
    mail.reply_to.truncate(MAX_RECIPIENTS);
    mail.to.truncate(MAX_RECIPIENTS);
    mail.cc.truncate(MAX_RECIPIENTS);
    mail.return_path = msg
        .header_raw("Return-Path")
        .map(|v| v.trim().trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace()).to_ascii_lowercase());
    mail.subject = crate::text::strip_invisible(msg.subject().unwrap_or("")).trim().to_string();
    crate::text::cap_bytes(&mut mail.subject, MAX_SUBJECT_BYTES);
    mail.date = msg.date().map(|d| d.to_rfc3339());
    mail.in_reply_to = id_list(msg.in_reply_to());
    mail.in_reply_to.retain(|r| !r.is_empty() && r.len() <= MAX_ID_BYTES);
    mail.in_reply_to.truncate(MAX_IN_REPLY_TO);
    mail.references = id_list(msg.references());
    cap_references(&mut mail.references);
    mail.auto_signals = auth::auto_signals(&msg, mail.from.as_ref().map(|a| a.address.as_str()));
    mail.dmarc = auth::dmarc_result(&msg, &opts.authserv_id, opts.auth_results);
    if mail.auto_signals.iter().any(|s| s.starts_with("report:") || s == "from:mailer-daemon" || s == "from:postmaster")
    {
        mail.bounced_ids = our_quoted_ids(raw);
        // The report's own id is not what bounced.
        mail.bounced_ids.retain(|id| Some(id) != mail.message_id.as_ref());
        mail.bounced_ids.truncate(MAX_REFERENCES);
    }
    if mail.from.is_none() {
        mail.problems.push(Problem::new("no_from", "no sender address"));
    }
    if mail.message_id.is_none() {
        mail.problems.push(Problem::new("no_message_id", ""));
    }

    let ctx =
        quote::Context { subject: &mail.subject, reply: !mail.in_reply_to.is_empty() || !mail.references.is_empty() };
    let parts = body_parts(&msg, ctx);
    mail.from_html = parts.1;
    let parts = parts.0;
    mail.new_text = parts.new;
    mail.quoted_text = parts.quoted;
    mail.command_text = parts.command;
    mail.forwarded_text = parts.forwarded;
    mail.forwarded_from = parts.forwarded_from;
    mail.signature = parts.signature;
    mail.fields = parts.fields;
    if msg.parts.iter().any(|p| p.is_encoding_problem) {
        mail.problems.push(Problem::new("encoding", "a part has a broken transfer encoding"));
    }
    collect_attachments(&msg, opts, 0, None, &mut mail.attachments, &mut mail.problems);
    mail
}

/// The body split into its parts, and whether it came from HTML. The first
/// HTML body part is read when there is one (its quote containers, reply
/// header markers, tables and signature blocks are structure the plain
/// alternative has lost); else the first plain part.
fn body_parts(msg: &Message<'_>, ctx: quote::Context<'_>) -> (quote::Parts, bool) {
    let plain = match msg.text_part(0).map(|p| &p.body) {
        Some(PartType::Text(t)) => Some(t.as_ref()),
        _ => None,
    };
    if let Some(PartType::Html(h)) = msg.html_part(0).map(|p| &p.body) {
        let doc = html::to_doc(h);
        // An HTML alternative much poorer than the plain one ("..." beside
        // a full report) is not the mail's text.
        let poor = plain.is_some_and(|t| doc.text_len() * 2 < t.trim().len());
        if !doc.is_blank() && !poor {
            let lines = doc.lines();
            return (quote::parts(&lines, &doc.rows, ctx), true);
        }
    }
    match plain {
        Some(t) => (quote::parts_of_text(t, ctx), false),
        _ => match msg.body_text(0) {
            Some(t) => (quote::parts_of_text(&t, ctx), false),
            None => (quote::Parts::default(), false),
        },
    }
}

/// At most [`MAX_REFERENCES`] ids: the thread's first and the most recent
/// ones (what threading needs); overlong ids dropped.
fn cap_references(refs: &mut Vec<String>) {
    refs.retain(|r| !r.is_empty() && r.len() <= MAX_ID_BYTES);
    if refs.len() > MAX_REFERENCES {
        let tail = refs.split_off(refs.len() - (MAX_REFERENCES - 1));
        refs.truncate(1);
        refs.extend(tail);
    }
}

fn unfold(v: &str) -> String {
    if !v.contains(['\r', '\n']) {
        return v.trim().to_string();
    }
    let mut out = String::with_capacity(v.len());
    for (i, line) in v.split(['\r', '\n']).filter(|l| !l.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line.trim());
    }
    out
}

fn to_addr(a: &mail_parser::Addr<'_>) -> Option<Addr> {
    let address = a.address()?.trim().trim_matches(|c| c == '<' || c == '>').to_ascii_lowercase();
    if address.is_empty() {
        return None;
    }
    if address.len() > 320 {
        return None;
    }
    let name = crate::text::strip_invisible(a.name().unwrap_or(""));
    Some(Addr { name: crate::text::shown(name.trim(), MAX_NAME_CHARS), address })
}

fn first_addr(a: &Address<'_>) -> Option<Addr> {
    a.iter().find_map(to_addr)
}

fn addrs(a: &Address<'_>) -> Vec<Addr> {
    a.iter().filter_map(to_addr).collect()
}

fn id_list(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.trim().to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

fn collect_attachments(
    msg: &Message<'_>,
    opts: &ParseOptions,
    depth: usize,
    container: Option<&str>,
    out: &mut Vec<Attachment>,
    problems: &mut Vec<Problem>,
) {
    // One budget for the whole mail, forwarded mails inside it included.
    let mut extractor = extract::MailExtractor::new(&opts.limits);
    collect_into(msg, opts, &mut extractor, depth, container, out, problems);
}

fn collect_into(
    msg: &Message<'_>,
    opts: &ParseOptions,
    extractor: &mut extract::MailExtractor<'_>,
    depth: usize,
    container: Option<&str>,
    out: &mut Vec<Attachment>,
    problems: &mut Vec<Problem>,
) {
    for part in msg.attachments() {
        let name = part.attachment_name().map(sanitize_name).unwrap_or_default();
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(s) => format!("{}/{}", ct.ctype(), s),
                None => ct.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let inline = part.content_disposition().is_some_and(|cd| cd.ctype().eq_ignore_ascii_case("inline"));
        match &part.body {
            PartType::Message(nested) => {
                let label = if name.is_empty() { "mensaje-adjunto.eml".to_string() } else { name.clone() };
                let raw = nested.raw_message();
                let mut text = nested.subject().unwrap_or("").to_string();
                text.push('\n');
                if let Some(b) = nested.body_text(0) {
                    text.push_str(&b);
                }
                let mut att_problems = Vec::new();
                extract::cap_text(&mut text, opts.limits.max_text_bytes, &mut att_problems);
                out.push(Attachment {
                    name: label.clone(),
                    content_type: "message/rfc822".into(),
                    size: raw.len(),
                    sha256: hex::encode(Sha256::digest(raw)),
                    text,
                    inline: false,
                    container: container.map(str::to_string),
                    problems: att_problems,
                    data: raw.to_vec(),
                });
                if depth < MAX_NESTING {
                    collect_into(nested, opts, extractor, depth + 1, Some(&label), out, problems);
                } else {
                    problems.push(Problem::new("nesting_limit", "forwarded mails nested too deep"));
                }
            }
            PartType::Multipart(_) => {}
            body => {
                let data: &[u8] = match body {
                    PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
                    PartType::Binary(b) | PartType::InlineBinary(b) => b,
                    _ => &[],
                };
                let att = build_attachment(name, content_type, inline, data, container, opts, extractor, out, problems);
                out.push(att);
            }
        }
    }
}

/// One attachment as the mail carries it. A PDF's text and a ZIP's members
/// come from the extractor (bounded; see [`extract`]); a ZIP's members go to
/// `out` before the archive itself, which the caller pushes. A file the
/// extractor died on twice marks the mail too (`extractor_died`).
#[allow(clippy::too_many_arguments)]
fn build_attachment(
    name: String,
    content_type: String,
    inline: bool,
    data: &[u8],
    container: Option<&str>,
    opts: &ParseOptions,
    extractor: &mut extract::MailExtractor<'_>,
    out: &mut Vec<Attachment>,
    mail_problems: &mut Vec<Problem>,
) -> Attachment {
    let mut att = Attachment {
        sha256: hex::encode(Sha256::digest(data)),
        size: data.len(),
        text: String::new(),
        inline,
        container: container.map(str::to_string),
        problems: Vec::new(),
        data: data.to_vec(),
        name,
        content_type,
    };
    if opts.skip_extraction {
        return att;
    }
    let what = if extract::is_pdf(&att.name, &att.content_type, data) {
        Some(extract::What::Pdf)
    } else if extract::is_zip(&att.name, &att.content_type, data) {
        Some(extract::What::Zip)
    } else {
        None
    };
    match what {
        Some(what) => {
            let x = extractor.extract(what, &att.name, data);
            att.text = x.text;
            att.problems = x.problems;
            for m in x.members {
                out.push(Attachment {
                    sha256: hex::encode(Sha256::digest(&m.data)),
                    size: m.data.len(),
                    text: m.text,
                    inline: false,
                    container: Some(m.container),
                    problems: m.problems,
                    data: m.data,
                    name: m.name,
                    content_type: m.content_type,
                });
            }
            if let Some(p) = att.problems.iter().find(|p| p.code == extract::EXTRACTOR_DIED) {
                let label = if att.name.is_empty() { "(sin nombre)" } else { att.name.as_str() };
                mail_problems.push(Problem::new(extract::EXTRACTOR_DIED, format!("{label}: {}", p.detail)));
            }
        }
        None if att.content_type.starts_with("text/")
            || att.content_type.ends_with("/csv")
            || att.content_type.ends_with("/xml") =>
        {
            att.text = String::from_utf8_lossy(data).into_owned();
        }
        None => {}
    }
    extract::cap_text(&mut att.text, opts.limits.max_text_bytes, &mut att.problems);
    att
}

/// A file name safe to show and to match: no path, no control characters.
/// (Names are never used as paths; the store addresses files by hash.)
pub fn sanitize_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|&c| !c.is_control() && !crate::text::is_invisible_control(c)).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    let mut cleaned = cleaned;
    extract::truncate(&mut cleaned, 255);
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_lose_their_path() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\x\\fac\u{7}tura.pdf"), "factura.pdf");
        assert_eq!(sanitize_name("..."), "");
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        let m = parse(b"\x00\xff\xfe", &ParseOptions::default());
        assert!(!m.problems.is_empty());
    }

    #[test]
    fn reads_addresses_threading_and_signals() {
        let raw = b"From: Ana <ANA@Andes.test>\r\nTo: ops@cli.test\r\nSubject: =?utf-8?q?Cotizaci=C3=B3n?=\r\nMessage-ID: <a1@x>\r\nIn-Reply-To: <z9@y>\r\nReturn-Path: <>\r\nAuto-Submitted: auto-replied\r\nAuthentication-Results: mx.cli.test; dmarc=fail header.from=andes.test\r\n\r\nhola\r\n";
        let m = parse(raw, &ParseOptions { authserv_id: "mx.cli.test".into(), ..Default::default() });
        assert_eq!(m.from_address(), "ana@andes.test");
        assert_eq!(m.subject, "Cotización");
        assert_eq!(m.message_id.as_deref(), Some("a1@x"));
        assert_eq!(m.in_reply_to, vec!["z9@y".to_string()]);
        assert_eq!(m.return_path.as_deref(), Some(""));
        assert!(m.auto_signals.contains(&"auto-submitted:auto-replied".to_string()));
        assert!(m.auto_signals.contains(&"return-path:empty".to_string()));
        assert!(m.dmarc_failed());
        let other = parse(raw, &ParseOptions { authserv_id: "other.example".into(), ..Default::default() });
        assert_eq!(other.dmarc, None);
    }
}
