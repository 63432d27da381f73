//! Keeping the client informed: when an order reaches a stage its client
//! opted into (`notify = [...]` in its `[[client]]`), or a carrier moves
//! its ETA by more than `eta_notice_hours` or changes its vessel, the
//! client's registered addresses get a short notice (`aviso_etapa`): the
//! order, the DAM, what happened and what comes next. At most one notice
//! per order an hour: later changes wait in the order (`follow.pending`)
//! and fold into the next one, which the order's clock sends when the hour
//! is up. Notices are mail the desk starts, not answers: the per-sender
//! reply limits do not apply to them.
//!
//! Every change of a decision is seen here, whoever made it (a staff
//! command, a carrier notice, documents): the orders the decision touched
//! are compared with the stored ones.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use serde_json::json;

use super::Incoming;
use super::context::{desk_block, local_fmt, order_context};
use super::draft::Draft;
use super::model::{HistoryEntry, NoticeEvent, Order};
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::clients::{Client, Sender};

/// Notices of one order are this far apart at least.
pub const NOTICE_GAP_MINUTES: i64 = 60;

/// After the handlers of a mail: record who of the client wrote about each
/// order it touched, and tell the client what changed.
pub fn after_mail(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    if m.imported {
        return Ok(());
    }
    let (ids, _, _) = d.touched();
    for id in ids {
        let Some(mut o) = d.order(&id)? else { continue };
        let mut changed = false;
        if let Sender::Client(c) = &m.sender
            && *c == o.client
            && !m.mail.dmarc_failed()
            && !m.mail.is_auto()
        {
            let from = m.from().to_ascii_lowercase();
            if !o.follow.writers.contains(&from) {
                o.follow.writers.push(from);
                changed = true;
            }
            let lang = super::language::of_mail(m.mail);
            let lang = (lang != "es").then(|| lang.to_string());
            if o.follow.lang != lang {
                o.follow.lang = lang;
                changed = true;
            }
        }
        let before = d.view.order(&id)?;
        let events = match d.desk.directory.client(&o.client) {
            Some(client) => changes(before.as_ref(), &o, client, d.desk.settings.eta_notice_hours, d.now),
            None => Vec::new(),
        };
        if !events.is_empty() {
            for e in events {
                fold(&mut o.follow.pending, e);
            }
            changed = true;
            if may_send(&o, d.now) {
                send(d, &mut o)?;
            } else {
                d.note(format!("notice of {} waits for its hour", o.id));
            }
        }
        if changed {
            d.save_order(o);
        }
    }
    Ok(())
}

/// The order's clock: its waiting notice, once its hour is up. True when
/// the order changed.
pub fn due(d: &mut Draft<'_>, o: &mut Order) -> ViewResult<bool> {
    if o.follow.pending.is_empty() || !may_send(o, d.now) {
        return Ok(false);
    }
    send(d, o)?;
    Ok(true)
}

/// When an order's waiting notice may go (none waiting: `None`).
pub fn notice_due(o: &Order) -> Option<DateTime<Utc>> {
    if o.follow.pending.is_empty() {
        return None;
    }
    let first = o.follow.pending.iter().map(|e| e.at).min();
    match o.follow.last_notice {
        Some(last) => Some(last + Duration::minutes(NOTICE_GAP_MINUTES)),
        None => first,
    }
}

fn may_send(o: &Order, now: DateTime<Utc>) -> bool {
    o.follow.last_notice.is_none_or(|last| now >= last + Duration::minutes(NOTICE_GAP_MINUTES))
}

/// What changed between the stored order and the decided one that the
/// client asked to be told of.
pub fn changes(
    before: Option<&Order>,
    after: &Order,
    client: &Client,
    eta_hours: u32,
    now: DateTime<Utc>,
) -> Vec<NoticeEvent> {
    let mut out = Vec::new();
    if client.notify.is_empty() {
        return out;
    }
    let stage_before = before.map(|b| b.stage.as_str());
    if stage_before != Some(after.stage.as_str()) && client.notified_of(&after.stage) {
        out.push(NoticeEvent {
            at: now,
            kind: "etapa".into(),
            from: stage_before.map(str::to_string),
            to: after.stage.clone(),
        });
    }
    let Some(before) = before else { return out };
    if let (Some(old), Some(new)) = (eta_instant(before), eta_instant(after)) {
        let hours = (new - old).num_minutes().abs() as f64 / 60.0;
        if hours > f64::from(eta_hours) {
            out.push(NoticeEvent {
                at: now,
                kind: "eta".into(),
                from: eta_words(before),
                to: eta_words(after).unwrap_or_default(),
            });
        }
    }
    if let (Some(old), Some(new)) = (&before.vessel, &after.vessel)
        && crate::text::fold(old) != crate::text::fold(new)
    {
        out.push(NoticeEvent { at: now, kind: "nave".into(), from: Some(old.clone()), to: new.clone() });
    }
    out
}

