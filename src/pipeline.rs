//! One message through the house: parse → classify → decide → store (one
//! transaction). The caller flushes (group commit) and only then acknowledges
//! the message at its source.

use std::io::Write;
use std::path::{Path, PathBuf};

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
}

/// Keep an attachment content-addressed: `<dir>/<ab>/<sha256>`. The sender's
/// file name is never used as a path. Returns the relative path, and the
/// file's full path when it was written now (to be made durable).
fn keep(dir: &Path, sha256: &str, data: &[u8]) -> std::io::Result<(String, Option<PathBuf>)> {
    let rel = format!("{}/{sha256}", sha256.get(..2).unwrap_or("00"));
    let path = dir.join(&rel);
    if path.exists() {
        return Ok((rel, None));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = dir.join(format!("{rel}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    std::fs::rename(&tmp, &path)?;
    Ok((rel, Some(path)))
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
    let (mail, class) = app.classify(raw);
    let max = app.config.raw.store.max_attachment_bytes;
    let mut kept = vec![Kept::default(); mail.attachments.len()];
    let mut written = Vec::new();
    for d in &class.documents {
        let Some(att) = mail.attachments.get(d.index) else { continue };
        if att.size as u64 > max {
            kept[d.index].not_kept = Some(format!("{} bytes, over the {max}-byte limit", att.size));
            continue;
        }
        let (rel, new) =
            keep(&app.config.attachments_path, &att.sha256, &att.data).map_err(PipelineError::Attachment)?;
        kept[d.index].path = rel;
        written.extend(new);
    }
    Ok(Prepared { mail, class, kept, written, silent: false })
}

/// Make the attachment files of a batch durable. A few files: each file,
/// then each folder that got a new entry (`syncfs` would wait for every
/// other writer's dirty data, a mail server's on the same machine included).
/// Many files: one `syncfs` costs less than their fsyncs.
pub fn sync_attachments(files: &[PathBuf]) -> std::io::Result<()> {
    const PER_FILE_UP_TO: usize = 8;
    if files.len() > PER_FILE_UP_TO {
        if let Some(f) = files.first() {
            rustix::fs::syncfs(std::fs::File::open(f)?)?;
        }
        return Ok(());
    }
    let mut dirs = std::collections::BTreeSet::new();
    for f in files {
        std::fs::File::open(f)?.sync_all()?;
        // The file's folder, and its parent (the folder may be new too).
        if let Some(d) = f.parent() {
            dirs.insert(d.to_path_buf());
            if let Some(p) = d.parent() {
                dirs.insert(p.to_path_buf());
            }
        }
    }
    for d in dirs {
        std::fs::File::open(&d)?.sync_all()?;
    }
    Ok(())
}

/// Decide and commit a prepared message (not yet flushed).
pub fn commit(app: &App, store: &Store, p: &Prepared, now: DateTime<Utc>) -> Result<Handled, PipelineError> {
    let (mail, class, kept) = (&p.mail, &p.class, &p.kept);
    if store.is_processed(&mail.sha256, mail.message_id.as_deref())? {
        return Ok(Handled::AlreadyDone);
    }
    let desk =
        Desk { settings: &app.settings, directory: &app.directory, rules: &app.rules, templates: &app.templates };
    let mut decision = decide(&desk, store, mail, class, kept, now)?;
    if p.silent {
        decision.effects.retain(|e| !matches!(e, Effect::Queue { .. } | Effect::CountReply { .. }));
        decision.outcome.push("imported silently: nothing sent".into());
    }
    let schedule = crate::scheduler::schedule_effects(app, &decision.effects);
    decision.effects.extend(schedule);
    let record = Processed {
        at: now,
        message_id: mail.message_id.clone(),
        from: mail.from_address().to_string(),
        subject: mail.subject.clone(),
        labels: class.labels.iter().cloned().collect(),
        outcome: decision.outcome.clone(),
        problems: class.problems.clone(),
    };
    store.commit(Some((&mail.sha256, mail.message_id.as_deref(), &record)), &decision.effects)?;
    Ok(Handled::Done(decision.outcome))
}

/// Prepare and commit one raw message (not yet flushed).
pub fn process(app: &App, store: &Store, raw: &[u8], now: DateTime<Utc>) -> Result<Handled, PipelineError> {
    let p = prepare(app, raw)?;
    commit(app, store, &p, now)
}
