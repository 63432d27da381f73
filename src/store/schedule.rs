//! The scheduler's index of due instants: one entry per subject, in time
//! order, kept in the same transactions as the records.

use chrono::{DateTime, Utc};

use super::*;

impl Store {
    /// The earliest instant in the scheduler's index (one B-tree lookup).
    pub fn next_scheduled(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.tree(Tree::Schedule).first()?.and_then(|(k, _)| keys::instant_from_bytes(&k)))
    }

    /// Subjects whose scheduled instant is at or before `now`, earliest
    /// first (an entry whose subject this buzon cannot read is skipped).
    pub fn scheduled_until(&self, now: DateTime<Utc>) -> Result<Vec<Subject>, StoreError> {
        let end = keys::instant_bytes(now + chrono::Duration::milliseconds(1));
        let mut out = Vec::new();
        for k in self.tree(Tree::Schedule).range(..end.to_vec()).keys() {
            let k = k?;
            match k.get(8..).and_then(keys::subject_from) {
                Some(s) => out.push(s),
                None => tracing::warn!("Unreadable schedule entry {:?}: skipped", String::from_utf8_lossy(&k)),
            }
        }
        Ok(out)
    }

    /// The scheduled instant of one subject.
    pub fn scheduled(&self, subject: &Subject) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.tree(Tree::ScheduleBy).get(keys::subject(subject))?.and_then(|v| keys::instant_from_bytes(&v)))
    }

    /// What the schedule index was computed with (`None`: it must be rebuilt).
    pub fn schedule_signature(&self) -> Result<Option<String>, StoreError> {
        Ok(self.tree(Tree::Meta).get(keys::SCHEDULE_SIGNATURE_KEY)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Empty the schedule index (before a rebuild) and forget its signature.
    pub fn clear_schedule(&self) -> Result<(), StoreError> {
        self.tree(Tree::Meta).remove(keys::SCHEDULE_SIGNATURE_KEY)?;
        self.tree(Tree::Schedule).clear()?;
        self.tree(Tree::ScheduleBy).clear()?;
        Ok(())
    }

    /// The index was rebuilt with this signature.
    pub fn set_schedule_signature(&self, signature: &str) -> Result<(), StoreError> {
        self.tree(Tree::Meta).insert(keys::SCHEDULE_SIGNATURE_KEY, signature.as_bytes())?;
        Ok(())
    }
}
