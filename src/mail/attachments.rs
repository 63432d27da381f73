//! The attachments of a mail, forwarded mails inside it included: each
//! part as the mail carries it, the text a PDF or a ZIP member holds (from
//! the bounded extractor, one budget per mail), and what could not be read.

use mail_parser::{Message, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use super::{Attachment, ParseOptions, Problem, extract, sanitize_name};

/// Forwarded mails (`message/rfc822`) opened inside each other.
const MAX_NESTING: usize = 4;

/// Collect every attachment of `msg` into `out`, its problems into `problems`.
pub(super) fn collect(msg: &Message<'_>, opts: &ParseOptions, out: &mut Vec<Attachment>, problems: &mut Vec<Problem>) {
    // One budget for the whole mail, forwarded mails inside it included.
    let mut c = Collector { opts, extractor: extract::MailExtractor::new(&opts.limits), out, problems };
    c.collect(msg, 0, None);
}

struct Collector<'a> {
    opts: &'a ParseOptions,
    extractor: extract::MailExtractor<'a>,
    out: &'a mut Vec<Attachment>,
    problems: &'a mut Vec<Problem>,
}

/// One part, as its headers describe it.
struct Part<'p> {
    name: String,
    content_type: String,
    inline: bool,
    data: &'p [u8],
}

impl Collector<'_> {
    fn collect(&mut self, msg: &Message<'_>, depth: usize, container: Option<&str>) {
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
                    extract::cap_text(&mut text, self.opts.limits.max_text_bytes, &mut att_problems);
                    self.out.push(Attachment {
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
                        self.collect(nested, depth + 1, Some(&label));
                    } else {
                        self.problems.push(Problem::new("nesting_limit", "forwarded mails nested too deep"));
                    }
                }
                PartType::Multipart(_) => {}
                body => {
                    let data: &[u8] = match body {
                        PartType::Text(t) | PartType::Html(t) => t.as_bytes(),
                        PartType::Binary(b) | PartType::InlineBinary(b) => b,
                        _ => &[],
                    };
                    let att = self.attachment(Part { name, content_type, inline, data }, container);
                    self.out.push(att);
                }
            }
        }
    }

    /// One attachment as the mail carries it. A PDF's text and a ZIP's
    /// members come from the extractor (bounded; see [`extract`]); a ZIP's
    /// members go to `out` before the archive itself, which the caller
    /// pushes. A file the extractor died on twice marks the mail too
    /// (`extractor_died`).
    fn attachment(&mut self, part: Part<'_>, container: Option<&str>) -> Attachment {
        let Part { name, content_type, inline, data } = part;
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
        if self.opts.skip_extraction {
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
                let x = self.extractor.extract(what, &att.name, data);
                att.text = x.text;
                att.problems = x.problems;
                for m in x.members {
                    self.out.push(Attachment {
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
                    self.problems.push(Problem::new(extract::EXTRACTOR_DIED, format!("{label}: {}", p.detail)));
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
        extract::cap_text(&mut att.text, self.opts.limits.max_text_bytes, &mut att.problems);
        att
    }
}
