//! Assistant digests: per assistant, what is overdue, due today, due soon,
//! new orders since the last digest, orders missing documents, open
//! reclamos and mails waiting for triage — each line with its number and a
//! short why. Sent at each `digest_times` slot of a business day, once per
//! slot (coalesced after an outage).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::context::{desk_block, kind_name, local_fmt};
use super::deadlines::digest_slot;
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::reply::{Letter, Threading};
use super::view::{DigestRecords, View, ViewResult};
use super::{Desk, Settings};
use crate::clients::Directory;

/// One line of a digest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DigestLine {
    pub id: String,
    pub why: String,
}

/// A digest's sections.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct Digest {
    pub assistant: String,
    pub vencidas: Vec<DigestLine>,
    pub vencen_hoy: Vec<DigestLine>,
    pub proximas: Vec<DigestLine>,
    pub nuevas_ordenes: Vec<DigestLine>,
    pub documentos_pendientes: Vec<DigestLine>,
    pub reclamos_abiertos: Vec<DigestLine>,
    pub por_clasificar: Vec<DigestLine>,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.vencidas.is_empty()
            && self.vencen_hoy.is_empty()
            && self.proximas.is_empty()
            && self.nuevas_ordenes.is_empty()
            && self.documentos_pendientes.is_empty()
            && self.reclamos_abiertos.is_empty()
            && self.por_clasificar.is_empty()
    }
}

/// Build the digest of `assistant` at `now`; `since` is the last digest.
pub fn build(
    desk: &Desk<'_>,
    assistant: &str,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    records: &DigestRecords,
) -> Digest {
    let cal = &desk.settings.calendar;
    let today = cal.local_date(now);
    let soon = cal.add_business_hours(now, 3.0 * (cal.day_end - cal.day_start).num_minutes() as f64 / 60.0);
    let mine = |client: Option<&str>| desk.assistant_of(client) == assistant;
    let mut d = Digest { assistant: assistant.to_string(), ..Digest::default() };
    let place = |id: &str, due: DateTime<Utc>, why: String, d: &mut Digest| {
        let line = DigestLine { id: id.to_string(), why: format!("{why} (vence {})", local_fmt(cal, due)) };
        if due < now {
            d.vencidas.push(line);
        } else if cal.local_date(due) == today {
            d.vencen_hoy.push(line);
        } else if due <= soon {
            d.proximas.push(line);
        }
    };
    for t in records.tasks.iter().filter(|t| t.is_open() && t.assignee == assistant) {
        if t.kind.starts_with("triage") || t.kind == "aviso_sin_orden" {
            d.por_clasificar.push(DigestLine { id: t.id.clone(), why: t.summary.clone() });
        }
        if let Some(due) = t.due_at {
            place(&t.id, due, t.summary.clone(), &mut d);
        }
    }
    for r in records.reclamos.iter().filter(|r| r.is_open() && mine(r.client.as_deref())) {
        let who = r.client.clone().unwrap_or_else(|| r.from.clone());
        d.reclamos_abiertos.push(DigestLine { id: r.id.clone(), why: format!("{who}: {}", r.subject) });
        place(&r.id, r.due_at, format!("reclamo de {who}"), &mut d);
    }
    let since = since.unwrap_or(now - Duration::days(1));
    for o in records.open_orders.iter().filter(|o| o.is_open() && mine(Some(&o.client))) {
        if o.opened_at > since {
            d.nuevas_ordenes.push(DigestLine { id: o.id.clone(), why: format!("{}: {}", o.client, o.subject) });
        }
        if !o.missing.is_empty() {
            let names: Vec<&str> = o.missing.iter().map(|k| kind_name(k)).collect();
            d.documentos_pendientes
                .push(DigestLine { id: o.id.clone(), why: format!("{}: falta {}", o.client, names.join(", ")) });
        }
        if let Some(due) = o.review_due {
            place(&o.id, due, format!("revisar documentos de {}", o.client), &mut d);
        }
    }
    d
}

/// Everyone who gets a digest: the desk's assistants, the clients'
/// assistants and the default one.
pub fn assistants(s: &Settings, dir: &Directory) -> Vec<String> {
    let mut v: Vec<String> =
        s.assistants.iter().cloned().chain(dir.clients.iter().map(|c| c.assistant.clone())).collect();
    v.push(s.default_assistant.clone());
    v.sort();
    v.dedup();
    v
}

/// The digest of `assistant` as it would be sent at `now`, and its
/// template context.
pub fn render_digest(
    desk: &Desk<'_>,
    view: &dyn View,
    assistant: &str,
    now: DateTime<Utc>,
) -> ViewResult<(Digest, Value)> {
    let records = view.digest_records()?;
    let since = view.job_at(&JobKey::DigestLast { assistant: assistant.to_string() })?;
    let d = build(desk, assistant, now, since, &records);
    let ctx = json!({"desk": desk_block(desk.settings), "now": local_fmt(&desk.settings.calendar, now), "digest": d});
    Ok((d, ctx))
}

/// The digests of the slot due now, for every assistant who has not had it.
pub fn handle(d: &mut Draft<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    let Some(slot) = digest_slot(s, d.now) else { return Ok(()) };
    let date = s.calendar.local_date(d.now);
    let mut records: Option<DigestRecords> = None;
    for a in assistants(s, desk.directory) {
        let key = JobKey::Digest { assistant: a.clone(), date, slot };
        if d.view.job_done(&key)? {
            continue;
        }
        let records = match &mut records {
            Some(r) => &*r,
            None => records.insert(d.view.digest_records()?),
        };
        let last = JobKey::DigestLast { assistant: a.clone() };
        let since = d.view.job_at(&last)?;
        let digest = build(desk, &a, d.now, since, records);
        d.push(Effect::JobDone { key: key.clone(), at: d.now });
        if !digest.is_empty() || s.digest_when_empty {
            let ctx = json!({"desk": desk_block(s), "now": local_fmt(&s.calendar, d.now), "digest": digest});
            let letter = Letter {
                template: "resumen_asistente",
                to: vec![a.clone()],
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: None,
                id: Some(super::reminders::job_mail_id(&key)),
            };
            if d.send(letter).is_some() {
                d.push(Effect::JobDone { key: last, at: d.now });
            }
        }
    }
    Ok(())
}
