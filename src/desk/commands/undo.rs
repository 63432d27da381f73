//! `#deshacer`: a way back for every command. The commands of one mail
//! leave, under the id of the confirmation that reported them, each record
//! as they found it and as they left it, and the thread links they moved.
//! `#deshacer` in a reply to that confirmation puts every record back —
//! only if nothing changed it since (else it says what did), and once —
//! and the history keeps both the command and its undoing.

use super::super::Incoming;
use super::super::context::local_fmt;
use super::super::draft::Draft;
use super::super::effect::Effect;
use super::super::model::{Change, TaskState, ThreadLink, Undo};
use super::super::view::ViewResult;
use super::{Done, entry};

/// What was touched before the commands ran (not theirs to undo).
pub struct Watch {
    before: (Vec<String>, Vec<String>, Vec<String>),
    effects: usize,
}

/// What the commands changed: records (before, after) and thread links.
pub type Changes = (Vec<Change>, Vec<(String, Option<ThreadLink>)>);

impl Watch {
    pub fn start(d: &Draft<'_>) -> Watch {
        Watch { before: d.touched(), effects: d.effects_len() }
    }

    /// What the commands changed since [`Watch::start`] (`None`: nothing).
    pub fn finish(self, d: &Draft<'_>) -> ViewResult<Option<Changes>> {
        let (orders, reclamos, tasks) = d.touched();
        let mut changes = Vec::new();
        for id in orders.iter().filter(|id| !self.before.0.contains(id)) {
            if let Some(after) = d.order(id)? {
                let before = d.view.order(id)?;
                if before.as_ref() != Some(&after) {
                    changes.push(Change::Order { before: before.map(Box::new), after: Box::new(after) });
                }
            }
        }
        for id in reclamos.iter().filter(|id| !self.before.1.contains(id)) {
            if let Some(after) = d.reclamo(id)? {
                let before = d.view.reclamo(id)?;
                if before.as_ref() != Some(&after) {
                    changes.push(Change::Reclamo { before: before.map(Box::new), after: Box::new(after) });
                }
            }
        }
        for id in tasks.iter().filter(|id| !self.before.2.contains(id)) {
            if let Some(after) = d.task(id)? {
                let before = d.view.task(id)?;
                if before.as_ref() != Some(&after) {
                    changes.push(Change::Task { before: before.map(Box::new), after: Box::new(after) });
                }
            }
        }
        let mut threads: Vec<(String, Option<ThreadLink>)> = Vec::new();
        let moved: Vec<String> = d
            .effects_since(self.effects)
            .iter()
            .filter_map(|e| match e {
                Effect::LinkThread { message_id, .. } | Effect::SetThread { message_id, .. } => {
                    Some(message_id.clone())
                }
                _ => None,
            })
            .collect();
        for mid in moved {
            if !threads.iter().any(|(m, _)| *m == mid) {
                threads.push((mid.clone(), d.view.thread(&mid)?));
            }
        }
        Ok((!changes.is_empty() || !threads.is_empty()).then_some((changes, threads)))
    }
}

/// The outbox id of one of our Message-IDs (`buzon.<id>@<domain>`).
fn our_id<'a>(message_id: &'a str, domain: &str) -> Option<&'a str> {
    message_id.strip_prefix("buzon.")?.strip_suffix(domain)?.strip_suffix('@')
}

/// Keep what the commands changed under their confirmation's outbox id.
pub fn keep(d: &mut Draft<'_>, confirmation: &str, who: &str, results: Vec<String>, changes: Changes) {
    let domain = d.desk.settings.domain().to_string();
    let Some(id) = our_id(confirmation, &domain).map(str::to_string) else { return };
    let (records, threads) = changes;
    let commands = results.into_iter().filter(|r| r.starts_with("OK: ")).collect();
    d.push(Effect::SaveUndo(Undo { id, by: who.to_string(), at: d.now, commands, records, threads, undone_at: None }));
}

