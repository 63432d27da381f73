//! Turn a rendered template into RFC 5322 bytes (lettre), threaded and marked
//! so that other machines do not answer it.

use chrono::{DateTime, Utc};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

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

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// Format the mail. Errors name the address or header that could not be used.
pub fn compose(env: &Envelope<'_>, body: &Rendered) -> Result<Vec<u8>, String> {
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
    let msg = match &body.html {
        Some(html) => b.multipart(
            MultiPart::alternative()
                .boundary(format!("buzon-{}", env.message_id.len() + body.text.len()))
                .singlepart(SinglePart::plain(body.text.clone()))
                .singlepart(SinglePart::html(html.clone())),
        ),
        None => b.singlepart(SinglePart::plain(body.text.clone())),
    }
    .map_err(|e| format!("cannot build the mail: {e}"))?;
    Ok(msg.formatted())
}
