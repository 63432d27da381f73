//! The outbox worker: sends what the store queued, marks each sent, and
//! retries transient failures with backoff. The embedded default sink writes
//! one `.eml` file per mail (`file.rs`); in production mail goes over SMTP
//! (`smtp.rs`), one transaction per recipient.

pub mod file;
pub mod smtp;

use chrono::{DateTime, Duration, Utc};

use crate::desk::model::OutboxState;
use crate::store::{Store, StoreError};

/// What a sink says about one delivery attempt to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Transient failure: try again later.
    Retry(String),
    /// Permanent failure: record it, show it to a person, never retry.
    Rejected(String),
}

/// A place mail goes to.
pub trait Sink {
    /// Send `bytes` to each of `to`; one outcome per recipient, in order.
    fn send(&mut self, id: &str, to: &[String], bytes: &[u8]) -> Vec<Delivery>;
    /// Make every `Delivered` so far durable (a no-op where the peer
    /// already took responsibility, as an SMTP server does on 250).
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// Send several mails; one list of outcomes per mail. Sinks that can
    /// send in parallel (SMTP over several connections) override this.
    fn send_many(&mut self, mails: &[(&str, &[String], &[u8])]) -> Vec<Vec<Delivery>> {
        mails.iter().map(|(id, to, bytes)| self.send(id, to, bytes)).collect()
    }
    /// The peer could not be reached at all on the last attempt: stop this
    /// round (every other mail would wait for the same timeout).
    fn down(&self) -> bool {
        false
    }
    /// A new round: try the peer again.
    fn reset(&mut self) {}
    /// What the peer answered for each delivery since the last call (for
    /// the log line per mail sent): SMTP's 250 text with the queue id, or
    /// the file written.
    fn take_receipts(&mut self) -> Vec<Receipt> {
        Vec::new()
    }
}

/// The peer's word on one delivered mail, for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The outbox id.
    pub id: String,
    pub to: String,
    /// `250 2.0.0 Ok: queued as 4dX1…`, or `written <file>`.
    pub reply: String,
}

impl Receipt {
    /// The queue id in a Postfix/Exim/Exchange-style 250 reply, when there is one.
    pub fn queue_id(&self) -> Option<&str> {
        let r = self.reply.as_str();
        let lower = r.to_ascii_lowercase();
        for marker in ["queued as ", "id=", "ok id "] {
            if let Some(at) = lower.find(marker) {
                let rest = &r[at + marker.len()..];
                let id = rest.split(|c: char| c.is_whitespace() || c == ')' || c == ';').next().unwrap_or("");
                if !id.is_empty() {
                    return Some(id);
                }
            }
        }
        None
    }
}

/// When to try a mail again after `attempts` failed ones: the one backoff
/// policy (5 s doubling to 10 min, jittered); never given up on (a mail
/// server down for an hour loses nothing).
pub fn retry_at(now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
    let d = crate::backoff::OUTBOX_RETRY.delay(attempts);
    now + Duration::from_std(d).unwrap_or(Duration::seconds(600))
}

/// Counts of one flush.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flushed {
    pub delivered: usize,
    pub retried: usize,
    pub rejected: usize,
    /// Outbox ids of the mails now fully sent.
    pub sent_ids: Vec<String>,
    /// More mail was due than one round takes.
    pub more: bool,
}

/// Mails attempted per round: the worker checks for shutdown between rounds.
const ROUND: usize = 64;

/// Send every due mail once. Delivered mails are marked sent only after the
/// sink made them durable. A mail is done when every recipient has it or
/// refused it for good; a transient failure of one recipient retries only
/// that one, later.
pub fn flush(store: &Store, sink: &mut dyn Sink, now: DateTime<Utc>) -> Result<Flushed, StoreError> {
    let mut f = Flushed::default();
    let mut round = Vec::new();
    let mut done = Vec::new();
    sink.reset();
    for mut m in store.due_outgoing(now)? {
        if round.len() == ROUND {
            f.more = true;
            break;
        }
        let remaining = m.remaining();
        let Some(bytes) = store.outgoing_bytes(&m.id)? else {
            let outcomes =
                vec![Delivery::Rejected("the formatted mail is missing from the store".into()); remaining.len()];
            done.push((m, remaining, outcomes));
            continue;
        };
        m.attempts += 1;
        round.push((m, remaining, bytes));
    }
    let jobs: Vec<(&str, &[String], &[u8])> =
        round.iter().map(|(m, to, b)| (m.id.as_str(), to.as_slice(), b.as_slice())).collect();
    let outcomes = sink.send_many(&jobs);
    drop(jobs);
    let mut outcomes = outcomes.into_iter();
    for (m, remaining, _) in round {
        let mut o = outcomes.next().unwrap_or_default();
        // A sink that answered for fewer recipients: the rest is retried.
        o.resize(remaining.len(), Delivery::Retry("no answer from the sink".into()));
        done.push((m, remaining, o));
    }
    if done.is_empty() {
        return Ok(f);
    }
    let synced = sink.sync();
    let mut updated = Vec::with_capacity(done.len());
    for (mut m, remaining, outcomes) in done {
        let mut retry = None;
        for (addr, outcome) in remaining.iter().zip(outcomes) {
            let outcome = match (&outcome, &synced) {
                (Delivery::Delivered, Err(e)) => Delivery::Retry(format!("cannot make the delivery durable: {e}")),
                _ => outcome,
            };
            match outcome {
                Delivery::Delivered => m.delivered_to.push(addr.clone()),
                Delivery::Retry(e) => {
                    tracing::warn!("Outbox {}: {addr}: {e} (will retry)", m.id);
                    retry = Some(format!("{addr}: {e}"));
                }
                Delivery::Rejected(e) => {
                    tracing::warn!("Outbox {}: {addr} refused: {e}", m.id);
                    m.refused.push(format!("{addr}: {e}"));
                    f.rejected += 1;
                }
            }
        }
        if let Some(e) = retry {
            m.next_attempt = Some(retry_at(now, m.attempts));
            m.error = Some(e);
            f.retried += 1;
        } else {
            m.state = if m.delivered_to.is_empty() { OutboxState::Fallido } else { OutboxState::Enviado };
            m.sent_at = Some(now);
            m.error = if m.refused.is_empty() { None } else { Some(m.refused.join("; ")) };
            if !m.delivered_to.is_empty() {
                f.delivered += 1;
                f.sent_ids.push(m.id.clone());
            }
        }
        updated.push(m);
    }
    store.update_outgoing(&updated)?;
    store.flush()?;
    Ok(f)
}
