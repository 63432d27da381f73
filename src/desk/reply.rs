//! The one way a decision sends mail: render a template, compose the RFC
//! 5322 bytes, queue them. Answers to a mail are threaded under it, marked
//! `auto-replied` and counted against the sender's rate limits; everything
//! else (escalations, notices, reminders, digests) is `auto-generated`.

use chrono::Timelike;
use serde_json::Value;

use super::compose::{Attached, Envelope, compose_with};
use super::draft::Draft;
use super::effect::{Effect, ReplyCounter, ReplyHour};
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

/// The reply-rate hour of an instant: the desk's local date and hour.
pub fn reply_hour(s: &Settings, now: chrono::DateTime<chrono::Utc>) -> ReplyHour {
    let local = now.with_timezone(&s.calendar.tz);
    ReplyHour { date: local.date_naive(), hour: local.hour() }
}

/// May a mail be answered automatically?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Yes, on this budget.
    Send,
    /// A machine (auto-reply, bounce, list, robot address, ourselves): never.
    Loop,
    /// DMARC failed: the From may be forged; nothing automatic.
    DmarcFailed,
    /// This address had its answers for the hour or the day.
    SenderLimit,
    /// The desk answered enough strangers for the hour or the day.
    StrangerCap,
    /// An answer, within minutes, to one of our own mails, bringing nothing
    /// new: an auto-responder that sets no RFC 3834 header. Answering it
    /// would start a loop.
    Echo,
}

impl Verdict {
    /// Why no answer went, for the processed record and tasks.
    pub fn why(self) -> &'static str {
        match self {
            Verdict::Send => "sent",
            Verdict::Loop => "automatic mail (loop guard)",
            Verdict::DmarcFailed => "DMARC failed",
            Verdict::SenderLimit => "reply limit of this address reached",
            Verdict::StrangerCap => "desk-wide limit of answers to strangers reached",
            Verdict::Echo => "a quick answer to our own mail with nothing new (auto-responder?)",
        }
    }

    /// The same, for the person a task goes to.
    pub fn motivo(self) -> &'static str {
        match self {
            Verdict::Send => "enviado",
            Verdict::Loop => "el correo es automático",
            Verdict::DmarcFailed => "el remitente no pasó la verificación DMARC",
            Verdict::SenderLimit => "se alcanzó el límite de respuestas automáticas a esta dirección",
            Verdict::StrangerCap => "se alcanzó el límite de respuestas automáticas a remitentes no registrados",
            Verdict::Echo => {
                "responde en minutos a nuestro propio correo sin nada nuevo (posible respuesta automática)"
            }
        }
    }
}

