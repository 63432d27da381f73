//! Closing the file (archivo): what an order's file still needs before it is
//! archived, by the closing list of its regime (`[[closing]]` in
//! `rules/checklists.toml`), and the weekly list to each assistant of their
//! clients' orders retired or invoiced whose files are incomplete.
//!
//! Every way to the archive state goes through [`missing`]: `#archivar OC-…`
//! refuses with the list of what is missing (`#archivar OC-… forzar`
//! archives anyway and records who forced it and what was missing, in the
//! staff-only history), and so does `#estado OC-… archivada`. `#cerrar`
//! closes without archiving, as before: it is not checked, and a closed
//! order that is retired or invoiced stays in the weekly list until it is
//! archived.
//!
//! An item of a closing list is a document kind (a document of that kind is
//! filed in the order), or [`LEVANTE`] (the order reached the stage
//! `levante` or a later one), or [`LIQUIDACION`] (the duties' liquidation is
//! paid: a `#liquidacion` record of the order with its payment received, or
//! a payment of kind `liquidacion` the client reported with its voucher).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::Settings;
use super::context::{desk_block, excerpt, kind_name, local_fmt};
use super::digests::{assistants, client_name};
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::model::Order;
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::rules::checklists::{DeskRules, LEVANTE, LIQUIDACION};
use crate::text::fold;

/// `lunes` … `domingo` (accents and case ignored), or `1` … `7`: its
/// number, 1 = Monday.
pub fn weekday_number(name: &str) -> Option<u8> {
    const DAYS: [&str; 7] = ["lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"];
    let f = fold(name.trim());
    if let Ok(n) = f.parse::<u8>() {
        return (1..=7).contains(&n).then_some(n);
    }
    DAYS.iter().position(|d| *d == f).map(|i| i as u8 + 1)
}

/// The name people read for a closing item (a document kind's, or the two
/// items that are not documents).
pub fn item_name(item: &str) -> &str {
    match item {
        LEVANTE => "Levante autorizado",
        LIQUIDACION => "Liquidación de tributos pagada",
        other => kind_name(other),
    }
}

/// `A`, `A y B`, `A, B y C`.
pub fn names(items: &[String]) -> String {
    let n: Vec<&str> = items.iter().map(|i| item_name(i)).collect();
    match n.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} y {last}", rest.join(", ")),
    }
}

fn position(stages: &[String], stage: &str) -> Option<usize> {
    stages.iter().position(|s| fold(s) == fold(stage))
}

/// Has an order at `stage` reached `levante` (that stage or a later one)?
pub fn levante_reached(stages: &[String], stage: &str) -> bool {
    match (position(stages, LEVANTE), position(stages, stage)) {
        (Some(l), Some(s)) => s >= l,
        _ => false,
    }
}

/// Is the duties' liquidation of the order paid?
pub fn liquidation_paid(o: &Order) -> bool {
    o.money.liquidations.iter().any(|l| l.paid_at.is_some()) || o.money.payments.iter().any(|p| p.kind == "liquidacion")
}

/// What the order's file still needs to be archived (items of its regime's
/// closing list, in the list's order). A regime without a closing list
/// needs nothing.
pub fn missing(rules: &DeskRules, o: &Order) -> Vec<String> {
    let Some(list) = rules.closing(&o.regime) else { return Vec::new() };
    list.required
        .iter()
        .filter(|item| match item.as_str() {
            LEVANTE => !levante_reached(&rules.stages, &o.stage),
            LIQUIDACION => !liquidation_paid(o),
            kind => !o.documents.iter().any(|d| d.kind == kind),
        })
        .cloned()
        .collect()
}

/// Is the order retired or invoiced and not archived yet: a stage after
/// `levante` that is not the last one (`retirada`, `facturada` in the
/// shipped stages)?
pub fn awaiting_archive(stages: &[String], stage: &str) -> bool {
    let (Some(l), Some(s)) = (position(stages, LEVANTE), position(stages, stage)) else { return false };
    s > l && s + 1 < stages.len()
}

/// The last stage: archived.
pub fn archive_stage(rules: &DeskRules) -> String {
    rules.stages.last().cloned().unwrap_or_else(|| "archivada".into())
}

/// `falta` or `faltan`, as many things as are missing; `faltaba`/`faltaban` in the past.
pub fn falta(missing: &[String], past: bool) -> &'static str {
    match (missing.len() > 1, past) {
        (false, false) => "falta",
        (true, false) => "faltan",
        (false, true) => "faltaba",
        (true, true) => "faltaban",
    }
}

