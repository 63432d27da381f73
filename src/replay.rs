//! `rules replay`: the mail already processed, classified again with the
//! rule files on disk, beside the labels it was handled under — so a rule
//! change is judged on months of real mail before it goes live. Reads the
//! store's processed records; changes nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::App;
use crate::store::{Store, StoreError};

/// One mail, then and now.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Replayed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub from: String,
    pub subject: String,
    /// When it was processed (`None`: never, by this store).
    pub processed_at: Option<DateTime<Utc>>,
    /// The labels the rules gave it then (empty when never processed).
    pub before: Vec<String>,
    /// The labels today's rules give it.
    pub after: Vec<String>,
    /// The rules that fire today.
    pub rules: Vec<String>,
}

impl Replayed {
    pub fn changed(&self) -> bool {
        self.processed_at.is_some() && self.before != self.after
    }
}

/// Classify `raw` again and look up what it was handled as.
pub fn replay(app: &App, store: &Store, raw: &[u8]) -> Result<Replayed, StoreError> {
    let (mail, class) = app.classify(raw);
    let record = store.processed_record(&mail.sha256, mail.message_id.as_deref())?;
    let (processed_at, before) = match record {
        // What the rules said then: the labels before any thread correction.
        Some(r) => (Some(r.at), if r.rule_labels.is_empty() { r.labels } else { r.rule_labels }),
        None => (None, Vec::new()),
    };
    let mut before = before;
    before.sort();
    before.dedup();
    Ok(Replayed {
        message_id: mail.message_id.clone(),
        from: mail.from_address().to_string(),
        subject: mail.subject.clone(),
        processed_at,
        before,
        after: class.labels.into_iter().collect(),
        rules: class.rules,
    })
}
