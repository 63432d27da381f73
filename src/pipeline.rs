//! One message through the house: parse → classify → decide → store (one
//! transaction). The caller flushes (group commit) and only then acknowledges
//! the message at its source.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::app::App;
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

/// Attachment files written but not yet synced (synced at group commit).
#[derive(Default)]
pub struct Written(pub Vec<PathBuf>);

impl Written {
    /// fsync every file written since the last call.
    pub fn sync(&mut self) -> std::io::Result<()> {
        for p in self.0.drain(..) {
            std::fs::File::open(&p)?.sync_all()?;
        }
        Ok(())
    }
}

/// Keep an attachment content-addressed: `<dir>/<ab>/<sha256>`. The sender's
/// file name is never used as a path.
fn keep(dir: &Path, sha256: &str, data: &[u8], written: &mut Written) -> std::io::Result<String> {
    let rel = format!("{}/{sha256}", sha256.get(..2).unwrap_or("00"));
    let path = dir.join(&rel);
    if path.exists() {
        return Ok(rel);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = dir.join(format!("{rel}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    std::fs::rename(&tmp, &path)?;
    written.0.push(path);
    Ok(rel)
}

/// Process one raw message and commit its effects (not yet flushed).
pub fn process(
    app: &App,
    store: &Store,
    raw: &[u8],
    now: DateTime<Utc>,
    written: &mut Written,
) -> Result<Handled, PipelineError> {
    let (mail, class) = app.classify(raw);
    if store.is_processed(&mail.sha256, mail.message_id.as_deref())? {
        return Ok(Handled::AlreadyDone);
    }
    let max = app.config.raw.store.max_attachment_bytes;
    let mut kept = vec![Kept::default(); mail.attachments.len()];
    for d in &class.documents {
        let Some(att) = mail.attachments.get(d.index) else {
            continue;
        };
        if att.size as u64 > max {
            kept[d.index].not_kept = Some(format!("{} bytes, over the {max}-byte limit", att.size));
            continue;
        }
        kept[d.index].path =
            keep(&app.config.attachments_path, &att.sha256, &att.data, written).map_err(PipelineError::Attachment)?;
    }
    let desk =
        Desk { settings: &app.settings, directory: &app.directory, rules: &app.rules, templates: &app.templates };
    let decision = decide(&desk, store, &mail, &class, &kept, now)?;
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