/// The refusal of an archive whose file is incomplete (the command's error line).
/// Why `#verb` (`archivar`, `cerrar`, or `estado … archivada`, answered
/// as `archivar`) did not go ahead.
pub fn refusal(order: &str, missing: &[String], verb: &str) -> String {
    let (done, doing) = if verb == "cerrar" { ("cerró", "cerrarla") } else { ("archivó", "archivarla") };
    format!(
        "no se {done} la orden {order}: al expediente le {} {}. Cuando esté completo, vuelva a escribir «#{verb} {order}»; para {doing} así, «#{verb} {order} forzar»",
        falta(missing, false),
        names(missing)
    )
}

/// The staff-only history line of a forced archive.
/// (`done`: `Archivada`, `Cerrada`.)
pub fn forced_entry(missing: &[String], who: &str, done: &str) -> String {
    format!("{done} con el expediente incompleto, forzada por {who}: {} {}", falta(missing, true), names(missing))
}

/// The ISO week of a day (`2026-W49`): the weekly list's key.
pub fn week_of(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The weekly list's slot in the week of `day`.
pub fn slot_of_week(s: &Settings, day: NaiveDate) -> DateTime<Utc> {
    let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
    let target = monday + Duration::days(s.closing_list_day.saturating_sub(1) as i64);
    s.calendar.at_local(target, s.closing_list_time)
}

/// The slot due at `now` (this week's, once it has passed).
pub fn due_slot(s: &Settings, now: DateTime<Utc>) -> Option<(String, DateTime<Utc>)> {
    let day = s.calendar.local_date(now);
    let slot = slot_of_week(s, day);
    (now >= slot).then(|| (week_of(day), slot))
}

/// The next slot strictly after `now`.
pub fn next_slot(s: &Settings, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let day = s.calendar.local_date(now);
    let this = slot_of_week(s, day);
    Some(if this > now { this } else { slot_of_week(s, day + Duration::days(7)) })
}

/// One line of the weekly list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Line {
    pub order: String,
    pub client: String,
    pub stage: String,
    pub topic: String,
    /// What the file misses, in people's words.
    pub missing: Vec<String>,
    /// The same, as one phrase (`A, B y C`).
    pub falta: String,
}

/// The lines of `assistant`'s list: their clients' orders awaiting the
/// archive whose files are incomplete, by order number.
pub fn lines(d: &Draft<'_>, assistant: &str, orders: &[Order]) -> Vec<Line> {
    let desk = d.desk;
    let rules = &desk.rules.desk;
    let mut out: Vec<Line> = orders
        .iter()
        .filter(|o| desk.assistant_of(Some(&o.client)) == assistant && awaiting_archive(&rules.stages, &o.stage))
        .filter_map(|o| {
            let miss = missing(rules, o);
            (!miss.is_empty()).then(|| Line {
                order: o.id.clone(),
                client: client_name(desk.directory, Some(&o.client)),
                stage: o.stage.clone(),
                topic: excerpt(&super::subjects::topic(&o.subject), 80),
                missing: miss.iter().map(|i| item_name(i).to_string()).collect(),
                falta: names(&miss),
            })
        })
        .collect();
    out.sort_by(|a, b| a.order.cmp(&b.order));
    out
}

/// The weekly lists due now, once per assistant and week; sent only when
/// the list is not empty.
pub fn weekly(d: &mut Draft<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    let Some((week, slot)) = due_slot(s, d.now) else { return Ok(()) };
    let mut orders: Option<Vec<Order>> = None;
    for a in assistants(s, desk.directory) {
        let key = JobKey::ClosingList { assistant: a.clone(), week: week.clone() };
        if d.view.job_done(&key)? {
            continue;
        }
        let orders = match &mut orders {
            Some(o) => &*o,
            None => orders.insert(d.view.all_orders()?),
        };
        let list = lines(d, &a, orders);
        d.push(Effect::JobDone { key: key.clone(), at: d.now });
        if list.is_empty() {
            continue;
        }
        let ctx = json!({
            "desk": desk_block(s),
            "now": local_fmt(&s.calendar, d.now),
            "week": week_label(s, slot),
            "lines": list,
            "total": list.len(),
        });
        let letter = Letter {
            template: "archivo_pendiente",
            to: vec![a.clone()],
            ctx: &ctx,
            threading: Threading::Notice { references: &[] },
            order: None,
            id: Some(super::reminders::job_mail_id(&key)),
        };
        if d.send(letter).is_some() {
            d.note(format!("weekly list of incomplete files to {a}: {} orders", list.len()));
        }
    }
    Ok(())
}

/// `semana del 30/11/2026`.
fn week_label(s: &Settings, slot: DateTime<Utc>) -> String {
    let day = s.calendar.local_date(slot);
    let monday = day - Duration::days(day.weekday().num_days_from_monday() as i64);
    format!("semana del {}", monday.format("%d/%m/%Y"))
}
