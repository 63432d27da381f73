//! Assistant digests: per assistant, every open task (overdue, due today,
//! due within three business days, later, and those without a date),
//! mails waiting for triage, new orders since the last digest, orders
//! missing documents and open reclamos — each line with its number, the
//! client's name, the order, what to do and the deadline. Sent as HTML
//! tables with a plain-text alternative at each `digest_times` slot of a
//! business day, once per slot (coalesced after an outage). The originals of
//! mail-born tasks opened since the last digest (and not already sent with
//! their own notice) travel with it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::compose::Attached;
use super::context::{desk_block, excerpt, kind_name, local_fmt};
use super::deadlines::digest_slot;
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::model::Task;
use super::reply::{Letter, Threading};
use super::view::{DigestRecords, View, ViewResult};
use super::{Desk, Settings};
use crate::calendar::BusinessCalendar;
use crate::clients::Directory;

/// One line of a digest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct DigestLine {
    pub id: String,
    /// The line as one sentence (what and deadline): the field templates of
    /// earlier versions read.
    pub why: String,
    /// What kind of item (`Tarea`, `Reclamo`, `Orden`).
    pub kind: String,
    /// The client's name ("" when none is known).
    pub client: String,
    /// The order it is about ("" when none).
    pub order: String,
    /// What to do.
    pub what: String,
    /// The deadline, `dd/mm/aaaa HH:MM` ("" when none).
    pub due: String,
    /// Opened since the last digest.
    pub new: bool,
}

/// A digest's sections.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct Digest {
    pub assistant: String,
    pub vencidas: Vec<DigestLine>,
    pub vencen_hoy: Vec<DigestLine>,
    pub proximas: Vec<DigestLine>,
    /// Open tasks due after the next three business days.
    pub mas_adelante: Vec<DigestLine>,
    /// Open tasks without a deadline (proformas, payments, bounced mail…).
    pub sin_fecha: Vec<DigestLine>,
    pub nuevas_ordenes: Vec<DigestLine>,
    pub documentos_pendientes: Vec<DigestLine>,
    pub reclamos_abiertos: Vec<DigestLine>,
    pub por_clasificar: Vec<DigestLine>,
    /// Lines in all sections.
    pub total: usize,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn count(&mut self) {
        self.total = [
            &self.vencidas,
            &self.vencen_hoy,
            &self.proximas,
            &self.mas_adelante,
            &self.sin_fecha,
            &self.nuevas_ordenes,
            &self.documentos_pendientes,
            &self.reclamos_abiertos,
            &self.por_clasificar,
        ]
        .iter()
        .map(|s| s.len())
        .sum();
    }
}

/// The last day of "due soon": the third business day after `today`.
pub fn soon_day(cal: &BusinessCalendar, today: NaiveDate) -> NaiveDate {
    let mut day = today;
    let mut n = 0;
    for _ in 0..31 {
        day = day.succ_opt().unwrap_or(day);
        if cal.is_business_day(day) {
            n += 1;
            if n == 3 {
                break;
            }
        }
    }
    day
}

/// Where a deadline falls, seen at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Overdue,
    Today,
    Soon,
    Later,
}

/// Which section a deadline goes to: overdue, today, within three business
/// days (to the end of the third), or later.
pub fn when(cal: &BusinessCalendar, now: DateTime<Utc>, due: DateTime<Utc>) -> When {
    let today = cal.local_date(now);
    let day = cal.local_date(due);
    if due < now {
        When::Overdue
    } else if day == today {
        When::Today
    } else if day <= soon_day(cal, today) {
        When::Soon
    } else {
        When::Later
    }
}

/// A client's name for people (its id when the clients file lost it).
pub fn client_name(dir: &Directory, client: Option<&str>) -> String {
    match client {
        Some(id) => dir.client(id).map(|c| c.name.clone()).unwrap_or_else(|| id.to_string()),
        None => String::new(),
    }
}

