//! New tasks reach their assistant: kinds in `notify_at_once` get a notice
//! the moment they open (the others wait for the next digest, which lists
//! every open task). A task born from a mail carries that mail — attached
//! as `message/rfc822`, so Outlook opens it as the mail it was — with its
//! sender, subject and Message-ID; a mail larger than `max_attachment_bytes`
//! is named by its Message-ID instead. The store keeps the original (for
//! the digest and for `buzon reprocess`).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Incoming;
use super::compose::Attached;
use super::context::{desk_block, excerpt, local_fmt};
use super::digests::client_name;
use super::draft::Draft;
use super::effect::Effect;
use super::model::Task;
use super::reply::{Letter, Threading};
use super::view::ViewResult;

/// `12 KB`, `52,3 MB`.
pub fn size_words(n: u64) -> String {
    if n < 1024 * 1024 {
        format!("{} KB", n.div_ceil(1024))
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)).replace('.', ",")
    }
}

/// When a mail says it was written (its Date), else `fallback`.
pub fn mail_date(m: &Incoming<'_>, fallback: DateTime<Utc>) -> DateTime<Utc> {
    m.mail
        .date
        .as_deref()
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(fallback)
}

/// Tasks a person must tell apart (what is this mail, whose is it).
fn assignable(t: &Task) -> bool {
    t.kind.starts_with("triage") || t.kind.starts_with("estado_") || t.kind == "aviso_sin_orden"
}

/// Notify the tasks this decision opened (`m`: the mail they came from).
pub fn new_tasks(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    notify(d, Some(m))
}

/// The same for time-driven work (no mail behind the tasks).
pub fn new_tasks_of_time(d: &mut Draft<'_>) -> ViewResult<()> {
    notify(d, None)
}

fn notify(d: &mut Draft<'_>, m: Option<&Incoming<'_>>) -> ViewResult<()> {
    let s = d.desk.settings;
    let mut new = Vec::new();
    for t in d.working_tasks() {
        if t.is_open() && d.view.task(&t.id)?.is_none() {
            new.push(t);
        }
    }
    if new.is_empty() || m.is_some_and(|m| m.imported) {
        return Ok(());
    }
    let raw = m.map(|m| m.raw).unwrap_or(&[]);
    let keep = !raw.is_empty() && raw.len() as u64 <= s.max_attachment_bytes;
    if let Some(m) = m
        && keep
        && new.iter().any(|t| t.origin.is_some())
    {
        d.push(Effect::KeepOriginal { sha256: m.mail.sha256.clone(), bytes: raw.to_vec() });
    }
    for t in &mut new {
        if t.origin.is_some() && !keep {
            // Nothing kept to point at: the Message-ID names the mail.
            t.origin = None;
            d.save_task(t.clone());
        }
    }
    for t in new.iter().filter(|t| s.notifies_at_once(&t.kind)) {
        let original = match m {
            Some(m) if (t.message_id.is_some() && t.message_id == m.mail.message_id) || t.origin.is_some() => json!({
                "from": m.from(),
                "subject": m.mail.subject,
                "date": local_fmt(&s.calendar, mail_date(m, d.now)),
                "message_id": m.mail.message_id,
                "attached": keep,
                "size": size_words(m.mail.size as u64),
            }),
            _ => serde_json::Value::Null,
        };
        let ctx = json!({
            "desk": desk_block(s),
            "now": local_fmt(&s.calendar, d.now),
            "task": {
                "id": t.id, "kind": t.kind, "summary": t.summary, "title": excerpt(&t.summary, 110),
                "client": client_name(d.desk.directory, t.client.as_deref()),
                "order": t.order, "due_at": t.due_at.map(|x| local_fmt(&s.calendar, x)),
                "assignee": t.assignee, "assignable": assignable(t),
            },
            "original": original,
        });
        let files: Vec<Attached> = match m {
            Some(m) if keep && !original.is_null() => vec![Attached::mail("correo original.eml", m.raw)],
            _ => Vec::new(),
        };
        let letter = Letter {
            template: "tarea_nueva",
            to: vec![t.assignee.clone()],
            ctx: &ctx,
            threading: Threading::Notice { references: &[] },
            order: t.order.as_deref(),
            id: Some(format!("task-{}-nueva", t.id)),
        };
        d.send_with(letter, &files);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_words(1), "1 KB");
        assert_eq!(size_words(12 * 1024), "12 KB");
        assert_eq!(size_words(52 * 1024 * 1024 + 300 * 1024), "52,3 MB");
    }
}
