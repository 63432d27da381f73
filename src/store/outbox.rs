//! The outbox records: what is queued, sent, held, refused; what is due
//! for a send attempt and when the next retry falls.

use chrono::{DateTime, Utc};

use super::*;

impl Store {
    pub fn outbox(&self) -> Result<Vec<Outgoing>, StoreError> {
        self.all(Tree::Outbox)
    }

    pub fn outgoing(&self, id: &str) -> Result<Option<Outgoing>, StoreError> {
        self.get(Tree::Outbox, id)
    }

    pub fn outgoing_bytes(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(Tree::OutboxRaw).get(id.as_bytes())?.map(|v| v.to_vec()))
    }

    /// Save outbox entries' new states (sent, failed, next attempt), all in
    /// one transaction: a send round costs one commit, not one per mail. A
    /// mail a person held or cancelled meanwhile stays held or cancelled: a
    /// send attempt that ends in "try again" never releases it.
    pub fn update_outgoing(&self, mails: &[Outgoing]) -> Result<(), StoreError> {
        if mails.is_empty() {
            return Ok(());
        }
        let (outbox, idx, failed) =
            (self.tree(Tree::Outbox), self.tree(Tree::OutboxPending), self.tree(Tree::OutboxFailed));
        (outbox, idx, failed).transaction(|(outbox, idx, failed)| {
            for mail in mails {
                let stored: Option<Outgoing> = match outbox.get(mail.id.as_bytes())? {
                    Some(b) => from_json(&b).ok(),
                    None => None,
                };
                let mut mail = mail.clone();
                if let Some(s) = stored
                    && matches!(s.state, OutboxState::Retenido | OutboxState::Cancelado)
                    && mail.state == OutboxState::Pendiente
                {
                    mail.state = s.state;
                    mail.held = s.held;
                    mail.cancelled = s.cancelled;
                }
                let pending = mail.state == OutboxState::Pendiente;
                let refused =
                    matches!(mail.state, OutboxState::Enviado | OutboxState::Fallido) && !mail.refused.is_empty();
                let bytes = to_json(&mail).map_err(ConflictableTransactionError::Abort)?;
                outbox.insert(mail.id.as_bytes(), bytes)?;
                if pending {
                    idx.insert(mail.id.as_bytes(), &[])?;
                } else {
                    idx.remove(mail.id.as_bytes())?;
                }
                if refused {
                    failed.insert(mail.id.as_bytes(), &[])?;
                }
            }
            Ok::<(), ConflictableTransactionError<StoreError>>(())
        })?;
        Ok(())
    }

    /// A person's hand on one outbox mail (`outbox hold|release|cancel`).
    /// Returns the mail as it now is, or why nothing was done.
    pub fn control_outgoing(
        &self,
        id: &str,
        what: &Control,
        mark: &Mark,
    ) -> Result<Result<Outgoing, String>, StoreError> {
        let (outbox, idx) = (self.tree(Tree::Outbox), self.tree(Tree::OutboxPending));
        let r = (outbox, idx).transaction(|(outbox, idx)| {
            let Some(b) = outbox.get(id.as_bytes())? else {
                return Ok(Err(format!("no outgoing mail {id}")));
            };
            let mut m: Outgoing = from_json(&b).map_err(ConflictableTransactionError::Abort)?;
            let done = match (what, m.state) {
                (Control::Hold, OutboxState::Pendiente) => {
                    m.state = OutboxState::Retenido;
                    m.held = Some(mark.clone());
                    Ok(())
                }
                (Control::Release, OutboxState::Retenido) => {
                    m.state = OutboxState::Pendiente;
                    m.next_attempt = None;
                    Ok(())
                }
                (Control::Cancel, OutboxState::Pendiente | OutboxState::Retenido) => {
                    m.state = OutboxState::Cancelado;
                    m.cancelled = Some(mark.clone());
                    Ok(())
                }
                (_, state) => Err(format!(
                    "{id} is {state}: {}",
                    match what {
                        Control::Hold => "only pending mail can be held",
                        Control::Release => "only held mail can be released",
                        Control::Cancel => "only pending or held mail can be cancelled",
                    }
                )),
            };
            if let Err(why) = done {
                return Ok(Err(why));
            }
            outbox.insert(id.as_bytes(), to_json(&m).map_err(ConflictableTransactionError::Abort)?)?;
            if m.state == OutboxState::Pendiente {
                idx.insert(id.as_bytes(), &[])?;
            } else {
                idx.remove(id.as_bytes())?;
            }
            Ok::<Result<Outgoing, String>, ConflictableTransactionError<StoreError>>(Ok(m))
        })?;
        Ok(r)
    }

    /// The ids of every outbox mail in `state` now.
    pub fn outgoing_in(&self, state: OutboxState) -> Result<Vec<String>, StoreError> {
        let mut v: Vec<Outgoing> = self.outbox()?.into_iter().filter(|m| m.state == state).collect();
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v.into_iter().map(|m| m.id).collect())
    }

    /// Outbox ids of refused mails no task tells a person about yet.
    pub fn unnoticed_refusals(&self) -> Result<Vec<String>, StoreError> {
        self.tree(Tree::OutboxFailed).iter().keys().map(|k| Ok(String::from_utf8_lossy(&k?).into_owned())).collect()
    }

    /// Are there refused outbox mails no task tells a person about yet?
    pub fn has_unnoticed_refusals(&self) -> bool {
        !self.tree(Tree::OutboxFailed).is_empty()
    }

    /// Outgoing mails due for a send attempt at `now`, oldest first.
    pub fn due_outgoing(&self, now: DateTime<Utc>) -> Result<Vec<Outgoing>, StoreError> {
        let mut v = Vec::new();
        for k in self.tree(Tree::OutboxPending).iter().keys() {
            let k = k?;
            let id = String::from_utf8_lossy(&k).into_owned();
            if let Some(o) = self.outgoing(&id)?
                && o.state == OutboxState::Pendiente
                && o.next_attempt.is_none_or(|t| t <= now)
            {
                v.push(o);
            }
        }
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    }

    /// The earliest instant a pending mail waits for (`None`: none waits).
    pub fn next_outbox_attempt(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut first: Option<DateTime<Utc>> = None;
        for k in self.tree(Tree::OutboxPending).iter().keys() {
            let k = k?;
            if let Some(o) = self.outgoing(&String::from_utf8_lossy(&k))?
                && o.state == OutboxState::Pendiente
                && let Some(at) = o.next_attempt
            {
                first = Some(first.map_or(at, |f| f.min(at)));
            }
        }
        Ok(first)
    }
}
