//! One message through the house: parse → classify → decide → store (one
//! transaction). The caller flushes (group commit) and only then acknowledges
//! the message at its source.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::desk::model::{HistoryEntry, Processed, TaskState};
use crate::desk::{Arrival, Desk, Kept, decide_with};
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
    /// Record only: no mail is queued (a first import of a mailbox's old
    /// mail), and the mail is history (see `desk::history`).
    pub silent: bool,
    /// The raw bytes, when within `max_attachment_bytes` (a task's assistant
    /// gets the original attached; the store keeps it for `reprocess`).
    pub raw: Vec<u8>,
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
    let raw = if raw.len() as u64 <= max { raw.to_vec() } else { Vec::new() };
    Ok(Prepared { mail, class, kept, written, silent: false, raw })
}

/// Decide a prepared message against what the store knows (`None`: it was
/// processed already). Nothing is written.
pub fn decide_prepared(
    app: &App,
    store: &Store,
    p: &Prepared,
    now: DateTime<Utc>,
) -> Result<Option<crate::desk::Decision>, PipelineError> {
    let mail = &p.mail;
    if store.is_processed(&mail.sha256, mail.message_id.as_deref())? {
        return Ok(None);
    }
    Ok(Some(decide_only(app, store, p, now)?))
}

/// Decide `p` (as history when it is imported mail). Nothing is written.
fn decide_only(
    app: &App,
    store: &Store,
    p: &Prepared,
    now: DateTime<Utc>,
) -> Result<crate::desk::Decision, PipelineError> {
    let (mail, class, kept) = (&p.mail, &p.class, &p.kept);
    let desk =
        Desk { settings: &app.settings, directory: &app.directory, rules: &app.rules, templates: &app.templates };
    // Imported mail happened when its Date says: that is when its reclamo
    // was received and its task opened.
    let at = if p.silent { crate::desk::history::written_at(mail.date.as_deref(), now) } else { now };
    let arrival = Arrival { mail, class, kept, raw: &p.raw, imported: p.silent };
    let mut decision = decide_with(&desk, store, &arrival, at).map_err(StoreError::from)?;
    dossiers(app, &desk, store, &mut decision, at, !p.silent)?;
    if p.silent {
        crate::desk::history::as_history(&mut decision, &desk, at, now);
    }
    Ok(decision)
}

/// `#expediente`: the ZIPs the desk asked for, made here where the
/// documents are kept, and their mails in place of the requests (`send`:
/// false for history, which sends nothing).
fn dossiers(
    app: &App,
    desk: &Desk<'_>,
    store: &Store,
    decision: &mut crate::desk::Decision,
    now: DateTime<Utc>,
    send: bool,
) -> Result<(), StoreError> {
    use crate::desk::commands::dossier::{Made, mail};
    use crate::store::dossier::{Dossier, zip_bytes};
    let (requests, rest): (Vec<_>, Vec<_>) =
        std::mem::take(&mut decision.effects).into_iter().partition(|e| matches!(e, crate::desk::Effect::Dossier(_)));
    decision.effects = rest;
    // One mail may ask for several files: together they stay within one
    // attachment's limit (the rest are answered with the CLI command), and
    // an order asked for twice is made once.
    let mut total: u64 = 0;
    let mut made_for: Vec<String> = Vec::new();
    for e in requests {
        let crate::desk::Effect::Dossier(req) = e else { continue };
        if made_for.contains(&req.order) {
            continue;
        }
        made_for.push(req.order.clone());
        let Some(order) = (if send { store.order(&req.order)? } else { None }) else { continue };
        let client = crate::desk::client_name(&app.directory, Some(&order.client));
        let file = Dossier::of_order(&order, &client, &app.config.store.attachments_path, &app.settings.calendar, now);
        let max = app.settings.max_attachment_bytes;
        let documents = file.documents.len();
        let made = if total.saturating_add(file.stored_bytes()) > max {
            Made::TooLarge { bytes: file.stored_bytes(), documents }
        } else {
            match zip_bytes(&file) {
                Ok((bytes, _)) if total.saturating_add(bytes.len() as u64) > max => {
                    Made::TooLarge { bytes: bytes.len() as u64, documents }
                }
                Ok((bytes, w)) => {
                    total = total.saturating_add(bytes.len() as u64);
                    Made::Zip { bytes, documents: w.members.len(), not_kept: w.not_kept }
                }
                Err(why) => Made::Failed { why, documents },
            }
        };
        let d = mail(desk, store, &req, made, now)?;
        decision.effects.extend(d.effects);
        decision.outcome.extend(d.outcome);
    }
    Ok(())
}

/// Commit a decided message with its processed mark (not yet flushed).
pub fn commit_decision(
    store: &Store,
    p: &Prepared,
    decision: &crate::desk::Decision,
    now: DateTime<Utc>,
) -> Result<(), PipelineError> {
    commit_decision_as(store, p, decision, now, p.mail.message_id.as_deref())
}

