//! An order's dealings with counterparts (depósitos, lines, transport
//! companies): the requests sent to them and the answers waited for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An order's dealings with counterparts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Thirdparty {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<CounterpartRequest>,
    /// When a carrier's notice said the vessel (or flight) arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<DateTime<Utc>>,
    /// Automatic requests the desk could not send (no counterpart found):
    /// the assistant was given a task, once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_asked: Vec<RequestKind>,
}

impl Thirdparty {
    pub fn is_empty(&self) -> bool {
        *self == Thirdparty::default()
    }
}

/// What is asked of a counterpart (stored names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// A pre-inspection of the cargo at the depósito.
    Previo,
    /// Pickup of the cargo from the depósito.
    Retiro,
    /// The line confirms the vessel's arrival.
    Llegada,
    /// The line issues or releases the BL.
    Bl,
    /// The depósito sends the volante de despacho.
    Volante,
}

/// Where a counterpart request stands (stored names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CounterpartState {
    Pendiente,
    Respondida,
    /// Its deadline passed unanswered (the reminder went).
    Vencida,
}

state_names!(RequestKind {
    Previo => "previo", Retiro => "retiro", Llegada => "llegada", Bl => "bl", Volante => "volante",
});
state_names!(CounterpartState { Pendiente => "pendiente", Respondida => "respondida", Vencida => "vencida" });

/// One request to a counterpart, with an answer to wait for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterpartRequest {
    /// 1, 2… within the order.
    pub n: u32,
    pub kind: RequestKind,
    /// The counterpart's id (`[[counterpart]]`).
    pub counterpart: String,
    /// The Message-ID of the request as sent (its answer comes in its thread).
    pub message_id: String,
    /// Who asked (a staff address, or `buzon` for the automatic ones).
    pub by: String,
    pub at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// The date asked for (previo, retiro), local.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    /// The transport company that picks up (retiro).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// The task that follows it.
    pub task: String,
    pub state: CounterpartState,
    /// When the reminder went (once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    /// The Message-ID of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}
