//! `aviso_transportista`: a carrier's or agent's notice (arrival, BL issued,
//! ETA change) updates the open orders that hold its BL/AWB/container/DAM.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::Incoming;
use super::context::excerpt;
use super::draft::Draft;
use super::model::{HistoryEntry, Order};
use super::view::ViewResult;
use crate::clients::Sender;

/// `ETA`, `E.T.A.`, `fecha de arribo/llegada`, `arribará el`, `llegada estimada`.
static ETA: LazyLock<Regex> = LazyLock::new(|| {
    super::re(
        r"(?i)\b(?:E\.?T\.?A\.?|fecha (?:estimada )?de (?:arribo|llegada)|llegada estimada|arribar[aá] el|estimated (?:time of )?arrival)",
    )
});

/// The date an ETA mention names: the first date in the 60 characters after it.
fn eta_in(text: &str, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    ETA.find_iter(text).find_map(|m| {
        let after = &text[m.end()..];
        let window: String = after.chars().take(60).collect();
        super::context::first_date(&window, today)
    })
}
/// A time of day right after the ETA's date (`15/12/2026 08:00`, `a las 14:30 hrs`).
static TIME: LazyLock<Regex> = LazyLock::new(|| super::re(r"\b([01]?\d|2[0-3])[:h]([0-5]\d)\b"));

/// The ETA's time of day, when the mention gives one right after its date (`HH:MM`).
fn eta_time_in(text: &str, today: chrono::NaiveDate) -> Option<String> {
    ETA.find_iter(text).find_map(|m| {
        let window: String = text[m.end()..].chars().take(60).collect();
        let found = crate::dates::find_dates(&window, today).into_iter().next()?;
        let rest: String = window.get(found.span.end..)?.chars().take(16).collect();
        TIME.captures(&rest).map(|c| format!("{:02}:{}", c[1].parse::<u32>().unwrap_or(0), &c[2]))
    })
}

static VESSEL: LazyLock<Regex> = LazyLock::new(|| {
    super::re(
        r"(?i)\b(?:la nave|nave|vessel|m/?v)\s+([A-Z][A-Z0-9]*(?:\s+[A-Z][A-Z0-9]*){0,3})\s+(?:viaje|voy\.?|v\.)\s*([A-Z0-9]+)",
    )
});

/// Reference kinds a carrier notice names a shipment by.
const CARRIER_REFS: &[&str] = &["bl", "awb", "container", "dam"];

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    // A client's (or its partner's) carrier-like mail touches only that
    // client's orders: naming another client's container changes nothing
    // of theirs. Carriers and agents (unregistered senders) may update any.
    let whose: Option<Vec<String>> = match &m.sender {
        Sender::Client(id) => Some(vec![id.clone()]),
        Sender::Partner(ids) => Some(ids.clone()),
        Sender::Staff | Sender::Ours | Sender::Counterpart(_) | Sender::Unknown => None,
    };
    let mine = |o: &Order| whose.as_ref().is_none_or(|w| w.contains(&o.client));
    let mut orders: BTreeMap<String, Order> = BTreeMap::new();
    for (kind, values) in &m.class.references {
        if !CARRIER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            for o in d.orders_by_ref(kind, v)? {
                if o.is_open() && mine(&o) {
                    orders.insert(o.id.clone(), o);
                }
            }
        }
    }
    let text = format!("{}\n{}\n{}", m.mail.subject, m.mail.new_text, m.mail.forwarded_text);
    let today = d.desk.settings.calendar.local_date(d.now);
    let eta = m
        .mail
        .field("eta")
        .and_then(|v| super::context::first_date(v, today))
        .or_else(|| eta_in(&text, today))
        .map(super::context::dmy);
    let eta_time = if m.mail.field("eta").is_some() { None } else { eta_time_in(&text, today) };
    let vessel = VESSEL.captures(&text).map(|c| format!("{} {}", &c[1], &c[2]).trim().to_string());
    // Imported history (going live) says nothing about arrivals now.
    // Only someone who knows may say the cargo arrived: an arrival starts
    // the desk's own mail to the depósito (the volante request), so an
    // unknown or unverified sender's word is not enough (ETA and vessel
    // are set as before).
    let knows =
        !m.mail.dmarc_failed() && matches!(m.sender, Sender::Counterpart(_) | Sender::Staff | Sender::Client(_));
    let arrived = knows && !m.imported && super::counterparts::says_arrived(&text);
    if orders.is_empty() {
        let summary = format!("Aviso de transportista sin orden identificada de {}: «{}».", m.from(), m.mail.subject);
        d.open_task("aviso_sin_orden", None, None, None, summary, m.mail.message_id.clone())?;
        return Ok(());
    }
    for (_, mut o) in orders {
        let mut parts = Vec::new();
        if let Some(e) = &eta {
            if o.eta.as_deref() != Some(e) || o.follow.eta_time != eta_time {
                match &eta_time {
                    Some(t) => parts.push(format!("ETA {e} {t}")),
                    None => parts.push(format!("ETA {e}")),
                }
            }
            o.eta = Some(e.clone());
            o.follow.eta_time = eta_time.clone();
        }
        if let Some(v) = &vessel {
            o.vessel = Some(v.clone());
            parts.push(format!("nave {v}"));
        }
        if arrived && o.thirdparty.arrived_at.is_none() {
            o.thirdparty.arrived_at = Some(d.now);
            parts.push("llegada de la carga".to_string());
        }
        let what = if parts.is_empty() {
            format!("Aviso del transportista: {}", excerpt(&m.mail.subject, 120))
        } else {
            format!("Aviso del transportista: {}", parts.join(", "))
        };
        o.history.push(HistoryEntry::public(d.now, what));
        o.updated_at = d.now;
        if let Some(mid) = &m.mail.message_id
            && !o.message_ids.contains(mid)
        {
            o.message_ids.push(mid.clone());
        }
        d.note(format!("carrier notice filed in {}", o.id));
        d.save_order(o);
    }
    Ok(())
}
