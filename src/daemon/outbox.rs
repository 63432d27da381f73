//! The outbox worker: sends what the store queued whenever a commit rings,
//! and at the next retry instant; nothing else wakes it.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::mailbox::imap::SentCopies;
use crate::outbox::Sink;
use crate::store::Store;

/// The outbox worker's inputs.
pub struct OutboxWorker {
    pub store: Store,
    pub clock: Clock,
    pub copies: Option<SentCopies>,
    /// Rung by the committer after each commit.
    pub bell: Arc<Notify>,
    /// Rung when a mail was refused: the scheduler gives a person a task.
    pub scheduler: Arc<Notify>,
    /// Cancelled at shutdown: what is queued is sent after the next start.
    pub token: CancellationToken,
    /// Cancelled when the pipeline is done (`run --once`): send what is due, then stop.
    pub finish: CancellationToken,
}

impl OutboxWorker {
    /// Send until stopped; returns how many mails were delivered.
    pub fn run(&self, sink: &mut dyn Sink, rt: &tokio::runtime::Handle) -> anyhow::Result<usize> {
        let mut sent = 0;
        loop {
            if self.token.is_cancelled() {
                return Ok(sent);
            }
            // Seen before the flush: a flush that starts after the pipeline
            // finished sees everything it committed.
            let finishing = self.finish.is_cancelled();
            let f = crate::outbox::flush(&self.store, sink, self.clock.now())?;
            sent += f.delivered;
            log_sent(&self.store, sink.take_receipts(), &f);
            if f.rejected > 0 {
                self.scheduler.notify_one();
            }
            if let Some(copies) = &self.copies {
                for id in &f.sent_ids {
                    if let Some(bytes) = self.store.outgoing_bytes(id)? {
                        copies.append(bytes);
                    }
                }
            }
            if f.more {
                continue;
            }
            if finishing {
                return Ok(sent);
            }
            let retry = self.store.next_outbox_attempt()?;
            let wait = retry
                .map(|t| (t - self.clock.now()).to_std().unwrap_or_default())
                .unwrap_or(std::time::Duration::from_secs(3600));
            rt.block_on(async {
                tokio::select! {
                    _ = self.token.cancelled() => {}
                    _ = self.finish.cancelled() => {}
                    _ = self.bell.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            });
        }
    }
}

/// One log line per mail delivered to one recipient (what the peer said:
/// the SMTP reply and its queue id), and the outbox counters.
fn log_sent(store: &Store, receipts: Vec<crate::outbox::Receipt>, f: &crate::outbox::Flushed) {
    crate::metrics::outbox_flushed(f.delivered as u64, f.retried as u64, f.rejected as u64);
    for r in receipts {
        let mail = store.outgoing(&r.id).ok().flatten();
        let (kind, subject, message_id) = mail.map(|m| (m.kind, m.subject, m.message_id)).unwrap_or_default();
        tracing::info!(
            outbox = %r.id,
            to = %r.to,
            kind = %kind,
            subject = %subject,
            message_id = %message_id,
            reply = %r.reply,
            queue_id = r.queue_id().unwrap_or(""),
            "Sent {} ({kind}) to {}: {}",
            r.id,
            r.to,
            r.reply
        );
    }
}
