//! One message through the house: parse → classify → decide → store (one
//! transaction). The caller flushes (group commit) and only then acknowledges
//! the message at its source.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::desk::effect::Effect;
use crate::desk::model::Processed;
use crate::desk::{Desk, Kept, decide};
use crate::store::{Store, StoreError};

/// What happened to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Processed now; these lines say what was done.
    Done(Vec<String>),
    /// Already processed before (a restart after a crash before the ack).
    AlreadyDone,
}

/// Pipeline failures: nothing was committed for the message.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot keep attachment: {0}")]
    Attachment(std::io::Error),
    /// The mail can never be processed (the extraction process died twice
    /// on it, it is larger than any mail the desk takes): quarantine it.
    #[error("{0}")]
    Poison(String),
}

/// An I/O error the machine can recover from (a full or failing disk, a
/// quota, no memory or file handles, a disk remounted read-only): the mail
/// waits where it is; it is not the mail's fault.
pub fn is_transient(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    let Some(errno) = rustix::io::Errno::from_io_error(e) else { return false };
    [
        Errno::NOSPC,
        Errno::IO,
        Errno::DQUOT,
        Errno::NOMEM,
        Errno::AGAIN,
        Errno::INTR,
        Errno::MFILE,
        Errno::NFILE,
        Errno::ROFS,
        Errno::BUSY,
        Errno::TIMEDOUT,
    ]
    .contains(&errno)
}

impl PipelineError {
    /// Retry later rather than put the mail aside.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Attachment(e) => is_transient(e),
            PipelineError::Store(_) | PipelineError::Poison(_) => false,
        }
    }
}

/// A message parsed, classified and with its documents kept on disk: the
/// part of the work that needs no store (it runs ahead, on another thread).
pub struct Prepared {
    pub mail: crate::mail::Mail,
    pub class: crate::rules::Classification,
    pub kept: Vec<Kept>,
    /// Attachment files written now (they must be made durable before the commit is).
    pub written: Vec<PathBuf>,
    /// Record only: no mail is queued (a first import of a mailbox's old mail).
    pub silent: bool,
}

/// Parse, classify and keep the documents of one raw message. Keeping is
/// idempotent (content-addressed), so doing it for a message that turns out
/// to be processed already is harmless.
pub fn prepare(app: &App, raw: &[u8]) -> Result<Prepared, PipelineError> {
    prepare_with(app, raw, true)
}

/// [`prepare`], keeping the documents on disk only when `keep` (a dry run
/// names where they would go).
pub fn prepare_with(app: &App, raw: &[u8], keep: bool) -> Result<Prepared, PipelineError> {
    let max = app.config.store.max_message_bytes;
    if raw.len() as u64 > max {
        return Err(PipelineError::Poison(format!(
            "{} bytes: larger than max_message_bytes ({max}); open it by hand",
            raw.len()
        )));
    }
    let (mail, class) = app.classify(raw);
    // A mail that killed the extraction process twice never stops the desk.
    if let Some(p) = mail.problems.iter().find(|p| p.code == crate::mail::extract::EXTRACTOR_DIED) {
        return Err(PipelineError::Poison(format!("the attachment reader died twice on it ({})", p.detail)));
    }
    let max = app.config.store.max_attachment_bytes;
    let mut kept = vec![Kept::default(); mail.attachments.len()];
    let mut written = Vec::new();
    for d in &class.documents {
        let Some(att) = mail.attachments.get(d.index) else { continue };
        if att.size as u64 > max {
            kept[d.index].not_kept = Some(format!("{} bytes, over the {max}-byte limit", att.size));
            continue;
        }
        if !keep {
            kept[d.index].path = crate::store::attachments::rel_path(&att.sha256);
            continue;
        }
        let (rel, new) = crate::store::attachments::keep(&app.config.store.attachments_path, &att.sha256, &att.data)
            .map_err(PipelineError::Attachment)?;
        kept[d.index].path = rel;
        written.extend(new);
    }
    Ok(Prepared { mail, class, kept, written, silent: false })
}

/// Decide a prepared message against what the store knows (`None`: it was
/// processed already). Nothing is written.
pub fn decide_prepared(
    app: &App,
    store: &Store,
    p: &Prepared,
    now: DateTime<Utc>,
) -> Result<Option<crate::desk::Decision>, PipelineError> {
    let (mail, class, kept) = (&p.mail, &p.class, &p.kept);
    if store.is_processed(&mail.sha256, mail.message_id.as_deref())? {
        return Ok(None);
    }
    let desk =
        Desk { settings: &app.settings, directory: &app.directory, rules: &app.rules, templates: &app.templates };
    let mut decision = decide(&desk, store, mail, class, kept, now).map_err(StoreError::from)?;
    if p.silent {
        decision.effects.retain(|e| !matches!(e, Effect::Queue { .. } | Effect::CountReply { .. }));
        decision.outcome.push("imported silently: nothing sent".into());
    }
    Ok(Some(decision))
}

/// Commit a decided message with its processed mark (not yet flushed).
pub fn commit_decision(
    store: &Store,
    p: &Prepared,
    decision: &crate::desk::Decision,
    now: DateTime<Utc>,
) -> Result<(), PipelineError> {
    let (mail, class) = (&p.mail, &p.class);
    let record = Processed {
        at: now,
        message_id: mail.message_id.clone(),
        from: mail.from_address().to_string(),
        subject: mail.subject.clone(),
        labels: decision.labels.clone(),
        rule_labels: {
            let rules: Vec<String> = class.labels.iter().cloned().collect();
            if rules == decision.labels { Vec::new() } else { rules }
        },
        outcome: decision.outcome.clone(),
        problems: class.problems.clone(),
    };
    store.commit(Some((&mail.sha256, mail.message_id.as_deref(), &record)), &decision.effects)?;
    Ok(())
}

/// Decide and commit a prepared message (not yet flushed).
pub fn commit(app: &App, store: &Store, p: &Prepared, now: DateTime<Utc>) -> Result<Handled, PipelineError> {
    let Some(decision) = decide_prepared(app, store, p, now)? else { return Ok(Handled::AlreadyDone) };
    commit_decision(store, p, &decision, now)?;
    Ok(Handled::Done(decision.outcome))
}
