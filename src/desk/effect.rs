//! Effects: what `decide` wants done. The store applies all of a message's
//! effects, its processed mark and its outgoing mails in one transaction.

use super::model::{Order, Outgoing, Reclamo, Task, ThreadLink};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Create or update an order.
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
    /// Count an automatic reply to this address (rate limit).
    CountReply { address: String, hour: String },
    /// A scheduled job ran (or was coalesced away): never again.
    JobDone { key: String, at: chrono::DateTime<chrono::Utc> },
    /// When the scheduler must next look at `subject` (`reclamo:R-…`,
    /// `review:OC-…`, `task:T-…`); `None`: never again.
    Schedule { subject: String, at: Option<chrono::DateTime<chrono::Utc>> },
    /// Advance a numbering sequence (orders per year, reclamos, tasks).
    Sequence { name: String, value: u64 },
}
