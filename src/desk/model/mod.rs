//! The records the desk keeps: orders, reclamos, tasks, outgoing mail.
//! Plain data (serde), stored by `store` and produced by `decide`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::refs::References;

/// Where a reclamo stands. The serde names are the stored bytes and the
/// `--json` values: they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReclamoState {
    /// Registered, not yet escalated.
    Abierto,
    /// The supervisors were told.
    Escalado,
    /// A staff member closed it (`#resuelto`).
    Resuelto,
    /// Not a reclamo after all (`#noesreclamo R-… <motivo>`): closed without
    /// counting as resolved, and out of the reclamo clock's figures.
    Descartado,
    /// Mail from before going live (`import_existing`), old enough to be
    /// history: recorded closed, never escalated.
    Importado,
}

/// Where a task stands (stored names, never changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Pendiente,
    Hecha,
    /// Mail from before going live, old enough to be history.
    Importada,
    /// Undone (`#deshacer` of the command that opened it) or replaced (its
    /// mail went through the desk again: `buzon reprocess`).
    Anulada,
}

/// Where an outgoing mail stands (stored names, never changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for (another) send attempt.
    Pendiente,
    /// Every recipient has it, or refused it for good with at least one delivered.
    Enviado,
    /// Nobody got it (refused, or bounced).
    Fallido,
    /// Held by a person (`buzon outbox hold`): not sent until released.
    Retenido,
    /// Cancelled by a person (`buzon outbox cancel`): never sent.
    Cancelado,
}

macro_rules! state_names {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The stored (and shown) name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

mod counterparts;
pub use counterparts::*;

state_names!(ReclamoState {
    Abierto => "abierto", Escalado => "escalado", Resuelto => "resuelto", Descartado => "descartado",
    Importado => "importado",
});
state_names!(TaskState { Pendiente => "pendiente", Hecha => "hecha", Importada => "importada", Anulada => "anulada" });
state_names!(OutboxState {
    Pendiente => "pendiente", Enviado => "enviado", Fallido => "fallido", Retenido => "retenido",
    Cancelado => "cancelado",
});

impl ReclamoState {
    pub fn is_open(self) -> bool {
        matches!(self, ReclamoState::Abierto | ReclamoState::Escalado)
    }

    /// Counts in the reclamo clock's figures (met / missed): a reclamo that
    /// was none, or is history from before going live, does not.
    pub fn counts(self) -> bool {
        !matches!(self, ReclamoState::Descartado | ReclamoState::Importado)
    }
}

/// One line of an order's or reclamo's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    /// What happened, in Spanish.
    pub what: String,
    /// Staff-only (a command and what a person wrote with it): never shown
    /// in mail to the client. Public entries appear in status summaries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

impl HistoryEntry {
    /// An entry the client may read (in status summaries).
    pub fn public(at: DateTime<Utc>, what: impl Into<String>) -> HistoryEntry {
        HistoryEntry { at, what: what.into(), internal: false }
    }

    /// A staff-only entry.
    pub fn internal(at: DateTime<Utc>, what: impl Into<String>) -> HistoryEntry {
        HistoryEntry { at, what: what.into(), internal: true }
    }

    /// Shown to clients? (Before entries were marked, commands were
    /// recorded as `Comando #…`: those stay staff-only too.)
    pub fn is_public(&self) -> bool {
        !self.internal && !self.what.starts_with("Comando #")
    }
}

/// A document filed in an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDocument {
    pub kind: String,
    /// The name the sender gave the file (never used as a path).
    pub name: String,
    pub sha256: String,
    /// Where the file is kept (content-addressed), or "" when it was not kept.
    pub path: String,
    pub size: u64,
    pub received_at: DateTime<Utc>,
    /// Why the document could not be read, if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
    /// Who sent it (the mail's From), for the file's index.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
}

