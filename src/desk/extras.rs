//! Extraordinary services (glosa 10110): work done outside business hours
//! or outside the client's agreed scope is billable, so it is recorded on
//! the order (who, when, why) and reported to the client's executive once a
//! month, with a CSV attached.
//!
//! - Out of hours: a staff command on an order handled (decided) outside
//!   the Lima calendar's business hours — evenings, weekends, holidays
//!   ([`out_of_hours`]). One record per order and mail, however many
//!   commands the mail holds.
//! - Out of scope: the client's `[[client]]` entry lists `servicios = [...]`
//!   and the work is of a kind the list does not include
//!   ([`out_of_scope`], a pure function every request calls: the order
//!   commands call it with the service of the order's regime; third-party
//!   requests such as `#previo` and `#retiro` call it with theirs). One
//!   record per order and service. No `servicios` key: no scope check.
//!
//! The monthly report goes on the first business day of the month, at
//! `extras_report_time`, for the month before, to each executive with
//! extras on their clients' orders (none: no mail); `buzon extras --month`
//! prints the same rows.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;
use serde_json::json;

use super::Settings;
use super::compose::Attached;
use super::context::desk_block;
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::model::{Extra, Order};
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::calendar::BusinessCalendar;
use crate::clients::{Client, Directory, Service};

/// Stored kinds of an extra.
pub const OUT_OF_HOURS: &str = "fuera_de_horario";
pub const OUT_OF_SCOPE: &str = "fuera_de_alcance";

const WEEKDAYS: [&str; 7] = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"];
const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// Why `at` is outside business hours (`sábado 05/12/2026 10:00`,
/// `feriado de Inmaculada Concepción, 08/12/2026 10:00`, `martes
/// 01/12/2026 20:15`), or `None` inside them.
pub fn out_of_hours(cal: &BusinessCalendar, at: DateTime<Utc>) -> Option<String> {
    let local = at.with_timezone(&cal.tz);
    let day = local.date_naive();
    let when = local.format("%d/%m/%Y %H:%M");
    let weekday = WEEKDAYS[day.weekday().num_days_from_monday() as usize];
    if cal.is_holiday(day) {
        let name = crate::calendar::peru_holidays(day.year()).into_iter().find(|(d, _)| *d == day).map(|(_, n)| n);
        return Some(match name {
            Some(n) => format!("feriado de {n}, {when}"),
            None => format!("día no laborable, {when}"),
        });
    }
    if !cal.is_business_day(day) {
        return Some(format!("{weekday} {when}"));
    }
    let t = local.time().with_second(0).unwrap_or(local.time());
    if t < cal.day_start || t >= cal.day_end {
        return Some(format!("{weekday} {when}, fuera del horario de oficina"));
    }
    None
}

/// The service an order's regime is (`10` → importación, `40` →
/// exportación, `20`/`21` → admisión temporal); by the code's first digit
/// for other codes; `None` when it says nothing.
pub fn service_of_regime(code: &str) -> Option<Service> {
    match code.trim() {
        "20" | "21" => Some(Service::AdmisionTemporal),
        c if c.starts_with('1') => Some(Service::Importacion),
        c if c.starts_with('4') => Some(Service::Exportacion),
        c if c.starts_with('2') => Some(Service::AdmisionTemporal),
        _ => None,
    }
}

/// The service a staff command asks for by itself (the requests to third
/// parties), beside the clearance of the order's regime.
pub fn service_of_verb(verb: &str) -> Option<Service> {
    match verb {
        "previo" => Some(Service::Previo),
        "retiro" => Some(Service::Retiro),
        "llegada" => Some(Service::Llegada),
        "bl" => Some(Service::Bl),
        _ => None,
    }
}

