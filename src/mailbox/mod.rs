//! The source: raw messages with a stable identity. The embedded default is a
//! Maildir (`maildir.rs`); in production an IMAP folder (`imap.rs`). A message
//! is acknowledged (moved to `cur/`, or to the processed folder) only after
//! the store committed and flushed its processing.

pub mod imap;
pub mod maildir;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How a message is acknowledged at its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    File(PathBuf),
    Imap { uid_validity: u32, uid: u32 },
}

/// Where the bytes are.
pub enum Body {
    /// Read it (on the reader thread).
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// A message waiting at the source.
pub struct Incoming {
    pub meta: Meta,
    pub body: Body,
}

/// What the pipeline keeps of a message while it works on it.
#[derive(Debug, Clone)]
pub struct Meta {
    /// For logs and quarantine records: a file name, or `INBOX UID 42`.
    pub name: String,
    pub token: Token,
    /// Record it without sending anything (a first import of old mail).
    pub silent: bool,
}

/// A place messages come from.
pub trait Source: Send {
    /// Messages waiting, in delivery order; waits up to `wait` when there
    /// are none (returning early when `stop` says so).
    fn pending(&mut self, wait: Duration, stop: &dyn Fn() -> bool) -> anyhow::Result<Vec<Incoming>>;
    /// Everything the source holds now has been handed out (`run --once`
    /// stops when this is true and `pending` is empty).
    fn drained(&self) -> bool;
    /// Who acknowledges messages at this source (from another thread: the
    /// group-commit flusher).
    fn acker(&self) -> std::sync::Arc<dyn Acker>;
    /// Finish what was acknowledged (within `deadline`) and let go.
    fn close(&mut self, _deadline: Duration) {}
}

/// Acknowledges messages at their source, once the store made their
/// processing durable.
pub trait Acker: Send + Sync {
    /// The store committed and flushed these: take them out of the way.
    fn ack(&self, done: &[Meta]) -> anyhow::Result<()>;
    /// This one cannot be processed: put it aside (the caller recorded why).
    fn quarantine(&self, item: &Meta, why: &str);
}

/// The Maildir as a source.
pub struct MaildirSource {
    pub maildir: maildir::Maildir,
}

impl Source for MaildirSource {
    fn pending(&mut self, wait: Duration, stop: &dyn Fn() -> bool) -> anyhow::Result<Vec<Incoming>> {
        let list = self
            .maildir
            .pending()
            .map_err(|e| anyhow::anyhow!("cannot list the Maildir {}: {e}", self.maildir.root().display()))?;
        if list.is_empty() {
            let until = Instant::now() + wait;
            while Instant::now() < until && !stop() {
                std::thread::sleep(Duration::from_millis(10).min(wait));
            }
        }
        Ok(list
            .into_iter()
            .map(|p| Incoming {
                meta: Meta {
                    name: p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    token: Token::File(p.clone()),
                    silent: false,
                },
                body: Body::File(p),
            })
            .collect())
    }

    fn drained(&self) -> bool {
        true
    }

    fn acker(&self) -> std::sync::Arc<dyn Acker> {
        std::sync::Arc::new(MaildirAcker { maildir: self.maildir.clone() })
    }
}

struct MaildirAcker {
    maildir: maildir::Maildir,
}

impl Acker for MaildirAcker {
    fn ack(&self, done: &[Meta]) -> anyhow::Result<()> {
        for m in done {
            if let Token::File(p) = &m.token {
                self.maildir.ack(p).map_err(|e| anyhow::anyhow!("cannot move {} to cur/: {e}", p.display()))?;
            }
        }
        Ok(())
    }

    fn quarantine(&self, item: &Meta, why: &str) {
        if let Token::File(path) = &item.token {
            let dir = self.maildir.root().join("quarantine");
            let moved = std::fs::create_dir_all(&dir)
                .and_then(|_| std::fs::rename(path, dir.join(&item.name)))
                .and_then(|_| std::fs::write(dir.join(format!("{}.reason", item.name)), why));
            if let Err(e) = moved {
                tracing::error!("Cannot quarantine {}: {e}", path.display());
            }
        }
    }
}
