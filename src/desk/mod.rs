//! Decide: the desk's business logic. From a mail, its classification, what
//! the desk already knows (through [`View`]) and `now`, produce a
//! [`Decision`]: effects as values, applied by the store in one transaction.
//! Time-driven work is decided the same way ([`decide_due`]). No I/O, no
//! clock: the same inputs give the same decision.
//!
//! One file per label (mini-redis's `cmd/`): the table [`HANDLERS`] says
//! which runs for which label, in order. Shared rooms: [`matching`] (what a
//! mail points at), [`reply`] (the one way mail is sent), [`context`] (what
//! templates see), [`deadlines`] (when things fall due), [`draft`] (the
//! working copies one decision's handlers share).

mod alerts;
mod automatic;
mod carrier;
pub mod closing;
pub mod commands;
pub mod compose;
pub mod context;
pub mod counterparts;
pub mod deadlines;
mod digests;
mod documents;
pub mod draft;
pub mod effect;
pub mod extras;
pub mod follow;
mod funds;
pub mod history;
pub mod language;
pub mod matching;
#[cfg(test)]
mod memory;
pub mod model;
mod notices;
mod payments;
mod reclamos;
mod reminders;
pub mod reply;
mod status;
pub mod subjects;
pub mod suggest;
mod summaries;
mod supervision;
mod tasks;
#[cfg(test)]
mod tests;
pub mod view;
pub mod volantes;

use chrono::{DateTime, NaiveTime, Utc};
use regex::Regex;

use crate::calendar::BusinessCalendar;
use crate::clients::{Directory, Sender};
use crate::mail::Mail;
use crate::rules::{Classification, RuleSet};
use crate::templates::Templates;
pub use context::{kind_name, local_fmt, order_context};
pub use digests::{Digest, DigestLine, assistants, client_name, render_digest};
use draft::Draft;
pub use effect::Effect;
pub use notices::size_words;
pub use supervision::render_supervisor_digest;
pub use view::{DigestRecords, View, ViewError, ViewResult};

/// The desk's settings (validated from `config.toml`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The shared mailbox (lower case); replies come from it.
    pub address: String,
    /// Display name of the desk.
    pub name: String,
    pub supervisors: Vec<String>,
    pub managers: Vec<String>,
    pub assistants: Vec<String>,
    pub administracion: Vec<String>,
    pub default_assistant: String,
    pub order_prefix: String,
    pub reclamo_hours: u32,
    pub reclamo_warnings: Vec<u32>,
    pub digest_times: Vec<NaiveTime>,
    pub digest_when_empty: bool,
    pub review_hours: u32,
    /// Automatic answers to one address, per hour and per day (Lima).
    pub replies_per_hour: u32,
    pub replies_per_day: u32,
    /// Automatic answers to strangers, desk-wide, per hour and per day.
    pub stranger_replies_per_hour: u32,
    pub stranger_replies_per_day: u32,
    /// Local times of the supervisors' digest, on business days (none: no digest).
    pub supervisor_digest_times: Vec<NaiveTime>,
    /// Task kinds whose assistant gets a notice the moment they open (with
    /// the original mail attached); the others wait for the next digest.
    /// `alerta_*` matches every kind that starts with `alerta_`.
    pub notify_at_once: Vec<String>,
    /// Mail imported on going live (`import_existing`) older than this many
    /// days is history: its reclamos and tasks are recorded closed.
    pub import_closed_after_days: u32,
    /// ETA changes larger than this (hours) are notified to clients with notices.
    pub eta_notice_hours: u32,
    /// Attachments (and kept originals) larger than this are named, not carried.
    pub max_attachment_bytes: u64,
    pub calendar: BusinessCalendar,
    /// The weekly list of incomplete files to each assistant: its weekday
    /// (1 = Monday … 7 = Sunday) and local time.
    pub closing_list_day: u8,
    pub closing_list_time: NaiveTime,
    /// The monthly report of extraordinary services to each executive, at
    /// this local time of the month's first business day.
    pub extras_report_time: NaiveTime,
    /// Requests to counterparts: deadlines and the automatic ones.
    pub requests: RequestSettings,
}

