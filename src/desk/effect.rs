//! Effects: what a decision wants done, as values. The store applies all of
//! one decision's effects (and, for a mail, its processed mark) in one
//! transaction. The keys effects name are typed here and encoded by the
//! store's key module, the only place that knows the layout.

use chrono::{DateTime, NaiveDate, Utc};

use super::model::{Order, Outgoing, Reclamo, Task, ThreadLink, Undo};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Create or update an order (one per order and decision: the changes
    /// of every handler compose in the decision's working copy).
    SaveOrder(Order),
    /// Create or update a reclamo.
    SaveReclamo(Reclamo),
    /// Create or update a task.
    SaveTask(Task),
    /// Remember which order/reclamo a Message-ID belongs to.
    LinkThread { message_id: String, link: ThreadLink },
    /// Queue a mail (metadata and its formatted bytes).
    Queue { mail: Outgoing, bytes: Vec<u8> },
    /// Change an outbox entry's state (a bounce of one of our mails).
    UpdateOutgoing(Outgoing),
    /// A task now tells a person about this refused outbox mail.
    RefusalNoticed { id: String },
    /// Count an automatic reply (rate limits).
    CountReply { counter: ReplyCounter, hour: ReplyHour },
    /// A scheduled job ran (or was coalesced away): never again.
    JobDone { key: JobKey, at: DateTime<Utc> },
    /// When the scheduler must next look at `subject`; `None`: never again.
    Schedule { subject: Subject, at: Option<DateTime<Utc>> },
    /// Advance a numbering sequence (orders per year, reclamos, tasks).
    Sequence { name: Sequence, value: u64 },
    /// Point a Message-ID at exactly this (`None`: at nothing), replacing
    /// what it pointed at (`#deshacer` puts a thread back).
    SetThread { message_id: String, link: Option<ThreadLink> },
    /// Keep what staff commands changed, under their confirmation mail's id.
    SaveUndo(Undo),
    /// Keep the raw bytes of a mail that tasks came from (by its SHA-256).
    KeepOriginal { sha256: String, bytes: Vec<u8> },
    /// A `buzon reprocess` request was carried out (or refused): forget it.
    RequestDone { target: String },
    /// `#expediente`: mail an order's file (ZIP) to a staff member. The
    /// pipeline makes the ZIP where the documents are kept and replaces
    /// this with the mail (`commands::dossier::mail`); never stored.
    Dossier(DossierRequest),
}

/// A staff member asked for the file of an order (`#expediente OC-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierRequest {
    pub order: String,
    /// Who asked (the mail goes to them only).
    pub to: String,
    /// The outbox id of the mail.
    pub id: String,
    /// The staff member's mail and its thread (the answer goes under it).
    pub references: Vec<String>,
}

/// Whose reply budget an automatic answer spends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReplyCounter {
    /// A verified sender's address (a registered client, partner or staff member).
    Verified(String),
    /// An unverified address: never the same budget as a verified one.
    Unverified(String),
    /// Every answer to a stranger, desk-wide.
    Strangers,
}

/// One hour of the reply-rate windows (in the desk's time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReplyHour {
    pub date: NaiveDate,
    /// 0–23.
    pub hour: u32,
}

/// A record with a clock: what the scheduler's index points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// A reclamo's warnings and due time.
    Reclamo(String),
    /// An order's document review.
    Review(String),
    /// A task's reminders and deadline.
    Task(String),
}

/// One step of a reclamo's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// `percent` of the business hours have passed.
    Aviso(u32),
    /// The due time passed and it is still open.
    Vencido,
}

/// The identity of a time-driven job, done at most once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum JobKey {
    /// A reclamo's warning or overdue escalation.
    Reclamo { id: String, step: Step },
    /// An order's review warning (or overdue escalation) for one due time.
    Review { order: String, due: DateTime<Utc>, overdue: bool },
    /// A task's reminder `days` before its deadline (`None`: the deadline itself).
    TaskReminder { id: String, days_before: Option<u32> },
    /// An assistant's digest of one slot of one day.
    Digest { assistant: String, date: NaiveDate, slot: chrono::NaiveTime },
    /// When an assistant last got a digest (its `at` is the instant).
    DigestLast { assistant: String },
    /// A client's scheduled status summary of one slot (`2026-12-01`, `2026-W49`).
    Status { client: String, slot: String },
    /// The supervisors were told, that day, that the mailbox source stopped.
    SourceStopped { date: NaiveDate },
    /// The supervisors' digest of one slot of one day.
    SupervisorDigest { date: NaiveDate, slot: chrono::NaiveTime },
    /// An assistant's weekly list of incomplete files (`2026-W49`).
    ClosingList { assistant: String, week: String },
    /// An executive's monthly report of extraordinary services (`2026-11`).
    ExtrasReport { executive: String, month: String },
}

/// A numbering sequence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sequence {
    /// Orders of one year: `OC-2026-000123`.
    Orders(i32),
    Reclamos,
    Tasks,
}