/// Why `service` is outside `client`'s agreed scope, or `None` when it is
/// inside it or the client has no `servicios` list.
pub fn out_of_scope(client: &Client, service: Service) -> Option<String> {
    let agreed = client.servicios.as_ref()?;
    if agreed.contains(&service) {
        return None;
    }
    Some(format!("{} fuera de los servicios acordados con {}", capitalized(service.name()), client.name))
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Record an extra on the order unless the same one is there: out of hours
/// once per instant (one mail), out of scope once per reason (service).
/// Returns whether it was recorded.
pub fn record(o: &mut Order, kind: &str, reason: String, by: &str, at: DateTime<Utc>) -> bool {
    let same = |e: &Extra| e.kind == kind && if kind == OUT_OF_HOURS { e.at == at } else { e.reason == reason };
    if o.extras.iter().any(same) {
        return false;
    }
    o.extras.push(Extra { at, kind: kind.to_string(), reason, by: by.to_string() });
    true
}

/// After a staff command `#verb` on order `id` was done: record the
/// extraordinary services it was (out of hours; the order's regime out of
/// the client's scope).
/// `written`: when the staff member wrote the command (its mail's `Date`,
/// never later than now): a command written in office hours and handled
/// after a backlog is no extra, one written on Saturday is.
pub fn after_command(d: &mut Draft<'_>, verb: &str, id: &str, who: &str, written: DateTime<Utc>) -> ViewResult<()> {
    let desk = d.desk;
    let Some(mut o) = d.order(id)? else { return Ok(()) };
    let mut changed = false;
    if let Some(when) = out_of_hours(&desk.settings.calendar, written) {
        changed |=
            record(&mut o, OUT_OF_HOURS, format!("Comando #{verb} atendido fuera de horario: {when}"), who, d.now);
    }
    changed |= check_scope(desk, &mut o, who, d.now);
    // A request to a third party (#previo, #retiro…) is a service of its own.
    if let (Some(service), Some(client)) = (service_of_verb(verb), desk.directory.client(&o.client))
        && let Some(why) = out_of_scope(client, service)
    {
        changed |= record(&mut o, OUT_OF_SCOPE, why, who, d.now);
    }
    if changed {
        d.note(format!("extraordinary service recorded on {}", o.id));
        d.save_order(o);
    }
    Ok(())
}

/// Record, once, that the order's regime is out of its client's agreed
/// services (work `by` asked for at `at`). Returns whether it was recorded.
pub fn check_scope(desk: &super::Desk<'_>, o: &mut Order, by: &str, at: DateTime<Utc>) -> bool {
    let Some(client) = desk.directory.client(&o.client) else { return false };
    let Some(why) = service_of_regime(&o.regime).and_then(|s| out_of_scope(client, s)) else { return false };
    record(o, OUT_OF_SCOPE, why, by, at)
}

/// `2026-11`.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// `noviembre de 2026` for `2026-11` (the label itself when it is not one).
pub fn month_name(month: &str) -> String {
    match parse_month(month) {
        Some(first) => format!("{} de {}", MONTHS[first.month0() as usize], first.year()),
        None => month.to_string(),
    }
}

/// The first day of `2026-11`.
pub fn parse_month(month: &str) -> Option<NaiveDate> {
    let (y, m) = month.trim().split_once('-')?;
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

fn first_of_next(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 { (first.year() + 1, 1) } else { (first.year(), first.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

/// The first business day of the month of `first`.
pub fn first_business_day(cal: &BusinessCalendar, first: NaiveDate) -> NaiveDate {
    if cal.is_business_day(first) { first } else { cal.next_business_day(first) }
}

/// This month's report slot (the first business day at the report time).
fn slot_of_month(s: &Settings, day: NaiveDate) -> DateTime<Utc> {
    let first = day.with_day(1).unwrap_or(day);
    s.calendar.at_local(first_business_day(&s.calendar, first), s.extras_report_time)
}

/// The month reported at `now` (the one before), once this month's slot passed.
pub fn due_month(s: &Settings, now: DateTime<Utc>) -> Option<String> {
    let day = s.calendar.local_date(now);
    if now < slot_of_month(s, day) {
        return None;
    }
    let first = day.with_day(1).unwrap_or(day);
    Some(month_of(first - Duration::days(1)))
}

/// The next report slot strictly after `now`.
pub fn next_slot(s: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let day = s.calendar.local_date(now);
    let this = slot_of_month(s, day);
    Some(if this > now { this } else { slot_of_month(s, first_of_next(day.with_day(1).unwrap_or(day))) })
}

/// One extra as reported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Row {
    pub order: String,
    pub client: String,
    /// `dd/mm/aaaa HH:MM`, Lima.
    pub date: String,
    pub reason: String,
    pub by: String,
    pub executive: String,
    pub kind: String,
    #[serde(skip)]
    pub at: DateTime<Utc>,
}

/// The extras of `month` (`2026-11`, Lima dates) on `orders`, oldest first.
pub fn rows(dir: &Directory, cal: &BusinessCalendar, orders: &[Order], month: &str) -> Vec<Row> {
    let mut out: Vec<Row> = orders
        .iter()
        .flat_map(|o| o.extras.iter().map(move |e| (o, e)))
        .filter(|(_, e)| month_of(cal.local_date(e.at)) == month)
        .map(|(o, e)| Row {
            order: o.id.clone(),
            client: super::digests::client_name(dir, Some(&o.client)),
            date: super::context::local_fmt(cal, e.at),
            reason: e.reason.clone(),
            by: e.by.clone(),
            executive: dir.client(&o.client).map(|c| c.executive.clone()).unwrap_or_default(),
            kind: e.kind.clone(),
            at: e.at,
        })
        .collect();
    out.sort_by(|a, b| (a.at, &a.order).cmp(&(b.at, &b.order)));
    out
}

/// The CSV's header row.
pub const CSV_HEADERS: &[&str] = &["ORDEN", "CLIENTE", "FECHA", "MOTIVO", "REGISTRADO POR"];

/// The report's CSV: UTF-8 with a BOM, like the command line's.
pub fn csv(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.order.clone(), r.client.clone(), r.date.clone(), r.reason.clone(), r.by.clone()])
        .collect();
    crate::query::table::csv(CSV_HEADERS, &cells)
}

/// Everyone who may get a report: the clients' executives.
fn executives(dir: &Directory) -> Vec<String> {
    let mut v: Vec<String> = dir.clients.iter().map(|c| c.executive.clone()).collect();
    v.sort();
    v.dedup();
    v
}

/// The monthly reports due now, once per executive and month; sent only
/// when the executive's clients had extras that month.
pub fn monthly(d: &mut Draft<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    let Some(month) = due_month(s, d.now) else { return Ok(()) };
    let mut all: Option<Vec<Row>> = None;
    for e in executives(desk.directory) {
        let key = JobKey::ExtrasReport { executive: e.clone(), month: month.clone() };
        if d.view.job_done(&key)? {
            continue;
        }
        let all = match &mut all {
            Some(r) => &*r,
            None => all.insert(rows(desk.directory, &s.calendar, &d.view.all_orders()?, &month)),
        };
        let mine: Vec<Row> = all.iter().filter(|r| r.executive == e).cloned().collect();
        d.push(Effect::JobDone { key: key.clone(), at: d.now });
        if mine.is_empty() {
            continue;
        }
        let file = format!("servicios-extraordinarios-{month}.csv");
        let ctx = json!({
            "desk": desk_block(s),
            "month": month_name(&month),
            "rows": mine,
            "total": mine.len(),
            "file": file,
        });
        let attached =
            Attached { name: file, content_type: "text/csv; charset=utf-8".into(), bytes: csv(&mine).into_bytes() };
        let letter = Letter {
            template: "servicios_extraordinarios",
            to: vec![e.clone()],
            ctx: &ctx,
            threading: Threading::Notice { references: &[] },
            order: None,
            id: Some(super::reminders::job_mail_id(&key)),
        };
        if d.send_with(letter, &[attached]).is_some() {
            d.note(format!("monthly report of extraordinary services to {e}: {} lines", mine.len()));
        }
    }
    Ok(())
}