/// Tasks that wait for a person to say what a mail is.
fn is_triage(t: &Task) -> bool {
    t.kind.starts_with("triage") || t.kind == "aviso_sin_orden"
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
    let dir = desk.directory;
    let since = since.unwrap_or(now - Duration::days(1));
    let mine = |client: Option<&str>| desk.assistant_of(client) == assistant;
    let mut d = Digest { assistant: assistant.to_string(), ..Digest::default() };
    let line = |id: &str,
                kind: &str,
                client: Option<&str>,
                order: Option<&str>,
                what: String,
                due: Option<DateTime<Utc>>,
                new: bool| {
        let due_s = due.map(|t| local_fmt(cal, t)).unwrap_or_default();
        let why = if due_s.is_empty() { what.clone() } else { format!("{what} (vence {due_s})") };
        DigestLine {
            id: id.to_string(),
            why,
            kind: kind.to_string(),
            client: client_name(dir, client),
            order: order.unwrap_or("").to_string(),
            what,
            due: due_s,
            new,
        }
    };
    let place = |l: DigestLine, due: DateTime<Utc>, d: &mut Digest| match when(cal, now, due) {
        When::Overdue => d.vencidas.push(l),
        When::Today => d.vencen_hoy.push(l),
        When::Soon => d.proximas.push(l),
        When::Later => d.mas_adelante.push(l),
    };
    let mut tasks: Vec<&Task> = records.tasks.iter().filter(|t| t.is_open() && t.assignee == assistant).collect();
    tasks.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    for t in tasks {
        let l = line(
            &t.id,
            "Tarea",
            t.client.as_deref(),
            t.order.as_deref(),
            t.summary.clone(),
            t.due_at,
            t.created_at > since,
        );
        match t.due_at {
            Some(due) => place(l, due, &mut d),
            None if is_triage(t) => d.por_clasificar.push(l),
            None => d.sin_fecha.push(l),
        }
    }
    let mut reclamos: Vec<_> = records.reclamos.iter().filter(|r| r.is_open() && mine(r.client.as_deref())).collect();
    reclamos.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    for r in reclamos {
        let who = if r.client.is_some() { client_name(dir, r.client.as_deref()) } else { r.from.clone() };
        let what = format!("Reclamo de {who}: {}", excerpt(&super::subjects::topic(&r.subject), 120));
        let l = line(
            &r.id,
            "Reclamo",
            r.client.as_deref(),
            r.order.as_deref(),
            what,
            Some(r.due_at),
            r.received_at > since,
        );
        d.reclamos_abiertos.push(l.clone());
        place(l, r.due_at, &mut d);
    }
    let mut orders: Vec<_> = records.open_orders.iter().filter(|o| o.is_open() && mine(Some(&o.client))).collect();
    orders.sort_by(|a, b| a.id.cmp(&b.id));
    for o in orders {
        let topic = excerpt(&super::subjects::topic(&o.subject), 120);
        if o.opened_at > since {
            let what = format!("Orden nueva: {topic}");
            d.nuevas_ordenes.push(line(&o.id, "Orden", Some(&o.client), Some(&o.id), what, None, true));
        }
        if !o.missing.is_empty() {
            let names: Vec<&str> = o.missing.iter().map(|k| kind_name(k)).collect();
            let what = format!("Falta: {}", names.join(", "));
            d.documentos_pendientes.push(line(&o.id, "Orden", Some(&o.client), Some(&o.id), what, None, false));
        }
        if let Some(due) = o.review_due {
            let l = line(
                &o.id,
                "Orden",
                Some(&o.client),
                Some(&o.id),
                "Revisar los documentos recibidos".into(),
                Some(due),
                false,
            );
            place(l, due, &mut d);
        }
    }
    d.count();
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

/// At most this many originals ride with one digest.
const MAX_ORIGINALS: usize = 20;

/// The originals of `assistant`'s mail-born tasks opened since the last
/// digest that no notice carried (their kind waits for the digest), within
/// the attachment limit in total; the others are named by Message-ID in the
/// task's line.
fn originals(
    d: &Draft<'_>,
    assistant: &str,
    since: DateTime<Utc>,
    records: &DigestRecords,
) -> ViewResult<Vec<Attached>> {
    let s = d.desk.settings;
    let mut out = Vec::new();
    let mut total = 0u64;
    for t in records
        .tasks
        .iter()
        .filter(|t| t.is_open() && t.assignee == assistant && t.created_at > since && !s.notifies_at_once(&t.kind))
    {
        let Some(sha) = &t.origin else { continue };
        if out.len() >= MAX_ORIGINALS {
            break;
        }
        if let Some(raw) = d.view.original(sha)?
            && total + raw.len() as u64 <= s.max_attachment_bytes
        {
            total += raw.len() as u64;
            out.push(Attached::mail(&format!("{} original.eml", t.id), &raw));
        }
    }
    Ok(out)
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
            let files = originals(d, &a, since.unwrap_or(d.now - Duration::days(1)), records)?;
            let ctx = json!({"desk": desk_block(s), "now": local_fmt(&s.calendar, d.now), "digest": digest});
            let letter = Letter {
                template: "resumen_asistente",
                to: vec![a.clone()],
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: None,
                id: Some(super::reminders::job_mail_id(&key)),
            };
            if d.send_with(letter, &files).is_some() {
                d.push(Effect::JobDone { key: last, at: d.now });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn due_soon_reaches_the_end_of_the_third_business_day() {
        let cal = BusinessCalendar::default();
        // Tuesday 1 Dec 2026 10:00; the third business day after is Friday 4.
        let now = at("2026-12-01T10:00:00-05:00");
        let cases = [
            ("2026-12-01T09:00:00-05:00", When::Overdue),
            ("2026-12-01T18:00:00-05:00", When::Today),
            ("2026-12-02T09:00:00-05:00", When::Soon),
            ("2026-12-04T18:00:00-05:00", When::Soon),
            ("2026-12-07T09:00:00-05:00", When::Later),
        ];
        for (due, want) in cases {
            assert_eq!(when(&cal, now, at(due)), want, "{due}");
        }
        // Friday: Monday 7 is business day 1; Tuesday 8 (Inmaculada
        // Concepción) and Wednesday 9 (Batalla de Ayacucho) are holidays, so
        // the third is Friday 11.
        let friday = at("2026-12-04T10:00:00-05:00");
        assert_eq!(when(&cal, friday, at("2026-12-11T18:00:00-05:00")), When::Soon);
        assert_eq!(when(&cal, friday, at("2026-12-14T09:00:00-05:00")), When::Later);
    }
}