/// `[desk.request_hours]`, `arrival_check_hours`, `volante_days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSettings {
    pub previo_hours: u32,
    pub retiro_hours: u32,
    pub llegada_hours: u32,
    pub bl_hours: u32,
    pub volante_hours: u32,
    pub arrival_check_hours: u32,
    pub volante_days: u32,
}

impl Default for RequestSettings {
    fn default() -> Self {
        RequestSettings {
            previo_hours: 8,
            retiro_hours: 8,
            llegada_hours: 8,
            bl_hours: 16,
            volante_hours: 16,
            arrival_check_hours: 12,
            volante_days: 2,
        }
    }
}

/// The task kinds notified at once by default: mail a person must look at
/// before the next digest (an unknown sender, an answer that did not go…).
pub const NOTIFY_AT_ONCE: &[&str] = &[
    "triage",
    "triage_documentos",
    "estado_sin_verificar",
    "estado_no_respondido",
    "estado_no_encontrado",
    "acuse_no_enviado",
    "correo_rechazado",
    "correo_rebotado",
    "remitente_no_verificado",
    "aviso_sin_orden",
    "documento_ilegible",
    "volante_discrepancia",
];

impl Default for Settings {
    /// The defaults of `config.toml`'s `[desk]` with `ops@cli.test` (tests).
    fn default() -> Self {
        Settings {
            address: "ops@cli.test".into(),
            name: "Operaciones CLI".into(),
            supervisors: vec!["supervision@cli.test".into()],
            managers: vec!["gerencia@cli.test".into()],
            assistants: vec!["asistente1@cli.test".into()],
            administracion: vec!["administracion@cli.test".into()],
            default_assistant: "asistente1@cli.test".into(),
            order_prefix: "OC".into(),
            reclamo_hours: 24,
            reclamo_warnings: vec![50, 90],
            digest_times: ["08:30", "15:00"]
                .iter()
                .filter_map(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                .collect(),
            digest_when_empty: false,
            review_hours: 48,
            replies_per_hour: 5,
            replies_per_day: 20,
            stranger_replies_per_hour: 10,
            stranger_replies_per_day: 50,
            supervisor_digest_times: NaiveTime::from_hms_opt(8, 0, 0).into_iter().collect(),
            notify_at_once: NOTIFY_AT_ONCE.iter().map(|k| k.to_string()).collect(),
            import_closed_after_days: 30,
            eta_notice_hours: 12,
            max_attachment_bytes: 40 * 1024 * 1024,
            calendar: BusinessCalendar::default(),
            closing_list_day: 1,
            closing_list_time: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or(NaiveTime::MIN),
            extras_report_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            requests: RequestSettings::default(),
        }
    }
}

impl Settings {
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost")
    }

    /// Is a new task of `kind` notified at once (else in the next digest)?
    pub fn notifies_at_once(&self, kind: &str) -> bool {
        self.notify_at_once.iter().any(|k| match k.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => k == kind,
        })
    }
}

/// Where an attachment was kept, decided by the caller before `decide`.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// Relative path in the attachments folder ("" when not kept).
    pub path: String,
    /// Why it was not kept (too large…).
    pub not_kept: Option<String>,
}

/// Everything a decision needs that does not change per mail.
pub struct Desk<'a> {
    pub settings: &'a Settings,
    pub directory: &'a Directory,
    pub rules: &'a RuleSet,
    pub templates: &'a Templates,
}

impl Desk<'_> {
    /// The assistant of a client, else the desk's default one.
    pub fn assistant_of(&self, client: Option<&str>) -> String {
        client
            .and_then(|c| self.directory.client(c))
            .map(|c| c.assistant.clone())
            .unwrap_or_else(|| self.settings.default_assistant.clone())
    }

    /// The executive of a client.
    pub fn executive_of(&self, client: Option<&str>) -> Option<String> {
        client.and_then(|c| self.directory.client(c)).map(|c| c.executive.clone())
    }
}

