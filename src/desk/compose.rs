//! Turn a rendered template into RFC 5322 bytes (lettre), threaded and marked
//! so that other machines do not answer it; with attachments when a mail
//! carries documents (a payment notice's voucher) or the original mail a
//! task came from (`message/rfc822`, which Outlook opens as a mail).

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentDisposition, ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use sha2::Digest;

use crate::templates::Rendered;

/// Headers of one outgoing mail.
pub struct Envelope<'a> {
    pub from_name: &'a str,
    pub from_address: &'a str,
    pub to: &'a [String],
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    pub date: DateTime<Utc>,
    /// `auto-replied` for answers to a mail, `auto-generated` for the rest.
    pub auto_submitted: &'a str,
}

/// A file a mail carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The name the reader sees (the sender's own file name).
    pub name: String,
    /// `application/pdf`, or `message/rfc822` for a whole mail.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Attached {
    /// A whole mail, as Outlook and Thunderbird open it.
    pub fn mail(name: &str, raw: &[u8]) -> Attached {
        Attached { name: name.to_string(), content_type: "message/rfc822".into(), bytes: raw.to_vec() }
    }
}

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// A file name safe in a header: no quotes, controls or path separators.
fn header_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_control() || matches!(c, '"' | '\\' | '/') { '_' } else { c })
        .take(120)
        .collect();
    if clean.trim().is_empty() { "adjunto".into() } else { clean }
}

/// The body of an attached mail: as it is (7bit or 8bit) when it can be —
/// RFC 2046 wants `message/rfc822` unencoded — else base64.
fn mail_body(bytes: &[u8]) -> Body {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t.to_string(),
        _ => return Body::new(bytes.to_vec()),
    };
    match Body::new_with_encoding(text, ContentTransferEncoding::SevenBit) {
        Ok(b) => b,
        Err(back) => match Body::new_with_encoding(back, ContentTransferEncoding::EightBit) {
            Ok(b) => b,
            Err(back) => Body::new(back),
        },
    }
}

fn attachment_part(a: &Attached) -> Result<SinglePart, String> {
    let ct = ContentType::parse(&a.content_type).or_else(|_| ContentType::parse("application/octet-stream"));
    let ct = ct.map_err(|e| format!("attachment {}: {e}", a.name))?;
    let body = if a.content_type == "message/rfc822" { mail_body(&a.bytes) } else { Body::new(a.bytes.clone()) };
    Ok(SinglePart::builder().header(ct).header(ContentDisposition::attachment(&header_name(&a.name))).body(body))
}

/// A boundary no part of this mail can hold: derived from its Message-ID
/// (mail quoted or attached inside carries other ids).
fn boundary(message_id: &str, part: &str) -> String {
    let h = sha2::Sha256::digest(message_id.as_bytes());
    format!("=_buzon_{}_{part}", hex::encode(h.get(..12).unwrap_or(&[])))
}

/// Format the mail. Errors name the address or header that could not be used.
pub fn compose(env: &Envelope<'_>, body: &Rendered) -> Result<Vec<u8>, String> {
    compose_with(env, body, &[])
}

/// Format the mail with attachments.
pub fn compose_with(env: &Envelope<'_>, body: &Rendered, files: &[Attached]) -> Result<Vec<u8>, String> {
    let from: Mailbox = format!("{} <{}>", env.from_name, env.from_address)
        .parse()
        .or_else(|_| env.from_address.parse())
        .map_err(|e| format!("desk address `{}`: {e}", env.from_address))?;
    let mut b = lettre::Message::builder()
        .from(from)
        .subject(body.subject.clone())
        .message_id(Some(format!("<{}>", env.message_id)))
        .date(std::time::SystemTime::from(env.date))
        .raw_header(raw("Auto-Submitted", env.auto_submitted.to_string()))
        .raw_header(raw("X-Auto-Response-Suppress", "All".to_string()))
        .raw_header(raw("Precedence", "auto_reply".to_string()));
    for to in env.to {
        let mb: Mailbox = to.parse().map_err(|e| format!("recipient `{to}`: {e}"))?;
        b = b.to(mb);
    }
    if let Some(irt) = env.in_reply_to {
        b = b.in_reply_to(format!("<{irt}>"));
    }
    if !env.references.is_empty() {
        let refs: Vec<String> = env.references.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    let alternative = |boundary: String| {
        body.html.as_ref().map(|html| {
            MultiPart::alternative()
                .boundary(boundary)
                .singlepart(SinglePart::plain(body.text.clone()))
                .singlepart(SinglePart::html(html.clone()))
        })
    };
    let msg = if files.is_empty() {
        match alternative(format!("buzon-{}", env.message_id.len() + body.text.len())) {
            Some(alt) => b.multipart(alt),
            None => b.singlepart(SinglePart::plain(body.text.clone())),
        }
    } else {
        let mixed = MultiPart::mixed().boundary(boundary(env.message_id, "mixed"));
        let mut mixed = match alternative(boundary(env.message_id, "alt")) {
            Some(alt) => mixed.multipart(alt),
            None => mixed.singlepart(SinglePart::plain(body.text.clone())),
        };
        for f in files {
            mixed = mixed.singlepart(attachment_part(f)?);
        }
        b.multipart(mixed)
    }
    .map_err(|e| format!("cannot build the mail: {e}"))?;
    Ok(msg.formatted())
}
