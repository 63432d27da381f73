//! The one way a decision sends mail: render a template, compose the RFC
//! 5322 bytes, queue them. Answers to a mail are threaded under it, marked
//! `auto-replied` and counted against the sender's rate limits; everything
//! else (escalations, notices, reminders, digests) is `auto-generated`.

use chrono::Timelike;
use serde_json::Value;

use super::compose::{Envelope, compose};
use super::draft::Draft;
use super::effect::{Effect, ReplyHour};
use super::model::{OutboxState, Outgoing};
use super::view::ViewResult;
use super::{Incoming, Settings};
use crate::clients::Sender;

/// How a mail relates to the incoming one.
pub enum Threading<'a> {
    /// An answer to the mail being decided.
    Reply(&'a Incoming<'a>),
    /// A mail the desk starts: optionally referring to earlier mails.
    Notice { references: &'a [String] },
}

/// One mail to send.
pub struct Letter<'a> {
    pub template: &'a str,
    pub to: Vec<String>,
    pub ctx: &'a Value,
    pub threading: Threading<'a>,
    /// The order it is about (bounces and refusals find the client by it).
    pub order: Option<&'a str>,
    /// The outbox id; `None`: derived from the incoming mail and a counter.
    pub id: Option<String>,
}

/// The reply-rate hour of an instant.
pub fn reply_hour(s: &Settings, now: chrono::DateTime<chrono::Utc>) -> ReplyHour {
    let _ = s;
    ReplyHour { date: now.date_naive(), hour: now.hour() }
}

impl Draft<'_> {
    /// Render, compose and queue `letter`; its Message-ID, or `None` when it
    /// could not be made (the reason is in the outcome).
    pub fn send(&mut self, letter: Letter<'_>) -> Option<String> {
        let settings = &self.desk.settings;
        let rendered = match self.desk.templates.render(letter.template, letter.ctx) {
            Ok(r) => r,
            Err(e) => {
                self.note(format!("template {} failed: {e:#}", letter.template));
                return None;
            }
        };
        self.mails += 1;
        let id = match &letter.id {
            Some(id) => id.clone(),
            None => format!("{}-{}-{}", self.id_base, letter.template, self.mails),
        };
        let message_id = format!("buzon.{id}@{}", settings.domain());
        let (in_reply_to, references, auto_submitted) = match &letter.threading {
            Threading::Reply(m) => {
                let mut refs = m.mail.references.clone();
                if let Some(mid) = &m.mail.message_id
                    && !refs.contains(mid)
                {
                    refs.push(mid.clone());
                }
                (m.mail.message_id.as_deref(), refs, "auto-replied")
            }
            Threading::Notice { references } => (None, references.to_vec(), "auto-generated"),
        };
        let env = Envelope {
            from_name: &settings.name,
            from_address: &settings.address,
            to: &letter.to,
            message_id: &message_id,
            in_reply_to,
            references: &references,
            date: self.now,
            auto_submitted,
        };
        let bytes = match compose(&env, &rendered) {
            Ok(b) => b,
            Err(e) => {
                self.note(format!("mail {} not sent: {e}", letter.template));
                return None;
            }
        };
        if matches!(letter.threading, Threading::Reply(_)) {
            let hour = reply_hour(settings, self.now);
            for addr in &letter.to {
                self.push(Effect::CountReply { address: addr.clone(), hour });
            }
            self.replies_queued += 1;
        }
        self.note(format!("queued {} to {}", letter.template, letter.to.join(", ")));
        let mail = Outgoing {
            id,
            message_id: message_id.clone(),
            kind: letter.template.to_string(),
            to: letter.to,
            subject: rendered.subject,
            created_at: self.now,
            state: OutboxState::Pendiente,
            attempts: 0,
            next_attempt: None,
            sent_at: None,
            error: None,
            order: letter.order.map(str::to_string),
            delivered_to: Vec::new(),
            refused: Vec::new(),
        };
        self.push(Effect::Queue { mail, bytes });
        Some(message_id)
    }

    /// May `m` be answered automatically at `to`: no loop (auto-replies,
    /// bounces, lists, ourselves, robots) and within the rate limits?
    pub fn may_reply(&self, m: &Incoming<'_>, to: &str) -> ViewResult<bool> {
        let mail = m.mail;
        if m.class.has("automatico") || mail.is_auto() || mail.return_path.as_deref() == Some("") {
            return Ok(false);
        }
        let s = &self.desk.settings;
        let to = to.to_ascii_lowercase();
        let local = to.split('@').next().unwrap_or("");
        if to.is_empty()
            || to == s.address
            || matches!(self.desk.directory.sender(&to), Sender::Ours)
            || ["mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "bounce", "bounces"]
                .iter()
                .any(|p| local == *p || local.starts_with(&format!("{p}-")) || local.starts_with(&format!("{p}+")))
        {
            return Ok(false);
        }
        let hour = reply_hour(s, self.now);
        let in_hour = self.view.replies_in_hour(&to, hour)? + self.replies_queued;
        let in_day = self.view.replies_in_day(&to, hour)? + self.replies_queued;
        Ok(in_hour < s.replies_per_hour && in_day < s.replies_per_day)
    }
}
