//! The requests the desk makes by itself, once per order: the arrival
//! question when the ETA passed without an arrival notice, the volante
//! when none came after the arrival.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use super::super::Settings;
use super::super::draft::Draft;
use super::super::model::{Order, RequestKind};
use super::super::view::ViewResult;
use super::{AUTOMATIC, Ask, find, request};
use crate::calendar::BusinessCalendar;

/// An automatic request due longer ago than this is not sent.
pub const STALE_DAYS: i64 = 7;

/// An order's ETA as an instant: its time when a notice gave one, else
/// the end of that day (Lima).
pub fn eta_instant(o: &Order, cal: &BusinessCalendar) -> Option<DateTime<Utc>> {
    let day = crate::dates::parse_date(o.eta.as_deref()?)?;
    let time = o
        .follow
        .eta_time
        .as_deref()
        .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok())
        .or_else(|| chrono::NaiveTime::from_hms_opt(23, 59, 0))?;
    Some(cal.at_local(day, time))
}

/// Was `kind` asked (or found impossible to ask) already?
fn asked(o: &Order, kind: RequestKind) -> bool {
    o.thirdparty.requests.iter().any(|r| r.kind == kind) || o.thirdparty.not_asked.contains(&kind)
}

/// When the desk asks the line by itself whether the cargo arrived: the
/// ETA plus `arrival_check_hours`, while no arrival notice came and no
/// arrival question went.
pub fn arrival_check_at(o: &Order, s: &Settings) -> Option<DateTime<Utc>> {
    if !o.is_open() || o.thirdparty.arrived_at.is_some() || asked(o, RequestKind::Llegada) {
        return None;
    }
    Some(eta_instant(o, &s.calendar)? + chrono::Duration::hours(i64::from(s.requests.arrival_check_hours)))
}

/// When the desk asks the depósito for the volante: `volante_days`
/// business days after arrival, while the order has none and none was asked.
pub fn volante_check_at(o: &Order, s: &Settings) -> Option<DateTime<Utc>> {
    let arrived = o.thirdparty.arrived_at?;
    if !o.is_open() || o.documents.iter().any(|d| d.kind == "volante") || asked(o, RequestKind::Volante) {
        return None;
    }
    let cal = &s.calendar;
    let day_hours = (cal.day_end - cal.day_start).num_minutes() as f64 / 60.0;
    Some(cal.add_business_hours(arrived, f64::from(s.requests.volante_days) * day_hours))
}

/// The order's automatic-request instants (for its schedule entry).
pub fn order_instants(o: &Order, s: &Settings) -> Vec<DateTime<Utc>> {
    arrival_check_at(o, s).into_iter().chain(volante_check_at(o, s)).collect()
}

/// The order's automatic requests due at `now`. True when it changed.
pub fn order_due(d: &mut Draft<'_>, o: &mut Order) -> ViewResult<bool> {
    let s = d.desk.settings;
    let mut changed = false;
    for (kind, at) in [(RequestKind::Llegada, arrival_check_at(o, s)), (RequestKind::Volante, volante_check_at(o, s))] {
        let Some(at) = at else { continue };
        if at > d.now {
            continue;
        }
        // Long past (a desk that just upgraded, mail imported on going
        // live, the daemon stopped for weeks): the assistant knows better
        // than a question sent now.
        if d.now - at > chrono::Duration::days(STALE_DAYS) {
            d.note(format!("automatic {kind} request of {} not sent: due since {at}, too long ago", o.id));
            continue;
        }
        let p = match find(d.desk.directory, kind, None, o) {
            Ok(p) => p.clone(),
            Err(why) => {
                // Once: the assistant asks by hand (`#llegada OC-… naviera=…`).
                d.note(format!("automatic {kind} request of {} not sent: {why}", o.id));
                let summary = format!(
                    "No se pudo pedir automáticamente {} de la orden {}: {why}. Envíe #{} {} {}=…",
                    match kind {
                        RequestKind::Volante => "el volante de despacho",
                        _ => "la confirmación de llegada",
                    },
                    o.id,
                    kind.as_str(),
                    o.id,
                    super::key_of(kind),
                );
                let (client, id) = (o.client.clone(), o.id.clone());
                d.open_task("solicitud_sin_contraparte", Some(&client), Some(&id), None, summary, None)?;
                o.thirdparty.not_asked.push(kind);
                changed = true;
                continue;
            }
        };
        let ask = Ask { kind, counterpart: &p, by: AUTOMATIC, date: None, transport: None };
        if request(d, o, &ask)?.is_ok() {
            changed = true;
        }
    }
    Ok(changed)
}

/// A carrier notice that says the vessel or flight arrived (not one that
/// announces an ETA).
static ARRIVED: LazyLock<Regex> = LazyLock::new(|| {
    super::super::re(
        r"(?i)\b(?:arribó\b|(?:nave|buque|carga|vuelo|contenedor)\s+(?:\S+\s+){0,3}?(?:ya\s+)?arribo\b|ha arribado|lleg[oó] (?:la nave|el buque|la carga|el vuelo)|(?:la nave|el buque) (?:ya )?lleg[oó]|atrac[oó]|descarg(?:ó|o|ada|ado) en|t[eé]rmino de descarga|arrived|has arrived|discharged|ata\s*:)",
    )
});

/// "Not yet arrived", in the ways it is written.
static NOT_ARRIVED: LazyLock<Regex> = LazyLock::new(|| {
    super::super::re(
        r"(?i)\b(?:no|a[uú]n no|todav[ií]a no)\s+(?:ha\s+|han\s+)?(?:arribad|arrib[oó]|llegad|lleg[oó])|\b(?:not yet|has not|hasn't|not)\s+(?:yet\s+)?arrived",
    )
});

/// Does a carrier notice's text say the cargo arrived (and nowhere that it
/// has not yet)?
pub fn says_arrived(text: &str) -> bool {
    ARRIVED.is_match(text) && !NOT_ARRIVED.is_match(text)
}
