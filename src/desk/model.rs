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
}

/// Where a task stands (stored names, never changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Pendiente,
    Hecha,
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

state_names!(ReclamoState { Abierto => "abierto", Escalado => "escalado", Resuelto => "resuelto" });
state_names!(TaskState { Pendiente => "pendiente", Hecha => "hecha" });
state_names!(OutboxState { Pendiente => "pendiente", Enviado => "enviado", Fallido => "fallido" });

impl ReclamoState {
    pub fn is_open(self) -> bool {
        self != ReclamoState::Resuelto
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
    pub subject: String,
    /// What they wrote (the new text, shortened).
    pub excerpt: String,
    pub message_ids: Vec<String>,
    #[serde(default)]
    pub resolution: Option<String>,
    pub history: Vec<HistoryEntry>,
}

impl Reclamo {
    pub fn is_open(&self) -> bool {
        self.state.is_open()
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
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.state == TaskState::Pendiente
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
