//! Sending a request: the counterpart's mail with the order's data, the
//! record on the order, the task with its deadline in business hours.

use chrono::NaiveDate;
use serde_json::json;

use super::super::context::{desk_block, local_fmt};
use super::super::draft::Draft;
use super::super::matching;
use super::super::model::{CounterpartRequest, CounterpartState, HistoryEntry, Order, RequestKind, ThreadLink};
use super::super::reply::{Letter, Threading};
use super::super::view::ViewResult;
use super::{AUTOMATIC, ask_block, hours, kind_words, shipment, task_kind};
use crate::clients::Counterpart;

/// What one new request is: its kind, who asks, its date and transport.
pub struct Ask<'a> {
    pub kind: RequestKind,
    pub counterpart: &'a Counterpart,
    pub by: &'a str,
    pub date: Option<NaiveDate>,
    pub transport: Option<&'a Counterpart>,
}

/// Send a request for `o` and record it (with its task). The line for
/// the staff member's confirmation, or why it was not sent.
pub fn request(d: &mut Draft<'_>, o: &mut Order, ask: &Ask<'_>) -> ViewResult<Result<String, String>> {
    let desk = d.desk;
    let s = desk.settings;
    let cal = &s.calendar;
    let p = ask.counterpart;
    let n = o.thirdparty.requests.len() as u32 + 1;
    let due_at = cal.add_business_hours(d.now, f64::from(hours(&s.requests, ask.kind)));
    let mut to = p.addresses.clone();
    if let Some(t) = ask.transport {
        to.extend(t.addresses.iter().filter(|a| !to.contains(a)).cloned().collect::<Vec<_>>());
    }
    let ctx = json!({
        "desk": desk_block(s),
        "counterpart": {"name": p.name, "kind": p.kind.as_str()},
        "shipment": shipment(desk.directory, o),
        "ask": ask_block(ask.kind, d.now, ask.date, ask.transport.map(|t| t.name.as_str()), due_at, "", cal),
        "automatic": ask.by == AUTOMATIC,
        "lang": "es",
    });
    let template = format!("solicitud_{}", ask.kind.as_str());
    let letter = Letter {
        template: &template,
        to: to.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        // With the mail's own id part: a request undone (`#deshacer`) and
        // asked again gets the same number, never the same outbox id.
        id: Some(if d.id_base.is_empty() {
            format!("solicitud-{}-{n}-{}", o.id, ask.kind.as_str())
        } else {
            format!("solicitud-{}-{n}-{}-{}", o.id, ask.kind.as_str(), d.id_base)
        }),
    };
    let Some(sent) = d.send(letter) else {
        return Ok(Err(format!("no se pudo preparar la solicitud a {} (vea el registro)", p.name)));
    };
    matching::link_ours(d, sent.clone(), ThreadLink { order: Some(o.id.clone()), reclamo: None });
    let what = kind_words(ask.kind);
    let summary = format!(
        "Esperar la respuesta de {} a la solicitud de {what} de la orden {} (hasta el {})",
        p.name,
        o.id,
        local_fmt(cal, due_at)
    );
    let (client, id) = (o.client.clone(), o.id.clone());
    let task = d.open_task(&task_kind(ask.kind), Some(&client), Some(&id), Some(due_at), summary, None)?;
    o.thirdparty.requests.push(CounterpartRequest {
        n,
        kind: ask.kind,
        counterpart: p.id.clone(),
        message_id: sent,
        by: ask.by.to_string(),
        at: d.now,
        due_at,
        date: ask.date,
        transport: ask.transport.map(|t| t.id.clone()),
        task: task.clone(),
        state: CounterpartState::Pendiente,
        reminded_at: None,
        answered_at: None,
        answer: None,
    });
    let when = ask.date.map(|day| format!(" para el {}", day.format("%d/%m/%Y"))).unwrap_or_default();
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Solicitud de {what}{when} enviada a {} ({})", p.name, to.join(", ")),
    ));
    o.updated_at = d.now;
    d.note(format!("request {} of {} sent to {}", ask.kind, o.id, p.id));
    Ok(Ok(format!(
        "solicitud de {what} de la orden {}{when} enviada a {} ({}); respuesta esperada hasta el {} (tarea {task})",
        o.id,
        p.name,
        to.join(", "),
        local_fmt(cal, due_at)
    )))
}
