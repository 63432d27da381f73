//! A counterpart's mail: filed in the orders it is about; the answer to a
//! request closes it, closes its task and tells the assistant.

use serde_json::json;

use super::super::Incoming;
use super::super::context::{desk_block, excerpt};
use super::super::draft::Draft;
use super::super::matching;
use super::super::model::{
    CounterpartRequest, CounterpartState, HistoryEntry, Order, OrderDocument, TaskState, ThreadLink,
};
use super::super::reply::{Letter, Threading};
use super::super::view::ViewResult;
use super::{ask_block, kind_words, shipment};
use crate::clients::{Counterpart, Sender};

/// Is `r` waiting for an answer (or overdue and still unanswered)?
fn open(r: &CounterpartRequest) -> bool {
    matches!(r.state, CounterpartState::Pendiente | CounterpartState::Vencida)
}

/// May `counterpart` answer `r` (the one asked, or the transport named)?
fn from_party(r: &CounterpartRequest, counterpart: &str) -> bool {
    r.counterpart == counterpart || r.transport.as_deref() == Some(counterpart)
}

/// The request of `o` a counterpart's mail answers: the one whose thread
/// it continues, else (it names the order) its oldest open one.
pub fn answered<'a>(
    o: &'a Order,
    counterpart: &str,
    thread: &[&String],
    named: bool,
) -> Option<&'a CounterpartRequest> {
    let mine = || o.thirdparty.requests.iter().filter(move |r| open(r) && from_party(r, counterpart));
    mine().find(|r| thread.iter().any(|t| **t == r.message_id)).or_else(|| if named { mine().next() } else { None })
}

/// A counterpart's mail: filed in the orders it is about (an answer to a
/// request closes it). True when it was filed in at least one order (the
/// mail is then no client's business: no triage, no document intake).
pub fn incoming(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<bool> {
    let Sender::Counterpart(pid) = &m.sender else { return Ok(false) };
    let Some(p) = d.desk.directory.counterpart(pid).cloned() else { return Ok(false) };
    let thread = matching::thread_ids(m.mail);
    // The orders it is about: its thread, the order numbers and shipment
    // references it names.
    let mut threaded: Vec<String> = Vec::new();
    for t in &thread {
        if let Some(link) = d.view.thread(t)?
            && let Some(id) = link.order
            && !threaded.contains(&id)
        {
            threaded.push(id);
        }
    }
    let mut named: Vec<String> = matching::tagged_orders(&d.desk.settings.order_prefix, m.mail);
    for (kind, values) in &m.class.references {
        if !matching::ORDER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            for o in d.orders_by_ref(kind, v)? {
                if !named.contains(&o.id) {
                    named.push(o.id);
                }
            }
        }
    }
    // Its thread says which order it is about; else it must name exactly
    // one. A mail that names several orders (a consolidated container, a
    // daily list) is filed nowhere by itself: it goes the usual way, to a
    // person, so one client's answer or documents never land in another's.
    let ids: Vec<String> = if !threaded.is_empty() {
        threaded.clone()
    } else if named.len() == 1 {
        named.clone()
    } else {
        Vec::new()
    };
    let mut filed = false;
    for id in ids {
        let Some(mut o) = d.order(&id)? else { continue };
        if !o.is_open() {
            continue;
        }
        // An out-of-office or other machine reply answers nothing.
        let machine = m.mail.is_auto() || m.class.has("automatico");
        let answer = if machine { None } else { answered(&o, &p.id, &thread, named.contains(&id)).map(|r| r.n) };
        let added = file_mail(d, m, &mut o);
        // A volante the depósito sends is checked against the order like any other.
        let client = o.client.clone();
        super::super::volantes::file(d, m, &mut o, &added, &client)?;
        matching::link_thread(d, m, ThreadLink { order: Some(o.id.clone()), reclamo: None })?;
        if let Some(n) = answer {
            answer_request(d, m, &mut o, &p, n)?;
        } else {
            o.history.push(HistoryEntry::internal(
                d.now,
                format!("Correo de {}: «{}»", p.name, excerpt(&m.mail.subject, 120)),
            ));
            d.note(format!("mail of counterpart {} filed in {} (no request of it answered)", p.id, o.id));
        }
        o.updated_at = d.now;
        d.save_order(o);
        filed = true;
    }
    Ok(filed)
}

/// The mail's attachments, kept in the order (its Message-ID is linked
/// to the order, not added to the order's own thread with the client).
/// Returns the documents it added.
fn file_mail(d: &Draft<'_>, m: &Incoming<'_>, o: &mut Order) -> Vec<OrderDocument> {
    let mut added = Vec::new();
    for (i, att) in m.mail.attachments.iter().enumerate() {
        if att.inline || att.data.is_empty() || o.documents.iter().any(|x| x.sha256 == att.sha256) {
            continue;
        }
        let kind = m.class.documents.iter().find(|doc| doc.index == i).map(|doc| doc.kind.clone());
        let k = m.kept.get(i).cloned().unwrap_or_default();
        let doc = OrderDocument {
            kind: kind.unwrap_or_else(|| "otro".into()),
            name: att.name.clone(),
            sha256: att.sha256.clone(),
            path: k.path,
            size: att.size as u64,
            received_at: d.now,
            unreadable: k.not_kept,
            from: m.from().to_string(),
        };
        o.documents.push(doc.clone());
        added.push(doc);
    }
    added
}

/// Request `n` of `o` is answered by this mail: recorded, its task
/// closed, the assistant told.
fn answer_request(d: &mut Draft<'_>, m: &Incoming<'_>, o: &mut Order, p: &Counterpart, n: u32) -> ViewResult<()> {
    let desk = d.desk;
    let cal = &desk.settings.calendar;
    let Some(r) = o.thirdparty.requests.iter_mut().find(|r| r.n == n) else { return Ok(()) };
    r.state = CounterpartState::Respondida;
    r.answered_at = Some(d.now);
    r.answer = m.mail.message_id.clone();
    let r = r.clone();
    let what = kind_words(r.kind);
    let said = excerpt(m.mail.new_text.trim(), 600);
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Respuesta de {} a la solicitud de {what}: «{}»", p.name, excerpt(&said, 160)),
    ));
    let mut assignee = desk.assistant_of(Some(&o.client));
    if let Some(mut t) = d.task(&r.task)?
        && t.is_open()
    {
        t.state = TaskState::Hecha;
        t.history.push(HistoryEntry::internal(d.now, format!("Cerrada: respondió {}", p.name)));
        assignee = t.assignee.clone();
        d.save_task(t);
    }
    let files: Vec<&str> = m.mail.attachments.iter().filter(|a| !a.inline).map(|a| a.name.as_str()).collect();
    let transport = r.transport.as_deref().and_then(|t| desk.directory.counterpart(t)).map(|t| t.name.as_str());
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "counterpart": {"name": p.name},
        "ask": ask_block(r.kind, r.at, r.date, transport, r.due_at, &r.task, cal),
        "shipment": shipment(desk.directory, o),
        "said": said,
        "files": files,
        "lang": "es",
    });
    let letter = Letter {
        template: "solicitud_respondida",
        to: vec![assignee],
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        id: Some(format!("solicitud-{}-{}-respondida", o.id, r.n)),
    };
    d.send(letter);
    d.note(format!("request {} of {} answered by {}; task {} closed", r.kind, o.id, p.id, r.task));
    Ok(())
}
