//! Assistant digests: per assistant, what is overdue, due today, due soon,
//! new orders since the last digest, orders missing documents, open
//! reclamos and mails waiting for triage — each line with its number and a
//! short why. Building the digest is pure; sending it is a scheduled job
//! (`digest:<assistant>:<date>:<HH:MM>`), coalesced after an outage.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

use crate::clients::Directory;
use crate::desk::model::{Order, Reclamo, Task};
use crate::desk::{Settings, local_fmt};

/// One line of a digest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub why: String,
}

/// A digest's sections.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct Digest {
    pub assistant: String,
    pub vencidas: Vec<Line>,
    pub vencen_hoy: Vec<Line>,
    pub proximas: Vec<Line>,
    pub nuevas_ordenes: Vec<Line>,
    pub documentos_pendientes: Vec<Line>,
    pub reclamos_abiertos: Vec<Line>,
    pub por_clasificar: Vec<Line>,
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

/// The assistant responsible for a client (or the desk's default).
fn owner(dir: &Directory, s: &Settings, client: Option<&str>) -> String {
    client.and_then(|c| dir.client(c)).map(|c| c.assistant.clone()).unwrap_or_else(|| s.default_assistant.clone())
}

/// Build the digest of `assistant` at `now`; `since` is the last digest.
#[allow(clippy::too_many_arguments)]
pub fn build(
    assistant: &str,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    s: &Settings,
    dir: &Directory,
    orders: &[Order],
    reclamos: &[Reclamo],
    tasks: &[Task],
) -> Digest {
    let cal = &s.calendar;
    let today = cal.local_date(now);
    let soon = cal.add_business_hours(now, 3.0 * (cal.day_end - cal.day_start).num_minutes() as f64 / 60.0);
    let mine = |client: Option<&str>| owner(dir, s, client) == assistant;
    let mut d = Digest { assistant: assistant.to_string(), ..Digest::default() };
    let place = |id: &str, due: DateTime<Utc>, why: String, d: &mut Digest| {
        let line = Line { id: id.to_string(), why: format!("{why} (vence {})", local_fmt(cal, due)) };
        if due < now {
            d.vencidas.push(line);
        } else if cal.local_date(due) == today {
            d.vencen_hoy.push(line);
        } else if due <= soon {
            d.proximas.push(line);
        }
    };
    for t in tasks.iter().filter(|t| t.state != "hecha" && t.assignee == assistant) {
        if t.kind.starts_with("triage") || t.kind == "aviso_sin_orden" {
            d.por_clasificar.push(Line { id: t.id.clone(), why: t.summary.clone() });
        }
        if let Some(due) = t.due_at {
            place(&t.id, due, t.summary.clone(), &mut d);
        }
    }
    for r in reclamos.iter().filter(|r| r.state != "resuelto" && mine(r.client.as_deref())) {
        let who = r.client.clone().unwrap_or_else(|| r.from.clone());
        d.reclamos_abiertos.push(Line { id: r.id.clone(), why: format!("{who}: {}", r.subject) });
        place(&r.id, r.due_at, format!("reclamo de {who}"), &mut d);
    }
    let since = since.unwrap_or(now - Duration::days(1));
    for o in orders.iter().filter(|o| o.is_open() && mine(Some(&o.client))) {
        if o.opened_at > since {
            d.nuevas_ordenes.push(Line { id: o.id.clone(), why: format!("{}: {}", o.client, o.subject) });
        }
        if !o.missing.is_empty() {
            let names: Vec<&str> = o.missing.iter().map(|k| crate::desk::kind_name(k)).collect();
            d.documentos_pendientes
                .push(Line { id: o.id.clone(), why: format!("{}: falta {}", o.client, names.join(", ")) });
        }
        if let Some(due) = o.review_due {
            place(&o.id, due, format!("revisar documentos de {}", o.client), &mut d);
        }
    }
    d
}

/// The slot (local time of day) of today that is due at `now` and not yet
/// done: the latest one passed. Earlier slots of the day are coalesced.
pub fn due_slot(s: &Settings, now: DateTime<Utc>) -> Option<NaiveTime> {
    let cal = &s.calendar;
    let today = cal.local_date(now);
    if !cal.is_business_day(today) {
        return None;
    }
    s.digest_times.iter().copied().filter(|t| cal.at_local(today, *t) <= now).max()
}

/// The next digest slot strictly after `now` (on a business day). Pure.
pub fn next_slot(s: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cal = &s.calendar;
    let today = cal.local_date(now);
    (0..=31u64)
        .filter_map(|d| today.checked_add_days(chrono::Days::new(d)))
        .filter(|day| cal.is_business_day(*day))
        .find_map(|day| s.digest_times.iter().map(|t| cal.at_local(day, *t)).filter(|at| *at > now).min())
}

/// The job key of a digest.
pub fn key(assistant: &str, now: DateTime<Utc>, s: &Settings, slot: NaiveTime) -> String {
    format!("digest:{assistant}:{}:{}", s.calendar.local_date(now), slot.format("%H:%M"))
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