/// [`commit_decision`] with its processed mark under `key_id`.
fn commit_decision_as(
    store: &Store,
    p: &Prepared,
    decision: &crate::desk::Decision,
    now: DateTime<Utc>,
    key_id: Option<&str>,
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
    store.commit(Some((&mail.sha256, key_id, &record)), &decision.effects)?;
    Ok(())
}

/// Decide and commit a prepared message (not yet flushed).
pub fn commit(app: &App, store: &Store, p: &Prepared, now: DateTime<Utc>) -> Result<Handled, PipelineError> {
    let Some(decision) = decide_prepared(app, store, p, now)? else { return Ok(Handled::AlreadyDone) };
    commit_decision(store, p, &decision, now)?;
    Ok(Handled::Done(decision.outcome))
}

/// Why a `reprocess` could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ReprocessError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `buzon reprocess ID`: a mail that went to triage (`T-…`, whose original
/// the store kept) or to quarantine (its name; read from the Maildir's
/// `quarantine/`) goes through the desk again — after a rule fix — once:
/// the earlier task is closed (`anulada`) with what became of the mail.
/// Not flushed: the caller flushes.
pub fn reprocess(
    app: &App,
    store: &Store,
    target: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, ReprocessError> {
    let refused = |s: String| ReprocessError::Refused(s);
    let upper = target.trim().to_ascii_uppercase();
    let (raw, task) = if let Some(id) = upper.starts_with("T-").then(|| upper.clone()) {
        let t = store.task(&id)?.ok_or_else(|| refused(format!("no task {id}")))?;
        if t.history.iter().any(|h| h.what.starts_with("Reprocesado")) {
            return Err(refused(format!("{id} was reprocessed already (once only)")));
        }
        let sha = t.origin.clone().ok_or_else(|| {
            refused(format!(
                "{id} keeps no original mail (it came from no mail, or the mail was over max_attachment_bytes): forward the mail to the desk again"
            ))
        })?;
        let raw =
            store.original(&sha)?.ok_or_else(|| refused(format!("the original mail of {id} is no longer kept")))?;
        (raw, Some(t))
    } else {
        let q = store.quarantined()?.into_iter().find(|q| q.name == target);
        let q = q.ok_or_else(|| {
            refused(format!("no task or quarantined mail named {target} (see `buzon tasks list` and `buzon status`)"))
        })?;
        let raw = match &app.config.mailbox {
            crate::config::Mailbox::Maildir { path, .. } => {
                let file = path.join("quarantine").join(&q.name);
                std::fs::read(&file).map_err(|e| refused(format!("cannot read {}: {e}", file.display())))?
            }
            crate::config::Mailbox::Imap(m) => {
                return Err(refused(format!(
                    "{} is in the IMAP folder {}: move it back to {} and buzon takes it again",
                    q.name, m.quarantine_folder, m.folder
                )));
            }
        };
        (raw, None)
    };
    let mut p = prepare(app, &raw)?;
    crate::store::attachments::sync(&p.written).map_err(PipelineError::Attachment)?;
    p.silent = false;
    let key = format!("{}#reprocess:{target}", p.mail.message_id.as_deref().unwrap_or(""));
    if store.is_processed(&p.mail.sha256, Some(&key))? {
        return Err(refused(format!("{target} was reprocessed already (once only)")));
    }
    let mut d = decide_only(app, store, &p, now)?;
    {
        if let Some(t) = &task {
            let mut t = t.clone();
            let what = if t.is_open() { "cerrada" } else { "ya estaba cerrada" };
            t.history
                .push(HistoryEntry::internal(now, format!("Reprocesado por {by} ({what}): {}", d.outcome.join("; "))));
            if t.is_open() {
                t.state = TaskState::Anulada;
            }
            d.effects.push(crate::desk::Effect::SaveTask(t));
        }
    }
    commit_decision_as(store, &p, &d, now, Some(&key))?;
    let mut outcome = d.outcome;
    if task.is_none() {
        store.forget_quarantine(target)?;
        outcome.push(format!("{target} taken out of quarantine"));
    }
    Ok(outcome)
}

/// Carry out the `reprocess` requests the daemon was given (its committer
/// calls this: the store's single writer). Returns what each did.
pub fn run_requests(app: &App, store: &Store, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for r in store.requests()? {
        let line = match reprocess(app, store, &r.target, &r.by, now) {
            Ok(outcome) => format!("Reprocessed {} for {}: {}", r.target, r.by, outcome.join("; ")),
            Err(ReprocessError::Store(e)) => return Err(e),
            Err(e) => format!("Reprocess of {} for {} refused: {e}", r.target, r.by),
        };
        tracing::info!("{line}");
        store.commit(None, &[crate::desk::Effect::RequestDone { target: r.target.clone() }])?;
        out.push(line);
    }
    if !out.is_empty() {
        store.flush()?;
    }
    Ok(out)
}