/// The language a letter is written in: the context's `lang` when a
/// handler set it, else the language of the mail it answers (an English
/// supplier gets English), else Spanish.
pub fn letter_language(letter: &Letter<'_>) -> &'static str {
    if let Some(l) = letter.ctx.get("lang").and_then(Value::as_str) {
        return super::language::known(l);
    }
    match &letter.threading {
        Threading::Reply(m) => super::language::of_mail(m.mail),
        Threading::Notice { .. } => "es",
    }
}

impl Draft<'_> {
    /// Render, compose and queue `letter`; its Message-ID, or `None` when it
    /// could not be made (the reason is in the outcome).
    pub fn send(&mut self, letter: Letter<'_>) -> Option<String> {
        self.send_with(letter, &[])
    }

    /// [`Draft::send`] with files attached.
    pub fn send_with(&mut self, letter: Letter<'_>, files: &[Attached]) -> Option<String> {
        let settings = &self.desk.settings;
        let lang = letter_language(&letter);
        let mut ctx = letter.ctx.clone();
        if let Some(obj) = ctx.as_object_mut() {
            obj.insert("lang".into(), Value::from(lang));
        }
        let mut rendered = match self.desk.templates.render_in(letter.template, lang, &ctx) {
            Ok(r) => r,
            Err(e) => {
                self.note(format!("template {} failed: {e:#}", letter.template));
                return None;
            }
        };
        // One reply prefix and one tag of each kind, however long the thread.
        rendered.subject = super::subjects::normalise(&rendered.subject);
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
        let bytes = match compose_with(&env, &rendered, files) {
            Ok(b) => b,
            Err(e) => {
                self.note(format!("mail {} not sent: {e}", letter.template));
                return None;
            }
        };
        if let Threading::Reply(m) = &letter.threading {
            let hour = reply_hour(settings, self.now);
            for addr in &letter.to {
                let counter = reply_counter(m, addr);
                if matches!(counter, ReplyCounter::Unverified(_)) {
                    self.push(Effect::CountReply { counter: ReplyCounter::Strangers, hour });
                    self.stranger_replies_queued += 1;
                }
                self.push(Effect::CountReply { counter, hour });
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
            held: None,
            cancelled: None,
        };
        self.push(Effect::Queue { mail, bytes });
        Some(message_id)
    }

    /// May `m` be answered automatically at `to`: no loop (auto-replies,
    /// bounces, lists, ourselves, robots), DMARC not failed, and within the
    /// sender's budget — a verified sender's own, an unverified one's own
    /// plus the desk-wide cap on answers to strangers.
    pub fn may_reply(&self, m: &Incoming<'_>, to: &str) -> ViewResult<Verdict> {
        let mail = m.mail;
        if m.class.has("automatico") || mail.is_auto() || mail.return_path.as_deref() == Some("") {
            return Ok(Verdict::Loop);
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
            return Ok(Verdict::Loop);
        }
        if mail.dmarc_failed() {
            return Ok(Verdict::DmarcFailed);
        }
        if self.answers_us_quickly(m)? {
            return Ok(Verdict::Echo);
        }
        let hour = reply_hour(s, self.now);
        let counter = reply_counter(m, &to);
        let queued = self.replies_queued;
        let in_hour = self.view.replies_in_hour(&counter, hour)? + queued;
        let in_day = self.view.replies_in_day(&counter, hour)? + queued;
        if in_hour >= s.replies_per_hour || in_day >= s.replies_per_day {
            return Ok(Verdict::SenderLimit);
        }
        if matches!(counter, ReplyCounter::Unverified(_)) {
            let strangers = ReplyCounter::Strangers;
            let in_hour = self.view.replies_in_hour(&strangers, hour)? + self.stranger_replies_queued;
            let in_day = self.view.replies_in_day(&strangers, hour)? + self.stranger_replies_queued;
            if in_hour >= s.stranger_replies_per_hour || in_day >= s.stranger_replies_per_day {
                return Ok(Verdict::StrangerCap);
            }
        }
        Ok(Verdict::Send)
    }
}

/// An answer this soon after one of our mails, with nothing new, is taken
/// for an auto-responder's.
const ECHO_MINUTES: i64 = 10;

impl Draft<'_> {
    /// Does `m` answer one of our mails sent less than [`ECHO_MINUTES`] ago,
    /// bringing no documents?
    fn answers_us_quickly(&self, m: &Incoming<'_>) -> ViewResult<bool> {
        if !m.class.documents.is_empty() {
            return Ok(false);
        }
        let domain = format!("@{}", self.desk.settings.domain());
        for id in m.mail.in_reply_to.iter().chain(&m.mail.references) {
            if let Some(ours) = id.strip_prefix("buzon.").and_then(|r| r.strip_suffix(domain.as_str()))
                && let Some(o) = self.outgoing(ours)?
                && self.now - o.created_at < chrono::Duration::minutes(ECHO_MINUTES)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The budget an answer to `to` spends: a registered sender's own, else an
/// unverified address's (never the same budget as a verified one).
pub fn reply_counter(m: &Incoming<'_>, to: &str) -> ReplyCounter {
    match m.sender {
        Sender::Client(_) | Sender::Partner(_) | Sender::Counterpart(_) | Sender::Staff => {
            ReplyCounter::Verified(to.to_string())
        }
        Sender::Ours | Sender::Unknown => ReplyCounter::Unverified(to.to_string()),
    }
}
