//! The outbox worker: sends what the store queued, marks each sent, and
//! retries transient failures with backoff. The embedded default sink writes
//! one `.eml` file per mail (`file.rs`).

pub mod file;

use chrono::{DateTime, Duration, Utc};

use crate::store::{Store, StoreError};

/// What a sink says about one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Transient failure: try again later.
    Retry(String),
    /// Permanent failure: record it, show it to a person, never retry.
    Rejected(String),
}

/// A place mail goes to.
pub trait Sink {
    fn send(&mut self, id: &str, to: &[String], bytes: &[u8]) -> Outcome;
    /// Make every `Delivered` so far durable (a no-op where the peer
    /// already took responsibility, as an SMTP server does on 250).
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Retry schedule: 30 s, 1 min, 2 min … capped at 30 min.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.min(10));
    Duration::seconds(secs.min(1800))
}

/// Counts of one flush.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub delivered: usize,
    pub retried: usize,
    pub rejected: usize,
}

/// Send every due mail once. Delivered mails are marked sent only after the
/// sink made them durable.
pub fn flush(store: &Store, sink: &mut dyn Sink, now: DateTime<Utc>) -> Result<Flushed, StoreError> {
    let mut f = Flushed::default();
    let mut done = Vec::new();
    for mut m in store.due_outgoing(now)? {
        let Some(bytes) = store.outgoing_bytes(&m.id)? else {
            m.state = "fallido".into();
            m.error = Some("the formatted mail is missing from the store".into());
            done.push((m, Outcome::Rejected(String::new())));
            continue;
        };
        m.attempts += 1;
        let outcome = sink.send(&m.id, &m.to, &bytes);
        done.push((m, outcome));
    }
    if done.is_empty() {
        return Ok(f);
    }
    let synced = sink.sync();
    for (mut m, outcome) in done {
        let outcome = match (&outcome, &synced) {
            (Outcome::Delivered, Err(e)) => Outcome::Retry(format!("cannot make the delivery durable: {e}")),
            _ => outcome,
        };
        match outcome {
            Outcome::Delivered => {
                m.state = "enviado".into();
                m.sent_at = Some(now);
                m.error = None;
                f.delivered += 1;
            }
            Outcome::Retry(e) => {
                m.next_attempt = Some(now + backoff(m.attempts));
                m.error = Some(e);
                f.retried += 1;
            }
            Outcome::Rejected(e) => {
                m.state = "fallido".into();
                if !e.is_empty() {
                    m.error = Some(e);
                }
                f.rejected += 1;
            }
        }
        store.update_outgoing(&m)?;
    }
    store.flush()?;
    Ok(f)
}