/// A customs order (orden de despacho).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// `OC-2026-000123`
    pub id: String,
    pub client: String,
    /// One of the stages in `rules/` (abierta, documentos completos, …).
    pub stage: String,
    /// Regime code (`10`, `40`, `20`…).
    pub regime: String,
    /// Why that regime (the client's, a DAM's code, the route, words…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regime_why: Option<String>,
    pub references: References,
    pub documents: Vec<OrderDocument>,
    /// Required document kinds not yet received.
    pub missing: Vec<String>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Subject of the mail that opened it.
    pub subject: String,
    #[serde(default)]
    pub eta: Option<String>,
    #[serde(default)]
    pub vessel: Option<String>,
    /// When the documents must have been reviewed (business hours).
    #[serde(default)]
    pub review_due: Option<DateTime<Utc>>,
    /// When the regime's term ends (admisión temporal…), from an alert or a
    /// staff command; reminders come from the task that carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regime_expires: Option<DateTime<Utc>>,
    /// Message-IDs of mails received or sent for this order (threading).
    pub message_ids: Vec<String>,
    pub history: Vec<HistoryEntry>,
    /// Closed orders are not matched by new mail and not in status summaries.
    #[serde(default)]
    pub closed: bool,
    /// What the client is told on the desk's own initiative (stage and
    /// ETA notices): the channel, the ETA's time, who wrote, what waits.
    #[serde(default, skip_serializing_if = "Follow::is_empty")]
    pub follow: Follow,
    /// The money of the order: liquidations (formato C) and payments.
    #[serde(default, skip_serializing_if = "Money::is_empty")]
    pub money: Money,
    /// Extraordinary services (glosa 10110): work out of business hours or
    /// out of the client's agreed scope, billable (`desk::extras`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<Extra>,
    /// Requests to counterparts (previo, retiro, arrival, BL, volante) and
    /// when the carrier said the cargo arrived.
    /// (Boxed: most orders have none, and an `Effect` stays small.)
    #[serde(default, skip_serializing_if = "Thirdparty::is_empty")]
    pub thirdparty: Box<Thirdparty>,
    /// Packages and gross weight as its transport document or packing
    /// list states them (what a volante is checked against). (Boxed, like
    /// `thirdparty`: an `Effect` stays small.)
    #[serde(default, skip_serializing_if = "Cargo::is_empty")]
    pub cargo: Box<Cargo>,
}

/// The cargo of an order, as a document states it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cargo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<u64>,
    /// Kilograms, two decimals (`18450.50`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<String>,
}

impl Cargo {
    pub fn is_empty(&self) -> bool {
        *self == Cargo::default()
    }
}

/// One billable extraordinary service on an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    pub at: DateTime<Utc>,
    /// `fuera_de_horario` or `fuera_de_alcance` (stored names).
    pub kind: String,
    /// Why, in Spanish ("Comando #estado fuera del horario de oficina: sábado 05/12/2026 10:00").
    pub reason: String,
    /// Who asked for the work.
    pub by: String,
}

/// An order's notices to its client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Follow {
    /// The customs channel (`verde`, `naranja`, `rojo`), once assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The ETA's local time (`HH:MM`) when a notice gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_time: Option<String>,
    /// The client's registered addresses that wrote about this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writers: Vec<String>,
    /// The language the client's last mail about this order was written in
    /// (`en`: its notices are written in English when the templates exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When the client was last sent a notice of this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_notice: Option<DateTime<Utc>>,
    /// Changes not told yet (they fold into the next notice, at most one an hour).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<NoticeEvent>,
}

impl Follow {
    pub fn is_empty(&self) -> bool {
        *self == Follow::default()
    }
}

/// One change a client is told of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeEvent {
    pub at: DateTime<Utc>,
    /// `etapa`, `eta`, `nave`.
    pub kind: String,
    /// What it was (the stage, ETA or vessel before), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// What it is now.
    pub to: String,
}

/// An order's money.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Money {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub liquidations: Vec<Liquidation>,
    /// Payments the client reported for this order (advances, deposits,
    /// liquidations paid), in the order they came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<Payment>,
    /// Third-party payment requests (`#pagar`), sent to Administración or
    /// held until the client's funds arrive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<PaymentRequest>,
}

/// Where a payment request stands (stored names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestState {
    /// Sent to Administración (credit, or funds enough).
    Enviada,
    /// Held: the client was asked for the funds.
    Retenida,
    /// Held, then sent (funds arrived, or `#liberar`).
    Liberada,
}

/// A third-party payment the desk asks Administración to make (the
/// assistant's "solicitud de cheque").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// 1, 2… within the order.
    pub n: u32,
    /// `almacenaje`, `flete`, `descarga`…
    pub concept: String,
    pub amount: String,
    pub currency: String,
    pub beneficiary: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub state: RequestState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// A payment the client's own mail reported for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub at: DateTime<Utc>,
    /// `850.00`, when the mail or its voucher says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// `abono` (an advance or deposit) or `liquidacion` (a liquidation paid).
    pub kind: String,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The vouchers, kept as documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vouchers: Vec<OrderDocument>,
}

impl Money {
    pub fn is_empty(&self) -> bool {
        *self == Money::default()
    }
}

/// A liquidation of duties (formato C) the client must pay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Liquidation {
    /// `1234.50`, as written by the staff member (two decimals).
    pub amount: String,
    /// `PEN`, `USD`.
    pub currency: String,
    /// The local date it must be paid by, and its instant (end of that business day).
    pub due_date: chrono::NaiveDate,
    pub due_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    /// Who registered it.
    pub by: String,
    /// The liquidation's PDF as kept (name, path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The task that follows it.
    pub task: String,
    /// When the client's payment was received, and the mail it came in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
}

impl Order {
    pub fn is_open(&self) -> bool {
        !self.closed
    }
}

