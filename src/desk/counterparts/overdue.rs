//! A request unanswered at its deadline: one reminder to the counterpart
//! in the request's thread, one notice to the assistant.

use serde_json::json;

use super::super::context::desk_block;
use super::super::draft::Draft;
use super::super::effect::{Effect, JobKey};
use super::super::matching;
use super::super::model::{CounterpartState, HistoryEntry, Task, ThreadLink};
use super::super::reply::{Letter, Threading};
use super::super::view::ViewResult;
use super::{ask_block, kind_words, shipment};

/// A request's task reached its deadline: one reminder to the
/// counterpart, in the request's thread, and a notice to the assistant.
/// Never twice (the job key; the request records it too).
pub fn overdue(d: &mut Draft<'_>, t: &Task) -> ViewResult<()> {
    let (Some(due), true, Some(order)) = (t.due_at, t.is_open(), t.order.as_deref()) else { return Ok(()) };
    if due > d.now {
        return Ok(());
    }
    let key = JobKey::TaskReminder { id: t.id.clone(), days_before: None };
    if d.view.job_done(&key)? {
        return Ok(());
    }
    d.push(Effect::JobDone { key, at: d.now });
    let Some(mut o) = d.order(order)? else { return Ok(()) };
    // A closed, archived or merged order is nobody's business any more.
    if !o.is_open() {
        return Ok(());
    }
    // Long overdue (buzon was down): the assistant is told, the
    // counterpart is not sent a late reminder about an old request.
    let stale = d.now - due > chrono::Duration::days(super::automatic::STALE_DAYS);
    let Some(r) = o.thirdparty.requests.iter().find(|r| r.task == t.id).cloned() else { return Ok(()) };
    if r.state != CounterpartState::Pendiente || r.reminded_at.is_some() {
        return Ok(());
    }
    let desk = d.desk;
    let cal = &desk.settings.calendar;
    let Some(p) = desk.directory.counterpart(&r.counterpart).cloned() else {
        d.note(format!("request {} of {}: counterpart {} no longer registered", r.n, o.id, r.counterpart));
        return Ok(());
    };
    let what = kind_words(r.kind);
    let transport = r.transport.as_deref().and_then(|t| desk.directory.counterpart(t)).map(|t| t.name.as_str());
    let ask = ask_block(r.kind, r.at, r.date, transport, r.due_at, &r.task, cal);
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "counterpart": {"name": p.name},
        "shipment": shipment(desk.directory, &o),
        "ask": ask.clone(),
        "lang": "es",
    });
    let refs = vec![r.message_id.clone()];
    let letter = Letter {
        template: "solicitud_recordatorio",
        to: p.addresses.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &refs },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{}-recordatorio", o.id, r.n)),
    };
    let reminded = if stale { None } else { d.send(letter) };
    if let Some(mid) = &reminded {
        matching::link_ours(d, mid.clone(), ThreadLink { order: Some(o.id.clone()), reclamo: None });
    }
    let notice = json!({
        "desk": desk_block(desk.settings),
        "counterpart": {"name": p.name, "addresses": p.addresses},
        "shipment": shipment(desk.directory, &o),
        "ask": ask,
        "reminded": reminded.is_some(),
        "stale": stale,
        "lang": "es",
    });
    let letter = Letter {
        template: "solicitud_vencida",
        to: vec![t.assignee.clone()],
        ctx: &notice,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{}-vencida", o.id, r.n)),
    };
    d.send(letter);
    if let Some(x) = o.thirdparty.requests.iter_mut().find(|x| x.n == r.n) {
        x.state = CounterpartState::Vencida;
        x.reminded_at = reminded.as_ref().map(|_| d.now);
    }
    let then = if reminded.is_some() { "se le envió un recordatorio" } else { "vencida, sin recordatorio" };
    o.history
        .push(HistoryEntry::internal(d.now, format!("Sin respuesta de {} a la solicitud de {what}: {then}", p.name)));
    d.note(format!("request {} of {} overdue: reminder to {}", r.kind, o.id, p.id));
    d.save_order(o);
    Ok(())
}