/// The record a change is about, for people (`OC-2026-000001`).
fn record_id(c: &Change) -> &str {
    match c {
        Change::Order { after, .. } => &after.id,
        Change::Reclamo { after, .. } => &after.id,
        Change::Task { after, .. } => &after.id,
    }
}

/// `#deshacer`, in a reply to a confirmation.
pub fn undo(d: &mut Draft<'_>, m: &Incoming<'_>, who: &str) -> ViewResult<Done> {
    let domain = d.desk.settings.domain().to_string();
    let mut found = None;
    for mid in m.mail.in_reply_to.iter().chain(m.mail.references.iter().rev()) {
        if let Some(id) = our_id(mid, &domain)
            && let Some(u) = d.view.undo(id)?
        {
            found = Some(u);
            break;
        }
    }
    let Some(mut u) = found else {
        return Ok(Err(
            "no encuentro qué deshacer: escriba #deshacer en una respuesta al correo de confirmación del comando"
                .into(),
        ));
    };
    if let Some(at) = u.undone_at {
        return Ok(Err(format!("esos cambios ya se deshicieron el {}", local_fmt(&d.desk.settings.calendar, at))));
    }
    // Only what nobody touched since: a later change is never lost.
    let mut changed_since = Vec::new();
    for c in &u.records {
        let same = match c {
            Change::Order { after, .. } => d.order(&after.id)?.as_ref() == Some(after.as_ref()),
            Change::Reclamo { after, .. } => d.reclamo(&after.id)?.as_ref() == Some(after.as_ref()),
            Change::Task { after, .. } => d.task(&after.id)?.as_ref() == Some(after.as_ref()),
        };
        if !same {
            changed_since.push(record_id(c).to_string());
        }
    }
    if !changed_since.is_empty() {
        return Ok(Err(format!(
            "no se deshizo nada: {} cambió después del comando; corríjalo con los comandos de siempre",
            changed_since.join(", ")
        )));
    }
    let what: Vec<String> = u.commands.iter().map(|c| c.trim_start_matches("OK: ").to_string()).collect();
    let note = format!("Deshecho: {}", what.join("; "));
    let mut ids = Vec::new();
    for c in &u.records {
        ids.push(record_id(c).to_string());
        match c {
            Change::Order { before: Some(b), after } => {
                let mut o = b.as_ref().clone();
                o.history = after.history.clone();
                o.history.push(entry(d, who, note.clone()));
                o.updated_at = d.now;
                d.save_order(o);
            }
            Change::Reclamo { before: Some(b), after } => {
                let mut r = b.as_ref().clone();
                r.history = after.history.clone();
                r.history.push(entry(d, who, note.clone()));
                d.save_reclamo(r);
            }
            Change::Task { before, after } => {
                let mut t = match before {
                    Some(b) => b.as_ref().clone(),
                    // A task the command opened: cancelled, not erased.
                    None => {
                        let mut t = after.as_ref().clone();
                        t.state = TaskState::Anulada;
                        t
                    }
                };
                t.history = after.history.clone();
                t.history.push(entry(d, who, note.clone()));
                d.save_task(t);
            }
            Change::Order { before: None, .. } | Change::Reclamo { before: None, .. } => {}
        }
    }
    for (message_id, link) in &u.threads {
        d.push(Effect::SetThread { message_id: message_id.clone(), link: link.clone() });
    }
    u.undone_at = Some(d.now);
    d.push(Effect::SaveUndo(u));
    Ok(Ok(format!("deshecho ({}): {}", ids.join(", "), what.join("; "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_message_ids_name_their_outbox_entry() {
        assert_eq!(our_id("buzon.abc-confirmacion_comando-1@cli.test", "cli.test"), Some("abc-confirmacion_comando-1"));
        assert_eq!(our_id("buzon.abc@otro.test", "cli.test"), None);
        assert_eq!(our_id("abc@cli.test", "cli.test"), None);
    }
}
