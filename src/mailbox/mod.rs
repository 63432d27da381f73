//! The source: raw messages with a stable identity, fed into a bounded
//! channel by a task of their own. The embedded default is a Maildir
//! (`maildir.rs`); in production an IMAP folder (`imap/`). A message is
//! acknowledged (moved to `cur/`, or to the processed folder) only after the
//! store committed and flushed its processing.

pub mod imap;
pub mod maildir;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{Config, Mailbox};
use crate::store::Store;

/// Messages waiting between the source and the pipeline.
pub const CHANNEL: usize = 256;

/// How a message is acknowledged at its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    File(PathBuf),
    Imap { uid_validity: u32, uid: u32 },
}

/// Where the bytes are.
pub enum Body {
    /// Read it (on the pipeline's preparing thread).
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// A message waiting at the source.
pub struct RawMessage {
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

/// What a source says, in order.
pub enum SourceEvent {
    Message(RawMessage),
    /// Everything the source holds now has been handed out (`run --once`
    /// stops at the first of these once the messages before it are done).
    CaughtUp,
    /// The source stopped for good (refused login…): why, and what to do.
    Fatal {
        why: String,
        fix: String,
    },
}

/// Acknowledges messages at their source, once the store made their
/// processing durable.
pub trait Acker: Send + Sync {
    /// The store committed and flushed these: take them out of the way.
    fn ack(&self, done: &[Meta]) -> anyhow::Result<()>;
    /// This one cannot be processed: put it aside (the caller recorded why).
    fn quarantine(&self, item: &Meta, why: &str);
}

/// Asks a source to finish what was acknowledged, within a deadline.
pub type Closer = Box<dyn FnOnce(Duration) -> futures_util::future::BoxFuture<'static, ()> + Send>;

/// A running source: its events, who acknowledges, how to close it.
pub struct Source {
    pub events: mpsc::Receiver<SourceEvent>,
    pub acker: Arc<dyn Acker>,
    pub closer: Option<Closer>,
    /// Copies of sent mail to the IMAP Sent folder, when configured.
    pub sent_copies: Option<imap::SentCopies>,
}

impl Source {
    /// Finish what was acknowledged (within `deadline`) and let go.
    pub async fn close(&mut self, deadline: Duration) {
        if let Some(close) = self.closer.take() {
            close(deadline).await;
        }
    }
}

/// The source's state, for `buzon status`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Health {
    pub connected: bool,
    /// Connected, or disconnected, since.
    pub since: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The source stopped for good.
    pub fatal: bool,
    /// Why (`authentication refused`, `configuration: …`).
    pub fatal_reason: Option<String>,
    /// The last SIGHUP reload refused, and when.
    pub reload_error: Option<String>,
    pub reload_error_at: Option<DateTime<Utc>>,
    /// The server offers IDLE (else it is polled).
    pub idle: bool,
    pub last_fetch_at: Option<DateTime<Utc>>,
}

pub type SharedHealth = Arc<Mutex<Health>>;

pub fn set_health(h: &SharedHealth, f: impl FnOnce(&mut Health)) {
    if let Ok(mut g) = h.lock() {
        f(&mut g);
    }
}

/// Start the configured source on the current runtime (`tokens`: the
/// OAuth2 token source of `[mailbox.oauth2]`, when configured; `clock`
/// stamps the health).
pub fn open(
    config: &Config,
    clock: Clock,
    tokens: Option<Arc<dyn crate::oauth2::TokenSource>>,
    store: &Store,
    token: CancellationToken,
    health: SharedHealth,
    tracker: &tokio_util::task::TaskTracker,
) -> anyhow::Result<Source> {
    match &config.mailbox {
        Mailbox::Imap(settings) => {
            Ok(imap::spawn((**settings).clone(), clock, tokens, store.clone(), token, health, tracker))
        }
        Mailbox::Maildir { path, poll, create } => {
            let md = maildir::Maildir::open(path, *create)
                .map_err(|e| anyhow::anyhow!("cannot open the Maildir {}: {e}", path.display()))?;
            set_health(&health, |h| {
                h.connected = true;
                h.since = Some(clock.now());
            });
            Ok(maildir::spawn(md, *poll, token, tracker))
        }
    }
}