/// A complaint, with its 24-business-hour deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reclamo {
    /// `R-000045`
    pub id: String,
    pub client: Option<String>,
    pub order: Option<String>,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub state: ReclamoState,
    /// Who complained.
    pub from: String,
    /// Their display name as their mail gave it ("" when none): the
    /// greeting of the resolution sent to them.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_name: String,
    pub subject: String,
    /// What they wrote (the new text, shortened).
    pub excerpt: String,
    pub message_ids: Vec<String>,
    #[serde(default)]
    pub resolution: Option<String>,
    pub history: Vec<HistoryEntry>,
    /// When it was closed (resolved, discarded, imported closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
}

impl Reclamo {
    pub fn is_open(&self) -> bool {
        self.state.is_open()
    }

    /// When it was closed: the record's own instant, or (records from
    /// before it was kept) the last history entry of a closed reclamo.
    pub fn closed_instant(&self) -> Option<DateTime<Utc>> {
        if self.is_open() {
            return None;
        }
        self.closed_at.or_else(|| self.history.last().map(|e| e.at))
    }
}

/// Work for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// `T-000101`
    pub id: String,
    /// proforma, pago, triage, documento_ilegible, alerta_tributos, estado_sin_cliente…
    pub kind: String,
    pub client: Option<String>,
    pub order: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub state: TaskState,
    /// The person it is for.
    pub assignee: String,
    /// One line: what to do and why.
    pub summary: String,
    pub created_at: DateTime<Utc>,
    /// The mail it came from.
    pub message_id: Option<String>,
    /// The SHA-256 of the mail it came from, when the store keeps that mail
    /// (attached to the assistant's notice, `buzon reprocess T-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// What happened to it (reopened, undone, reprocessed…), staff-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.state == TaskState::Pendiente
    }

    /// Born from a mail a person must look at (not from a clock or a command).
    pub fn is_mail_born(&self) -> bool {
        self.message_id.is_some() && !self.kind.starts_with("alerta_vencimiento_regimen")
    }
}

/// A mail queued for sending. The formatted bytes are kept beside it so a
/// retry is byte-identical (same Message-ID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// Stable outbox id (also the file name of the files sink).
    pub id: String,
    pub message_id: String,
    /// ack_documentos, estado, reclamo_acuse, reclamo_escalamiento, …
    pub kind: String,
    pub to: Vec<String>,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub state: OutboxState,
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt: Option<DateTime<Utc>>,
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub order: Option<String>,
    /// Recipients that have the mail (sent per recipient: one refused
    /// address never stops the others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered_to: Vec<String>,
    /// Recipients refused for good, with the server's answer (`addr: why`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
    /// Who held it and when (`buzon outbox hold`; kept after a release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Mark>,
    /// Who cancelled it, when and why (`buzon outbox cancel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<Mark>,
}

/// Who did something to a record by hand, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub by: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// What staff commands changed, kept under the id of the confirmation mail
/// that reported them: `#deshacer` in a reply to that mail puts every record
/// back as it was, if nothing else changed it since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undo {
    /// The outbox id of the confirmation mail.
    pub id: String,
    /// Who gave the commands.
    pub by: String,
    pub at: DateTime<Utc>,
    /// The command lines, as confirmed (`OK: …`).
    pub commands: Vec<String>,
    /// Each changed record, before and after.
    pub records: Vec<Change>,
    /// Thread links the commands set, with what each pointed at before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<(String, Option<ThreadLink>)>,
    /// When it was undone (once only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<DateTime<Utc>>,
}

/// One record as a command found it (`None`: the command created it) and
/// as it left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Order { before: Option<Box<Order>>, after: Box<Order> },
    Reclamo { before: Option<Box<Reclamo>>, after: Box<Reclamo> },
    Task { before: Option<Box<Task>>, after: Box<Task> },
}

impl Outgoing {
    /// Recipients still to be tried.
    pub fn remaining(&self) -> Vec<String> {
        self.to
            .iter()
            .filter(|a| {
                !self.delivered_to.contains(a) && !self.refused.iter().any(|r| r.split(": ").next() == Some(a.as_str()))
            })
            .cloned()
            .collect()
    }
}

/// What a Message-ID belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadLink {
    #[serde(default)]
    pub order: Option<String>,
    #[serde(default)]
    pub reclamo: Option<String>,
}

/// The processed mark of one incoming message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Processed {
    pub at: DateTime<Utc>,
    pub message_id: Option<String>,
    pub from: String,
    pub subject: String,
    pub labels: Vec<String>,
    /// The rules' labels, when the thread corrected them into `labels`
    /// (what `rules replay` compares a rule change with).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_labels: Vec<String>,
    /// One line per thing done (opened OC-…, reclamo R-…, task T-…, reply …).
    pub outcome: Vec<String>,
    /// Problems recorded while reading the mail.
    #[serde(default)]
    pub problems: Vec<String>,
}