/// The mail being decided, as the handlers see it.
pub struct Incoming<'a> {
    pub mail: &'a Mail,
    pub class: &'a Classification,
    /// Where each attachment was kept (same order as `mail.attachments`).
    pub kept: &'a [Kept],
    /// Who sent it.
    pub sender: Sender,
    /// The raw bytes (empty when the caller does not have them): attached to
    /// the assistant's notice of a task the mail opens.
    pub raw: &'a [u8],
    /// Mail from before going live, recorded as history (`import_existing`).
    pub imported: bool,
}

impl Incoming<'_> {
    pub fn from(&self) -> &str {
        self.mail.from_address()
    }

    /// The address to answer: Reply-To when it is registered for the same
    /// client as From, else From.
    pub fn reply_address(&self, directory: &Directory) -> String {
        if let Sender::Client(id) = &self.sender
            && let Some(rt) = self.mail.reply_to.first()
            && directory.belongs_to(&rt.address, id)
        {
            return rt.address.clone();
        }
        self.from().to_string()
    }
}

/// The outcome of a decision.
#[derive(Debug, Default)]
pub struct Decision {
    pub effects: Vec<Effect>,
    /// One line per thing done, for the processed record and logs.
    pub outcome: Vec<String>,
    /// The labels the mail was handled under: the classification's, as
    /// the thread it continues may correct them (see [`thread_labels`]).
    pub labels: Vec<String>,
}

/// A label's handler.
type Handler = fn(&mut Draft<'_>, &Incoming<'_>) -> ViewResult<()>;

/// Which handler runs for which label, in this order.
pub const HANDLERS: &[(&str, Handler)] = &[
    ("automatico", automatic::handle),
    ("interno", commands::handle),
    ("alerta_cli", alerts::handle),
    ("documentos", documents::handle),
    ("reclamo", reclamos::handle),
    ("estado", status::handle),
    ("aviso_transportista", carrier::handle),
    ("pago", payments::handle),
    ("proforma", tasks::proforma),
    ("otro", tasks::triage),
];

/// Decide what to do with one mail.
pub fn decide(
    desk: &Desk<'_>,
    view: &dyn View,
    mail: &Mail,
    class: &Classification,
    kept: &[Kept],
    now: DateTime<Utc>,
) -> ViewResult<Decision> {
    decide_with(desk, view, &Arrival { mail, class, kept, raw: &[], imported: false }, now)
}

/// One mail as it arrives: parsed, classified, its documents kept, its raw
/// bytes (for the assistant's copy of the original), imported or not.
pub struct Arrival<'a> {
    pub mail: &'a Mail,
    pub class: &'a Classification,
    pub kept: &'a [Kept],
    pub raw: &'a [u8],
    pub imported: bool,
}

/// Decide what to do with one mail, with its raw bytes.
pub fn decide_with(desk: &Desk<'_>, view: &dyn View, a: &Arrival<'_>, now: DateTime<Utc>) -> ViewResult<Decision> {
    let mail = a.mail;
    // A counterpart is one only when its DMARC did not fail.
    let sender = match desk.directory.sender(mail.from_address()) {
        Sender::Counterpart(_) if mail.dmarc_failed() => Sender::Unknown,
        s => s,
    };
    let m = Incoming { mail, class: a.class, kept: a.kept, sender, raw: a.raw, imported: a.imported };
    let mut d = Draft::new(desk, view, now);
    d.id_base = mail.sha256.get(..16).unwrap_or(&mail.sha256).to_string();
    d.origin = Some(mail.sha256.clone());
    let mut labels = thread_labels(&mut d, &m)?;
    // A counterpart's mail about an order is filed there; a carrier notice
    // in it still does what it does today, and a complaint is still a
    // reclamo (no reclamo goes unreported, whoever writes it).
    if counterparts::incoming(&mut d, &m)? {
        labels.retain(|l| l == "aviso_transportista" || l == "automatico" || l == "reclamo");
    }
    for (label, handle) in HANDLERS {
        if labels.contains(*label) {
            handle(&mut d, &m)?;
        }
    }
    follow::after_mail(&mut d, &m)?;
    notices::new_tasks(&mut d, &m)?;
    let mut decision = d.finish();
    decision.labels = labels.into_iter().collect();
    Ok(decision)
}