/// An order's ETA as a local date and time (noon when no time is known).
fn eta_instant(o: &Order) -> Option<NaiveDateTime> {
    let day = chrono::NaiveDate::parse_from_str(o.eta.as_deref()?, "%d/%m/%Y").ok()?;
    let time = o
        .follow
        .eta_time
        .as_deref()
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .unwrap_or(NaiveTime::from_hms_opt(12, 0, 0)?);
    Some(day.and_time(time))
}

/// `15/12/2026` or `15/12/2026 08:00`.
fn eta_words(o: &Order) -> Option<String> {
    let eta = o.eta.clone()?;
    Some(match &o.follow.eta_time {
        Some(t) => format!("{eta} {t}"),
        None => eta,
    })
}

/// Add a change to the waiting ones: a later ETA or vessel replaces the
/// earlier (keeping what it was before both); a change back to where it was
/// is no change; stages are kept in the order they were reached.
fn fold(pending: &mut Vec<NoticeEvent>, e: NoticeEvent) {
    if e.kind != "etapa"
        && let Some(i) = pending.iter().position(|p| p.kind == e.kind)
    {
        let first = pending.remove(i);
        if first.from.as_deref() != Some(e.to.as_str()) {
            pending.push(NoticeEvent { from: first.from, ..e });
        }
        return;
    }
    if e.kind == "etapa" && pending.iter().any(|p| p.kind == "etapa" && p.to == e.to) {
        return;
    }
    pending.push(e);
}

/// The client's registered addresses for an order: its contacts, the
/// recipients of its status summaries, and the addresses of its domains
/// that wrote about the order — each still registered for that client.
pub fn recipients(d: &Draft<'_>, o: &Order) -> Vec<String> {
    let dir = d.desk.directory;
    let Some(c) = dir.client(&o.client) else { return Vec::new() };
    let status = c.status.iter().flat_map(|s| s.recipients.iter());
    let mut to: Vec<String> = Vec::new();
    for a in c.contacts.iter().chain(status).chain(&o.follow.writers) {
        let a = a.trim().to_ascii_lowercase();
        if dir.belongs_to(&a, &c.id) && !to.contains(&a) {
            to.push(a);
        }
    }
    to
}

/// Send the waiting notice of `o` now.
fn send(d: &mut Draft<'_>, o: &mut Order) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    let events = std::mem::take(&mut o.follow.pending);
    let to = recipients(d, o);
    if to.is_empty() {
        d.note(format!("notice of {} not sent: the client has no registered address for it", o.id));
        o.history.push(HistoryEntry::internal(d.now, "Aviso al cliente no enviado: sin dirección registrada"));
        return Ok(());
    }
    let client = desk.directory.client(&o.client);
    let dam = o.references.get("dam").and_then(|v| v.iter().next().cloned());
    let ctx = json!({
        "desk": desk_block(s),
        "client": {"id": o.client, "name": client.map(|c| c.name.clone())},
        "order": order_context(&desk.rules.desk, &s.calendar, o),
        "dam": dam,
        "channel": o.follow.channel,
        // The last stage reached among the changes told (the subject's headline).
        "reached": events.iter().rev().find(|e| e.kind == "etapa").map(|e| e.to.clone()),
        "events": events.iter().map(|e| json!({"kind": e.kind, "from": e.from, "to": e.to, "at": local_fmt(&s.calendar, e.at)})).collect::<Vec<_>>(),
        "now": local_fmt(&s.calendar, d.now),
        "lang": o.follow.lang.as_deref().unwrap_or("es"),
    });
    let refs = o.message_ids.clone();
    let letter = Letter {
        template: "aviso_etapa",
        to: to.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &refs },
        order: Some(&o.id),
        id: Some(format!("aviso-{}-{}", o.id, d.now.format("%Y%m%dT%H%M%S"))),
    };
    if d.send(letter).is_some() {
        let what: Vec<String> = events.iter().map(|e| format!("{} {}", e.kind, e.to)).collect();
        o.history.push(HistoryEntry::internal(
            d.now,
            format!("Aviso al cliente ({}) enviado a {}", what.join(", "), to.join(", ")),
        ));
        o.follow.last_notice = Some(d.now);
    } else {
        // The template failed: the changes wait for the next notice.
        o.follow.pending = events;
    }
    Ok(())
}
