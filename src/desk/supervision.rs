//! The supervisors' digest (daily, at `supervisor_digest_times` on business
//! days): open and overdue reclamos with their clocks in business hours,
//! the reclamos met and missed this week (a discarded or imported reclamo
//! counts in neither), overdue document reviews, and the alert tasks of
//! each assistant. HTML tables with a plain-text alternative.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::Desk;
use super::Settings;
use super::context::{desk_block, excerpt, local_fmt};
use super::digests::client_name;
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::model::{ReclamoState, Task};
use super::reply::{Letter, Threading};
use super::view::{DigestRecords, View, ViewResult};
use crate::calendar::BusinessCalendar;

/// One line of the supervisors' digest.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Line {
    pub id: String,
    pub client: String,
    pub order: String,
    pub what: String,
    /// The deadline, `dd/mm/aaaa HH:MM`.
    pub due: String,
    /// The clock, in words: `vence en 12,5 h útiles`, `vencido hace 3,0 h útiles`.
    pub clock: String,
    /// Who has it.
    pub assignee: String,
}

/// One assistant's alert tasks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AlertGroup {
    pub assignee: String,
    pub lines: Vec<Line>,
    /// How many of them are overdue.
    pub vencidas: usize,
}

/// The digest's sections.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct Supervision {
    pub vencidos: Vec<Line>,
    pub abiertos: Vec<Line>,
    /// Resolved this week within their business hours.
    pub cumplidos: Vec<Line>,
    /// Resolved this week after their due time, or overdue this week and open.
    pub incumplidos: Vec<Line>,
    /// `30/11/2026 – 06/12/2026`.
    pub semana: String,
    pub revisiones_vencidas: Vec<Line>,
    pub alertas: Vec<AlertGroup>,
    pub total: usize,
}

/// Business hours as people say them: `12,5 h útiles`.
fn hours(h: f64) -> String {
    format!("{:.1} h útiles", h).replace('.', ",")
}

/// Build the supervisors' digest at `now`.
pub fn build(desk: &Desk<'_>, now: DateTime<Utc>, records: &DigestRecords) -> Supervision {
    let s = desk.settings;
    let cal = &s.calendar;
    let dir = desk.directory;
    let today = cal.local_date(now);
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let sunday = monday + chrono::Days::new(6);
    let week_start = cal.at_local(monday, NaiveTime::MIN);
    let in_week = |t: DateTime<Utc>| t >= week_start && cal.local_date(t) <= sunday;
    let mut out = Supervision {
        semana: format!("{} – {}", monday.format("%d/%m/%Y"), sunday.format("%d/%m/%Y")),
        ..Supervision::default()
    };
    let mut reclamos: Vec<_> = records.reclamos.iter().filter(|r| r.state.counts()).collect();
    reclamos.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    for r in reclamos {
        let who = if r.client.is_some() { client_name(dir, r.client.as_deref()) } else { r.from.clone() };
        let line = |clock: String| Line {
            id: r.id.clone(),
            client: who.clone(),
            order: r.order.clone().unwrap_or_default(),
            what: excerpt(&super::subjects::topic(&r.subject), 100),
            due: local_fmt(cal, r.due_at),
            clock,
            assignee: desk.executive_of(r.client.as_deref()).unwrap_or_default(),
        };
        if r.is_open() {
            if r.due_at <= now {
                let l = line(format!("vencido hace {}", hours(cal.business_hours_between(r.due_at, now))));
                if in_week(r.due_at) {
                    out.incumplidos.push(l.clone());
                }
                out.vencidos.push(l);
            } else {
                out.abiertos.push(line(format!("vence en {}", hours(cal.business_hours_between(now, r.due_at)))));
            }
        } else if r.state == ReclamoState::Resuelto
            && let Some(closed) = r.closed_instant()
            && in_week(closed)
        {
            if closed <= r.due_at {
                let spent = cal.business_hours_between(r.received_at, closed);
                out.cumplidos.push(line(format!("atendido en {}", hours(spent))));
            } else {
                let late = cal.business_hours_between(r.due_at, closed);
                out.incumplidos.push(line(format!("atendido con {} de retraso", hours(late))));
            }
        }
    }
    let mut orders: Vec<_> =
        records.open_orders.iter().filter(|o| o.is_open() && o.review_due.is_some_and(|d| d <= now)).collect();
    orders.sort_by(|a, b| (a.review_due, &a.id).cmp(&(b.review_due, &b.id)));
    for o in orders {
        let due = o.review_due.unwrap_or(now);
        out.revisiones_vencidas.push(Line {
            id: o.id.clone(),
            client: client_name(dir, Some(&o.client)),
            order: o.id.clone(),
            what: "Revisar los documentos recibidos".into(),
            due: local_fmt(cal, due),
            clock: format!("vencida hace {}", hours(cal.business_hours_between(due, now))),
            assignee: desk.assistant_of(Some(&o.client)),
        });
    }
    let mut groups: BTreeMap<String, Vec<&Task>> = BTreeMap::new();
    for t in records.tasks.iter().filter(|t| t.is_open() && t.kind.starts_with("alerta_")) {
        groups.entry(t.assignee.clone()).or_default().push(t);
    }
    for (assignee, mut tasks) in groups {
        tasks.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        let vencidas = tasks.iter().filter(|t| t.due_at.is_some_and(|d| d <= now)).count();
        let lines = tasks
            .iter()
            .map(|t| Line {
                id: t.id.clone(),
                client: client_name(dir, t.client.as_deref()),
                order: t.order.clone().unwrap_or_default(),
                what: t.summary.clone(),
                due: t.due_at.map(|d| local_fmt(cal, d)).unwrap_or_default(),
                clock: match t.due_at {
                    Some(d) if d <= now => "vencida".into(),
                    Some(d) => format!("vence en {}", hours(cal.business_hours_between(now, d))),
                    None => "sin fecha".into(),
                },
                assignee: assignee.clone(),
            })
            .collect();
        out.alertas.push(AlertGroup { assignee, lines, vencidas });
    }
    out.total = out.vencidos.len()
        + out.abiertos.len()
        + out.cumplidos.len()
        + out.incumplidos.len()
        + out.revisiones_vencidas.len()
        + out.alertas.iter().map(|a| a.lines.len()).sum::<usize>();
    out
}

