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
    let clean: String =
        name.chars().map(|c| if c.is_control() || matches!(c, '"' | '\\' | '/') { '_' } else { c }).take(120).collect();
    if clean.trim().is_empty() { "adjunto".into() } else { clean }
}

/// The body of an attached mail: as it is (7bit or 8bit, CRLF line ends)
/// when it can be — RFC 2046 wants `message/rfc822` unencoded, and Outlook
/// opens nothing else as a mail — else base64. (lettre would pick
/// quoted-printable for any line of 76 characters or more: a long
/// Message-ID or Received header is enough.)
fn mail_body(bytes: &[u8]) -> Body {
    let mut crlf = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    let mut prev = 0u8;
    for &c in bytes {
        if c == b'\n' && prev != b'\r' {
            crlf.push(b'\r');
        }
        if prev == b'\r' && c != b'\n' {
            crlf.push(b'\n');
        }
        crlf.push(c);
        prev = c;
    }
    if prev == b'\r' {
        crlf.push(b'\n');
    }
    let fits = !crlf.contains(&0) && crlf.split(|&c| c == b'\n').all(|l| l.len() <= 998);
    if !fits {
        return Body::new_with_encoding(bytes.to_vec(), ContentTransferEncoding::Base64).unwrap_or_else(Body::new);
    }
    let encoding = if crlf.is_ascii() { ContentTransferEncoding::SevenBit } else { ContentTransferEncoding::EightBit };
    Body::dangerous_pre_encoded(crlf, encoding)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(to: &'a [String]) -> Envelope<'a> {
        Envelope {
            from_name: "Operaciones CLI",
            from_address: "ops@cli.test",
            to,
            message_id: "task-T-000001-nueva@cli.test",
            in_reply_to: None,
            references: &[],
            date: DateTime::parse_from_rfc3339("2026-12-01T10:00:00-05:00").map(|d| d.to_utc()).unwrap_or_default(),
            auto_submitted: "auto-generated",
        }
    }

    #[test]
    fn an_attached_mail_goes_unencoded_so_outlook_opens_it() {
        let long_id = format!("<{}.hold8@pacificfoods.test>", "179582269109".repeat(8));
        let cases: [(&str, Vec<u8>, &str); 3] = [
            (
                "ascii with a long header and bare LF",
                format!("From: Luis <l@pacificfoods.test>\nMessage-ID: {long_id}\nSubject: Siniestro\n\nHola.\n")
                    .into_bytes(),
                "Content-Transfer-Encoding: 7bit",
            ),
            (
                "8bit UTF-8 body",
                "From: l@pacificfoods.test\r\nSubject: da\u{f1}ada\r\n\r\nLa caja lleg\u{f3} da\u{f1}ada.\r\n"
                    .as_bytes()
                    .to_vec(),
                "Content-Transfer-Encoding: 8bit",
            ),
            (
                "a line over 998 bytes",
                format!("From: l@pacificfoods.test\r\n\r\n{}\r\n", "x".repeat(1200)).into_bytes(),
                "Content-Transfer-Encoding: base64",
            ),
        ];
        let to = vec!["asistente2@cli.test".to_string()];
        let body = Rendered { subject: "Nueva tarea".into(), text: "Va adjunto.".into(), html: None };
        for (name, raw, want) in cases {
            let out = compose_with(&env(&to), &body, &[Attached::mail("correo original.eml", &raw)])
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let text = String::from_utf8_lossy(&out);
            let part = text.split("Content-Type: message/rfc822").nth(1).unwrap_or_else(|| panic!("{name}: {text}"));
            assert!(part.contains(want), "{name}: {part}");
            if want != "Content-Transfer-Encoding: base64" {
                // Verbatim, CRLF: the headers are readable as they came.
                assert!(part.contains("Subject: "), "{name}: {part}");
                assert!(!part.contains("=0A"), "{name}: {part}");
            }
        }
        let ascii = compose_with(
            &env(&to),
            &body,
            &[Attached::mail("correo original.eml", format!("Message-ID: {long_id}\n\nHola.\n").as_bytes())],
        )
        .unwrap_or_default();
        assert!(String::from_utf8_lossy(&ascii).contains(&format!("Message-ID: {long_id}\r\n")));
    }
}