/// What the thread says a mail is, when its own words do not: a client's
/// nudge in the thread of its own open reclamo ("seguimos esperando
/// respuesta!!!") belongs to that reclamo; a client's short question in the
/// thread of one of its orders ("y??") asks for that order's status.
/// Labels the rules gave for other reasons stay as they are.
fn thread_labels(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<std::collections::BTreeSet<String>> {
    let mut labels = m.class.labels.clone();
    let Some(client) = matching::client_of(&m.sender) else { return Ok(labels) };
    let only = |set: &std::collections::BTreeSet<String>, allowed: &[&str]| {
        !set.is_empty() && set.iter().all(|l| allowed.contains(&l.as_str()))
    };
    if only(&labels, &["otro", "estado"])
        && let Some(r) = matching::continued_reclamo(d, m, Some(&client))?
    {
        d.note(format!("in the thread of its open reclamo {}: a follow-up of it", r.id));
        labels = ["reclamo".to_string()].into();
    } else if only(&labels, &["otro"])
        && (m.mail.new_text.contains('?') || m.mail.new_text.contains('¿'))
        && m.mail.new_text.chars().count() <= 200
        && !matching::pointed_orders(d, m, &client, true)?.is_empty()
    {
        d.note("a short question in the thread of an order: its status");
        labels = ["estado".to_string()].into();
    }
    Ok(labels)
}

/// Time-driven work: what is due at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// A record of the schedule index (reclamo clock, review, task reminders).
    Subject(effect::Subject),
    /// The assistants' (and the supervisors') digests of the slot due now.
    Digests,
    /// The clients' scheduled status summaries due now.
    StatusSummaries,
    /// Refused outbox mails that no task tells a person about yet.
    Refusals(Vec<String>),
    /// The mailbox source stopped for good: tell the supervisors (once a day).
    SourceStopped { source: String, why: String, fix: String },
    /// The weekly lists of incomplete files, when their slot is due.
    ClosingLists,
    /// The monthly reports of extraordinary services, when due.
    ExtrasReports,
}

/// Decide the time-driven work `due` at `now`.
pub fn decide_due(desk: &Desk<'_>, view: &dyn View, due: &Due, now: DateTime<Utc>) -> ViewResult<Decision> {
    let mut d = Draft::for_time(desk, view, now);
    match due {
        Due::Subject(subject) => reminders::handle(&mut d, subject)?,
        Due::Digests => {
            digests::handle(&mut d)?;
            supervision::handle(&mut d)?;
        }
        Due::StatusSummaries => summaries::handle(&mut d)?,
        Due::Refusals(ids) => tasks::refusals(&mut d, ids)?,
        Due::SourceStopped { source, why, fix } => tasks::source_stopped(&mut d, source, why, fix)?,
        Due::ClosingLists => closing::weekly(&mut d)?,
        Due::ExtrasReports => extras::monthly(&mut d)?,
    }
    notices::new_tasks_of_time(&mut d)?;
    Ok(d.finish())
}

/// The next instant after `now` at which a slot of the config (digests,
/// status summaries) falls due. Records' instants are in the store's index.
pub fn next_slot(desk: &Desk<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let s = desk.settings;
    let statuses = desk
        .directory
        .clients
        .iter()
        .filter_map(|c| c.status.as_ref())
        .filter_map(|st| deadlines::next_status_slot(st, now, &s.calendar));
    let supervision = supervision::next_slot(s, now);
    let closing = closing::next_slot(s, now);
    let extras = extras::next_slot(s, now);
    deadlines::next_digest_slot(s, now)
        .into_iter()
        .chain(supervision)
        .chain(statuses)
        .chain([closing, extras].into_iter().flatten())
        .min()
}

/// A built-in pattern (a compile failure is a bug found by every test).
fn re(p: &str) -> Regex {
    match Regex::new(p) {
        Ok(r) => r,
        Err(e) => panic!("built-in pattern does not compile: {e}"),
    }
}