/// The supervisors' digest as it would be sent at `now`, and its context.
pub fn render_supervisor_digest(
    desk: &Desk<'_>,
    view: &dyn View,
    now: DateTime<Utc>,
) -> ViewResult<(Supervision, Value)> {
    let records = view.digest_records()?;
    let sup = build(desk, now, &records);
    let ctx =
        json!({"desk": desk_block(desk.settings), "now": local_fmt(&desk.settings.calendar, now), "supervision": sup});
    Ok((sup, ctx))
}

/// The slot of today due at `now`: the latest passed (on a business day).
fn slot(s: &Settings, now: DateTime<Utc>) -> Option<NaiveTime> {
    let cal = &s.calendar;
    let today = cal.local_date(now);
    if !cal.is_business_day(today) {
        return None;
    }
    s.supervisor_digest_times.iter().copied().filter(|t| cal.at_local(today, *t) <= now).max()
}

/// The next supervisors' digest strictly after `now`.
pub fn next_slot(s: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    next_after(&s.calendar, &s.supervisor_digest_times, now)
}

fn next_after(cal: &BusinessCalendar, times: &[NaiveTime], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = cal.local_date(now);
    (0..=31u64)
        .filter_map(|d| today.checked_add_days(chrono::Days::new(d)))
        .filter(|day| cal.is_business_day(*day))
        .find_map(|day| times.iter().map(|t| cal.at_local(day, *t)).filter(|at| *at > now).min())
}

/// The supervisors' digest of the slot due now, once.
pub fn handle(d: &mut Draft<'_>) -> ViewResult<()> {
    let s = d.desk.settings;
    let Some(slot) = slot(s, d.now) else { return Ok(()) };
    let key = JobKey::SupervisorDigest { date: s.calendar.local_date(d.now), slot };
    if s.supervisors.is_empty() || d.view.job_done(&key)? {
        return Ok(());
    }
    d.push(Effect::JobDone { key: key.clone(), at: d.now });
    let (sup, ctx) = render_supervisor_digest(d.desk, d.view, d.now)?;
    if sup.total == 0 && !s.digest_when_empty {
        return Ok(());
    }
    let letter = Letter {
        template: "resumen_supervision",
        to: s.supervisors.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: None,
        id: Some(super::reminders::job_mail_id(&key)),
    };
    d.send(letter);
    Ok(())
}
